"""Retention: when an item may be destroyed, never earlier.

An item's destruction date = max(engagement completion date, ingest date) + the retention
period (3 years; a firm may set longer, never shorter). Object stores that can enforce it
(S3 Object Lock in COMPLIANCE mode; the local store through its API) hold each payload until then.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

RETENTION_YEARS = 3
MAX_RETENTION_YEARS = 100
"""A sanity bound on `vault engagement retention --years` (a typo of 300 would keep evidence
for ever: the store could never release it)."""
NOT_DUE = "not due: no completion date"
"""Why an item of an engagement without a completion date is never due."""


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February -> 1 March
        return d.replace(year=d.year + years, month=3, day=1)


def destruction_date(completed_on: date | None, ingested_at: datetime,
                     years: int = RETENTION_YEARS) -> datetime:
    """Midnight UTC at the start of the day after max(completion, ingest) + `years`: never
    before the anniversary of the ingest's moment, nor before the anniversary of the completion
    day has ended in UTC."""
    if years < RETENTION_YEARS:
        raise ValueError(f"retention may not be shorter than {RETENTION_YEARS} years")
    start = ingested_at.astimezone(UTC).date()
    if completed_on is not None and completed_on > start:
        start = completed_on
    end = add_years(start, years) + timedelta(days=1)
    return datetime.combine(end, time(0, 0), tzinfo=UTC)


def due_at(completed_on: date | None, ingested_at: datetime, years: int) -> datetime | None:
    """When the item may be destroyed (:func:`destruction_date`), or None while its engagement
    has no completion date: such an item is never due (:data:`NOT_DUE`)."""
    if completed_on is None:
        return None
    return destruction_date(completed_on, ingested_at, years)


def days_left(due: datetime, now: datetime) -> int:
    """Whole days from `now` to `due` by the UTC calendar: 0 or less = due now (`due` is a
    midnight, so the item is due exactly when this is <= 0)."""
    return (due.astimezone(UTC).date() - now.astimezone(UTC).date()).days
