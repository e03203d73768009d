"""The audit log: append-only in the database, tamper-evident by chain, tree heads and
signatures — on SQLite and on PostgreSQL — plus inclusion proofs and the export."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage_backends import LocalStore
from tests.conftest import StepClock
from vault.age import X25519Identity
from vault.audit import merkle
from vault.crypto import signing
from vault.metadata.db import open_database
from vault.service import Vault, bootstrap

ROLES_SQL = Path(__file__).resolve().parents[2] / "infra" / "postgres" / "roles.sql"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'v.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def logged(db_url: str, tmp_path: Path) -> tuple[Vault, Engine]:
    """A vault with 12 events and a signed tree head over the first 10."""
    engine = open_database(db_url)
    clock = StepClock()
    ident = X25519Identity.generate()
    bootstrap._register_first(engine, ident, "alice", clock, os.urandom)
    v = Vault(engine, LocalStore(tmp_path / "objects", clock=clock), ident,
              tmp_dir=tmp_path / "tmp", clock=clock)
    for i in range(9):
        v.create_engagement(f"e{i}", client="c", standard="pci-dss-4.0.1")
    v.audit_checkpoint()            # covers 9 events, then appends the 10th
    v.audit_checkpoint()            # covers 10
    v.create_engagement("late", client="c", standard="pci-dss-4.0.1")
    return v, engine


def _raw(engine: Engine, *sql: str) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for t in ("no_update", "no_delete"):
                conn.execute(sa.text(f"DROP TRIGGER IF EXISTS audit_event_{t}"))
        else:
            conn.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        for stmt in sql:
            conn.execute(sa.text(stmt))


def test_intact_log_verifies(logged: tuple[Vault, Engine]) -> None:
    v, _ = logged
    rep = v.audit_verify()
    assert rep.ok, rep.problems
    assert (rep.events, rep.checkpoints) == (12, 2)


def test_database_refuses_update_and_delete(logged: tuple[Vault, Engine]) -> None:
    _, engine = logged
    for stmt in ("UPDATE audit_event SET outcome = 'ok' WHERE seq = 3",
                 "DELETE FROM audit_event WHERE seq = 3"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as c:
            c.execute(sa.text(stmt))


def test_edited_event_is_named(logged: tuple[Vault, Engine]) -> None:
    v, engine = logged
    _raw(engine, "UPDATE audit_event SET actor = 'mallory' WHERE seq = 4")
    rep = v.audit_verify()
    assert not rep.ok
    assert rep.problems[0] == ("1. chain: event 4 (seq 4) does not match its hash "
                               "(its content was edited)")
    assert any(p.startswith("2. tree: tree head of size 9 has root") for p in rep.problems)


def test_deleted_event_is_named(logged: tuple[Vault, Engine]) -> None:
    v, engine = logged
    _raw(engine, "DELETE FROM audit_event WHERE seq = 6")
    rep = v.audit_verify()
    assert rep.problems[0].startswith("1. chain: event 6 (seq 7) links to ")
    assert "(an event before it was deleted, reordered or edited)" in rep.problems[0]
    assert "4. head: the log records 12 events, found 11" in rep.problems


def test_reordered_events_are_named(logged: tuple[Vault, Engine]) -> None:
    v, engine = logged
    _raw(engine, "UPDATE audit_event SET seq = 1000 WHERE seq = 5",
         "UPDATE audit_event SET seq = 5 WHERE seq = 6",
         "UPDATE audit_event SET seq = 6 WHERE seq = 1000")
    rep = v.audit_verify()
    assert rep.problems[0].startswith("1. chain: event 5 (seq 5) links to ")


def test_rehashed_forgery_is_caught_by_the_signed_tree_head(logged: tuple[Vault, Engine]
                                                           ) -> None:
    """Someone with write access rewrites an event and recomputes every later hash: the chain
    looks fine, but the signed tree heads no longer match."""
    from vault.audit import log as audit
    v, engine = logged
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT seq, at, actor, action, object, outcome, engagement_id, detail "
            "FROM audit_event ORDER BY seq")).all()
    prev, stmts = audit.GENESIS, []
    for r in rows:
        actor = "mallory" if r.seq == 2 else r.actor
        at = r.at if not isinstance(r.at, str) else datetime.fromisoformat(r.at)
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        doc = audit.canonical(prev, at, actor, r.action, r.object, r.outcome, r.engagement_id,
                              r.detail)
        h = hashlib.sha256(doc).hexdigest()
        stmts.append(f"UPDATE audit_event SET actor = '{actor}', prev_hash = '{prev}', "
                     f"hash = '{h}' WHERE seq = {r.seq}")
        prev = h
    _raw(engine, *stmts)
    rep = v.audit_verify()
    assert not any(p.startswith("1.") for p in rep.problems)
    assert rep.problems[0].startswith("2. tree: tree head of size 9 has root")


def test_forged_tree_head_signature_is_caught(logged: tuple[Vault, Engine]) -> None:
    v, engine = logged
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(sa.text("DROP TRIGGER audit_checkpoint_no_update"))
        else:
            conn.execute(sa.text("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER"))
        fake = base64.b64encode(bytes(64)).decode()
        conn.execute(sa.text(f"UPDATE audit_checkpoint SET signature = '{fake}' WHERE size = 10"))
    rep = v.audit_verify()
    assert rep.problems == ["3. signatures: tree head of size 10 has a bad signature"]


def test_app_role_cannot_update_the_audit_table(pg_server, pg_url: str) -> None:  # type: ignore[no-untyped-def]
    """The least-privilege role of infra/postgres/roles.sql: INSERT and SELECT only."""
    open_database(pg_url)
    owner = sa.create_engine(pg_url)
    with owner.begin() as conn:
        raw = conn.connection.driver_connection  # no parameters: psql-style text as it is
        raw.execute(ROLES_SQL.read_text())  # type: ignore[union-attr]
        raw.execute("ALTER ROLE vault_app PASSWORD 'app-pass'")  # type: ignore[union-attr]
    app_url = sa.engine.make_url(pg_url).set(username="vault_app", password="app-pass")
    app = sa.create_engine(app_url)
    with app.begin() as conn:
        conn.execute(sa.text("SELECT count(*) FROM audit_event"))
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app.begin() as c:
        c.execute(sa.text("UPDATE audit_event SET outcome = 'x'"))
    with app.begin() as conn:  # appending still works for the application role
        conn.execute(sa.text("SELECT count(*) FROM audit_head"))
    app.dispose()
    with owner.begin() as conn:
        conn.exec_driver_sql("DROP OWNED BY vault_app; DROP ROLE vault_app")


def test_inclusion_proof_and_export_verify_with_stock_code(logged: tuple[Vault, Engine],
                                                          tmp_path: Path) -> None:
    v, _ = logged
    proof = v.audit_proof(5)
    head = proof["tree_head"]
    leaf = merkle.leaf_hash(proof["event"].encode())
    assert leaf.hex() == proof["leaf_hash"]
    assert merkle.verify_inclusion(proof["index"], head["size"], leaf,
                                   [bytes.fromhex(p) for p in proof["proof"]],
                                   bytes.fromhex(head["root"]))
    [key] = v.signing_keys()
    assert signing.verify(key.public_pem, head["message"].encode(),
                          base64.b64decode(head["signature"]))
    out = tmp_path / "audit.jsonl"
    n = v.audit_export(out)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == n
    assert [x["type"] for x in lines].count("event") >= 12


def test_no_tree_head_yet(logged: tuple[Vault, Engine]) -> None:
    from vault.errors import NotFound
    v, _ = logged
    with pytest.raises(NotFound, match="no signed tree head covers event 12 yet"):
        v.audit_proof(12)


def test_rotation_keeps_old_tree_heads_verifiable(logged: tuple[Vault, Engine]) -> None:
    v, _ = logged
    old = v.signing_keys()[0]
    new = v.rotate_signing_key()
    assert new.id != old.id
    v.audit_checkpoint()
    rep = v.audit_verify()
    assert rep.ok, rep.problems
    assert rep.checkpoints == 3
    assert {k.id for k in v.signing_keys()} == {old.id, new.id}



@pytest.mark.parametrize("text", ["plain", 'quote" back\\slash', "new\nline\ttab\x00nul",
                                  "ünïcödé ✓ 日本語", "\u2028\u2029", "\ud7ff\ue000", ""])
def test_fast_canonical_form_matches_json(text: str) -> None:
    from vault.audit import log as audit
    from vault.audit import verify
    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    for detail, eng in ((text, text), (None, None)):
        slow = audit.canonical(text, at, text, text, text, text, eng, detail)
        fast = verify._doc(text, verify._iso(at), text, text, text, text, eng, detail)
        assert fast == slow
    for raw, dt in (("2026-01-02 03:04:05.000006", at),
                    ("2026-01-02 03:04:05.000000", at.replace(microsecond=0))):
        assert verify._iso(raw) == dt.isoformat()


@pytest.mark.parametrize("before,batch", [(0, 1), (0, 7), (5, 11), (8, 8)])
def test_append_many_equals_appends_one_by_one(tmp_path: Path, before: int, batch: int) -> None:
    """A batch's events get the chain, leaves and tree nodes that one append each would give."""
    from sqlmodel import Session

    from vault.audit import log
    from vault.metadata.models import AuditEvent, AuditNode

    at = datetime(2026, 12, 7, tzinfo=UTC)
    entries = [log.Entry(at, "alice", "item.ingest", f"obj{i}", "ok", None, f'{{"n":{i}}}')
               for i in range(before + batch)]

    def build(name: str, batched: bool) -> tuple[list[tuple[str, str]], list[tuple[int, int,
                                                                                bytes]]]:
        engine = open_database(f"sqlite:///{tmp_path / name}")
        with Session(engine) as s:
            for e in entries[:before]:
                log.append(s, at=e.at, actor=e.actor, action=e.action, obj=e.obj,
                           outcome=e.outcome, detail=e.detail)
            s.commit()
            if batched:
                log.append_many(s, entries[before:])
            else:
                for e in entries[before:]:
                    log.append(s, at=e.at, actor=e.actor, action=e.action, obj=e.obj,
                               outcome=e.outcome, detail=e.detail)
            s.commit()
            events = [(r.prev_hash, r.hash) for r in s.exec(  # type: ignore[call-overload]
                sa.select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
            nodes = sorted((r.level, r.idx, r.hash) for r in s.exec(  # type: ignore[call-overload]
                sa.select(AuditNode)).scalars())
            assert log.head(s)[0] == before + batch
        return events, nodes

    assert build("batched.db", True) == build("single.db", False)
