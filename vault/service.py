"""The service facade: the one entry point of the CLI and the TUI.

Every public method is (actor, action, object): it resolves the object, checks the permission
matrix once (auditing a refusal), does the domain work, and appends an audit event. Time,
randomness, the store and the database are injected so tests control them.
"""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from storage_backends import ObjectStore
from vault import access, audit, catalogue, retrieve, vocabulary
from vault import ingest as pipeline
from vault.age import X25519Identity, X25519Recipient
from vault.auditing import AuditMixin
from vault.browse import BrowseMixin
from vault.errors import (
    AlreadyExists,
    IntegrityError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StorageError,
    VaultError,
)
from vault.flagging import FlagMixin, ScanFeed, ScanOutcome
from vault.keys import PersonalKey, unwrap_identity
from vault.lookup import by_id_prefix
from vault.maintenance import MaintenanceMixin, enforces_retention, is_local
from vault.models import (
    Engagement,
    EngagementKey,
    EvidenceItem,
    ItemRequirement,
    KeyGrant,
    Member,
    User,
)
from vault.people import PeopleMixin, key_grant
from vault.retention import destruction_date
from vault.search import filtered
from vault.sources import Source

KINDS, DISCLOSURES = vocabulary.KINDS, vocabulary.DISCLOSURES
VISIBLE_STATES = ("active", "quarantined", "superseded", "shredded")

Clock = Callable[[], datetime]
Rng = Callable[[int], bytes]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _clean_text(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long (at most {limit} characters)")
    return value


@dataclass(frozen=True)
class IngestOptions:
    kind: str | None = None
    requirements: tuple[str, ...] = ()
    disclosure: str = "team"
    system: str | None = None
    description: str | None = None
    allow_unlocked: bool = False


@dataclass(frozen=True)
class ItemView:
    """An evidence item as the interfaces show it (no header, no key)."""

    item: EvidenceItem
    requirements: tuple[str, ...]
    engagement: str
    ingested_by: str

    @property
    def type_mismatch(self) -> bool:
        d, m = self.item.declared_mime, self.item.detected_mime
        return bool(d and m and d != m and m != "application/x-empty"
                    and not (d.startswith("text/") and m.startswith("text/")))

    def as_dict(self) -> dict[str, Any]:
        i = self.item
        return {
            "id": i.id, "engagement": self.engagement, "kind": i.kind,
            "original_name": i.original_name, "declared_mime": i.declared_mime,
            "detected_mime": i.detected_mime, "type_mismatch": self.type_mismatch,
            "size": i.size, "sha256": i.sha256, "ingested_at": i.ingested_at.isoformat(),
            "ingested_by": self.ingested_by, "requirements": list(self.requirements),
            "system": i.system, "description": i.description, "disclosure": i.disclosure,
            "state": i.state, "supersedes": i.supersedes_id,
        }


@dataclass(frozen=True)
class IngestResult:
    view: ItemView
    duplicate: bool
    flags: dict[str, int] = field(default_factory=dict)
    """Distinct values found per kind (empty for a duplicate: the first ingest's flags hold)."""

    @property
    def quarantined(self) -> bool:
        return self.view.item.state == "quarantined"


@dataclass(frozen=True)
class VerifyResult:
    item_id: str
    name: str
    ok: bool
    problem: str | None = None


@dataclass
class ItemFilter:
    kind: str | None = None
    requirement: str | None = None
    disclosure: str | None = None
    state: str | None = None
    text: str | None = None
    limit: int | None = None
    offset: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def engagement_dict(e: Engagement, items: int | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"id": e.id, "name": e.name, "client": e.client, "standard": e.standard,
         "period_start": e.period_start.isoformat() if e.period_start else None,
         "period_end": e.period_end.isoformat() if e.period_end else None,
         "completed_on": e.completed_on.isoformat() if e.completed_on else None,
         "created_at": e.created_at.isoformat()}
    if items is not None:
        d["items"] = items
    return d


class Vault(PeopleMixin, AuditMixin, BrowseMixin, MaintenanceMixin, FlagMixin):
    """The vault as one acting person sees it."""

    def __init__(self, engine: Engine, store: ObjectStore, identity: PersonalKey, *,
                 tmp_dir: Path, clock: Clock = utcnow, rng: Rng = os.urandom) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self.rng = rng
        self.tmp_dir = tmp_dir
        self._identity = identity
        recipient = str(identity.recipient)
        with self._session() as s:
            user = s.exec(select(User).where(User.recipient == recipient)).first()
        if user is None:
            raise PermissionDenied(
                "your identity is not registered in this vault",
                hint=f"ask an administrator to add your recipient {recipient}")
        self.user: User = user

    # -- plumbing ------------------------------------------------------------------------------

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _new_id(self) -> str:
        return self.rng(16).hex()

    def _roles(self, s: Session, engagement_id: str | None) -> set[str]:
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

    def _audit(self, s: Session, action: str, obj: str, outcome: str = "ok",
               engagement_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        audit.append(s, at=self.clock(), actor=self.user.name, action=action, obj=obj,
                     outcome=outcome, engagement_id=engagement_id,
                     detail=json.dumps(detail, sort_keys=True) if detail else None)

    def _require(self, s: Session, action: str, obj: str,
                 engagement_id: str | None = None) -> None:
        if access.allowed(action, self._roles(s, engagement_id)):
            return
        s.rollback()
        self._audit(s, action, obj, "denied", engagement_id)
        s.commit()
        raise PermissionDenied(f"{self.user.name} may not {action.replace('.', ' ')} ({obj})")

    def _record_failure(self, action: str, obj: str, outcome: str,
                        engagement_id: str | None) -> None:
        with self._session() as s:
            self._audit(s, action, obj, outcome, engagement_id)
            s.commit()

    def _engagement(self, s: Session, ref: str) -> Engagement:
        e = s.exec(select(Engagement).where(Engagement.name == ref)).first()
        if e is None and len(ref) >= 4:
            found = s.exec(select(Engagement).where(col(Engagement.id).startswith(ref))).all()
            if len(found) == 1:
                e = found[0]
        if e is None:
            raise NotFound(f"no engagement {ref!r}", hint="`vault engagement list` shows them")
        return e

    def _item(self, s: Session, ref: str) -> EvidenceItem:
        return by_id_prefix(s, EvidenceItem, ref, "item", col(EvidenceItem.state) != "pending")

    def _view(self, s: Session, item: EvidenceItem, engagement: Engagement | None = None
              ) -> ItemView:
        reqs = s.exec(select(ItemRequirement.requirement_id)
                      .where(ItemRequirement.item_id == item.id)).all()
        eng = engagement or s.get(Engagement, item.engagement_id)
        user = s.get(User, item.ingested_by)
        assert eng is not None and user is not None
        return ItemView(item=item, requirements=tuple(sorted(reqs, key=catalogue.sort_key)),
                        engagement=eng.name, ingested_by=user.name)

    def _views(self, s: Session, items: list[EvidenceItem], eng: Engagement) -> list[ItemView]:
        """_view for a page of one engagement's items: one query for all their requirements."""
        reqs: dict[str, list[str]] = {i.id: [] for i in items}
        if items:
            for item_id, req in s.exec(select(ItemRequirement.item_id,
                                              ItemRequirement.requirement_id)
                                       .where(col(ItemRequirement.item_id).in_(list(reqs)))):
                reqs[item_id].append(req)
        names: dict[str, str] = {}
        views = []
        for i in items:
            if i.ingested_by not in names:
                user = s.get(User, i.ingested_by)
                assert user is not None
                names[i.ingested_by] = user.name
            views.append(ItemView(item=i, requirements=tuple(sorted(reqs[i.id],
                                                                    key=catalogue.sort_key)),
                                  engagement=eng.name, ingested_by=names[i.ingested_by]))
        return views

    def _engagement_identity(self, s: Session, key_id: str) -> X25519Identity:
        grant = s.get(KeyGrant, (key_id, self.user.id))
        if grant is None:
            raise PermissionDenied("you hold no key for this engagement")
        return unwrap_identity(grant.wrapped, self._identity)

    def _current_key(self, s: Session, engagement_id: str) -> EngagementKey:
        key = s.exec(select(EngagementKey).where(EngagementKey.engagement_id == engagement_id,
                                                 col(EngagementKey.retired_at).is_(None))
                     .order_by(col(EngagementKey.created_at).desc())).first()
        if key is None:
            raise IntegrityError(f"engagement {engagement_id} has no active key")
        return key

    # -- people and status ---------------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        return {"name": self.user.name, "id": self.user.id,
                "recipient": self.user.recipient, "firm_role": self.user.firm_role}

    def status(self) -> dict[str, Any]:
        with self._session() as s:
            engagements = s.exec(select(func.count()).select_from(Engagement)).one()
            items = s.exec(select(func.count()).select_from(EvidenceItem)
                           .where(col(EvidenceItem.state).in_(VISIBLE_STATES))).one()
            mine = s.exec(select(func.count()).select_from(Member)
                          .where(Member.user_id == self.user.id)).one()
        return {"user": self.user.name, "engagements": engagements,
                "my_engagements": mine, "items": items,
                "store": self.store.url, "database": self.engine.url.render_as_string(
                    hide_password=True)}

    # -- engagements ---------------------------------------------------------------------------

    def create_engagement(self, name: str, *, client: str, standard: str,
                          period_start: date | None = None,
                          period_end: date | None = None) -> Engagement:
        """A new engagement with its own key, granted to its creator as lead."""
        name = name.strip()
        if not name or any(c in name for c in "\n\r\t") or len(name) > 200:
            raise InvalidInput("an engagement name is 1-200 characters on one line")
        if standard not in catalogue.STANDARDS:
            raise InvalidInput(f"unknown standard {standard!r}",
                               hint="one of: " + ", ".join(catalogue.STANDARDS))
        if period_start and period_end and period_end < period_start:
            raise InvalidInput("the assessment period ends before it starts")
        _clean_text(client, "client", 500)
        with self._session() as s:
            self._require(s, "engagement.create", name)
            if s.exec(select(Engagement).where(Engagement.name == name)).first():
                raise AlreadyExists(f"an engagement named {name!r} exists already")
            now = self.clock()
            eng = Engagement(id=self._new_id(), name=name, client=client, standard=standard,
                             period_start=period_start, period_end=period_end,
                             created_at=now, created_by=self.user.id)
            ident = X25519Identity.generate(self.rng)
            key = EngagementKey(id=self._new_id(), engagement_id=eng.id,
                                recipient=str(ident.recipient), created_at=now)
            s.add(eng)
            s.flush()
            s.add(key)
            s.flush()
            s.add(Member(engagement_id=eng.id, user_id=self.user.id, role="lead",
                         added_at=now, added_by=self.user.id))
            s.add(key_grant(ident, key.id, self.user, now))
            self._audit(s, "engagement.create", eng.id, engagement_id=eng.id)
            try:
                s.commit()
            except sa.exc.IntegrityError:
                raise AlreadyExists(f"an engagement named {name!r} exists already") from None
            return eng

    def list_engagements(self) -> list[tuple[Engagement, int]]:
        """Engagements the actor is a member of (all of them for an administrator)."""
        with self._session() as s:
            q = select(Engagement).order_by(Engagement.name)
            if self.user.firm_role != "admin":
                q = q.join(Member).where(Member.user_id == self.user.id)
            engs = s.exec(q).all()
            counts = dict(s.exec(
                select(EvidenceItem.engagement_id, func.count())
                .where(col(EvidenceItem.state).in_(VISIBLE_STATES))
                .group_by(EvidenceItem.engagement_id)).all())
            return [(e, counts.get(e.id, 0)) for e in engs]

    def engagement(self, ref: str) -> tuple[Engagement, int]:
        with self._session() as s:
            e = self._engagement(s, ref)
            self._require(s, "engagement.view", e.id, e.id)
            n = s.exec(select(func.count()).select_from(EvidenceItem).where(
                EvidenceItem.engagement_id == e.id,
                col(EvidenceItem.state).in_(VISIBLE_STATES))).one()
            return e, n

    def complete_engagement(self, ref: str, on: date) -> Engagement:
        """Set the completion date; it may move later, never earlier (retention never shortens)."""
        with self._session() as s:
            e = self._engagement(s, ref)
            self._require(s, "engagement.complete", e.id, e.id)
            if e.period_start and on < e.period_start:
                raise InvalidInput("the completion date is before the assessment period starts")
            if e.completed_on and on < e.completed_on:
                raise InvalidInput(
                    f"engagement was completed on {e.completed_on}: the date may only move later",
                    hint="an earlier date would shorten the evidence's retention")
            e.completed_on = on
            s.add(e)
            self._audit(s, "engagement.complete", e.id, engagement_id=e.id,
                        detail={"completed_on": on.isoformat()})
            s.commit()
            items = s.exec(select(EvidenceItem).where(
                EvidenceItem.engagement_id == e.id,
                col(EvidenceItem.state).in_(VISIBLE_STATES))).all()
        for item in items:  # retention moves with the completion date (extend only)
            self._protect(item, on)
        return e

    # -- evidence ------------------------------------------------------------------------------

    def _check_options(self, eng: Engagement, opts: IngestOptions) -> None:
        if opts.kind is not None and opts.kind not in KINDS:
            raise InvalidInput(f"unknown kind {opts.kind!r}", hint="one of: " + ", ".join(KINDS))
        if opts.disclosure not in DISCLOSURES:
            raise InvalidInput(f"unknown disclosure level {opts.disclosure!r}",
                               hint="one of: " + ", ".join(DISCLOSURES))
        cat = catalogue.load(eng.standard)
        for req in opts.requirements:
            if req not in cat:
                raise InvalidInput(f"requirement {req!r} is not in the {cat.title} catalogue")
        _clean_text(opts.system, "system", 500)
        _clean_text(opts.description, "description", 4000)

    def ingest(self, ref: str, sources: Iterable[Source], opts: IngestOptions,
               progress: pipeline.Progress | None = None,
               on_result: Callable[[Source, IngestResult | VaultError], None] | None = None,
               ) -> list[IngestResult | VaultError]:
        """Ingest every source into the engagement; each commits fully or leaves nothing visible.

        A source that fails yields its VaultError in the result list (the others go on); the
        same bytes ingested twice into one engagement return the existing item (duplicate).
        """
        with self._session() as s:
            eng = self._engagement(s, ref)
            self._require(s, "item.ingest", eng.id, eng.id)
        self._check_options(eng, opts)
        try:
            missing = {"versioning", "object_lock"} - self.store.capabilities
        except OSError as exc:
            raise StorageError(f"cannot reach the object store {self.store.url}: {exc}"
                               ) from None
        if not is_local(self.store) and missing and not opts.allow_unlocked:
            raise InvalidInput(
                f"the object store lacks {' and '.join(sorted(missing))}: evidence there could "
                "be deleted before its time", hint="enable them on the bucket (`vault store "
                "check`), or pass --allow-unlocked to accept that")
        results: list[IngestResult | VaultError] = []
        for src in sources:
            try:
                r: IngestResult | VaultError = self._ingest_one(eng, src, opts, progress)
            except VaultError as exc:
                r = exc
            results.append(r)
            if on_result is not None:
                on_result(src, r)
        return results

    def _ingest_one(self, eng: Engagement, src: Source, opts: IngestOptions,
                    progress: pipeline.Progress | None,
                    supersedes: EvidenceItem | None = None) -> IngestResult:
        if len(src.name) > 4096 or not src.name:
            raise InvalidInput("a file name must be 1-4096 characters")
        item_id = self._new_id()
        with self._session() as s:
            key = self._current_key(s, eng.id)
            feed = ScanFeed(self._scanner_for(s, eng.id), src.name, size=src.size)
            pending = EvidenceItem(
                id=item_id, engagement_id=eng.id, key_id=key.id, kind=opts.kind or "other",
                original_name=src.name, declared_mime=mimetypes.guess_type(src.name)[0],
                ingested_at=self.clock(), ingested_by=self.user.id, system=opts.system,
                description=opts.description, disclosure=opts.disclosure, state="pending",
                supersedes_id=supersedes.id if supersedes is not None else None,
                object_key=f"payload/{item_id}")
            s.add(pending)
            s.commit()
        try:
            stream = src.open()
            try:
                sealed = pipeline.seal(stream, self.store, pending.object_key,
                                     X25519Recipient.from_str(key.recipient),
                                     name=src.name, rng=self.rng, progress=progress,
                                     tap=feed.feed)
            finally:
                if src.path is not None:
                    stream.close()
            outcome = feed.finish()
        except BaseException as exc:
            feed.abort()
            self._drop_pending(pending)
            if isinstance(exc, VaultError):
                raise
            if isinstance(exc, OSError):
                raise StorageError(f"could not store {src.name!r}: {exc.strerror or exc}"
                                   ) from None
            raise
        return self._finalise(eng, pending, sealed, opts, outcome)

    def _ingest_version(self, item: EvidenceItem, src: Source, opts: IngestOptions
                        ) -> IngestResult:
        """A new version of `item` (a redaction): ingested and scanned like any file."""
        with self._session() as s:
            eng = s.get(Engagement, item.engagement_id)
            assert eng is not None
        return self._ingest_one(eng, src, opts, None, supersedes=item)

    def _drop_pending(self, pending: EvidenceItem) -> None:
        try:
            self.store.delete(pending.object_key)
        except PermissionError:
            pass  # locked by a bucket's default retention: an unreadable orphan (no header)
        except OSError:
            return  # unreachable: stays pending, and `vault doctor` finds row and payload
        with self._session() as s:
            row = s.get(EvidenceItem, pending.id)
            if row is not None and row.state == "pending":
                s.delete(row)
                s.commit()

    def _finalise(self, eng: Engagement, pending: EvidenceItem, sealed: pipeline.Sealed,
                  opts: IngestOptions, outcome: ScanOutcome) -> IngestResult:
        kind = opts.kind or guess_kind(sealed.detected_mime)
        with self._session() as s:
            existing = s.exec(select(EvidenceItem).where(
                EvidenceItem.engagement_id == eng.id,
                EvidenceItem.sha256 == sealed.sha256)).first()
            if existing is None:
                item = s.get(EvidenceItem, pending.id)
                assert item is not None
                item.sha256, item.size = sealed.sha256, sealed.size
                item.detected_mime, item.age_header = sealed.detected_mime, sealed.header
                item.kind = kind
                item.state = "quarantined" if outcome.quarantine else "active"
                s.add(item)
                for req in dict.fromkeys(opts.requirements):
                    s.add(ItemRequirement(item_id=item.id, requirement_id=req))
                try:
                    s.flush()  # the unique (engagement, sha256) constraint decides races here
                except sa.exc.IntegrityError:
                    s.rollback()  # a concurrent ingest of the same bytes won the race
                else:
                    self._add_flags(s, item, outcome)
                    self._protect(item, eng.completed_on)
                    detail: dict[str, Any] = {"sha256": sealed.sha256, "size": sealed.size}
                    if outcome.drafts:
                        detail["flags"] = outcome.counts()
                        detail["state"] = item.state
                    if outcome.dropped:
                        detail["flags_not_kept"] = outcome.dropped
                    if item.supersedes_id:
                        detail["supersedes"] = item.supersedes_id
                    self._audit(s, "item.ingest", item.id, engagement_id=eng.id, detail=detail)
                    s.commit()
                    return IngestResult(self._view(s, item, eng), duplicate=False,
                                        flags=outcome.counts())
            existing = s.exec(select(EvidenceItem).where(
                EvidenceItem.engagement_id == eng.id,
                EvidenceItem.sha256 == sealed.sha256)).one()
            view = self._view(s, existing, eng)
        self._drop_pending(pending)
        return IngestResult(view, duplicate=True)

    def _protect(self, item: EvidenceItem, completed_on: date | None) -> None:
        """Hold the payload until the item's destruction date where the store can."""
        if not enforces_retention(self.store):
            return
        until = destruction_date(completed_on, item.ingested_at)
        try:
            held = self.store.head(item.object_key).retain_until
            if held is not None and held >= until:
                return  # e.g. a bucket's default retention already holds it longer
            self.store.set_retention(item.object_key, until)
        except OSError as exc:
            raise StorageError(f"could not protect item {item.id} with retention: "
                               f"{exc.strerror or exc}") from None

    def list_items(self, ref: str, flt: ItemFilter | None = None) -> list[ItemView]:
        flt = flt or ItemFilter()
        with self._session() as s:
            eng = self._engagement(s, ref)
            self._require(s, "item.list", eng.id, eng.id)
            q = filtered(s, select(EvidenceItem), eng, flt)
            q = q.order_by(col(EvidenceItem.ingested_at), col(EvidenceItem.id)).offset(flt.offset)
            if flt.limit is not None:
                q = q.limit(flt.limit)
            return self._views(s, list(s.exec(q).all()), eng)

    def item(self, ref: str) -> ItemView:
        with self._session() as s:
            item = self._item(s, ref)
            self._require(s, "item.list", item.id, item.engagement_id)
            return self._view(s, item)

    def read_item(self, ref: str, *, dest: Path | None = None, out: BinaryIO | None = None,
                  overwrite: bool = False, progress: pipeline.Progress | None = None) -> ItemView:
        """Decrypt one item to `dest` (atomically) or to `out` (after full authentication)."""
        with self._session() as s:
            item = self._item(s, ref)
            self._require(s, "item.read", item.id, item.engagement_id)
            shredded(s, item)
            key = self._engagement_identity(s, item.key_id)
            view = self._view(s, item)
        try:
            if dest is not None:
                retrieve.publish(item, self.store, key, dest, overwrite=overwrite,
                                 progress=progress)
            else:
                assert out is not None
                retrieve.stream_out(item, self.store, key, out, self.tmp_dir, progress=progress)
        except (IntegrityError, StorageError) as exc:
            self._record_failure("item.read", item.id, "integrity-failure"
                                 if isinstance(exc, IntegrityError) else "error",
                                 item.engagement_id)
            raise
        with self._session() as s:
            self._audit(s, "item.read", item.id, engagement_id=item.engagement_id)
            s.commit()
        return view

    def verify(self, ref: str | None = None, *, engagement: str | None = None
               ) -> list[VerifyResult]:
        """Re-read, decrypt and re-hash one item, one engagement's, or all the actor may check."""
        with self._session() as s:
            if ref is not None:
                items = [self._item(s, ref)]
            else:
                q = select(EvidenceItem).where(col(EvidenceItem.state).in_(VISIBLE_STATES))
                if engagement is not None:
                    q = q.where(EvidenceItem.engagement_id == self._engagement(s, engagement).id)
                items = list(s.exec(q.order_by(col(EvidenceItem.engagement_id),
                                               col(EvidenceItem.ingested_at))).all())
            results: list[VerifyResult] = []
            keys: dict[str, X25519Identity] = {}
            for item in items:
                if not access.allowed("item.verify", self._roles(s, item.engagement_id)):
                    if ref is not None:
                        self._require(s, "item.verify", item.id, item.engagement_id)
                    continue
                if item.state == "shredded":
                    results.append(VerifyResult(item.id, item.original_name, True,
                                                "redacted: the original was crypto-shredded"))
                    continue
                if item.key_id not in keys:
                    keys[item.key_id] = self._engagement_identity(s, item.key_id)
                try:
                    retrieve.check(item, self.store, keys[item.key_id])
                    results.append(VerifyResult(item.id, item.original_name, True))
                except (IntegrityError, StorageError) as exc:
                    results.append(VerifyResult(item.id, item.original_name, False, str(exc)))
                self._audit(s, "item.verify", item.id,
                            "ok" if results[-1].ok else "integrity-failure",
                            engagement_id=item.engagement_id)
            s.commit()
        return results


def shredded(s: Session, item: EvidenceItem) -> None:
    """Refuse to read an item whose original was crypto-shredded by a redaction."""
    if item.state != "shredded":
        return
    newer = s.exec(select(EvidenceItem.id).where(EvidenceItem.supersedes_id == item.id)).first()
    raise InvalidInput(f"item {item.id[:12]} was redacted: its original content was destroyed "
                       "(crypto-shredded)",
                       hint=f"read the redacted version {newer[:12]}" if newer else None)


def guess_kind(mime: str) -> str:
    """A default kind from the detected type, when the user named none."""
    if mime.startswith("image/"):
        return "screenshot"
    if mime in ("application/pdf", "application/msword") or "officedocument" in mime:
        return "document"
    return "other"
