"""A small firm for the destruction tests, built without fixtures (so one test can build
several, and a subprocess can open one), and a snapshot of everything a destruction changes,
keyed by content (SHA-256) so that two vaults built alike compare equal."""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage_backends import LocalStore
from tests.conftest import StepClock
from vault.age import X25519Identity
from vault.audit.verify import verify
from vault.evidence.sources import Source
from vault.metadata.db import open_database
from vault.metadata.models import (
    AuditEvent,
    Destruction,
    Engagement,
    EngagementKey,
    EvidenceItem,
    Flag,
    ItemMember,
    ItemRequirement,
    KeyGrant,
    LegalHold,
)
from vault.service import IngestOptions, IngestResult, Vault, bootstrap

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Firm:
    home: Path
    db_url: str
    clock: StepClock
    admin: Vault
    job: Vault
    job_identity: X25519Identity


def open_firm(home: Path, clock: StepClock, db_url: str | None = None) -> Firm:
    """A vault (SQLite in `home` unless `db_url`), its admin alice, and the destruction job."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    url = db_url or f"sqlite:///{home / 'vault.db'}"
    engine = open_database(url)
    store = LocalStore(home / "objects", clock=clock)
    alice, job = X25519Identity.generate(), X25519Identity.generate()
    bootstrap._register_first(engine, alice, "alice", clock, os.urandom)
    admin = Vault(engine, store, alice, tmp_dir=home / "tmp", clock=clock)
    admin.add_user("job", str(job.recipient), "destruction-job")
    (home / "job.key").write_text(str(job), encoding="ascii")
    (home / "alice.key").write_text(str(alice), encoding="ascii")
    return Firm(home, url, clock, admin,
                Vault(engine, store, job, tmp_dir=home / "tmp", clock=clock), job)


def reopen(home: Path, clock: StepClock) -> Firm:
    """The firm `open_firm` made in `home` (or a copy of its directory), opened again."""
    url = f"sqlite:///{home / 'vault.db'}"
    engine = open_database(url)
    store = LocalStore(home / "objects", clock=clock)
    alice = X25519Identity.from_str((home / "alice.key").read_text(encoding="ascii"))
    job = X25519Identity.from_str((home / "job.key").read_text(encoding="ascii"))
    return Firm(home, url, clock, Vault(engine, store, alice, tmp_dir=home / "tmp", clock=clock),
                Vault(engine, store, job, tmp_dir=home / "tmp", clock=clock), job)


def fake_header() -> bytes:
    """An age header's shape with random stanza bytes: distinctive, so a test can search the
    database files for it."""
    return (b"age-encryption.org/v1\n-> X25519 " + os.urandom(24).hex().encode()
            + b"\n" + os.urandom(32).hex().encode() + b"\n--- "
            + os.urandom(16).hex().encode() + b"\n")


def bulk_items(v: Vault, eng_name: str, ingested: list[datetime], *,
               payload: bytes = b"ciphertext " * 4, store: bool = True) -> list[str]:
    """Items inserted directly (rows in one statement, small payloads in the store unless not
    `store`): fast enough for thousands; each with its own random header."""
    with Session(v.engine) as s:
        eng = v.find_engagement(s, eng_name)
        key = v.current_key(s, eng)
        rows: list[dict[str, Any]] = []
        for at in ingested:
            iid = v.new_id()
            rows.append({"id": iid, "engagement_id": eng.id, "key_id": key.id, "kind": "other",
                         "original_name": f"file-{iid[:8]}.txt", "size": len(payload),
                         "sha256": hashlib.sha256(iid.encode()).hexdigest(),
                         "ingested_at": at, "ingested_by": v.user.id, "state": "active",
                         "object_key": f"payload/{iid}", "age_header": fake_header(),
                         "disclosure": "team", "detected_mime": "text/plain"})
        for i in range(0, len(rows), 500):
            s.execute(sa.insert(EvidenceItem), rows[i:i + 500])
        s.commit()
    for r in rows if store else ():
        v.store.put(r["object_key"], [payload])
    return [r["id"] for r in rows]


def ingest(v: Vault, eng: str, name: str, data: bytes, **opts: Any) -> EvidenceItem:
    [r] = v.ingest(eng, [Source(name=name, size=len(data), open=lambda: io.BytesIO(data))],
                   IngestOptions(**opts))
    assert isinstance(r, IngestResult), r
    return r.view.item


def hold(v: Vault, engagement_id: str, item_id: str | None) -> str:
    """A legal hold row, as `vault hold add` leaves it (the holds' own tests cover placing)."""
    hid = v.new_id()
    with Session(v.engine) as s:
        s.add(LegalHold(id=hid, engagement_id=engagement_id, item_id=item_id, reason="case",
                        placed_by=v.user.id, placed_at=v.clock()))
        s.commit()
    return hid


CARD = b"card 4111111111111111 on file\n"


def scenario(f: Firm) -> datetime:
    """Two completed engagements and one open one: due items, a held item, a redacted
    original, a payload the store locks longer, items not due yet. Returns a time at which a
    run has work of every kind."""
    v = f.admin
    for name in ("alpha", "beta", "open"):
        v.create_engagement(name, client=f"Client {name}", standard="pci-dss-4.0.1")
    a1 = ingest(v, "alpha", "alpha-firewall.txt", b"alpha one\n", system="fw01",
                description="rules", requirements=["1.2.1"])
    ingest(v, "alpha", "alpha-two.txt", b"alpha two\n")
    card = ingest(v, "alpha", "alpha-cards.log", CARD)
    [flag] = v.flags("alpha", kind="pan")
    v.resolve_flag(flag.flag.id, "redact", "mask it")
    b1 = ingest(v, "beta", "beta-one.txt", b"beta one\n")
    ingest(v, "beta", "beta-two.txt", b"beta two\n")
    b3 = ingest(v, "beta", "beta-held.txt", b"beta held\n")
    hold(v, b3.engagement_id, b3.id)
    ingest(v, "open", "open-one.txt", b"open one\n")
    v.complete_engagement("alpha", date(2026, 3, 1))
    v.complete_engagement("beta", date(2026, 4, 1))
    f.clock.advance(timedelta(days=400))
    ingest(v, "beta", "beta-late.txt", b"beta late\n")   # due a year after the others
    v.store.set_retention(b1.object_key, datetime(2031, 1, 1, tzinfo=UTC))  # locked longer
    assert a1 and card
    return datetime(2029, 6, 1, tzinfo=UTC)


def snapshot(v: Vault) -> dict[str, Any]:
    """What a destruction leaves, with random ids replaced by content hashes."""
    out: dict[str, Any] = {}
    with Session(v.engine) as s:
        items = list(s.exec(select(EvidenceItem)).all())
        sha = {it.id: it.sha256 for it in items}
        engs = {e.id: e for e in s.exec(select(Engagement)).all()}
        ename = {e.id: (e.client.removeprefix("Client ") if e.destroyed_at is None
                        else f"destroyed:{len([i for i in items if i.engagement_id == e.id])}")
                 for e in engs.values()}
        out["items"] = sorted(
            (it.sha256, it.state, it.age_header is None, it.original_name, it.description,
             it.system, it.detected_mime, it.size, v.store.exists(it.object_key),
             len(v.store.versions(it.object_key)))
            for it in items)
        out["flags"] = sorted((sha[fl.item_id], fl.kind, fl.state)
                              for fl in s.exec(select(Flag)).all())
        out["members"] = sorted(sha[m.item_id] for m in s.exec(select(ItemMember)).all())
        out["requirements"] = sorted((sha[r.item_id], r.requirement_id)
                                     for r in s.exec(select(ItemRequirement)).all())
        out["engagements"] = sorted(
            (e.destroyed_at is not None, e.name == e.id, e.client == "") for e in engs.values())
        keys = {k.id: k.engagement_id for k in s.exec(select(EngagementKey)).all()}
        out["grants"] = sorted(ename[keys[g.key_id]] for g in s.exec(select(KeyGrant)).all())
        out["destruction"] = sorted(
            (sha[d.item_id], d.step, d.locked, d.verified, len(json.loads(d.version_ids)))
            for d in s.exec(select(Destruction)).all())
        events = list(s.exec(select(AuditEvent).where(col(AuditEvent.action).in_(
            ("item.shred", "item.destroy", "engagement.destroy")))).all())
        out["events"] = sorted((e.action, sha.get(e.object) or ename.get(e.object, e.object))
                               for e in events)
        certified: list[str] = []
        for body in s.execute(sa.text("SELECT body FROM destruction_certificate")).scalars():
            certified += [f"{sha[i['id']]}:{i['method'].split(' (')[0]}"
                          for i in json.loads(body)["items"]]
        out["certified"] = sorted(certified)
    out["store"] = sorted(v.store.list())
    out["store"] = len(out["store"])
    out["audit_ok"] = verify(v.engine).ok
    return out
