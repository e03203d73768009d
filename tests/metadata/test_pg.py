"""The metadata database and the whole service on a real PostgreSQL server (tests/pgserver.py)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from storage_backends import LocalStore
from tests.conftest import ingest_one
from tests.pgserver import PgServer
from vault.age import X25519Identity
from vault.metadata import db
from vault.metadata.models import AuditEvent, EvidenceItem, User
from vault.service import IngestResult, Vault, bootstrap

# -- the server --------------------------------------------------------------------------------


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on `port` (from /proc/net/tcp{,6})."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port:  # 0A = LISTEN
                continue
            if len(addr) == 8:
                found.add(".".join(str(b) for b in bytes.fromhex(addr)[::-1]))
            else:
                found.add(f"ipv6:{addr}")
    return found


def test_server_listens_on_loopback_only(pg_server: PgServer) -> None:  # noqa: F811
    with pg_server.connect() as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert str(conn.execute("SELECT inet_server_addr()").fetchone()[0]) == "127.0.0.1"
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
    if Path("/proc/net/tcp").exists():
        assert _listening_addresses(pg_server.port) == {"127.0.0.1"}


def test_server_checks_the_password(pg_server: PgServer) -> None:  # noqa: F811
    import psycopg

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(host=pg_server.host, port=pg_server.port, user=pg_server.user,
                        password="wrong", dbname="postgres", connect_timeout=10)


def test_each_test_gets_a_fresh_database(pg_url: str) -> None:  # noqa: F811
    assert pg_url.startswith("postgresql+psycopg://") and "@127.0.0.1:" in pg_url
    engine = db.make_engine(pg_url)
    try:
        assert db.current_revision(engine) is None
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


# -- schema ------------------------------------------------------------------------------------

def test_migrations_run_on_postgres(pg_url: str) -> None:  # noqa: F811
    engine = db.open_database(pg_url)
    try:
        assert engine.dialect.name == "postgresql"
        assert db.current_revision(engine) == db.SCHEMA_HEAD == db.head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == []
    finally:
        engine.dispose()
    engine = db.open_database(pg_url)  # reopening an up-to-date database is a no-op
    try:
        assert db.current_revision(engine) == db.SCHEMA_HEAD
    finally:
        engine.dispose()


def test_timestamps_round_trip_as_aware_utc(pg_url: str) -> None:  # noqa: F811
    engine = db.open_database(pg_url)
    try:
        with engine.connect() as conn:  # the server's zone is not UTC, so this test means it
            assert conn.execute(sa.text("SHOW TimeZone")).scalar() not in ("UTC", "Etc/UTC")
            data_type = conn.execute(sa.text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'user_account' AND column_name = 'created_at'")).scalar()
            assert data_type == "timestamp with time zone"
        given = datetime(2026, 3, 1, 23, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))
        with Session(engine) as s:
            s.add(User(id="u1", name="alice", recipient="age1x", created_at=given))
            s.commit()
        with Session(engine) as s:
            got = s.get(User, "u1")
            assert got is not None
        assert got.created_at == given
        assert got.created_at.tzinfo is UTC
        assert got.created_at == datetime(2026, 3, 2, 4, 30, 15, 123456, tzinfo=UTC)
        with Session(engine) as s, pytest.raises(sa.exc.StatementError, match="naive"):
            s.add(User(id="u2", name="bob", recipient="age1y",
                       created_at=datetime(2026, 3, 1, 12, 0)))
            s.commit()
    finally:
        engine.dispose()


# -- the whole service -------------------------------------------------------------------------

class LockedClock:
    """Like conftest's StepClock (strictly increasing), but safe to call from many threads."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += timedelta(microseconds=1)
            return self.now


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:  # noqa: F811
    engine = db.open_database(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_make_vault(pg_engine: Engine, tmp_path: Path) -> Callable[..., Vault]:
    """conftest's make_vault, on PostgreSQL: the first identity registered becomes admin."""
    clock = LockedClock()
    store = LocalStore(tmp_path / "objects", clock=clock)

    def make(identity: X25519Identity, name: str = "alice") -> Vault:
        bootstrap._register_first(pg_engine, identity, name, clock, os.urandom)
        return Vault(pg_engine, store, identity, tmp_dir=tmp_path / "tmp", clock=clock)
    return make


@pytest.fixture
def alice() -> X25519Identity:
    return X25519Identity.generate()




def assert_audit_chain_linked(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as s:
        events = list(s.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all())
    assert events and events[0].prev_hash == "0" * 64
    for prev, ev in zip(events, events[1:], strict=False):
        assert ev.prev_hash == prev.hash, f"audit chain broken at seq {ev.seq} ({ev.action})"
    return events


def test_service_round_trip_on_postgres(pg_make_vault: Callable[..., Vault],
                                        alice: X25519Identity, tmp_path: Path) -> None:
    vault = pg_make_vault(alice)
    assert vault.engine.dialect.name == "postgresql"
    eng = vault.create_engagement("acme-2026", client="Acme Payments", standard="pci-dss-4.0.1")
    rules = b"permit tcp any host 10.0.0.1 eq 443\n"
    blob = (hashlib.sha256(b"seed").digest() * 4000)[:100_003]
    r1 = ingest_one(vault, "acme-2026", "fw/rules.txt", rules, kind="config_export",
                    requirements=("1.2.1", "1.2.7"), system="fw-01")
    r2 = ingest_one(vault, "acme-2026", "export.bin", blob, kind="log_export")
    assert not r1.duplicate and not r2.duplicate
    assert (r2.view.item.size, r2.view.item.sha256) == (len(blob), hashlib.sha256(blob).hexdigest())
    assert r1.view.item.ingested_at.tzinfo is UTC

    listed = vault.list_items("acme-2026")
    assert [v.item.id for v in listed] == [r1.view.item.id, r2.view.item.id]
    assert listed[0].requirements == ("1.2.1", "1.2.7") and listed[0].engagement == "acme-2026"
    assert vault.item(r1.view.item.id).as_dict()["system"] == "fw-01"

    [flag] = [f.flag for f in vault.flags("acme-2026")]  # the driver-level insert, on psycopg
    assert (flag.kind, flag.masked, flag.line, flag.item_id) == (
        "ip_address", "10.0.*.*", 1, r1.view.item.id)
    assert flag.created_at.tzinfo is UTC and flag.created_at > r1.view.item.ingested_at
    assert len(flag.value_hash) == 64 and flag.state == "open"
    vault.read_item(r2.view.item.id, dest=tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == blob
    buf = io.BytesIO()
    vault.read_item(r1.view.item.id[:10], out=buf)
    assert buf.getvalue() == rules

    results = vault.verify(engagement="acme-2026")
    assert sorted(r.item_id for r in results) == sorted([r1.view.item.id, r2.view.item.id])
    assert all(r.ok for r in results), results

    again = ingest_one(vault, eng.id, "copy-of-rules.txt", rules)
    assert again.duplicate and again.view.item.id == r1.view.item.id
    assert len(vault.list_items("acme-2026")) == 2
    with Session(vault.engine) as s:  # no pending row or orphan payload left behind
        assert len(s.exec(select(EvidenceItem)).all()) == 2
    assert sorted(vault.store.list()) == sorted(
        f"payload/{i}" for i in (r1.view.item.id, r2.view.item.id))
    events = assert_audit_chain_linked(vault.engine)
    assert [e.action for e in events] == [
        "engagement.create", "item.ingest", "item.ingest", "item.read", "item.read",
        "item.verify", "item.verify"]


DISTINCT, SAME = 8, 4


def _ingest_concurrently(make_vault: Callable[..., Vault], alice: X25519Identity, *,
                         same: int = SAME
                         ) -> tuple[Vault, dict[str, IngestResult], list[IngestResult]]:
    """8 threads ingest distinct files and `same` threads the same bytes, released at once."""
    vault = make_vault(alice)
    vault.create_engagement("acme-2026", client="Acme", standard="pci-dss-4.0.1")
    # one Vault per thread (as separate clients would be), sharing the engine and the store
    vaults = [make_vault(alice) for _ in range(DISTINCT + same)]
    distinct = {f"file-{i}.log": f"line {i}\n".encode() * (i + 1) * 1000
                for i in range(DISTINCT)}
    jobs = [(name, data) for name, data in distinct.items()]
    jobs += [(f"same-{i}.txt", b"the very same bytes\n" * 500) for i in range(same)]
    barrier = threading.Barrier(len(jobs))

    def work(v: Vault, name: str, data: bytes) -> IngestResult:
        barrier.wait(timeout=30)
        return ingest_one(v, "acme-2026", name, data)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(work, v, n, d) for v, (n, d) in zip(vaults, jobs, strict=True)]
        results = [f.result(timeout=120) for f in futures]
    return vault, dict(zip(distinct, results[:DISTINCT], strict=True)), results[DISTINCT:]


def test_concurrent_ingest_stores_every_item_once(pg_make_vault: Callable[..., Vault],
                                                  alice: X25519Identity) -> None:
    vault, distinct, same = _ingest_concurrently(pg_make_vault, alice)

    assert not any(r.duplicate for r in distinct.values())
    assert len({r.view.item.id for r in distinct.values()}) == DISTINCT
    assert sorted(r.duplicate for r in same) == [False] + [True] * (SAME - 1)
    assert len({r.view.item.id for r in same}) == 1

    items = vault.list_items("acme-2026")
    assert len(items) == DISTINCT + 1
    assert len({v.item.sha256 for v in items}) == DISTINCT + 1
    assert {v.item.id for v in items} == {r.view.item.id for r in [*distinct.values(), *same]}
    with Session(vault.engine) as s:  # no pending row left behind by the losers of the race
        assert sorted(i.state for i in s.exec(select(EvidenceItem)).all()) == \
            ["active"] * (DISTINCT + 1)
    assert sorted(vault.store.list()) == sorted(f"payload/{v.item.id}" for v in items)
    assert all(r.ok for r in vault.verify(engagement="acme-2026"))


def test_concurrent_ingest_keeps_the_audit_chain_linked(pg_make_vault: Callable[..., Vault],
                                                        alice: X25519Identity) -> None:
    """Distinct files only, so that this fails for the audit chain alone."""
    vault, _, _ = _ingest_concurrently(pg_make_vault, alice, same=0)
    events = assert_audit_chain_linked(vault.engine)
    assert [e.action for e in events].count("item.ingest") == DISTINCT
