"""Invariants of destruction over random firms (hypothesis): random engagements (completion
dates or none, retention years), ingest dates, legal holds on items and engagements, and a
sequence of run times. After every run at T: nothing was destroyed before its date or while
held; nothing due at T and unheld is readable (no header, no stored version); the audit log
verifies."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from tests.conftest import StepClock
from tests.retention.destroykit import bulk_items, hold, open_firm, reopen
from vault.audit.verify import verify
from vault.evidence.lifecycle import ItemState
from vault.metadata.models import Engagement, EvidenceItem
from vault.retention.dates import destruction_date
from vault.service import destruction as destroying

BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    """One migrated vault with its admin and job, copied for each example (fast)."""
    d = Path(tempfile.mkdtemp(prefix="vault-prop-"))
    f = open_firm(d / "firm", StepClock(BASE))
    f.admin.engine.dispose()
    yield d / "firm"
    shutil.rmtree(d, ignore_errors=True)


engagement_st = st.fixed_dictionaries({
    "completed": st.one_of(st.none(), st.integers(0, 900)),      # days after BASE
    "years": st.sampled_from([3, 3, 4, 5]),
    "held": st.booleans(),
    "items": st.lists(st.tuples(st.integers(0, 900), st.booleans()), min_size=1,
                      max_size=4),                              # (ingest day, held)
})
firm_st = st.fixed_dictionaries({
    "engagements": st.lists(engagement_st, min_size=1, max_size=3),
    # a run at a day after BASE, or just around one item's destruction date (by index)
    "runs": st.lists(st.tuples(st.booleans(), st.integers(365 * 3, 365 * 7), st.integers(0, 11),
                               st.sampled_from([-86400, -1, 0, 1, 3600])),
                     min_size=1, max_size=3),
})


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=firm_st)
def test_destruction_invariants(template: Path, spec: dict) -> None:  # type: ignore[type-arg]
    work = Path(tempfile.mkdtemp(prefix="vault-ex-"))
    try:
        shutil.copytree(template, work / "firm")
        _check(reopen(work / "firm", StepClock(BASE)), spec)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check(f, spec: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    v = f.admin
    expect: dict[str, tuple[datetime | None, bool]] = {}   # item -> (its date or None, held)
    for n, e in enumerate(spec["engagements"]):
        eng = v.create_engagement(f"e{n}", client="c", standard="pci-dss-4.0.1")
        ingested = [BASE + timedelta(days=d, hours=n) for d, _ in e["items"]]
        ids = bulk_items(v, f"e{n}", ingested)
        completed = (BASE + timedelta(days=e["completed"])).date() if e["completed"] is not None \
            else None
        with Session(v.engine) as s:
            row = s.get(Engagement, eng.id)
            assert row is not None
            row.completed_on, row.retention_years = completed, e["years"]
            s.add(row)
            s.commit()
        if e["held"]:
            hold(v, eng.id, None)
        for iid, at, (_, item_held) in zip(ids, ingested, e["items"], strict=True):
            if item_held:
                hold(v, eng.id, iid)
            when = destruction_date(completed, at, e["years"]) if completed else None
            expect[iid] = (when, e["held"] or item_held)
    dates = sorted(w for w, _ in expect.values() if w is not None)
    times = sorted(dates[i % len(dates)] + timedelta(seconds=delta) if near and dates
                   else BASE + timedelta(days=day, hours=7)
                   for near, day, i, delta in spec["runs"])
    for now in times:
        f.clock.now = now
        destroying.destroy_due(f.job, batch=3)
        with Session(v.engine) as s:
            rows = {it.id: it for it in s.exec(select(EvidenceItem)).all()}
        for iid, (when, held) in expect.items():
            it = rows[iid]
            due = when is not None and when <= now and not held
            if due:
                assert it.state == ItemState.DESTROYED, (iid, when, now)
                assert it.age_header is None and it.original_name == ""
                assert v.store.versions(it.object_key) == []
            else:
                assert it.state == ItemState.ACTIVE, (iid, when, held, now)
                assert it.age_header is not None and v.store.exists(it.object_key)
        assert verify(v.engine).ok
    v.engine.dispose()
