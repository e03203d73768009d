"""append_many: the same events, chain and Merkle tree as appending one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from vault.audit import log
from vault.audit.verify import verify
from vault.metadata.db import open_database

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _events(start: int, n: int) -> list[log.Entry]:
    return [log.Entry(T0 + timedelta(seconds=start + i), "job", "item.destroy",
                      f"item-{start + i}", "ok", "e" * 32 if i % 2 else None,
                      f'{{"n":{start + i}}}') for i in range(n)]


def test_append_many_equals_appending_one_by_one(tmp_path: Path) -> None:
    one, many = (open_database(f"sqlite:///{tmp_path / name}.db") for name in ("one", "many"))
    batches = [(0, 3), (3, 1), (4, 13), (17, 0), (17, 40)]  # odd sizes cross subtree edges
    for start, n in batches:
        with Session(one) as s:
            for e in _events(start, n):
                log.append(s, at=e.at, actor=e.actor, action=e.action, obj=e.obj,
                           outcome=e.outcome, engagement_id=e.engagement_id, detail=e.detail)
            s.commit()
        with Session(many) as s:
            log.append_many(s, _events(start, n))
            s.commit()

    def dump(engine: sa.Engine) -> tuple[list[object], list[object], list[object]]:
        with engine.connect() as c:
            return (list(c.execute(sa.text("SELECT seq, object, prev_hash, hash FROM audit_event "
                                           "ORDER BY seq"))),
                    list(c.execute(sa.text("SELECT level, idx, hash FROM audit_node "
                                           "ORDER BY level, idx"))),
                    list(c.execute(sa.text("SELECT size, last_hash FROM audit_head"))))
    assert dump(one) == dump(many)
    assert dump(many)[2][0][0] == 57  # type: ignore[index]
    assert verify(many).ok
