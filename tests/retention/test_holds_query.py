"""held_item_ids / is_held: the one answer to "is this item under a legal hold?"."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from tests.conftest import StepClock, ingest_one
from vault.metadata.models import Engagement, EvidenceItem, LegalHold
from vault.retention.holds import covering_holds, held_item_ids, is_held
from vault.service import Vault


def _hold(s: Session, clock: StepClock, eng: str, item: str | None, by: str) -> LegalHold:
    h = LegalHold(id=uuid.uuid4().hex, engagement_id=eng, item_id=item, reason="litigation",
                  placed_by=by, placed_at=clock())
    s.add(h)
    s.commit()
    return h


def test_item_and_engagement_holds_cover_and_release(vault: Vault, engagement: str,
                                                     clock: StepClock) -> None:
    a = ingest_one(vault, engagement, "a.txt", b"a").view.item
    b = ingest_one(vault, engagement, "b.txt", b"b").view.item
    vault.create_engagement("other-2026", client="Other", standard="pci-dss-4.0.1")
    c = ingest_one(vault, "other-2026", "c.txt", b"c").view.item
    with Session(vault.engine) as s:
        ia, ib, ic = (s.get(EvidenceItem, i.id) for i in (a, b, c))
        assert ia and ib and ic
        assert held_item_ids(s) == set() and not is_held(s, ia)
        h1 = _hold(s, clock, a.engagement_id, a.id, a.ingested_by)
        h2 = _hold(s, clock, a.engagement_id, a.id, a.ingested_by)    # two on one item
        assert held_item_ids(s) == {a.id}
        assert is_held(s, ia) and not is_held(s, ib) and not is_held(s, ic)
        whole = _hold(s, clock, c.engagement_id, None, a.ingested_by)  # the whole engagement
        assert held_item_ids(s) == {a.id, c.id}
        assert held_item_ids(s, a.engagement_id) == {a.id}
        assert held_item_ids(s, c.engagement_id) == {c.id} and is_held(s, ic)
        assert [h.id for h in covering_holds(s, ia)] == [h1.id, h2.id]
        h1.released_at = clock()
        s.add(h1)
        s.commit()
        assert is_held(s, ia)                     # still under h2
        h2.released_at = clock()
        whole.released_at = clock()
        s.add_all([h2, whole])
        s.commit()
        assert held_item_ids(s) == set()
        assert not is_held(s, ia) and not is_held(s, ic)
        eng = s.get(Engagement, a.engagement_id)
        assert eng is not None and eng.retention_years == 3
