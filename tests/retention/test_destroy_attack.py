"""Attacks on `vault destroy --due` found in review: each test failed before its fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from tests.conftest import StepClock, ingest_one
from tests.retention.test_destroy import _item, job  # noqa: F401  (the fixture)
from vault.evidence.lifecycle import ItemState
from vault.metadata.models import Destruction, ItemRocRef, ItemSearch
from vault.service import Vault
from vault.service import destruction as destroying


@pytest.mark.parametrize("change", ["years", "completion"])
def test_retention_extended_after_the_claim_wins(vault: Vault, engagement: str,
                                                 job: Vault,  # noqa: F811
                                                 clock: StepClock, change: str) -> None:
    # a lead extends the retention (or moves the completion date later) while a run has the
    # item claimed: the item is no longer due, and the run must not shred it
    it = ingest_one(vault, engagement, "a.txt", b"a\n").view.item
    vault.complete_engagement(engagement, date(2026, 3, 1))
    clock.advance(timedelta(days=4 * 366))
    changes: dict[str, Callable[[], object]] = {
        "years": lambda: vault.set_retention(engagement, 10),
        "completion": lambda: vault.complete_engagement(engagement, date(2029, 6, 1))}
    done: list[str] = []

    def extend_now(at: str) -> None:  # between the claim's commit and the shred
        if at == "claimed" and not done:
            changes[change]()
            done.append(at)
    report = destroying.destroy_due(job, fault=extend_now)
    assert done and report.items == []
    t = _item(vault, it.id)
    assert t.state == ItemState.ACTIVE and t.age_header is not None
    with Session(vault.engine) as s:
        assert s.exec(select(Destruction)).all() == []       # the claim was let go


def test_a_resumed_claim_is_due_again_before_it_is_shredded(vault: Vault, engagement: str,
                                                             job: Vault,  # noqa: F811
                                                             clock: StepClock) -> None:
    # a run killed after its claim; the retention is extended; the next run takes the claim
    # over: it must judge the item again, not shred what is no longer due
    it = ingest_one(vault, engagement, "a.txt", b"a\n").view.item
    vault.complete_engagement(engagement, date(2026, 3, 1))
    clock.advance(timedelta(days=4 * 366))

    def die(at: str) -> None:
        if at == "claimed":
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        destroying.destroy_due(job, fault=die)
    vault.set_retention(engagement, 10)
    report = destroying.destroy_due(job)
    assert report.items == []
    t = _item(vault, it.id)
    assert t.state == ItemState.ACTIVE and t.age_header is not None


def test_a_tombstone_keeps_no_roc_reference(vault: Vault, engagement: str,
                                             job: Vault,  # noqa: F811
                                             clock: StepClock) -> None:
    # the ROC references that cited the item go with its requirement links: a destroyed item
    # is no longer offered for an export's scope, nor described by what it evidenced
    it = ingest_one(vault, engagement, "a.txt", b"a\n", roc_refs=("DOC-7",)).view.item
    vault.complete_engagement(engagement, date(2026, 3, 1))
    clock.advance(timedelta(days=4 * 366))
    assert [i.id for i in destroying.destroy_due(job).items] == [it.id]
    with Session(vault.engine) as s:
        assert s.exec(select(ItemRocRef).where(ItemRocRef.item_id == it.id)).all() == []
        [row] = s.exec(select(ItemSearch).where(ItemSearch.item_id == it.id)).all()
        assert row.body.strip("\x1f") == ""                 # the search copy is emptied
    assert vault.engagement_roc_refs(it.engagement_id) == []   # (its name is gone too)
