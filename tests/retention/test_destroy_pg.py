"""Several destruction workers at once on PostgreSQL: each item is destroyed exactly once
(claims by FOR UPDATE SKIP LOCKED), a live worker's claims are left alone, a gone worker's are
taken over, and the run vacuums what it erased."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage_backends import LocalStore
from tests.conftest import StepClock
from tests.retention.destroykit import Firm, bulk_items, open_firm
from vault.audit.verify import verify
from vault.metadata.db import open_database
from vault.metadata.models import AuditEvent, DestructionRun, EvidenceItem
from vault.retention.report import RunReport
from vault.service import Vault
from vault.service import destruction as destroying

AT = datetime(2026, 3, 2, tzinfo=UTC)
NOW = datetime(2029, 6, 1, tzinfo=UTC)


def _firm(tmp_path: Path, pg_url: str, n: int) -> tuple[Firm, list[str]]:
    f = open_firm(tmp_path / "v", StepClock(AT), db_url=pg_url)
    f.admin.create_engagement("e", client="c", standard="pci-dss-4.0.1")
    ids = bulk_items(f.admin, "e", [AT + timedelta(seconds=i) for i in range(n)])
    f.admin.complete_engagement("e", date(2026, 3, 31))
    return f, ids


def _worker(f: Firm, pg_url: str) -> Vault:
    """Another worker: its own engine (connections), clock and store handle."""
    clock = StepClock(NOW)
    return Vault(open_database(pg_url), LocalStore(f.home / "objects", clock=clock),
                 f.job_identity, tmp_dir=f.home / "tmp", clock=clock)


def _exactly_once(f: Firm, ids: list[str]) -> None:
    with Session(f.admin.engine) as s:
        states = Counter(s.exec(select(EvidenceItem.state)).all())
        events = list(s.exec(select(AuditEvent).where(col(AuditEvent.action).in_(
            ("item.shred", "item.destroy")))).all())
        runs = list(s.exec(select(DestructionRun)).all())
    assert states == {"destroyed": len(ids)}
    per = Counter((e.action, e.object) for e in events)
    assert set(per.values()) == {1} and len(per) == 2 * len(ids)
    assert all(r.finished_at is not None for r in runs)
    assert sum(r.destroyed for r in runs) == len(ids)
    assert verify(f.admin.engine).ok


def test_two_workers_destroy_each_item_once(tmp_path: Path, pg_url: str) -> None:
    f, ids = _firm(tmp_path, pg_url, 60)
    workers = [_worker(f, pg_url) for _ in range(2)]
    reports: list[RunReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(v: Vault) -> None:
        try:
            start.wait()
            reports.append(destroying.destroy_due(v, batch=4))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    mine = [{i.id for i in r.items} for r in reports]
    assert mine[0].isdisjoint(mine[1]) and mine[0] | mine[1] == set(ids)
    _exactly_once(f, ids)


def test_a_live_workers_claims_are_skipped_and_a_gone_ones_taken_over(tmp_path: Path,
                                                                      pg_url: str) -> None:
    f, ids = _firm(tmp_path, pg_url, 12)
    a, b, c = (_worker(f, pg_url) for _ in range(3))
    claimed, release = threading.Event(), threading.Event()
    got: list[RunReport] = []

    def pause(at: str) -> None:
        if at == "claimed" and not claimed.is_set():
            claimed.set()
            release.wait(60)
    t = threading.Thread(target=lambda: got.append(destroying.destroy_due(a, batch=5,
                                                                          fault=pause)))
    t.start()
    assert claimed.wait(60)
    other = destroying.destroy_due(b, batch=5)      # a is alive and holds 5 claims
    assert len(other.items) == 7
    release.set()
    t.join(60)
    assert len(got[0].items) == 5
    _exactly_once(f, ids)



class Crash(Exception):
    pass


def test_a_crashed_worker_is_taken_over(tmp_path: Path, pg_url: str) -> None:
    f, ids = _firm(tmp_path, pg_url, 9)
    a, b = _worker(f, pg_url), _worker(f, pg_url)

    def die(at: str) -> None:
        if at == "purged":
            raise Crash(at)
    try:
        destroying.destroy_due(a, batch=4, fault=die)
    except Crash:
        pass
    a.engine.dispose()   # its connections (and its run's advisory lock) are gone
    report = destroying.destroy_due(b, batch=4)
    assert {i.id for i in report.items} == set(ids)  # the gone run's items are certified here
    _exactly_once(f, ids)
    with b.engine.connect() as conn:  # the run vacuumed: no dead tuple of an erased row left
        dead = conn.execute(sa.text(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'evidence_item'"
        )).scalar()
    assert dead in (0, None)


def test_a_hold_committed_while_the_run_checks_is_never_missed(tmp_path: Path,
                                                                pg_url: str) -> None:
    """A hold being placed (its transaction holds the engagement's row) makes the run's last
    check wait, then see it: the item is not shredded."""
    from vault.metadata.models import Engagement, LegalHold
    from vault.retention.holds import lock_engagement
    f, ids = _firm(tmp_path, pg_url, 3)
    worker = _worker(f, pg_url)
    with Session(f.admin.engine) as s:
        eng = s.exec(select(Engagement).where(Engagement.name == "e")).one()
        lock_engagement(s, eng.id)  # what place_hold does first
        s.add(LegalHold(id="h" * 32, engagement_id=eng.id, item_id=None, reason="case",
                        placed_by=f.admin.user.id, placed_at=AT))
        s.flush()
        done: list[RunReport] = []
        t = threading.Thread(target=lambda: done.append(destroying.destroy_due(worker)))
        t.start()
        t.join(3)
        assert t.is_alive()  # the run waits at its last check for the hold's transaction
        s.commit()
    t.join(60)
    assert done and done[0].items == []
    with Session(f.admin.engine) as s:
        assert set(s.exec(select(EvidenceItem.state)).all()) == {"active"}
