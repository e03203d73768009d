"""People, engagement membership and the firm's signing key (service mixin).

Who acts is decided by the personal identity in use. Granting membership wraps every generation
of the engagement key the granter holds to the new member's recipient — only a member who holds
the key can grant. Removing a member deletes their grants; `rotate` gives the engagement a new
key for new items, wrapped to the remaining members only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, col, select

from vault import access, signing
from vault.age import X25519Identity, X25519Recipient
from vault.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from vault.facade import Facade
from vault.keys import unwrap_bytes, wrap_bytes, wrap_identity
from vault.models import EngagementKey, KeyGrant, Member, SigningGrant, SigningKey, User


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


def key_grant(ident: X25519Identity, key_id: str, user: User, now: datetime) -> KeyGrant:
    """A grant of one engagement-key generation: the identity wrapped to `user`'s recipient."""
    return KeyGrant(key_id=key_id, user_id=user.id, granted_at=now,
                    wrapped=wrap_identity(ident, X25519Recipient.from_str(user.recipient)))


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200 or not name.isprintable():
        raise InvalidInput("a user name is 1-200 printable characters")
    return name


class PeopleMixin:
    # -- users ---------------------------------------------------------------------------------

    def add_user(self: Facade, name: str, recipient: str, role: str | None = None) -> User:
        """Register a person by their public recipient (administrators only)."""
        name = _check_name(name)
        if role is not None and role not in access.FIRM_ROLES:
            raise InvalidInput(f"unknown firm role {role!r}",
                               hint="one of: " + ", ".join(access.FIRM_ROLES))
        try:
            X25519Recipient.from_str(recipient)
        except ValueError:
            raise InvalidInput("not an age X25519 recipient (age1...)") from None
        with self._session() as s:
            self._require(s, "user.add", name)
            if s.exec(select(User).where(User.name == name)).first():
                raise AlreadyExists(f"a user named {name!r} exists already")
            if s.exec(select(User).where(User.recipient == recipient)).first():
                raise AlreadyExists("that recipient is registered already")
            user = User(id=self._new_id(), name=name, recipient=recipient, firm_role=role,
                        created_at=self.clock())
            s.add(user)
            s.flush()
            if role in signing.SIGNER_ROLES:
                for key in s.exec(select(SigningKey).where(
                        col(SigningKey.retired_at).is_(None))).all():
                    raw = _unwrap_signing(s, self, key.id)
                    s.add(SigningGrant(key_id=key.id, user_id=user.id,
                                       wrapped=wrap_bytes(raw, [recipient])))
            self._audit(s, "user.add", user.id, detail={"name": name, "role": role})
            s.commit()
            return user

    def list_users(self: Facade) -> list[User]:
        with self._session() as s:
            self._require(s, "user.list", "users")
            return list(s.exec(select(User).order_by(User.name)).all())

    # -- members -------------------------------------------------------------------------------

    def add_member(self: Facade, ref: str, user_name: str, role: str) -> Member:
        """Make `user_name` a member with `role` (or change their role); wraps the engagement's
        keys to their recipient."""
        if role not in access.ENGAGEMENT_ROLES:
            raise InvalidInput(f"unknown role {role!r}",
                               hint="one of: " + ", ".join(access.ENGAGEMENT_ROLES))
        with self._session() as s:
            eng = self._engagement(s, ref)
            self._require(s, "member.add", eng.id, eng.id)
            user = _user(s, user_name)
            if user.firm_role == "destruction-job":
                raise InvalidInput("the destruction job cannot be an engagement member")
            now = self.clock()
            member = s.get(Member, (eng.id, user.id))
            if member is None:
                member = Member(engagement_id=eng.id, user_id=user.id, role=role,
                                added_at=now, added_by=self.user.id)
            member.role = role
            s.add(member)
            keys = s.exec(select(EngagementKey).where(
                EngagementKey.engagement_id == eng.id)).all()
            for key in keys:
                if s.get(KeyGrant, (key.id, user.id)) is not None:
                    continue
                if s.get(KeyGrant, (key.id, self.user.id)) is None:
                    continue  # a key generation the granter does not hold (removed earlier)
                s.add(key_grant(self._engagement_identity(s, key.id), key.id, user, now))
            self._audit(s, "member.add", user.id, engagement_id=eng.id,
                        detail={"user": user.name, "role": role})
            s.commit()
            return member

    def remove_member(self: Facade, ref: str, user_name: str, *, rotate: bool = False) -> None:
        """Remove a member and their key grants; with `rotate`, new items use a new key that
        the removed member never had."""
        with self._session() as s:
            eng = self._engagement(s, ref)
            self._require(s, "member.remove", eng.id, eng.id)
            user = _user(s, user_name)
            member = s.get(Member, (eng.id, user.id))
            if member is None:
                raise NotFound(f"{user.name} is not a member of {eng.name}")
            leads = s.exec(select(Member).where(Member.engagement_id == eng.id,
                                                Member.role == "lead")).all()
            if member.role == "lead" and len(leads) == 1:
                raise InvalidInput("cannot remove the engagement's only lead",
                                   hint="make another member lead first")
            keys = s.exec(select(EngagementKey).where(
                EngagementKey.engagement_id == eng.id)).all()
            for key in keys:
                grant = s.get(KeyGrant, (key.id, user.id))
                if grant is not None:
                    s.delete(grant)
            s.delete(member)
            s.flush()
            if rotate:
                now = self.clock()
                for key in keys:
                    if key.retired_at is None:
                        key.retired_at = now
                        s.add(key)
                ident = X25519Identity.generate(self.rng)
                new = EngagementKey(id=self._new_id(), engagement_id=eng.id,
                                    recipient=str(ident.recipient), created_at=now)
                s.add(new)
                s.flush()
                for m in s.exec(select(Member).where(Member.engagement_id == eng.id)).all():
                    u = s.get(User, m.user_id)
                    assert u is not None
                    s.add(key_grant(ident, new.id, u, now))
            self._audit(s, "member.remove", user.id, engagement_id=eng.id,
                        detail={"user": user.name, "rotate": rotate})
            s.commit()

    def members(self: Facade, ref: str) -> list[dict[str, Any]]:
        with self._session() as s:
            eng = self._engagement(s, ref)
            self._require(s, "member.list", eng.id, eng.id)
            rows = s.exec(select(Member, User).where(Member.engagement_id == eng.id,
                                                     Member.user_id == User.id)
                          .order_by(User.name)).all()
            return [{"user": u.name, "role": m.role, "recipient": u.recipient,
                     "added_at": m.added_at.isoformat()} for m, u in rows]

    # -- signing key ---------------------------------------------------------------------------

    def signing_keys(self: Facade) -> list[SigningKey]:
        """Every generation of the firm's public key, newest first (for out-of-band handover)."""
        with self._session() as s:
            self._require(s, "signing.export", "signing-key")
            return list(s.exec(select(SigningKey).order_by(
                col(SigningKey.created_at).desc())).all())

    def rotate_signing_key(self: Facade) -> SigningKey:
        """A new signing key for every signer; old public keys stay to verify old signatures."""
        with self._session() as s:
            self._require(s, "signing.rotate", "signing-key")
            now = self.clock()
            for old in s.exec(select(SigningKey).where(
                    col(SigningKey.retired_at).is_(None))).all():
                old.retired_at = now
                s.add(old)
            signers = list(s.exec(select(User).where(
                col(User.firm_role).in_(signing.SIGNER_ROLES))).all())
            key = new_signing_key(s, signers, now)
            kid = signing.key_id(key.public_key())
            self._audit(s, "signing.rotate", kid)
            s.commit()
            row = s.get(SigningKey, kid)
            assert row is not None
            return row


def _user(s: Session, name: str) -> User:
    user = s.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"no user {name!r}", hint="`vault users` lists them")
    return user


def _unwrap_signing(s: Session, facade: Facade, key_id: str) -> bytes:
    grant = s.get(SigningGrant, (key_id, facade.user.id))
    if grant is None:
        raise PermissionDenied("you hold no grant of the firm's signing key")
    return unwrap_bytes(grant.wrapped, facade._identity)


def signing_key_for(s: Session, facade: Facade) -> Ed25519PrivateKey:
    """The current signing key, unwrapped with the actor's identity."""
    key = s.exec(select(SigningKey).where(col(SigningKey.retired_at).is_(None))
                 .order_by(col(SigningKey.created_at).desc())).first()
    if key is None:
        raise NotFound("this vault has no signing key")
    return signing.from_raw(_unwrap_signing(s, facade, key.id))
