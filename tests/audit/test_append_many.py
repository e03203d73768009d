"""append_many writes exactly what append writes for each event in turn (events, hashes, tree
nodes), and the log it leaves verifies."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from tests.conftest import StepClock
from vault.age import X25519Identity
from vault.audit import log as audit
from vault.audit import verify as verification
from vault.metadata.db import open_database
from vault.service import bootstrap

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _rows(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    engine = open_database(url)
    with engine.connect() as c:
        events = [tuple(r) for r in c.execute(sa.text(
            "SELECT seq, actor, action, object, outcome, engagement_id, detail, prev_hash, hash "
            "FROM audit_event ORDER BY seq"))]
        nodes = [tuple(r) for r in c.execute(sa.text(
            "SELECT level, idx, hash FROM audit_node ORDER BY level, idx"))]
    engine.dispose()
    return events, nodes


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 33])
def test_append_many_equals_appends_in_turn(tmp_path: Path, n: int) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    engine = open_database(f"sqlite:///{a}")
    bootstrap._register_first(engine, X25519Identity.generate(), "alice", StepClock(),
                              os.urandom)
    engine.dispose()
    shutil.copy(a, b)
    entries: list[audit.Entry] = [
        ("item.export", f"item-{i}", "ok", "e" * 32, f'{{"sha256": "{i:064x}"}}' if i % 2
         else None) for i in range(n)]
    ea = open_database(f"sqlite:///{a}")
    with Session(ea) as s:
        for action, obj, outcome, eng, detail in entries:
            audit.append(s, at=AT, actor="alice", action=action, obj=obj, outcome=outcome,
                         engagement_id=eng, detail=detail)
        s.commit()
    ea.dispose()
    eb = open_database(f"sqlite:///{b}")
    with Session(eb) as s:
        audit.append_many(s, at=AT, actor="alice", entries=entries)
        s.commit()
    assert verification.verify(eb).ok
    eb.dispose()
    assert _rows(f"sqlite:///{a}") == _rows(f"sqlite:///{b}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'v.db'}"
    return str(request.getfixturevalue("pg_url"))


def test_an_act_with_many_events_leaves_a_log_that_verifies(db_url: str,
                                                            tmp_path: Path) -> None:
    """Through the service (an act with several events), on SQLite and PostgreSQL: the signed
    tree head over them verifies, so the nodes written in one go are the tree's."""
    from storage_backends import LocalStore
    from vault.service import Vault

    engine = open_database(db_url)
    clock = StepClock()
    ident = X25519Identity.generate()
    bootstrap._register_first(engine, ident, "alice", clock, os.urandom)
    v = Vault(engine, LocalStore(tmp_path / "objects", clock=clock), ident,
              tmp_dir=tmp_path / "tmp", clock=clock)
    v.create_engagement("e", client="c", standard="pci-dss-4.0.1")
    for burst in (3, 5, 9):
        with v.act("engagement.view", "e-target") as a:
            for i in range(burst):
                a.event("test.burst", f"obj-{burst}-{i}", {"i": i})
        v.audit_checkpoint()
    report = verification.verify(engine)
    assert report.ok, report.problems
    with Session(engine) as s:
        n = s.exec(sa.select(sa.func.count()).select_from(  # type: ignore[call-overload]
            sa.table("audit_event"))).one()[0]
    assert n >= 3 + 5 + 9
