"""People's signing keys certified by the firm key (X.509), checked with OpenSSL alone."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import select

from tests.conftest import Result, StepClock
from vault.age import X25519Identity
from vault.crypto import certs
from vault.errors import InvalidInput, NotFound, PermissionDenied
from vault.metadata.models import SignerCertificate, SignerKey
from vault.service.facade import Vault

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def _signed(tmp: Path, vault: Vault, data: bytes = b"tag manifest\n") -> tuple[Path, Path, Path]:
    with vault.session() as s:
        signer = vault.signer(s)
    (tmp / "signer.pem").write_text(signer.certificate_pem)
    (tmp / "firm-ca.pem").write_text(signer.ca_pem)
    (tmp / "FILE").write_bytes(data)
    (tmp / "FILE.sig").write_bytes(signer.sign(data))
    return tmp / "signer.pem", tmp / "firm-ca.pem", tmp / "FILE"


@needs_openssl
def test_the_first_administrator_can_sign_at_once_and_openssl_checks_it(
        vault: Vault, tmp_path: Path) -> None:
    cert, ca, f = _signed(tmp_path, vault)
    ok = _openssl("verify", "-CAfile", ca, cert)
    assert ok.returncode == 0 and ": OK" in ok.stdout, ok.stderr
    sig = _openssl("pkeyutl", "-verify", "-certin", "-inkey", cert, "-rawin", "-in", f,
                   "-sigfile", f"{f}.sig")
    assert sig.returncode == 0 and "Signature Verified Successfully" in sig.stdout
    f.write_bytes(b"tag manifesT\n")  # one changed byte
    bad = _openssl("pkeyutl", "-verify", "-certin", "-inkey", cert, "-rawin", "-in", f,
                   "-sigfile", f"{f}.sig")
    assert bad.returncode != 0


@needs_openssl
def test_a_certificate_from_another_ca_fails_verification(vault: Vault, tmp_path: Path) -> None:
    cert, _, _ = _signed(tmp_path, vault)
    other = Ed25519PrivateKey.generate()
    (tmp_path / "other-ca.pem").write_text(certs.ca_certificate(other, datetime.now(UTC)))
    assert _openssl("verify", "-CAfile", tmp_path / "other-ca.pem", cert).returncode != 0
    # and a certificate for the same person made by another CA fails against the firm's
    with vault.session() as s:
        signer = vault.signer(s)
    forged = certs.issue(other, (tmp_path / "other-ca.pem").read_text(), "alice",
                         signer.key.public_key(), datetime.now(UTC))
    (tmp_path / "forged.pem").write_text(forged)
    assert _openssl("verify", "-CAfile", tmp_path / "firm-ca.pem",
                    tmp_path / "forged.pem").returncode != 0
    assert not certs.issued_by(forged, signer.ca_pem)
    assert certs.issued_by(signer.certificate_pem, signer.ca_pem)


def test_a_person_gets_a_key_on_opening_but_signs_only_once_certified(
        make_vault: Callable[..., Vault], vault: Vault, clock: StepClock) -> None:
    bob_id = X25519Identity.generate()
    vault.add_user("bob", str(bob_id.recipient))
    bob = make_vault(bob_id, "bob")
    with bob.session() as s:
        key = s.exec(select(SignerKey).where(SignerKey.user_id == bob.user.id)).one()
        assert b"AGE-SECRET" not in key.wrapped and key.wrapped.startswith(b"age-encryption")
        with pytest.raises(PermissionDenied) as refused:
            bob.signer(s)
    assert refused.value.message == "bob has no valid signing certificate"
    assert refused.value.hint == "an administrator (alice) can certify them: vault user " \
                                 "certify bob"
    with pytest.raises(PermissionDenied):
        bob.certify_user("bob")  # only administrators certify
    c = vault.certify_user("bob", days=30)
    assert c["user"] == "bob" and c["key_id"] == key.id
    with bob.session() as s:
        signer = bob.signer(s)
    info = certs.info(signer.certificate_pem)
    assert info.subject == "bob" and info.key_id == key.id
    assert certs.issued_by(signer.certificate_pem, signer.ca_pem)
    # the alice-only key can't be unwrapped by bob: his own key signs his exports
    with vault.session() as s:
        alices = vault.signer(s)
    assert signer.key.public_key().public_bytes_raw() != \
        alices.key.public_key().public_bytes_raw()
    clock.advance(timedelta(days=31))  # expired: refused again, renewed by certifying again
    with bob.session() as s, pytest.raises(PermissionDenied):
        bob.signer(s)
    vault.certify_user("bob")
    with bob.session() as s:
        assert certs.info(bob.signer(s).certificate_pem).not_after > clock.now
    events = [e.action for e in vault.audit_events(None)]
    assert events.count("user.certify") == 3  # two done, one refused


def test_certify_refuses_what_it_cannot_do(make_vault: Callable[..., Vault], vault: Vault) -> None:
    with pytest.raises(NotFound):
        vault.certify_user("nobody")
    job = X25519Identity.generate()
    vault.add_user("job", str(job.recipient), "destruction-job")
    make_vault(job, "job")
    with pytest.raises(InvalidInput, match="firm key"):
        vault.certify_user("job")
    with pytest.raises(InvalidInput):
        vault.certify_user("alice", days=0)
    carol = X25519Identity.generate()
    vault.add_user("carol", str(carol.recipient))  # registered, never opened the vault
    with pytest.raises(NotFound, match="no signing key yet"):
        vault.certify_user("carol")
    with vault.session() as s:
        assert s.exec(select(SignerCertificate)).all()[0].user_id == vault.user.id


def test_after_rotation_old_certificates_still_chain_and_new_ones_use_the_new_ca(
        vault: Vault) -> None:
    with vault.session() as s:
        before = vault.signer(s)
    vault.rotate_signing_key()
    assert certs.issued_by(before.certificate_pem, before.ca_pem)
    vault.certify_user("alice")
    with vault.session() as s:
        after = vault.signer(s)
    assert after.ca_pem != before.ca_pem
    assert certs.issued_by(after.certificate_pem, after.ca_pem)
    assert not certs.issued_by(after.certificate_pem, before.ca_pem)
    assert vault.ca_certificate() == after.ca_pem


def test_the_ca_certificate_is_deterministic() -> None:
    key = Ed25519PrivateKey.generate()
    at = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    assert certs.ca_certificate(key, at) == certs.ca_certificate(key, at)


@needs_openssl
def test_cli_exports_the_ca_and_certifies(initialised: Callable[..., Result],
                                         tmp_path: Path) -> None:
    run = initialised
    r = run("signing-key", "export", "--ca", "-o", str(tmp_path / "firm-ca.pem"))
    assert r.code == 0, r.err
    ca = (tmp_path / "firm-ca.pem").read_text()
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    text = _openssl("x509", "-in", tmp_path / "firm-ca.pem", "-noout", "-text").stdout
    assert "CA:TRUE" in text and "ED25519" in text
    r = run("signing-key", "export", "-o", str(tmp_path / "firm.pem"))
    assert (tmp_path / "firm.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    r = run("user", "certify", "alice", "--days", "10")
    assert r.code == 0 and "certified alice's signing key until" in r.text
    r = run("user", "certify", "nobody")
    assert r.code == 2 and r.err.startswith("vault: error: no user 'nobody'")
    assert "Traceback" not in r.err


def test_a_vault_older_than_certificates_gets_its_ca_from_an_administrator(
        vault: Vault) -> None:
    from vault.metadata.models import SigningKey
    with vault.session() as s:
        key = s.exec(select(SigningKey)).one()
        made = key.ca_pem
        key.ca_pem = None
        s.add(key)
        s.commit()
    assert vault.ca_certificate() == made  # deterministic: the same certificate again
    with vault.session() as s:
        assert s.exec(select(SigningKey)).one().ca_pem == made
