"""Keys granted to people: an engagement key's generations wrapped to each member, and the
firm's signing key wrapped to each signer (administrators and the destruction job).

Only a holder can grant: wrapping needs the clear key, which only an unwrap with the holder's
own identity gives. There is no master key.
"""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, col, select

from vault.age import X25519Identity, X25519Recipient
from vault.crypto import signing
from vault.crypto.keys import PersonalKey, unwrap_bytes, wrap_bytes, wrap_identity
from vault.errors import NotFound, PermissionDenied
from vault.metadata.models import KeyGrant, SigningGrant, SigningKey, User


def key_grant(ident: X25519Identity, key_id: str, user: User, now: datetime) -> KeyGrant:
    """A grant of one engagement-key generation: the identity wrapped to `user`'s recipient."""
    return KeyGrant(key_id=key_id, user_id=user.id, granted_at=now,
                    wrapped=wrap_identity(ident, X25519Recipient.from_str(user.recipient)))


def new_signing_key(s: Session, signers: list[User], now: datetime) -> Ed25519PrivateKey:
    """A new generation of the firm key, wrapped to every signer; the caller commits."""
    key = Ed25519PrivateKey.generate()
    kid = signing.key_id(key.public_key())
    s.add(SigningKey(id=kid, public_pem=signing.public_pem(key.public_key()), created_at=now))
    s.flush()
    raw = signing.private_raw(key)
    for u in signers:
        s.add(SigningGrant(key_id=kid, user_id=u.id, wrapped=wrap_bytes(raw, [u.recipient])))
    return key


def unwrap_signing(s: Session, user: User, identity: PersonalKey, key_id: str) -> bytes:
    """One generation of the firm key, unwrapped with `user`'s identity."""
    grant = s.get(SigningGrant, (key_id, user.id))
    if grant is None:
        raise PermissionDenied("you hold no grant of the firm's signing key",
                               hint="the firm key is for administrators and the destruction "
                                    "job")
    return unwrap_bytes(grant.wrapped, identity)


def signing_key_for(s: Session, user: User, identity: PersonalKey) -> Ed25519PrivateKey:
    """The current signing key, unwrapped with the actor's identity."""
    key = s.exec(select(SigningKey).where(col(SigningKey.retired_at).is_(None))
                 .order_by(col(SigningKey.created_at).desc())).first()
    if key is None:
        raise NotFound("this vault has no signing key")
    return signing.from_raw(unwrap_signing(s, user, identity, key.id))
