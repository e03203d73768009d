"""X.509 certificates of signers: the firm key is the certificate authority, each person's own
Ed25519 key is certified by it.

Why: exports are signed by the person who made them (leads, QA), who read evidence and so must
not hold the firm key; the firm key (held by administrators and the destruction job, who read
no evidence) vouches for their keys instead. An auditor checks the chain and the signature with
OpenSSL alone::

    openssl verify -CAfile firm-ca.pem signer.pem
    openssl pkeyutl -verify -certin -inkey signer.pem -rawin -in FILE -sigfile FILE.sig

(OpenSSL 3.0 cannot make or verify CMS signatures with Ed25519, so signatures are detached raw
Ed25519 over the file's bytes.)

The CA certificate of a firm-key generation is deterministic: its serial comes from the key id
and its validity from the key's creation time, and Ed25519 signatures are deterministic, so
whoever holds the key makes the same certificate. It is stored beside the public key so that
people who do not hold the firm key can hand it out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vault.crypto import signing

if TYPE_CHECKING:  # X.509 loads where a certificate is made or read, not on every opening
    from cryptography import x509

CA_YEARS = 20
"""A CA certificate's validity: the firm key is rotated, not expired."""
CERT_DAYS = 365
"""A person's certificate's validity by default; an administrator renews it."""
_ORG = "Evidence Vault"


@dataclass(frozen=True)
class Signer:
    """A person's certified signing key, unlocked: what signs an export bundle."""

    name: str
    certificate_pem: str
    """The person's X.509 certificate, issued by the firm CA."""
    ca_pem: str
    """The CA certificate of the firm-key generation that issued it."""
    key: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        """A raw 64-byte Ed25519 signature (what `openssl pkeyutl -verify -rawin` checks)."""
        return self.key.sign(message)


@dataclass(frozen=True)
class CertInfo:
    serial: str
    subject: str
    not_before: datetime
    not_after: datetime
    key_id: str
    """SHA-256 of the certified raw public key."""


def _serial(seed: str) -> int:
    # 159 bits at most, positive, never zero (RFC 5280 §4.1.2.2)
    return (int.from_bytes(hashlib.sha256(seed.encode("ascii")).digest()[:19], "big") >> 1) | 1


def ca_name(firm_key_id: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
        x509.NameAttribute(NameOID.COMMON_NAME, f"Evidence Vault firm CA {firm_key_id[:16]}"),
    ])


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def ca_certificate(firm_key: Ed25519PrivateKey, created_at: datetime) -> str:
    """The self-signed CA certificate of one firm-key generation (PEM), deterministic."""
    from cryptography import x509

    public = firm_key.public_key()
    kid = signing.key_id(public)
    name = ca_name(kid)
    start = created_at.replace(microsecond=0)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(public)
            .serial_number(_serial("ca:" + kid))
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=365 * CA_YEARS + 5))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(firm_key, algorithm=None))
    return _pem(cert)


def issue(firm_key: Ed25519PrivateKey, ca_pem: str, person: str, public: Ed25519PublicKey,
          now: datetime, *, days: int = CERT_DAYS) -> str:
    """A certificate for `person`'s signing key, valid `days` from `now`, signed by the CA."""
    if days < 1:
        raise ValueError("a certificate must be valid at least one day")
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    ca = x509.load_pem_x509_certificate(ca_pem.encode("ascii"))
    start = now.replace(microsecond=0)
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
        x509.NameAttribute(NameOID.COMMON_NAME, person),
    ])
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(ca.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                firm_key.public_key()), critical=False)
            .sign(firm_key, algorithm=None))
    return _pem(cert)


def info(pem: str) -> CertInfo:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    public = cert.public_key()
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("not an Ed25519 certificate")
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return CertInfo(serial=format(cert.serial_number, "x"),
                    subject=str(cn[0].value) if cn else "",
                    not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
                    key_id=signing.key_id(public))


def issued_by(pem: str, ca_pem: str) -> bool:
    """Whether the certificate's signature verifies with the CA's key."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    ca = x509.load_pem_x509_certificate(ca_pem.encode("ascii"))
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):  # a wrong key or issuer name
        return False
    return True
