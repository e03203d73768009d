"""People verbs: who am I, registering people, engagement members, the firm's signing key.

Who acts is decided by the personal identity in use. Granting membership wraps every generation
of the engagement key the granter holds to the new member's recipient — only a member who holds
the key can grant. Removing a member deletes their grants; `rotate` gives the engagement a new
key for new items, wrapped to the remaining members only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from vault.age import X25519Identity, X25519Recipient
from vault.crypto import certs, signing
from vault.crypto.keys import wrap_bytes
from vault.errors import AlreadyExists, InvalidInput, NotFound
from vault.metadata.models import EngagementKey, KeyGrant, Member, SigningGrant, SigningKey, User
from vault.people import access, grants
from vault.people.grants import key_grant, new_signing_key, unwrap_signing
from vault.pii.fields import refuse_card_data
from vault.service.context import Context


def whoami(cx: Context) -> dict[str, Any]:
    return {"name": cx.user.name, "id": cx.user.id,
            "recipient": cx.user.recipient, "firm_role": cx.user.firm_role}


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200 or not name.isprintable():
        raise InvalidInput("a user name is 1-200 printable characters")
    refuse_card_data(name, "user name")
    return name


def _user(s: Session, name: str) -> User:
    user = s.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"no user {name!r}", hint="`vault users` lists them")
    return user


def add_user(cx: Context, name: str, recipient: str, role: str | None = None) -> User:
    """Register a person by their public recipient (administrators only)."""
    name = _check_name(name)
    if role is not None and role not in access.FIRM_ROLES:
        raise InvalidInput(f"unknown firm role {role!r}",
                           hint="one of: " + ", ".join(access.FIRM_ROLES))
    try:
        X25519Recipient.from_str(recipient)
    except ValueError:
        raise InvalidInput("not an age X25519 recipient (age1...)") from None
    with cx.act("user.add", name) as a:
        s = a.s
        if s.exec(select(User).where(User.name == name)).first():
            raise AlreadyExists(f"a user named {name!r} exists already")
        if s.exec(select(User).where(User.recipient == recipient)).first():
            raise AlreadyExists("that recipient is registered already")
        user = User(id=cx.new_id(), name=name, recipient=recipient, firm_role=role,
                    created_at=cx.clock())
        s.add(user)
        s.flush()
        if role in signing.SIGNER_ROLES:
            for key in s.exec(select(SigningKey).where(
                    col(SigningKey.retired_at).is_(None))).all():
                raw = unwrap_signing(s, cx.user, cx._identity, key.id)
                s.add(SigningGrant(key_id=key.id, user_id=user.id,
                                   wrapped=wrap_bytes(raw, [recipient])))
        a.obj, a.detail = user.id, {"name": name, "role": role}
        return user


def list_users(cx: Context) -> list[User]:
    with cx.act("user.list", "users") as a:
        return list(a.s.exec(select(User).order_by(User.name)).all())


def add_member(cx: Context, ref: str, user_name: str, role: str) -> Member:
    """Make `user_name` a member with `role` (or change their role); wraps the engagement's
    keys to their recipient."""
    if role not in access.ENGAGEMENT_ROLES:
        raise InvalidInput(f"unknown role {role!r}",
                           hint="one of: " + ", ".join(access.ENGAGEMENT_ROLES))
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    with cx.act("member.add", eng) as a:
        s = a.s
        user = _user(s, user_name)
        if user.firm_role == "destruction-job":
            raise InvalidInput("the destruction job cannot be an engagement member")
        now = cx.clock()
        member = s.get(Member, (eng.id, user.id))
        if member is None:
            member = Member(engagement_id=eng.id, user_id=user.id, role=role,
                            added_at=now, added_by=cx.user.id)
        member.role = role
        s.add(member)
        keys = s.exec(select(EngagementKey).where(EngagementKey.engagement_id == eng.id)).all()
        for key in keys:
            if s.get(KeyGrant, (key.id, user.id)) is not None:
                continue
            if s.get(KeyGrant, (key.id, cx.user.id)) is None:
                continue  # a key generation the granter does not hold (removed earlier)
            s.add(key_grant(cx.engagement_identity(s, key.id), key.id, user, now))
        a.obj, a.detail = user.id, {"user": user.name, "role": role}
        return member


def remove_member(cx: Context, ref: str, user_name: str, *, rotate: bool = False) -> None:
    """Remove a member and their key grants; with `rotate`, new items use a new key that
    the removed member never had."""
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    with cx.act("member.remove", eng) as a:
        s = a.s
        user = _user(s, user_name)
        member = s.get(Member, (eng.id, user.id))
        if member is None:
            raise NotFound(f"{user.name} is not a member of {eng.name}")
        leads = s.exec(select(Member).where(Member.engagement_id == eng.id,
                                            Member.role == "lead")).all()
        if member.role == "lead" and len(leads) == 1:
            raise InvalidInput("cannot remove the engagement's only lead",
                               hint="make another member lead first")
        keys = s.exec(select(EngagementKey).where(EngagementKey.engagement_id == eng.id)).all()
        for key in keys:
            grant = s.get(KeyGrant, (key.id, user.id))
            if grant is not None:
                s.delete(grant)
        s.delete(member)
        s.flush()
        if rotate:
            now = cx.clock()
            for key in keys:
                if key.retired_at is None:
                    key.retired_at = now
                    s.add(key)
            ident = X25519Identity.generate(cx.rng)
            new = EngagementKey(id=cx.new_id(), engagement_id=eng.id,
                                recipient=str(ident.recipient), created_at=now)
            s.add(new)
            s.flush()
            for m in s.exec(select(Member).where(Member.engagement_id == eng.id)).all():
                u = s.get(User, m.user_id)
                assert u is not None
                s.add(key_grant(ident, new.id, u, now))
        a.obj, a.detail = user.id, {"user": user.name, "rotate": rotate}


def members(cx: Context, ref: str) -> list[dict[str, Any]]:
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    with cx.act("member.list", eng) as a:
        rows = a.s.exec(select(Member, User).where(Member.engagement_id == eng.id,
                                                   Member.user_id == User.id)
                        .order_by(User.name)).all()
        return [{"user": u.name, "role": m.role, "recipient": u.recipient,
                 "added_at": m.added_at.isoformat()} for m, u in rows]


def signing_keys(cx: Context) -> list[SigningKey]:
    """Every generation of the firm's public key, newest first (for out-of-band handover)."""
    with cx.act("signing.export", "signing-key") as a:
        return list(a.s.exec(select(SigningKey).order_by(
            col(SigningKey.created_at).desc())).all())


def rotate_signing_key(cx: Context) -> SigningKey:
    """A new signing key for every signer; old public keys stay to verify old signatures."""
    with cx.act("signing.rotate", "signing-key") as a:
        s = a.s
        now = cx.clock()
        for old in s.exec(select(SigningKey).where(col(SigningKey.retired_at).is_(None))).all():
            old.retired_at = now
            s.add(old)
        signers = list(s.exec(select(User).where(
            col(User.firm_role).in_(signing.SIGNER_ROLES))).all())
        key = new_signing_key(s, signers, now)
        kid = signing.key_id(key.public_key())
        a.obj = kid
        a.commit()
        row = s.get(SigningKey, kid)
        assert row is not None
        return row


# -- people's signing keys and their certificates ------------------------------------------

def ensure_signer_key(cx: Context) -> None:
    """Give the acting person their own signing key the first time they open the vault (made
    here, with their identity at hand, wrapped to them only). The destruction job signs with
    the firm key and gets none."""
    if cx.user.firm_role == "destruction-job":
        return
    with cx.session() as s:
        if grants.signer_key(s, cx.user) is not None:
            return
        grants.new_signer_key(s, cx.user, cx.clock())
        s.commit()


def certify_user(cx: Context, name: str, *, days: int = certs.CERT_DAYS) -> dict[str, Any]:
    """Certify a person's signing key with the firm key (administrators): an X.509 certificate
    valid `days`, which lets them sign exports. Renewing is certifying again."""
    if not 1 <= days <= 3 * 366:
        raise InvalidInput("a certificate is valid 1 to 1,098 days")
    with cx.act("user.certify", name) as a:
        s = a.s
        user = _user(s, name)
        if user.firm_role == "destruction-job":
            raise InvalidInput("the destruction job signs with the firm key, not its own")
        firm_key = grants.signing_key_for(s, cx.user, cx._identity)
        cert = grants.certify(s, user, cx.user, firm_key, cx.clock(), days)
        a.obj = user.id
        a.detail = {"serial": cert.serial, "not_after": cert.not_after.isoformat()}
        return certificate_view(user, cert.serial, cert.key_id, cert.not_before,
                                cert.not_after)


def certificate_view(user: User, serial: str, key_id: str, not_before: datetime,
                     not_after: datetime) -> dict[str, Any]:
    return {"user": user.name, "serial": serial, "key_id": key_id,
            "not_before": not_before.isoformat(), "not_after": not_after.isoformat()}


def ca_certificate(cx: Context) -> str:
    """The current firm key's CA certificate (PEM), made now by a holder of the firm key if a
    vault older than certificates has none."""
    with cx.act("signing.export", "signing-key/ca") as a:
        s = a.s
        key = grants.current_signing_key(s)
        if key.ca_pem is None and cx.user.firm_role in signing.SIGNER_ROLES:
            pem = grants.ca_pem(s, key, grants.signing_key_for(s, cx.user, cx._identity))
            a.commit()
            return pem
        return grants.ca_pem(s, key, None)
