"""Which items are due for destruction at a given time (never one early, never a held one).

An item is due when its engagement has a completion date, its destruction date
(:func:`vault.retention.dates.destruction_date` with the engagement's ``retention_years``) is
at or before `now`, it is not under a legal hold (:mod:`vault.retention.holds`), and it is not
destroyed yet: active, quarantined, or shredded (a redacted original, whose payload the store
still keeps). One query per engagement with a safe pre-filter in SQL; the exact date is
decided in Python by the one function that defines it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, col, select

from vault.evidence.lifecycle import ItemState
from vault.metadata.models import Engagement, EvidenceItem
from vault.retention.dates import destruction_date
from vault.retention.holds import held_item_ids

DESTROYABLE: tuple[str, ...] = (ItemState.ACTIVE, ItemState.QUARANTINED, ItemState.SHREDDED)
"""States a due item may be in (a pending ingest is not evidence yet; a destroyed one is
done)."""


@dataclass(frozen=True)
class Due:
    item_id: str
    engagement_id: str
    destruction_date: datetime


def due_items(s: Session, now: datetime) -> tuple[list[Due], int]:
    """(items due at `now` and not held, oldest date first; how many more are due but held)."""
    today_end = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0),
                                 tzinfo=UTC)
    engs = s.exec(select(Engagement).where(col(Engagement.completed_on).is_not(None),
                                           col(Engagement.destroyed_at).is_(None))).all()
    held = held_item_ids(s)
    due: list[Due] = []
    n_held = 0
    for eng in engs:
        years = eng.retention_years
        assert eng.completed_on is not None
        if destruction_date(eng.completed_on, datetime.combine(eng.completed_on, time(0),
                                                               tzinfo=UTC), years) > now:
            continue  # nothing of it is due: every item's date is on or after this one
        # Any `years` years hold at least 365 * years days: a safe pre-filter, never exact.
        bound = today_end - timedelta(days=365 * years)
        rows = s.exec(select(EvidenceItem.id, EvidenceItem.ingested_at)
                      .where(EvidenceItem.engagement_id == eng.id,
                             col(EvidenceItem.state).in_(DESTROYABLE),
                             col(EvidenceItem.ingested_at) < bound)).all()
        for item_id, ingested_at in rows:
            when = destruction_date(eng.completed_on, ingested_at, years)
            if when > now:
                continue
            if item_id in held:
                n_held += 1
                continue
            due.append(Due(item_id, eng.id, when))
    due.sort(key=lambda d: (d.destruction_date, d.item_id))
    return due, n_held
