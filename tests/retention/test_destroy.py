"""`vault destroy --due`: what is destroyed (only what is due and not held), how (shred,
purge every version, verify, tombstone, audit), exactly once, and resumably."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from tests.conftest import PASSPHRASE, StepClock, ingest_one
from vault.age import X25519Identity
from vault.audit.verify import verify
from vault.crypto import keys
from vault.errors import InvalidInput, PermissionDenied
from vault.evidence.lifecycle import ItemState
from vault.metadata.models import (
    AuditEvent,
    Destruction,
    Engagement,
    EvidenceItem,
    ExportRecord,
    Flag,
    ItemRequirement,
    KeyGrant,
    LegalHold,
)
from vault.retention.report import METHOD_PENDING, METHOD_PURGED
from vault.service import Vault
from vault.service import destruction as destroying

CARD = b"card 4111111111111111 on file\n"


@pytest.fixture
def job(make_vault: Callable[..., Vault], vault: Vault) -> Vault:
    ident = X25519Identity.generate()
    vault.add_user("job", str(ident.recipient), "destruction-job")
    return make_vault(ident, "job")


def _events(v: Vault, action: str) -> list[AuditEvent]:
    with Session(v.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.seq)).all())  # type: ignore[arg-type]


def hold(v: Vault, engagement_id: str, item_id: str | None) -> str:
    """A legal hold row, as `vault hold add` leaves it (the holds' own tests cover placing)."""
    hid = v.new_id()
    with Session(v.engine) as s:
        s.add(LegalHold(id=hid, engagement_id=engagement_id, item_id=item_id, reason="case",
                        placed_by=v.user.id, placed_at=v.clock()))
        s.commit()
    return hid


def release(v: Vault, hold_id: str) -> None:
    with Session(v.engine) as s:
        h = s.get(LegalHold, hold_id)
        assert h is not None
        h.released_at, h.released_by, h.release_reason = v.clock(), v.user.id, "closed"
        s.add(h)
        s.commit()


def _item(v: Vault, item_id: str) -> EvidenceItem:
    with Session(v.engine) as s:
        it = s.get(EvidenceItem, item_id)
        assert it is not None
        return it


def test_only_the_job_may_destroy(vault: Vault, engagement: str) -> None:
    with pytest.raises(PermissionDenied, match="alice may not destroy evidence") as refused:
        vault.destroy_due()
    assert "destruction-job" in (refused.value.hint or "")
    with pytest.raises(PermissionDenied):
        vault.destroy_due(dry_run=True)
    [ev] = _events(vault, "retention.destroy")[-1:]
    assert (ev.actor, ev.outcome) == ("alice", "denied")


def test_destroys_what_is_due_and_keeps_a_tombstone(vault: Vault, engagement: str, job: Vault,
                                                    clock: StepClock) -> None:
    old = ingest_one(vault, engagement, "secret-plan.txt", b"the plan\n", system="fw01",
                     description="firewall rules", requirements=["1.2.1"]).view.item
    card = ingest_one(vault, engagement, "cards.log", CARD).view.item
    vault.complete_engagement(engagement, date(2026, 3, 1))
    clock.advance(timedelta(days=365 * 3 - 10))
    assert job.destroy_due().items == []                     # ten days early: nothing
    late = ingest_one(vault, engagement, "late.txt", b"later evidence\n").view.item
    clock.advance(timedelta(days=12))                        # the day after the anniversary
    dry = job.destroy_due(dry_run=True)
    assert dry.dry_run and {i.id for i in dry.items} == {old.id, card.id}
    assert _item(vault, old.id).age_header is not None       # a dry run changes nothing
    report = job.destroy_due()
    assert {i.id for i in report.items} == {old.id, card.id}
    assert all(i.method == METHOD_PURGED and i.verified for i in report.items)
    for it in (old, card):
        t = _item(vault, it.id)
        assert t.state == ItemState.DESTROYED and t.age_header is None
        assert (t.original_name, t.description, t.system, t.detected_mime) == ("", None, None,
                                                                               None)
        assert (t.sha256, t.size, t.ingested_at) == (it.sha256, it.size, it.ingested_at)
        assert not vault.store.exists(it.object_key) and vault.store.versions(it.object_key) == []
    with Session(vault.engine) as s:
        assert s.exec(select(Flag).where(Flag.item_id == card.id)).all() == []
        assert s.exec(select(ItemRequirement).where(ItemRequirement.item_id == old.id)).all() == []
        body = str(s.execute(sa.text("SELECT body FROM item_search WHERE item_id = :i"),
                             {"i": old.id}).scalar())
        assert "secret" not in body and "fw01" not in body
    assert _item(vault, late.id).state == ItemState.ACTIVE   # not due yet
    assert vault.store.exists(late.object_key)
    with pytest.raises(InvalidInput, match="destroyed"):
        vault.read_item(old.id, dest=vault.tmp_dir / "x")
    destroys = _events(vault, "item.destroy")
    assert sorted(e.object for e in destroys) == sorted([old.id, card.id])
    assert all(e.engagement_id == old.engagement_id and e.actor == "job" for e in destroys)
    assert "secret" not in json.dumps([e.detail for e in destroys])
    assert {e.object for e in _events(vault, "item.shred")} == {old.id, card.id}
    assert report.certificate_id is not None
    shown = vault.certificate(report.certificate_id)          # signed with the firm key
    assert shown["signature_valid"] and {i["id"] for i in shown["body"]["items"]} == {
        old.id, card.id}
    [cp] = _events(vault, "audit.checkpoint")[-1:]            # the job signed a tree head
    assert cp.actor == "job" and cp.outcome == "ok"
    assert verify(vault.engine).ok
    again = job.destroy_due()                                 # nothing is destroyed twice
    assert again.items == [] and again.certificate_id is None
    assert len(_events(vault, "item.destroy")) == 2


def test_held_items_and_engagements_are_not_destroyed(vault: Vault, engagement: str, job: Vault,
                                                      clock: StepClock) -> None:
    a = ingest_one(vault, engagement, "a.txt", b"a\n").view.item
    b = ingest_one(vault, engagement, "b.txt", b"b\n").view.item
    vault.complete_engagement(engagement, date(2026, 3, 1))
    held = hold(vault, a.engagement_id, a.id)
    clock.advance(timedelta(days=4 * 366))
    report = job.destroy_due()
    assert [i.id for i in report.items] == [b.id] and report.held == 1
    assert _item(vault, a.id).state == ItemState.ACTIVE
    with Session(vault.engine) as s:
        eng = s.get(Engagement, a.engagement_id)
        assert eng is not None and eng.destroyed_at is None   # one item lives on
    with Session(vault.engine) as s:  # an export made of it once, its bag named after it
        s.add(ExportRecord(id="x" * 32, engagement_id=a.engagement_id, recipient="QA",
                           recipient_type="council", recipient_fingerprint="f" * 16,
                           request_ref="QA-1", bag_name="acme-2026_QA-1", bundle_sha256="0" * 64,
                           created_at=vault.clock(), created_by=vault.user.id))
        s.commit()
    release(vault, held)
    report = job.destroy_due()
    assert [i.id for i in report.items] == [a.id]
    assert report.engagements_destroyed == [a.engagement_id]
    with Session(vault.engine) as s:
        rec = s.get(ExportRecord, "x" * 32)
        assert rec is not None and rec.bag_name == rec.id   # no engagement name left
    with Session(vault.engine) as s:
        eng = s.get(Engagement, a.engagement_id)
        assert eng is not None and eng.destroyed_at is not None
        assert (eng.name, eng.client) == (eng.id, "")
        keys = s.execute(sa.text("SELECT id FROM engagement_key WHERE engagement_id = :e"),
                         {"e": eng.id}).scalars().all()
        assert s.exec(select(KeyGrant).where(KeyGrant.key_id.in_(keys))).all() == []  # type: ignore[attr-defined]
    assert [e.object for e in _events(vault, "engagement.destroy")] == [a.engagement_id]


def test_no_completion_date_means_never_due(vault: Vault, engagement: str, job: Vault,
                                            clock: StepClock) -> None:
    it = ingest_one(vault, engagement, "a.txt", b"a\n").view.item
    clock.advance(timedelta(days=20 * 366))
    assert job.destroy_due().items == []
    assert _item(vault, it.id).state == ItemState.ACTIVE


def test_redacted_original_is_purged_too(vault: Vault, engagement: str, job: Vault,
                                         clock: StepClock) -> None:
    card = ingest_one(vault, engagement, "cards.log", CARD).view.item
    [flag] = vault.flags(engagement, kind="pan")
    res = vault.resolve_flag(flag.flag.id, "redact", "mask it")
    assert _item(vault, card.id).state == ItemState.SHREDDED
    vault.complete_engagement(engagement, date(2026, 3, 1))
    clock.advance(timedelta(days=4 * 366))
    report = job.destroy_due()
    assert {i.id for i in report.items} == {card.id, res.redacted_version}
    assert not vault.store.exists(card.object_key)
    # the new version's shred; the redaction's own, over three years old and about content that
    # is gone, was pruned to its hashes by the run's audit retention
    assert len(_events(vault, "item.shred")) == 1


def test_a_locked_payload_is_shredded_now_and_purged_later(vault: Vault, engagement: str,
                                                           job: Vault, clock: StepClock) -> None:
    it = ingest_one(vault, engagement, "a.txt", b"a\n").view.item
    vault.complete_engagement(engagement, date(2026, 3, 1))
    until = datetime(2031, 1, 1, tzinfo=UTC)
    vault.store.set_retention(it.object_key, until)    # the store holds it longer
    clock.advance(timedelta(days=3 * 366))
    report = job.destroy_due()
    [entry] = report.items
    assert entry.method == METHOD_PENDING.format(until=until.isoformat())
    assert [p.id for p in report.pending] == [it.id] and report.pending[0].locked_until == until
    t = _item(vault, it.id)
    assert t.state == ItemState.SHREDDED and t.age_header is None and vault.store.exists(
        it.object_key)
    again = job.destroy_due()                          # still locked: pending, no new certificate
    assert again.items == [] and [p.id for p in again.pending] == [it.id]
    assert again.certificate_id is None
    clock.now = until + timedelta(days=1)
    last = job.destroy_due()
    assert [(i.id, i.method) for i in last.items] == [(it.id, METHOD_PURGED)]
    assert _item(vault, it.id).state == ItemState.DESTROYED
    assert len(_events(vault, "item.shred")) == 1 and len(_events(vault, "item.destroy")) == 1


def test_limit(vault: Vault, engagement: str, job: Vault, clock: StepClock) -> None:
    for n in range(5):
        ingest_one(vault, engagement, f"{n}.txt", f"{n}\n".encode())
    vault.complete_engagement(engagement, date(2026, 3, 1))
    clock.advance(timedelta(days=4 * 366))
    assert len(job.destroy_due(limit=2).items) == 2
    assert len(job.destroy_due(limit=2).items) == 2
    assert len(job.destroy_due().items) == 1
    with pytest.raises(InvalidInput):
        job.destroy_due(limit=0)


def test_cli(initialised: Callable[..., Any], cli_env: Any, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> None:
    run = initialised
    r = run("destroy", "--due")
    assert r.code == 2 and "alice may not destroy evidence" in r.err and "Traceback" not in r.err
    with pytest.raises(SystemExit):
        run("destroy")                                     # --due is required
    job_file = tmp_path / "job.age"
    keys.create_identity(job_file, PASSPHRASE)
    monkeypatch.setenv("VAULT_IDENTITY", str(job_file))
    rec = run("init", "--join", "--json").json()["recipient"]  # type: ignore[index]
    monkeypatch.setenv("VAULT_IDENTITY", str(cli_env.identity_path))
    assert run("user", "add", "job", "--recipient", rec, "--role", "destruction-job").code == 0
    monkeypatch.setenv("VAULT_IDENTITY", str(job_file))
    dry = run("destroy", "--due", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert dry.json()["dry_run"] is True and dry.json()["due"] == 0  # type: ignore[index]
    done = run("destroy", "--due", "--json")
    assert done.code == 0 and done.json()["items"] == []  # type: ignore[index]
    assert done.json()["job"]["name"] == "job"  # type: ignore[index]
    human = run("destroy", "--due")
    assert human.code == 0 and "destroyed 0 items" in human.text
    bad = run("destroy", "--due", "--limit", "0")
    assert bad.code == 2 and bad.err.count("\n") <= 2 and "--limit" in bad.err


def test_a_destroyed_item_is_verified_and_previewed_as_gone(vault: Vault, engagement: str,
                                                            job: Vault, clock: StepClock) -> None:
    ingest_one(vault, engagement, "a.txt", b"a\n")
    ingest_one(vault, engagement, "b.txt", b"b\n")
    vault.complete_engagement(engagement, date(2026, 3, 1))
    clock.advance(timedelta(days=4 * 366))
    [destroyed] = job.destroy_due(limit=1).items
    gone = destroyed.id
    [res] = vault.verify(gone)
    assert res.ok and "destroyed" in (res.problem or "")
    assert "destroyed at the end of its retention" in vault.preview(gone)
    assert gone not in {i.item.id for i in vault.list_items(engagement)}


def test_a_hold_placed_after_the_claim_still_wins(vault: Vault, engagement: str, job: Vault,
                                                   clock: StepClock) -> None:
    it = ingest_one(vault, engagement, "a.txt", b"a\n").view.item
    vault.complete_engagement(engagement, date(2026, 3, 1))
    clock.advance(timedelta(days=4 * 366))

    placed: list[str] = []

    def hold_now(at: str) -> None:  # between the claim's commit and the shred
        if at == "claimed" and not placed:
            placed.append(hold(vault, it.engagement_id, None))   # the whole engagement
    report = destroying.destroy_due(job, fault=hold_now)
    assert placed and report.items == []
    with Session(vault.engine) as s:
        assert s.exec(select(Destruction)).all() == []       # the claim was let go
    t = _item(vault, it.id)
    assert t.state == ItemState.ACTIVE and t.age_header is not None
    assert vault.store.exists(it.object_key)


def test_a_store_flag_that_outlived_the_last_hold_is_cleared_and_the_item_purged(
        vault: Vault, engagement: str, job: Vault, clock: StepClock) -> None:
    """A hold released while the store failed leaves the payload's legal-hold flag on: the job
    (the vault's holds re-checked: none) clears it and purges in the same run."""
    it = ingest_one(vault, engagement, "a.txt", b"a\n").view.item
    vault.complete_engagement(engagement, date(2026, 3, 1))
    vault.store.set_legal_hold(it.object_key, True)    # no vault hold covers it any more
    clock.advance(timedelta(days=4 * 366))
    report = job.destroy_due()
    assert [(i.id, i.method) for i in report.items] == [(it.id, METHOD_PURGED)]
    assert report.pending == [] and not vault.store.exists(it.object_key)
    assert _item(vault, it.id).state == ItemState.DESTROYED


def test_the_run_prunes_the_audit_log_before_it_signs_a_head(
        vault: Vault, engagement: str, job: Vault, clock: StepClock) -> None:
    it = ingest_one(vault, engagement, "a.txt", b"a\n").view.item
    vault.complete_engagement(engagement, date(2026, 3, 1))
    clock.advance(timedelta(days=4 * 366))
    job.destroy_due()
    [pruned] = _events(vault, "audit.prune")           # the ingest's events, now about nothing
    [last] = _events(vault, "audit.checkpoint")[-1:]
    assert pruned.seq is not None and last.seq is not None and pruned.seq < last.seq
    assert _item(vault, it.id).state == ItemState.DESTROYED
    assert verify(vault.engine).ok
