"""Destruction certificates: the NIST SP 800-88 record fields, canonical JSON signed with the
firm key, stored for good, listed and shown by who may, and exported so that stock openssl
verifies them — and refuses them after one changed byte."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.conftest import PASSPHRASE, Result, StepClock, ingest_one
from vault.age import X25519Identity
from vault.crypto import keys
from vault.errors import InvalidInput, NotFound, PermissionDenied
from vault.metadata.db import open_database
from vault.metadata.models import DestructionCertificate, User
from vault.people.grants import signing_key_for
from vault.retention import certificate
from vault.retention.report import (
    METHOD_PENDING,
    METHOD_PURGED,
    DestroyedItem,
    PendingItem,
    RunReport,
)
from vault.service import Vault

README = Path(__file__).resolve().parents[2] / "README.md"
T0 = datetime(2030, 1, 2, 3, 0, tzinfo=UTC)


def report(items: list[tuple[str, str]], *, pending: int = 0, verified: bool = True,
           run_id: str = "run-1") -> RunReport:
    """A run that destroyed `items` ((item id, engagement id)); the last `pending` of them
    still locked in the store."""
    rep = RunReport(run_id=run_id, started_at=T0, finished_at=T0 + timedelta(minutes=2),
                    job_name="job", job_recipient="age1job", tool="evidence-vault 0.9.0",
                    store_url="s3://evidence/prod?region=eu-west-1", database="postgresql")
    until = T0 + timedelta(days=30)
    for n, (item, eng) in enumerate(items):
        locked = n >= len(items) - pending
        rep.items.append(DestroyedItem(
            id=item, engagement_id=eng, sha256=f"{n:064x}", size=100 + n,
            object_key=f"objects/{eng}/{item}", version_ids=(f"v{n}a", f"v{n}b"),
            method=METHOD_PENDING.format(until=until.isoformat()) if locked else METHOD_PURGED,
            verified=verified and not locked))
        if locked:
            rep.pending.append(PendingItem(item, eng, f"objects/{eng}/{item}", until))
    return rep


def issue(engine: Engine, identity: X25519Identity, rep: RunReport, at: datetime = T0
          ) -> DestructionCertificate:
    """Issue `rep`'s certificate as the signer whose identity is given (an administrator)."""
    with Session(engine, expire_on_commit=False) as s:
        user = s.exec(select(User).where(User.recipient == str(identity.recipient))).one()
        key = signing_key_for(s, user, identity)
        cert = certificate.issue(s, rep, key, cert_id=os.urandom(16).hex(), at=at)
        s.commit()
        return cert


def issue_for_cli(db_url: str, identity_file: Path, items: list[tuple[str, str]]) -> str:
    """A certificate in a CLI test's vault, signed with the key the identity file unlocks."""
    ident = keys.load_identity(identity_file, PASSPHRASE)
    return issue(open_database(db_url), ident, report(items)).id


def _openssl_verify(work: Path, cert_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "firm.pem",
                           "-rawin", "-in", f"CERT-{cert_id}.json", "-sigfile",
                           f"CERT-{cert_id}.json.sig"], cwd=work, capture_output=True,
                          text=True)


@pytest.fixture
def firm(make_vault: Callable[..., Vault], alice_id: X25519Identity, clock: StepClock
         ) -> tuple[Vault, dict[str, str]]:
    """alice (admin, lead of A and B), bob (QA of A), carol (viewer of A); items of A and B."""
    v = make_vault(alice_id)
    v.create_engagement("A", client="c", standard="pci-dss-4.0.1")
    v.create_engagement("B", client="d", standard="pci-dss-4.0.1")
    ids = {"a1": ingest_one(v, "A", "a1.txt", b"a1").view.item.id,
           "a2": ingest_one(v, "A", "a2.txt", b"a2").view.item.id,
           "b1": ingest_one(v, "B", "b1.txt", b"b1").view.item.id,
           "A": v.engagement("A")[0].id, "B": v.engagement("B")[0].id}
    return v, ids


def test_body_has_the_sanitization_record_fields_and_is_canonical(firm, alice_id) -> None:  # type: ignore[no-untyped-def]
    v, ids = firm
    rep = report([(ids["a1"], ids["A"]), (ids["a2"], ids["A"]), (ids["b1"], ids["B"])],
                 pending=1)
    cert = issue(v.engine, alice_id, rep)
    assert rep.certificate_id == cert.id
    doc = json.loads(cert.body)
    assert cert.body == json.dumps(doc, sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False)
    assert doc["certificate_id"] == cert.id and doc["format"] == certificate.FORMAT
    assert "NIST SP 800-88" in doc["record"]
    assert doc["run"] == {"id": "run-1", "started_at": T0.isoformat(),
                          "finished_at": (T0 + timedelta(minutes=2)).isoformat()}
    [key] = v.signing_keys()
    assert doc["sanitized_by"] == {"job": "job", "job_recipient": "age1job",
                                   "role": "destruction-job", "signing_key_id": key.id}
    assert [m["type"] for m in doc["media"]] == ["cloud/object storage", "database record"]
    assert doc["media"][0]["source"] == "s3://evidence/prod?region=eu-west-1"
    assert doc["media"][1]["source"] == "postgresql"
    san = doc["sanitization"]
    assert san["category"] == "Purge" and "cryptographic erase" in san["technique"]
    assert (san["tool"], san["items"], san["purged"], san["purge_pending"]) == (
        "evidence-vault 0.9.0", 3, 2, 1)
    first = doc["items"][0]
    assert first == {"id": ids["a1"], "engagement_id": ids["A"], "sha256": "0" * 64,
                     "size": 100, "object_key": f"objects/{ids['A']}/{ids['a1']}",
                     "version_ids": ["v0a", "v0b"], "method": METHOD_PURGED,
                     "verified": True, "ingested_at": None, "destruction_due": None}
    assert doc["verification"]["result"] == "failed"  # the locked one is not verified gone
    assert doc["verification"]["items_verified"] == 2
    assert doc["remains"]["pending_purge"] == [{
        "id": ids["b1"], "engagement_id": ids["B"],
        "object_key": f"objects/{ids['B']}/{ids['b1']}",
        "locked_until": (T0 + timedelta(days=30)).isoformat()}]
    assert any("backups" in n.lower() for n in doc["remains"]["notes"])
    assert doc["date"] == (T0 + timedelta(minutes=2)).isoformat()
    assert certificate.check(cert, key.public_pem)


def test_a_dry_run_or_an_empty_run_gets_no_certificate(firm, alice_id) -> None:  # type: ignore[no-untyped-def]
    v, ids = firm
    dry = report([(ids["a1"], ids["A"])])
    dry.dry_run = True
    with pytest.raises(InvalidInput, match="dry run"):
        issue(v.engine, alice_id, dry)
    with pytest.raises(InvalidInput, match="nothing to certify"):
        issue(v.engine, alice_id, report([]))


def test_export_verifies_with_openssl_and_fails_after_one_changed_byte(firm, alice_id,  # type: ignore[no-untyped-def]
                                                                       tmp_path: Path) -> None:
    v, ids = firm
    cert = issue(v.engine, alice_id, report([(ids["a1"], ids["A"]), (ids["b1"], ids["B"])]))
    out = tmp_path / "auditor"
    out.mkdir()
    done = v.export_certificate(cert.id[:8], out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"CERT-{cert.id}.json", f"CERT-{cert.id}.json.sig", "firm.pem"])
    assert done["id"] == cert.id
    assert (out / f"CERT-{cert.id}.json").read_bytes() == cert.body.encode()
    sig = (out / f"CERT-{cert.id}.json.sig").read_bytes()
    assert len(sig) == 64 and sig == base64.b64decode(cert.signature)
    assert (out / "firm.pem").read_text() == v.signing_keys()[0].public_pem
    r = _openssl_verify(out, cert.id)
    assert r.returncode == 0 and "Signature Verified Successfully" in r.stdout, r
    body = bytearray((out / f"CERT-{cert.id}.json").read_bytes())
    body[len(body) // 2] ^= 0x01
    (out / f"CERT-{cert.id}.json").write_bytes(bytes(body))
    r = _openssl_verify(out, cert.id)
    assert r.returncode != 0 and "Signature Verified Successfully" not in r.stdout
    # the export is audited; exporting into the same place again refuses a changed file
    last = v.audit_events(action="certificate.export")[-1]
    assert (last.object, last.outcome) == (f"certificate/{cert.id}", "ok")
    with pytest.raises(InvalidInput, match="exists and differs"):
        v.export_certificate(cert.id, out)
    with pytest.raises(InvalidInput, match="not a directory"):
        v.export_certificate(cert.id, tmp_path / "missing")


def test_a_rotated_key_still_exports_the_key_that_signed(firm, alice_id, tmp_path: Path  # type: ignore[no-untyped-def]
                                                         ) -> None:
    v, ids = firm
    old = v.signing_keys()[0]
    cert = issue(v.engine, alice_id, report([(ids["a1"], ids["A"])]))
    v.rotate_signing_key()
    v.export_certificate(cert.id, tmp_path)
    assert (tmp_path / "firm.pem").read_text() == old.public_pem
    assert _openssl_verify(tmp_path, cert.id).returncode == 0


def test_certificates_are_never_changed_or_deleted(firm, alice_id) -> None:  # type: ignore[no-untyped-def]
    v, ids = firm
    cert = issue(v.engine, alice_id, report([(ids["a1"], ids["A"])]))
    for stmt in (f"UPDATE destruction_certificate SET body = '{{}}' WHERE id = '{cert.id}'",
                 f"DELETE FROM destruction_certificate WHERE id = '{cert.id}'",
                 f"DELETE FROM certificate_engagement WHERE certificate_id = '{cert.id}'"):
        with pytest.raises(sa.exc.DatabaseError, match="never changed or deleted"), \
                v.engine.begin() as c:
            c.execute(sa.text(stmt))
    assert [c.id for c in v.certificates()] == [cert.id]


def test_a_stored_certificate_that_was_altered_is_not_exported(firm, alice_id, tmp_path: Path  # type: ignore[no-untyped-def]
                                                               ) -> None:
    v, ids = firm
    cert = issue(v.engine, alice_id, report([(ids["a1"], ids["A"])]))
    with v.engine.begin() as c:
        c.execute(sa.text("DROP TRIGGER destruction_certificate_no_update"))
        c.execute(sa.text("UPDATE destruction_certificate SET body = replace(body, :a, :b)"),
                  {"a": '"size":100', "b": '"size":101'})
    from vault.errors import IntegrityError
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(IntegrityError, match="signature does not verify"):
        v.export_certificate(cert.id, out)
    assert not list(out.iterdir())
    assert v.certificate(cert.id)["signature_valid"] is False


def test_leads_and_qa_see_their_engagements_items_only(firm, alice_id, make_vault) -> None:  # type: ignore[no-untyped-def]
    v, ids = firm
    both = issue(v.engine, alice_id, report([(ids["a1"], ids["A"]), (ids["b1"], ids["B"])],
                                            run_id="r1"))
    only_b = issue(v.engine, alice_id, report([(ids["b1"], ids["B"])], run_id="r2"),
                   at=T0 + timedelta(days=1))
    bob_id, carol_id = X25519Identity.generate(), X25519Identity.generate()
    v.add_user("bob", str(bob_id.recipient))
    v.add_user("carol", str(carol_id.recipient))
    v.add_member("A", "bob", "qa")
    v.add_member("A", "carol", "viewer")
    bob, carol = make_vault(bob_id, "bob"), make_vault(carol_id, "carol")
    # the administrator: all; per engagement: those covering it
    assert [c.id for c in v.certificates()] == [both.id, only_b.id]
    assert [c.id for c in v.certificates("B")] == [both.id, only_b.id]
    assert v.certificates()[0].engagements == tuple(sorted([ids["A"], ids["B"]]))
    # QA of A: A's certificates, A's items only, never another engagement's
    assert [c.id for c in bob.certificates("A")] == [both.id]
    shown = bob.certificate(both.id, "A")
    assert [i["id"] for i in shown["body"]["items"]] == [ids["a1"]]
    assert shown["body"]["items_of_other_engagements"] == 1
    assert shown["complete"] is False and shown["signature_valid"] is True
    with pytest.raises(NotFound, match="covers no item of this engagement"):
        bob.certificate(only_b.id, "A")
    for denied in (lambda: bob.certificates(), lambda: bob.certificates("B"),
                   lambda: bob.certificate(both.id),
                   lambda: bob.export_certificate(both.id, v.tmp_dir),
                   lambda: carol.certificates("A"), lambda: carol.certificate(both.id, "A")):
        with pytest.raises(PermissionDenied, match="may not"):
            denied()
    whole = v.certificate(both.id)
    assert whole["complete"] is True and len(whole["body"]["items"]) == 2


def test_cli_lists_shows_and_exports(initialised: Callable[..., Result], cli_env,  # type: ignore[no-untyped-def]
                                     tmp_path: Path) -> None:
    run = initialised
    assert run("certificates").text.strip() == "no destruction certificates"
    assert run("engagement", "create", "E", "--client", "c", "--standard",
               "pci-dss-4.0.1").code == 0
    item = run("ingest", "E", "-", "--name", "x", "--json", stdin=b"x").json()[0]["id"]  # type: ignore[index]
    eng = run("engagement", "show", "E", "--json").json()["id"]  # type: ignore[index]
    cert_id = issue_for_cli(cli_env.db_url, cli_env.identity_path, [(item, eng)])
    r = run("certificates", "--json")
    assert r.code == 0 and [c["id"] for c in r.json()] == [cert_id]  # type: ignore[union-attr,index]
    r = run("certificate", "show", cert_id[:6])
    assert r.code == 0, r.err
    assert "signature valid" in r.text and item in r.text and "Purge: 1 item" in r.text
    r = run("certificate", "show", cert_id, "--json")
    assert r.json()["body"]["certificate_id"] == cert_id  # type: ignore[index]
    out = tmp_path / "out"
    out.mkdir()
    r = run("certificate", "export", cert_id, "-o", str(out))
    assert r.code == 0, r.err
    assert _openssl_verify(out, cert_id).returncode == 0
    r = run("certificate", "export", "ffff0000", "-o", str(out))
    assert r.code == 2 and "no certificate ffff0000" in r.err


def test_readme_shows_the_openssl_command() -> None:
    text = README.read_text()
    assert re.search(r"openssl pkeyutl -verify -pubin -inkey firm\.pem -rawin -in "
                     r"CERT-\S+\.json -sigfile CERT-\S+\.json\.sig", text)
    assert "vault certificate export" in text


def test_postgresql_keeps_certificates_for_good(pg_url: str, tmp_path: Path) -> None:
    from storage_backends import LocalStore
    from vault.service import bootstrap
    engine = open_database(pg_url)
    clock = StepClock()
    ident = X25519Identity.generate()
    bootstrap._register_first(engine, ident, "alice", clock, os.urandom)
    v = Vault(engine, LocalStore(tmp_path / "objects", clock=clock), ident,
              tmp_dir=tmp_path / "tmp", clock=clock)
    v.create_engagement("A", client="c", standard="pci-dss-4.0.1")
    item = ingest_one(v, "A", "a.txt", b"a").view.item.id
    cert = issue(engine, ident, report([(item, v.engagement("A")[0].id)]))
    for stmt in (f"UPDATE destruction_certificate SET body = '{{}}' WHERE id = '{cert.id}'",
                 f"DELETE FROM destruction_certificate WHERE id = '{cert.id}'",
                 "TRUNCATE certificate_engagement CASCADE"):
        with pytest.raises(sa.exc.DatabaseError, match="never changed or deleted"), \
                engine.begin() as c:
            c.execute(sa.text(stmt))
    out = tmp_path / "out"
    out.mkdir()
    v.export_certificate(cert.id, out)
    assert _openssl_verify(out, cert.id).returncode == 0
