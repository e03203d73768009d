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
