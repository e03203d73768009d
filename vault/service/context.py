"""What every verb works with, and ``act()``: the one path of permission check, work and audit.

A verb names its action and the object it acts on; ``act()`` resolves the actor's roles, checks
the permission matrix (:mod:`vault.people.access`), audits a refusal and raises it, and
otherwise hands the verb a session for its work. When the work is done it appends the audit
event in the same transaction and commits; when the work fails with a ``VaultError`` it rolls
back and, for an audited action, records the failure. Time, randomness and the store are
injected, so tests move the clock and break the store.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage_backends import ObjectStore
from vault.age import X25519Identity
from vault.audit import log as audit
from vault.crypto import certs
from vault.crypto.keys import PersonalKey, unwrap_identity
from vault.errors import (
    IntegrityError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StorageError,
    VaultError,
)
from vault.evidence.lifecycle import ItemState
from vault.metadata.lookup import by_id_prefix
from vault.metadata.models import (
    Engagement,
    EngagementKey,
    EvidenceItem,
    Flag,
    KeyGrant,
    Member,
    User,
)
from vault.people import access, grants
from vault.pii import CARD_KINDS
from vault.review.flags import flag_hash_key

if TYPE_CHECKING:  # the scanner loads where a command scans, not on every opening
    from vault.pii import Scanner

_ID = re.compile(r"[0-9a-f]{32}")
_ID_PREFIX = re.compile(r"[0-9a-f]{4,32}")

Clock = Callable[[], datetime]
Rng = Callable[[int], bytes]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Target:
    """What an action is on: the audit event's object, the engagement whose roles decide (none
    for a firm-wide action), and the engagement's name for a refusal's message."""

    obj: str
    engagement_id: str | None = None
    engagement_name: str | None = None


def target(on: Engagement | EvidenceItem | Flag | Target | str,
           engagement: Engagement | None = None) -> Target:
    if isinstance(on, Target):
        return on
    if isinstance(on, str):
        return Target(on, engagement.id if engagement else None,
                      engagement.name if engagement else None)
    if isinstance(on, Engagement):
        return Target(on.id, on.id, on.name)
    name = engagement.name if engagement is not None else None
    return Target(on.id, on.engagement_id, name)


@dataclass
class Act:
    """One action under way. The work uses `s`; it may set `obj` (an ingest learns its item's
    id), `detail`, `outcome`, or `record = False` (nothing happened worth an event, e.g. a
    duplicate ingest), and add further events of the same transaction with :meth:`event`."""

    s: Session
    action: str
    obj: str
    engagement_id: str | None
    record: bool
    detail: dict[str, Any] | None = None
    outcome: str = "ok"
    _events: list[tuple[str, str, str, dict[str, Any] | None]] = field(default_factory=list)
    _write: Callable[[Act], None] | None = None

    def event(self, action: str, obj: str, detail: dict[str, Any] | None = None,
              outcome: str = "ok") -> None:
        """Another audit event, written with this action's own (after it)."""
        self._events.append((action, obj, outcome, detail))

    def commit(self) -> None:
        """Write the audit event(s) and commit now, inside the work (which can then clean up
        if the commit fails); the end of ``act()`` then has nothing left to write."""
        write, self._write = self._write, None
        if write is not None:
            write(self)


def _json(detail: dict[str, Any] | None) -> str | None:
    return json.dumps(detail, sort_keys=True) if detail else None


def failure_outcome(exc: VaultError) -> str:
    if isinstance(exc, IntegrityError):
        return "integrity-failure"
    if isinstance(exc, PermissionDenied):
        return "denied"
    return "error"


def _db_reason(exc: sa.exc.OperationalError) -> str:
    """The driver's own words (\"database or disk is full\"), never the statement."""
    return str(exc.orig).splitlines()[0][:200] if exc.orig is not None else "unknown error"


class Context:
    """The acting person, the database, the store, the clock and the randomness."""

    def __init__(self, engine: Engine, store: ObjectStore, identity: PersonalKey, *,
                 tmp_dir: Path, clock: Clock = utcnow, rng: Rng = os.urandom) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self.rng = rng
        self.tmp_dir = tmp_dir
        self._identity = identity
        self._scanners: dict[str, Scanner] = {}
        recipient = str(identity.recipient)
        with self.session() as s:
            user = s.exec(select(User).where(User.recipient == recipient)).first()
        if user is None:
            raise PermissionDenied(
                "your identity is not registered in this vault",
                hint=f"ask an administrator to add your recipient {recipient}")
        self.user: User = user

    # -- the one path ------------------------------------------------------------------------

    @contextmanager
    def act(self, action: str, on: Engagement | EvidenceItem | Flag | Target | str,
            engagement: Engagement | None = None) -> Iterator[Act]:
        """Check that the actor may do `action` on `on`, let the work run, audit it.

        PermissionDenied (audited) before any work when the matrix says no. The work's
        database changes and the audit event commit together. A VaultError from the work rolls
        them back and, for an audited action, leaves an event with outcome ``error``,
        ``integrity-failure`` or ``denied`` (never the message: it may carry a name)."""
        t = target(on, engagement)
        with self.session() as s:
            self.permit(s, action, t)
            s.commit()  # the check's reads end here; the work starts its own transaction
            a = Act(s, action, t.obj, t.engagement_id, record=action in access.AUDITED,
                    _write=self._finish)
            try:
                yield a
                a.commit()
            except VaultError as exc:
                s.rollback()
                if action in access.AUDITED:
                    self._record_failure(action, a.obj, failure_outcome(exc), t.engagement_id,
                                         type(exc).__name__)
                raise

    def _finish(self, a: Act) -> None:
        try:
            todo = [(a.action, a.obj, a.outcome, a.detail)] if a.record else []
            todo += [(action, obj, outcome, detail) for action, obj, outcome, detail
                     in a._events]
            if todo:  # one append for all: a batch of ingests brings hundreds
                actor = self.user.name
                audit.append_many(a.s, [
                    audit.Entry(self.clock(), actor, action, obj, outcome, a.engagement_id,
                                json.dumps(detail, sort_keys=True) if detail else None)
                    for action, obj, outcome, detail in todo])
            a.s.commit()
        except sa.exc.OperationalError as exc:  # disk full, database locked for too long
            a.s.rollback()
            raise StorageError("could not write the metadata database: "
                               f"{_db_reason(exc)}") from None

    def permit(self, s: Session, action: str, t: Target) -> None:
        """PermissionDenied, audited (committed on its own), unless the actor may do
        `action`; the one place a permission is checked."""
        if access.allowed(action, self.roles(s, t.engagement_id)):
            return
        s.rollback()
        self._append(s, action, t.obj, "denied", t.engagement_id)
        s.commit()
        message, hint = access.refusal(self.user.name, action, t.engagement_name)
        raise PermissionDenied(message, hint=hint)

    def may(self, action: str, engagement_id: str | None) -> bool:
        """Whether the actor may do `action` (no event: for choosing what to offer)."""
        with self.session() as s:
            return access.allowed(action, self.roles(s, engagement_id))

    def _append(self, s: Session, action: str, obj: str, outcome: str = "ok",
                engagement_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        audit.append(s, at=self.clock(), actor=self.user.name, action=action, obj=obj,
                     outcome=outcome, engagement_id=engagement_id,
                     detail=json.dumps(detail, sort_keys=True) if detail else None)

    def _record_failure(self, action: str, obj: str, outcome: str,
                        engagement_id: str | None, error: str) -> None:
        try:
            with self.session() as s:
                self._append(s, action, obj, outcome, engagement_id, {"error": error})
                s.commit()
        except Exception:  # noqa: BLE001 - a broken database must not hide the first error
            pass

    # -- plumbing ----------------------------------------------------------------------------

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def new_id(self) -> str:
        return self.rng(16).hex()

    def signer(self, s: Session) -> certs.Signer:
        """The acting person's certified signing key, unlocked: what signs their exports.
        PermissionDenied, naming who can certify them, without a valid certificate."""
        return grants.signer_for(s, self.user, self._identity, self.clock())

    def roles(self, s: Session, engagement_id: str | None) -> set[str]:
        """The actor's firm roles, ``person`` (not for the destruction job) and their role in
        the engagement, if any."""
        roles = set()
        if self.user.firm_role:
            roles.add(self.user.firm_role)
        if self.user.firm_role != "destruction-job":
            roles.add("person")
        if engagement_id is not None:
            m = s.get(Member, (engagement_id, self.user.id))
            if m is not None:
                roles.add(m.role)
        return roles

    # -- finding things by what a person types -----------------------------------------------

    def find_engagement(self, s: Session, ref: str) -> Engagement:
        """The engagement a person means by `ref`: its whole id, its name, or a unique start of
        its id (4 hex digits or more). A name and another engagement's id never both match:
        new names may not look like ids (:func:`check_engagement_name`), and an old name
        that does, where an id prefix also matches, is refused as ambiguous."""
        key = ref.strip().lower()
        if _ID.fullmatch(key):
            exact = s.get(Engagement, key)
            if exact is not None:
                return exact
        named = s.exec(select(Engagement).where(Engagement.name == ref)).first()
        by_id: list[Engagement] = []
        if _ID_PREFIX.fullmatch(key):
            by_id = list(s.exec(select(Engagement).where(
                col(Engagement.id).startswith(key)).limit(2)).all())
        if named is not None and any(e.id != named.id for e in by_id):
            raise InvalidInput(f"{ref!r} is both an engagement's name and the start of another "
                               "engagement's id",
                               hint="give the whole id (`vault engagement list --json`)")
        if named is not None:
            return named
        if len(by_id) > 1:
            raise InvalidInput(f"engagement id {key} is ambiguous", hint="give more characters")
        if by_id:
            return by_id[0]
        raise NotFound(f"no engagement {ref!r}", hint="`vault engagement list` shows them")

    def find_item(self, s: Session, ref: str) -> tuple[EvidenceItem, Engagement]:
        item = by_id_prefix(s, EvidenceItem, ref, "item",
                            col(EvidenceItem.state) != ItemState.PENDING)
        eng = s.get(Engagement, item.engagement_id)
        assert eng is not None
        return item, eng

    def find_flag(self, s: Session, ref: str) -> tuple[Flag, Engagement]:
        flag = by_id_prefix(s, Flag, ref, "flag", hint="`vault flags ENGAGEMENT` lists them")
        eng = s.get(Engagement, flag.engagement_id)
        assert eng is not None
        return flag, eng

    # -- keys --------------------------------------------------------------------------------

    def engagement_identity(self, s: Session, key_id: str) -> X25519Identity:
        """One generation of an engagement's key, unwrapped with the actor's identity."""
        grant = s.get(KeyGrant, (key_id, self.user.id))
        if grant is None:
            raise PermissionDenied("you hold no key for this engagement",
                                   hint="a lead of the engagement can add you as a member")
        return unwrap_identity(grant.wrapped, self._identity)

    def current_key(self, s: Session, eng: Engagement) -> EngagementKey:
        key = s.exec(select(EngagementKey).where(EngagementKey.engagement_id == eng.id,
                                                 col(EngagementKey.retired_at).is_(None))
                     .order_by(col(EngagementKey.created_at).desc())).first()
        if key is None:
            raise IntegrityError(f"engagement {eng.name!r} has no active key",
                                 hint="its key records were altered: restore the database "
                                      "from a backup")
        return key

    def scanner(self, s: Session, eng: Engagement, *, cards_only: bool = False) -> Scanner:
        """The engagement's scanner: flag values hashed with a key only its members derive.
        `cards_only`: one for card data alone (a few milliseconds to make, for short texts such
        as file names; the full scanner's database is compiled where it scans content)."""
        from vault.pii import Scanner
        if cards_only:
            sc = self._scanners.get("cards:" + eng.id)
            if sc is None:
                key = self.scanner(s, eng).hash_key
                sc = self._scanners["cards:" + eng.id] = Scanner(
                    kinds=tuple(sorted(CARD_KINDS)), hash_key=key)
            return sc
        sc = self._scanners.get(eng.id)
        if sc is None:
            first = s.exec(select(EngagementKey).where(EngagementKey.engagement_id == eng.id)
                           .order_by(col(EngagementKey.created_at), col(EngagementKey.id))
                           ).first()
            if first is None:
                raise IntegrityError(f"engagement {eng.name!r} has no key",
                                     hint="its key records were altered: restore the database "
                                          "from a backup")
            ident = self.engagement_identity(s, first.id)
            sc = self._scanners[eng.id] = Scanner(hash_key=flag_hash_key(ident, eng.id))
        return sc


def looks_like_an_id(name: str) -> bool:
    """Whether a name could be read as (the start of) an id: 4 or more hex digits alone."""
    return bool(_ID_PREFIX.fullmatch(name.strip().lower()))
