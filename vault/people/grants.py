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
from vault.crypto import certs, signing
from vault.crypto.keys import PersonalKey, unwrap_bytes, wrap_bytes, wrap_identity
from vault.errors import NotFound, PermissionDenied
from vault.metadata.models import (
    KeyGrant,
    SignerCertificate,
    SignerKey,
    SigningGrant,
    SigningKey,
    User,
)


def key_grant(ident: X25519Identity, key_id: str, user: User, now: datetime) -> KeyGrant:
    """A grant of one engagement-key generation: the identity wrapped to `user`'s recipient."""
    return KeyGrant(key_id=key_id, user_id=user.id, granted_at=now,
                    wrapped=wrap_identity(ident, X25519Recipient.from_str(user.recipient)))


def new_signing_key(s: Session, signers: list[User], now: datetime) -> Ed25519PrivateKey:
    """A new generation of the firm key, wrapped to every signer; the caller commits."""
    key = Ed25519PrivateKey.generate()
    kid = signing.key_id(key.public_key())
    s.add(SigningKey(id=kid, public_pem=signing.public_pem(key.public_key()), created_at=now,
                     ca_pem=certs.ca_certificate(key, now)))
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


def current_signing_key(s: Session) -> SigningKey:
    """The current generation of the firm key (public part)."""
    key = s.exec(select(SigningKey).where(col(SigningKey.retired_at).is_(None))
                 .order_by(col(SigningKey.created_at).desc())).first()
    if key is None:
        raise NotFound("this vault has no signing key")
    return key


def signing_key_for(s: Session, user: User, identity: PersonalKey) -> Ed25519PrivateKey:
    """The current signing key, unwrapped with the actor's identity."""
    return signing.from_raw(unwrap_signing(s, user, identity, current_signing_key(s).id))


def ca_pem(s: Session, key: SigningKey, firm_key: Ed25519PrivateKey | None) -> str:
    """The CA certificate of a firm-key generation; made (and stored) from the clear key when a
    vault older than certificates has none yet."""
    if key.ca_pem is None:
        if firm_key is None:
            raise NotFound("the firm key has no CA certificate yet",
                           hint="an administrator makes it: vault signing-key export --ca")
        key.ca_pem = certs.ca_certificate(firm_key, key.created_at)
        s.add(key)
    return key.ca_pem


# -- people's own signing keys -----------------------------------------------------------------

def signer_key(s: Session, user: User) -> SignerKey | None:
    """The person's newest signing key (public part and wrapped private part)."""
    return s.exec(select(SignerKey).where(SignerKey.user_id == user.id)
                  .order_by(col(SignerKey.created_at).desc())).first()


def new_signer_key(s: Session, user: User, now: datetime) -> SignerKey:
    """A personal Ed25519 signing key, wrapped to `user` only; the caller commits."""
    key = Ed25519PrivateKey.generate()
    row = SignerKey(id=signing.key_id(key.public_key()), user_id=user.id,
                    public_pem=signing.public_pem(key.public_key()),
                    wrapped=wrap_bytes(signing.private_raw(key), [user.recipient]),
                    created_at=now)
    s.add(row)
    return row


def certify(s: Session, user: User, by: User, firm_key: Ed25519PrivateKey, now: datetime,
            days: int = certs.CERT_DAYS) -> SignerCertificate:
    """Certify `user`'s newest signing key with the current firm key (the CA); the caller
    commits."""
    key = signer_key(s, user)
    if key is None:
        raise NotFound(f"{user.name} has no signing key yet",
                       hint=f"{user.name} makes one by opening the vault once "
                            "(e.g. `vault whoami`)")
    firm = current_signing_key(s)
    if signing.key_id(firm_key.public_key()) != firm.id:
        raise PermissionDenied("the firm key given is not the current one")
    ca = ca_pem(s, firm, firm_key)
    public = signing.from_pem(key.public_pem)
    pem = certs.issue(firm_key, ca, user.name, public, now, days=days)
    meta = certs.info(pem)
    row = SignerCertificate(serial=meta.serial, key_id=key.id, user_id=user.id,
                            ca_key_id=firm.id, pem=pem, not_before=meta.not_before,
                            not_after=meta.not_after, issued_by=by.id)
    s.add(row)
    return row


def valid_certificate(s: Session, user: User, now: datetime) -> SignerCertificate | None:
    """The person's newest certificate valid at `now` for their newest signing key."""
    key = signer_key(s, user)
    if key is None:
        return None
    rows = s.exec(select(SignerCertificate, SigningKey.retired_at).join(
        SigningKey, col(SigningKey.id) == col(SignerCertificate.ca_key_id)).where(
        SignerCertificate.key_id == key.id, col(SignerCertificate.not_before) <= now,
        col(SignerCertificate.not_after) > now)).all()
    # one issued by the current firm key first, then the one that lasts longest
    best = max(rows, key=lambda r: (r[1] is None, r[0].not_after), default=None)
    return best[0] if best is not None else None


def signer_for(s: Session, user: User, identity: PersonalKey, now: datetime) -> certs.Signer:
    """The person's certified signing key, unlocked with their identity: what signs their
    exports. PermissionDenied, naming who can certify them, without a valid certificate."""
    cert = valid_certificate(s, user, now)
    if cert is None:
        admins = sorted(u.name for u in s.exec(select(User).where(User.firm_role == "admin")))
        raise PermissionDenied(
            f"{user.name} has no valid signing certificate",
            hint=f"an administrator ({', '.join(admins) or 'none registered'}) can certify "
                 f"them: vault user certify {user.name}")
    key = s.get(SignerKey, cert.key_id)
    ca = s.get(SigningKey, cert.ca_key_id)
    assert key is not None and ca is not None and ca.ca_pem is not None
    private = signing.from_raw(unwrap_bytes(key.wrapped, identity))
    return certs.Signer(name=user.name, certificate_pem=cert.pem, ca_pem=ca.ca_pem, key=private)
