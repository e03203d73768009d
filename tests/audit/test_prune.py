"""Audit log retention: events older than three years, about no held item and no item whose
content still exists, are pruned to their hashes; the tree, the signed tree heads, inclusion
proofs and the README's stock-Python check still verify; the database permits that one change
and no other; `vault audit verify` still catches tampering — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage_backends import LocalStore
from tests.conftest import Result, StepClock, ingest_one
from vault.age import X25519Identity
from vault.audit import log as audit
from vault.audit import merkle
from vault.audit.prune import cutoff, prune
from vault.errors import IntegrityError, NotFound
from vault.metadata.db import open_database
from vault.metadata.models import AuditEvent, EvidenceItem
from vault.service import Vault, bootstrap

README = Path(__file__).resolve().parents[2] / "README.md"
CARD = b"card 4111111111111111\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'v.db'}"
    else:
        yield request.getfixturevalue("pg_url")


class Aged:
    """A vault whose first events are three years and a day old."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.engine = open_database(url)
        self.clock = StepClock()
        ident = X25519Identity.generate()
        bootstrap._register_first(self.engine, ident, "alice", self.clock, os.urandom)
        self.v = Vault(self.engine, LocalStore(tmp / "objects", clock=self.clock), ident,
                       tmp_dir=tmp / "tmp", clock=self.clock)
        for i in range(5):
            self.v.create_engagement(f"old{i}", client="c", standard="pci-dss-4.0.1")
        self.kept = ingest_one(self.v, "old0", "kept.txt", b"still here").view.item.id
        # quarantined, with one flag
        self.gone = ingest_one(self.v, "old0", "cards.log", CARD).view.item.id
        [flag] = self.v.flags("old0", item=self.gone)
        self.v.resolve_flag(flag.flag.id, "retain", "real card data, kept for the report")
        self.flag = flag.flag.id
        # its content is gone (as after a destruction): its events may be pruned
        with self.engine.begin() as conn:
            conn.execute(sa.update(EvidenceItem).where(EvidenceItem.id == self.gone)  # type: ignore[arg-type]
                         .values(state="shredded", age_header=None))
        self.v.audit_checkpoint()
        self.old_size = self.size()
        self.clock.advance(timedelta(days=3 * 366))
        self.v.create_engagement("recent", client="c", standard="pci-dss-4.0.1")

    def size(self) -> int:
        with Session(self.engine) as s:
            return audit.head(s)[0]

    def leaves(self) -> list[bytes]:
        with self.engine.connect() as conn:
            return [h for (h,) in conn.execute(sa.text(
                "SELECT hash FROM audit_node WHERE level = 0 ORDER BY idx"))]

    def events(self) -> list[AuditEvent]:
        with Session(self.engine) as s:
            return list(s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all())  # type: ignore[arg-type]


@pytest.fixture
def aged(db_url: str, tmp_path: Path) -> Aged:
    return Aged(db_url, tmp_path)


def _raw(engine: Engine, *sql: str) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for t in ("no_update", "no_delete"):
                conn.execute(sa.text(f"DROP TRIGGER IF EXISTS audit_event_{t}"))
        else:
            conn.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        for stmt in sql:
            conn.execute(sa.text(stmt))


def test_cutoff_is_three_calendar_years_back() -> None:
    from datetime import UTC, datetime
    assert cutoff(datetime(2029, 3, 1, 12, tzinfo=UTC)) == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert cutoff(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2025, 2, 28, tzinfo=UTC)


def test_prune_clears_old_events_and_everything_still_verifies(aged: Aged) -> None:
    v = aged.v
    leaves_before = aged.leaves()
    done = v.audit_prune()
    events = aged.events()
    by_seq = {e.seq: e for e in events}
    pruned = [e for e in events if e.pruned]
    assert done.events == len(pruned) > 0
    assert done.upto_seq == max(e.seq for e in pruned)  # type: ignore[type-var]
    assert all(e.at < done.before for e in pruned)
    # content gone, hashes kept; the tree's leaves are untouched
    assert all((e.actor, e.action, e.object, e.outcome, e.engagement_id, e.detail)
               == ("", "", "", "", None, None) for e in pruned)
    assert all(len(e.hash) == 64 and len(e.prev_hash) == 64 for e in pruned)
    assert aged.leaves()[:len(leaves_before)] == leaves_before
    # kept: what is about the item whose content still exists, and everything recent
    kept_old = [e for e in events if not e.pruned and e.at < done.before]
    assert kept_old and {e.object for e in kept_old} == {aged.kept}
    assert not any(e.pruned for e in events if e.at >= done.before)
    # the item still verifies against its (kept) ingest event
    [res] = v.verify(aged.kept)
    assert res.ok, res
    # the prune is itself an event
    last = v.audit_events(action="audit.prune")[-1]
    assert json.loads(last.detail or "{}") == {"events": done.events,
                                              "upto_seq": done.upto_seq,
                                              "before": done.before.isoformat()}
    # verify: chain, old and new tree heads, signatures
    v.audit_checkpoint()
    rep = v.audit_verify()
    assert rep.ok, rep.problems
    assert rep.pruned == done.events and rep.events == aged.size() - 1  # minus verify's own
    # an inclusion proof of a remaining old event against the new tree head
    keep_seq = kept_old[0].seq
    assert keep_seq is not None
    proof = v.audit_proof(keep_seq)
    assert merkle.verify_inclusion(proof["index"], proof["tree_head"]["size"],
                                   merkle.leaf_hash(proof["event"].encode()),
                                   [bytes.fromhex(p) for p in proof["proof"]],
                                   bytes.fromhex(proof["tree_head"]["root"]))
    first = pruned[0].seq
    assert first is not None and by_seq[first].pruned
    with pytest.raises(NotFound, match="was pruned"):
        v.audit_proof(first)
    # listings leave pruned events out
    assert all(e.action for e in v.audit_events())
    # nothing more is due: a second prune clears nothing and leaves no event
    n = len(v.audit_events(action="audit.prune"))
    assert v.audit_prune().events == 0
    assert len(v.audit_events(action="audit.prune")) == n


def test_events_about_a_held_item_and_its_flags_are_kept(aged: Aged) -> None:
    with Session(aged.engine) as s:
        n = prune(s, aged.clock(), {aged.gone})
        s.commit()
    objects = {e.object for e in aged.events() if not e.pruned and e.at < cutoff(aged.clock())}
    assert n > 0
    assert {aged.gone, aged.flag, aged.kept} <= objects
    with Session(aged.engine) as s:  # released: now they go too
        assert prune(s, aged.clock(), set()) > 0
        s.commit()
    objects = {e.object for e in aged.events() if not e.pruned and e.at < cutoff(aged.clock())}
    assert objects == {aged.kept}


def test_database_permits_the_prune_and_nothing_else(aged: Aged) -> None:
    aged.v.audit_prune()
    events = aged.events()
    live = next(e for e in events if not e.pruned)
    dead = next(e for e in events if e.pruned)
    clear = ("actor = '', action = '', object = '', outcome = '', engagement_id = NULL, "
             "detail = NULL")
    t = "TRUE" if aged.engine.dialect.name == "postgresql" else "1"
    f = "FALSE" if aged.engine.dialect.name == "postgresql" else "0"
    for stmt in (
        f"UPDATE audit_event SET outcome = 'denied' WHERE seq = {live.seq}",
        f"UPDATE audit_event SET pruned = {t} WHERE seq = {live.seq}",   # content left
        f"UPDATE audit_event SET {clear}, pruned = {t}, hash = '{'0' * 64}' "
        f"WHERE seq = {live.seq}",                                        # hash changed
        f"UPDATE audit_event SET {clear}, pruned = {t}, at = at + "
        + ("INTERVAL '1 day'" if t == "TRUE" else "1") + f" WHERE seq = {live.seq}",
        f"UPDATE audit_event SET pruned = {f} WHERE seq = {dead.seq}",   # un-prune
        f"UPDATE audit_event SET actor = 'mallory' WHERE seq = {dead.seq}",
        f"DELETE FROM audit_event WHERE seq = {dead.seq}",
        "UPDATE audit_node SET hash = hash WHERE level = 0",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), aged.engine.begin() as c:
            c.execute(sa.text(stmt))
    assert aged.v.audit_verify().ok


def test_tampering_with_a_kept_event_is_still_named(aged: Aged) -> None:
    aged.v.audit_prune()
    live = next(e for e in aged.events() if not e.pruned and e.action == "item.ingest")
    _raw(aged.engine, f"UPDATE audit_event SET actor = 'mallory' WHERE seq = {live.seq}")
    rep = aged.v.audit_verify()
    assert any(p.endswith(f"(seq {live.seq}) does not match its hash (its content was "
                          "edited)") for p in rep.problems), rep.problems
    assert any(p.startswith("2. tree: tree head of size") for p in rep.problems)


def test_a_pruned_event_whose_leaf_was_changed_breaks_the_tree_head(aged: Aged) -> None:
    aged.v.audit_prune()
    dead = next(e for e in aged.events() if e.pruned)
    with aged.engine.begin() as conn:
        idx = audit.event_index(Session(bind=conn), dead.seq)  # type: ignore[arg-type]
        if aged.engine.dialect.name == "sqlite":
            conn.execute(sa.text("DROP TRIGGER audit_node_no_update"))
        else:
            conn.execute(sa.text("ALTER TABLE audit_node DISABLE TRIGGER USER"))
        conn.execute(sa.text("UPDATE audit_node SET hash = :h WHERE level = 0 AND idx = :i"),
                     {"h": bytes(32), "i": idx})
    rep = aged.v.audit_verify()
    assert any(p.startswith("2. tree: tree head of size") for p in rep.problems), rep.problems


def test_content_cleared_outside_the_rule_is_named(aged: Aged) -> None:
    """The trigger lets anyone with write access clear an event the prune's way; verify finds
    a pruned event no audit.prune covers (here: a recent one)."""
    recent = aged.events()[-1]
    with aged.engine.begin() as conn:
        conn.execute(sa.update(AuditEvent).where(AuditEvent.seq == recent.seq)  # type: ignore[arg-type]
                     .values(actor="", action="", object="", outcome="", engagement_id=None,
                             detail=None, pruned=True))
    rep = aged.v.audit_verify()
    assert (f"1. chain: event {aged.size() - 1} (seq {recent.seq}) was pruned, but no "
            "audit.prune event covers it (its content was cleared outside the retention "
            "rule)") in rep.problems
    aged.v.audit_prune()  # a real prune later does not cover a recent event either
    assert any("was pruned, but no audit.prune event covers it" in p
               for p in aged.v.audit_verify().problems)


def test_prune_refuses_a_log_that_was_edited(aged: Aged) -> None:
    old = aged.events()[2]
    _raw(aged.engine, f"UPDATE audit_event SET actor = 'mallory' WHERE seq = {old.seq}")
    with pytest.raises(IntegrityError, match=f"event seq {old.seq} does not match its hash"):
        aged.v.audit_prune()
    assert not any(e.pruned for e in aged.events())


def test_only_the_job_and_administrators_prune(aged: Aged) -> None:
    from vault.errors import PermissionDenied
    from vault.people import access
    assert access.MATRIX["audit.prune"] == {"admin", "destruction-job"}
    bob = X25519Identity.generate()
    aged.v.add_user("bob", str(bob.recipient))
    v_bob = Vault(aged.engine, aged.v.store, bob, tmp_dir=aged.v.tmp_dir, clock=aged.clock)
    with pytest.raises(PermissionDenied, match="may not prune the audit log"):
        v_bob.audit_prune()
    assert not any(e.pruned for e in aged.events())
    last = aged.events()[-1]
    assert (last.actor, last.action, last.outcome) == ("bob", "audit.prune", "denied")


def _readme_export_script() -> str:
    return re.findall(r"<<'PY'\n(.*?)\nPY\n", README.read_text(), re.S)[1]


def _openssl_ok(work: Path, head: str) -> bool:
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey",
                        "firm.pem", "-in", f"{head}.txt", "-sigfile", f"{head}.sig"],
                       cwd=work, capture_output=True, text=True)
    return r.returncode == 0 and "Signature Verified Successfully" in r.stdout


def test_readme_stock_python_check_of_a_pruned_export(aged: Aged, tmp_path: Path) -> None:
    v = aged.v
    v.audit_prune()
    v.audit_checkpoint()
    work = tmp_path / "auditor"
    work.mkdir()
    (work / "firm.pem").write_text(v.signing_keys()[0].public_pem)
    v.audit_export(work / "audit.jsonl")
    recs = [json.loads(x) for x in (work / "audit.jsonl").read_text().splitlines()]
    gone = [r for r in recs if r["type"] == "event" and r.get("pruned")]
    assert gone and all(set(r) == {"type", "index", "seq", "pruned", "prev", "hash", "leaf"}
                        for r in gone)
    script = _readme_export_script()
    out = subprocess.run([sys.executable, "-", "audit.jsonl"], input=script, text=True,
                         cwd=work, capture_output=True, check=True).stdout.splitlines()
    heads = sorted(r["size"] for r in recs if r["type"] == "tree_head")
    assert out == [f"tree head {n}: root matches" for n in heads] + ["log intact"]
    assert all(_openssl_ok(work, f"head-{n}") for n in heads)
    # a pruned event's leaf swapped: the roots no longer match
    lines = (work / "audit.jsonl").read_text().splitlines()
    i = next(n for n, x in enumerate(lines) if json.loads(x).get("pruned"))
    rec = json.loads(lines[i])
    rec["leaf"] = "00" * 32
    lines[i] = json.dumps(rec)
    (work / "audit.jsonl").write_text("\n".join(lines) + "\n")
    out = subprocess.run([sys.executable, "-", "audit.jsonl"], input=script, text=True,
                         cwd=work, capture_output=True, check=True).stdout
    assert "DOES NOT MATCH" in out and out.strip().endswith("LOG BROKEN")


def test_cli_audit_prune(initialised: Callable[..., Result]) -> None:
    r = initialised("audit", "prune", "--json")
    assert r.code == 0, r.err
    assert r.json()["pruned"] == 0  # type: ignore[index]
    r = initialised("audit", "verify", "--json")
    assert r.code == 0 and r.json()["pruned"] == 0  # type: ignore[index]


def test_the_least_privilege_role_prunes_through_the_function_only(pg_server, pg_url: str,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    """vault_app (infra/postgres/roles.sql) may not UPDATE the log, yet the job running as it
    prunes: through vault_audit_prune(), which can do nothing but the prune."""
    aged = Aged(pg_url, tmp_path)
    roles = Path(__file__).resolve().parents[2] / "infra" / "postgres" / "roles.sql"
    with aged.engine.begin() as conn:
        raw = conn.connection.driver_connection
        raw.execute(roles.read_text())  # type: ignore[union-attr]
        raw.execute("ALTER ROLE vault_app PASSWORD 'app-pass'")  # type: ignore[union-attr]
    app = sa.create_engine(sa.engine.make_url(pg_url).set(username="vault_app",
                                                          password="app-pass"))
    try:
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), \
                app.begin() as c:
            c.execute(sa.text("UPDATE audit_event SET actor = '' WHERE seq = 2"))
        with Session(app) as s:
            n = prune(s, aged.clock(), set())
            s.commit()
        assert n > 0 and sum(e.pruned for e in aged.events()) == n
        first = next(e.seq for e in aged.events() if e.pruned)
        with app.begin() as c:  # an event pruned already is left as it is
            assert c.execute(sa.text(f"SELECT vault_audit_prune(ARRAY[{first}]::bigint[])")
                             ).scalar() == 0
        with app.begin() as c, pytest.raises(sa.exc.ProgrammingError,
                                             match="permission denied"):
            c.execute(sa.text("DELETE FROM destruction_certificate"))
        with aged.engine.begin() as conn:  # another role may not call the prune function
            conn.exec_driver_sql("CREATE ROLE vault_other LOGIN PASSWORD 'o'")
        other = sa.create_engine(sa.engine.make_url(pg_url).set(username="vault_other",
                                                                password="o"))
        try:
            with other.begin() as c, pytest.raises(sa.exc.ProgrammingError,
                                                   match="permission denied"):
                c.execute(sa.text("SELECT vault_audit_prune(ARRAY[2]::bigint[])"))
        finally:
            other.dispose()
            with aged.engine.begin() as conn:
                conn.exec_driver_sql("DROP OWNED BY vault_other; DROP ROLE vault_other")
        [problem] = aged.v.audit_verify().problems  # prune() alone leaves no event
        assert problem.endswith("was pruned, but no audit.prune event covers it (its content "
                                "was cleared outside the retention rule)")
    finally:
        app.dispose()
        with aged.engine.begin() as conn:
            conn.exec_driver_sql("DROP OWNED BY vault_app; DROP ROLE vault_app")


def test_a_tampered_event_late_in_the_due_range_stops_the_whole_prune(
        aged: Aged, monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.audit import prune as pruning
    old = [e for e in aged.events() if e.at < cutoff(aged.clock()) and e.object != aged.kept]
    _raw(aged.engine, f"UPDATE audit_event SET actor = 'mallory' WHERE seq = {old[-1].seq}")
    monkeypatch.setattr(pruning, "_BATCH", 2)  # the first batches are fine, the last is not
    with Session(aged.engine) as s:
        with pytest.raises(IntegrityError):
            prune(s, aged.clock(), set())
        # not even in the failed transaction: every event is checked before any is cleared
        assert s.execute(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.pruned == sa.true())).scalar() == 0  # type: ignore[arg-type]


def test_migration_0012_goes_down_and_up_keeping_the_log_append_only(db_url: str) -> None:
    from alembic import command

    from vault.metadata import db
    engine = open_database(db_url)
    cfg = db._alembic_config()
    for step, target in ((command.downgrade, "0011"), (command.upgrade, "head")):
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            step(cfg, target)
        for stmt in ("UPDATE audit_event SET actor = 'x' WHERE seq = 1",
                     "DELETE FROM audit_event WHERE seq = 1"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"), \
                    engine.begin() as c:
                c.execute(sa.text("INSERT INTO audit_event (seq, at, actor, action, object, "
                                  "outcome, prev_hash, hash) VALUES (1, '2026-01-01', 'a', "
                                  "'b', 'c', 'ok', 'p', 'h')"))
                c.execute(sa.text(stmt))
    assert db.current_revision(engine) == db.SCHEMA_HEAD
