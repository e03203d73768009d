"""Retention: when an item may be destroyed, never earlier.

An item's destruction date = max(engagement completion date, ingest date) + the retention
period (3 years; a firm may set longer, never shorter). Object stores that can enforce it
(S3 Object Lock in COMPLIANCE mode; the local store through its API) hold each payload until then.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

RETENTION_YEARS = 3


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February -> 1 March
        return d.replace(year=d.year + years, month=3, day=1)


def destruction_date(completed_on: date | None, ingested_at: datetime,
                     years: int = RETENTION_YEARS) -> datetime:
    """Midnight UTC at the start of the day after max(completion, ingest) + `years`."""
    if years < RETENTION_YEARS:
        raise ValueError(f"retention may not be shorter than {RETENTION_YEARS} years")
    start = ingested_at.astimezone(UTC).date()
    if completed_on is not None and completed_on > start:
        start = completed_on
    end = add_years(start, years)
    return datetime.combine(end, time(0, 0), tzinfo=UTC)
