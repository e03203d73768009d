"""The one path of every verb, Context.act(): permission check, work, audit event; refusals
and failures audited there; messages in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from tests.conftest import ingest_one, src
from tests.service.test_service import _FailingStore
from vault.age import X25519Identity
from vault.errors import IntegrityError, PermissionDenied, StorageError
from vault.metadata.models import AuditEvent, EngagementKey, User
from vault.people import access
from vault.service import IngestOptions, Vault


def events(vault: Vault) -> list[AuditEvent]:
    with Session(vault.engine) as s:
        return list(s.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all())


def add_person(vault: Vault, make_vault, name: str) -> Vault:  # type: ignore[no-untyped-def]
    ident = X25519Identity.generate()
    vault.add_user(name, str(ident.recipient))
    return make_vault(ident, name)  # type: ignore[no-any-return]


def test_status_goes_through_the_permission_check(vault: Vault,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert vault.status()["user"] == "alice"
    monkeypatch.setitem(access.MATRIX, "vault.status", frozenset())
    with pytest.raises(PermissionDenied, match="alice may not see this vault's status"):
        vault.status()
    last = events(vault)[-1]
    assert (last.action, last.object, last.outcome) == ("vault.status", "vault", "denied")


def test_bulk_verify_audits_the_engagements_it_may_not_check(vault: Vault, engagement: str,
                                                            make_vault) -> None:  # type: ignore[no-untyped-def]
    ingest_one(vault, engagement, "a.txt", b"alpha")
    ingest_one(vault, engagement, "b.txt", b"beta")
    bob = add_person(vault, make_vault, "bob")
    bob.create_engagement("bobs", client="Bob Ltd", standard="pci-dss-4.0.1")
    mine = ingest_one(bob, "bobs", "c.txt", b"gamma").view.item.id
    vault.add_member(engagement, "bob", "viewer")  # a viewer may read but not verify
    results = bob.verify(None)
    assert [r.item_id for r in results] == [mine]
    acme = vault.engagement(engagement)[0].id
    denied = [e for e in events(vault) if e.outcome == "denied"]
    assert [(e.actor, e.action, e.object, e.engagement_id) for e in denied] == [
        ("bob", "item.verify", acme, acme)]  # once for the engagement, not per item


def test_a_refusal_says_what_in_words_with_the_role_it_needs(vault: Vault, engagement: str,
                                                             make_vault) -> None:  # type: ignore[no-untyped-def]
    item = ingest_one(vault, engagement, "a.txt", b"alpha").view.item
    bob = add_person(vault, make_vault, "bob")
    with pytest.raises(PermissionDenied) as exc:
        bob.read_item(item.id, out=None)
    assert exc.value.message == "bob may not read the evidence of engagement 'acme-2026'"
    assert exc.value.hint == ("that needs an engagement assessor, an engagement lead, an "
                              "engagement qa or an engagement viewer")
    assert item.id not in exc.value.message and "item.read" not in exc.value.message
    with pytest.raises(PermissionDenied) as exc:
        bob.audit_verify()
    assert exc.value.message == "bob may not verify the audit log"
    assert exc.value.hint == "that needs the firm role admin"


def test_failed_ingests_are_audited(vault: Vault, engagement: str) -> None:
    vault.store = _FailingStore(vault.store)  # type: ignore[assignment]
    [r] = vault.ingest(engagement, [src("card_4111111111111111.txt", b"a" * 100)],
                       IngestOptions())
    assert isinstance(r, StorageError)
    last = events(vault)[-1]
    assert (last.action, last.outcome) == ("item.ingest", "error")
    assert json.loads(last.detail or "{}") == {"error": "StorageError"}
    assert "4111111111111111" not in (last.detail or "") + last.object


def test_an_integrity_failure_is_audited_as_such(vault: Vault, engagement: str,
                                                 tmp_path: Path) -> None:
    from tests.service.test_service import payload_path
    item = ingest_one(vault, engagement, "a.txt", b"alpha" * 1000).view.item
    path = payload_path(vault, item.id)
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.chmod(0o600)
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        vault.read_item(item.id, dest=tmp_path / "out")
    last = events(vault)[-1]
    assert (last.action, last.object, last.outcome) == ("item.read", item.id,
                                                        "integrity-failure")


def test_a_missing_engagement_key_is_named_by_the_engagement(vault: Vault,
                                                             engagement: str) -> None:
    with Session(vault.engine) as s:
        for key in s.exec(select(EngagementKey)).all():
            key.retired_at = key.created_at
            s.add(key)
        s.commit()
    [r] = vault.ingest(engagement, [src("a.txt", b"a")], IngestOptions())
    assert isinstance(r, IntegrityError)
    assert r.message == "engagement 'acme-2026' has no active key"
    assert r.hint and "backup" in r.hint


def test_a_denied_action_commits_nothing_of_its_work(vault: Vault, engagement: str,
                                                     make_vault) -> None:  # type: ignore[no-untyped-def]
    bob = add_person(vault, make_vault, "bob")
    before = len(events(vault))
    with pytest.raises(PermissionDenied):
        bob.add_member(engagement, "bob", "lead")
    after = events(vault)
    assert len(after) == before + 1 and after[-1].outcome == "denied"
    assert [m["user"] for m in vault.members(engagement)] == ["alice"]
    with Session(vault.engine) as s:
        assert s.exec(select(User).where(User.name == "bob")).one()


def test_a_full_disk_at_the_commit_leaves_nothing_behind(vault: Vault, engagement: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The payload is stored, then the database cannot be written: one clear error, no pending
    row, no orphan payload (and a retry works once there is room)."""
    import sqlite3

    import sqlalchemy as sa

    from vault.audit import log
    from vault.metadata.models import EvidenceItem
    real = log.append_many

    def full(s: Session, entries: list[log.Entry]) -> None:
        if any(e.action == "item.ingest" and e.outcome == "ok" for e in entries):
            raise sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError(
                "database or disk is full"))
        real(s, entries)
    monkeypatch.setattr(log, "append_many", full)
    [r] = vault.ingest(engagement, [src("a.txt", b"alpha")], IngestOptions())
    assert isinstance(r, StorageError)
    assert r.message == "could not write the metadata database: database or disk is full"
    with Session(vault.engine) as s:
        assert s.exec(select(EvidenceItem)).all() == []
    root = Path(vault.store.url.removeprefix("file://"))
    assert list(vault.store.list("payload/")) == [] and root.exists()
    assert (events(vault)[-1].action, events(vault)[-1].outcome) == ("item.ingest", "error")
    monkeypatch.setattr(log, "append_many", real)
    [ok] = vault.ingest(engagement, [src("a.txt", b"alpha")], IngestOptions())
    assert not isinstance(ok, Exception) and not ok.duplicate
