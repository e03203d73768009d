"""The firm's Ed25519 signing key: signs audit tree heads (and later export bundles and
destruction certificates).

Where the private part lives: in the metadata DB, only age-encrypted to the personal recipient
of each person whose role must sign (administrators and the destruction job) — never in clear at
rest, and usable only by someone who can unlock one of those identities. Rotation adds a new
generation and retires the old one; retired public keys stay in the DB, so old signatures keep
verifying. Verification needs only the public key (PEM) and `openssl pkeyutl -verify -rawin`.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNER_ROLES = frozenset({"admin", "destruction-job"})


def key_id(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def private_raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def from_raw(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def from_pem(pem: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its PEM; ValueError for anything else."""
    public = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return public


def verify(pem: str, message: bytes, signature: bytes) -> bool:
    """True if `signature` is a valid Ed25519 signature of `message` by the PEM public key."""
    public = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(public, Ed25519PublicKey):
        return False
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def tree_head_message(size: int, root_hex: str, at_iso: str) -> bytes:
    """The exact bytes a tree head signature covers (what `openssl pkeyutl -rawin` checks)."""
    return (f"evidence-vault audit tree head v1\nsize {size}\nroot {root_hex}\n"
            f"time {at_iso}\n").encode("ascii")
