"""Evidence verbs: ingest, read, verify, list and show one item."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlmodel import col, select

from vault import catalogue
from vault.age import X25519Identity, X25519Recipient
from vault.errors import (
    IntegrityError,
    InvalidInput,
    PermissionDenied,
    StorageError,
    VaultError,
)
from vault.evidence import binding, pipeline, retrieve
from vault.evidence.kinds import guess_kind
from vault.evidence.lifecycle import VISIBLE, ItemState, move, quarantines, refuse_shredded
from vault.evidence.search import filtered
from vault.evidence.sources import Source
from vault.evidence.vocabulary import DISCLOSURES, KINDS
from vault.export.refs import roc_refs
from vault.metadata.models import (
    AuditEvent,
    Engagement,
    EvidenceItem,
    ItemMember,
    ItemRequirement,
    ItemRocRef,
)
from vault.pii.feed import FlagDraft, ScanFeed, ScanOutcome
from vault.pii.fields import card_findings, masked, refuse_card_data
from vault.retention.holds import is_held, mirror
from vault.retention.protect import protect
from vault.review import flags as flagging
from vault.service import catalogue as catalogues
from vault.service.context import Act, Context, target
from vault.service.views import (
    IngestOptions,
    IngestResult,
    ItemFilter,
    ItemView,
    VerifyResult,
    item_view,
    item_views,
)

OnResult = Callable[[Source, IngestResult | VaultError], None]


def typed_text(value: str | None, what: str, limit: int) -> str | None:
    """A free-text field a person typed: at most `limit` characters, and no card data (it is
    metadata, stored and shown in clear)."""
    if value is None:
        return None
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long (at most {limit} characters)")
    refuse_card_data(value, what)
    return value


def _check_options(cx: Context, eng: Engagement, opts: IngestOptions
                   ) -> tuple[IngestOptions, tuple[str, ...]]:
    """The options with the requirement ids to store (an old number replaced by its new one),
    and the warnings about that mapping; InvalidInput for options that are not acceptable."""
    if opts.kind is not None and opts.kind not in KINDS:
        raise InvalidInput(f"unknown kind {opts.kind!r}", hint="one of: " + ", ".join(KINDS))
    if opts.disclosure not in DISCLOSURES:
        raise InvalidInput(f"unknown disclosure level {opts.disclosure!r}",
                           hint="one of: " + ", ".join(DISCLOSURES))
    reqs, warnings = catalogues.map_requirements(catalogues.current(cx, eng.standard),
                                                 opts.requirements)
    typed_text(opts.system, "system", 500)
    typed_text(opts.description, "description", 4000)
    return replace(opts, requirements=reqs, roc_refs=roc_refs(opts.roc_refs)), warnings


def _check_store(cx: Context, opts: IngestOptions) -> None:
    """A store that cannot hold evidence until its destruction date is refused unless the
    user accepts it (the local directory holds it through the vault's API)."""
    try:
        caps = cx.store.capabilities
    except OSError as exc:
        raise StorageError(f"cannot reach the object store {cx.store.url}: {exc}") from None
    if "retention" not in caps and not opts.allow_unlocked:
        missing = {"versioning", "object_lock"} - caps
        raise InvalidInput(
            f"the object store lacks {' and '.join(sorted(missing))}: evidence there could "
            "be deleted before its time", hint="enable them on the bucket (`vault store "
            "check`), or pass --allow-unlocked to accept that")


def ingest(cx: Context, ref: str, sources: Iterable[Source], opts: IngestOptions,
           progress: pipeline.Progress | None = None, on_result: OnResult | None = None,
           ) -> list[IngestResult | VaultError]:
    """Ingest every source into the engagement; each commits fully or leaves nothing visible.

    A source that fails yields its VaultError in the result list (the others go on, and the
    failure is audited); the same bytes ingested twice into one engagement return the existing
    item (duplicate). A new item's result carries the warnings about its mapping (an old
    requirement number mapped to its new one, evidence mapped only to headings)."""
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
        cx.permit(s, "item.ingest", target(eng))
    opts, warnings = _check_options(cx, eng, opts)
    _check_store(cx, opts)
    results: list[IngestResult | VaultError] = []
    for src in sources:
        r: IngestResult | VaultError
        try:
            done = ingest_one(cx, eng, src, opts, progress)
            # a duplicate keeps its first mapping: nothing to warn about
            r = replace(done, warnings=warnings) if warnings and not done.duplicate else done
        except VaultError as exc:
            r = exc
        results.append(r)
        if on_result is not None:
            on_result(src, r)
    return results


def ingest_one(cx: Context, eng: Engagement, src: Source, opts: IngestOptions,
               progress: pipeline.Progress | None = None,
               supersedes: EvidenceItem | None = None) -> IngestResult:
    """One source: a pending row, the payload sealed into the store while it is scanned, then
    the item with its flags and its audit event in one transaction."""
    if len(src.name) > 4096 or not src.name:
        raise InvalidInput("a file name must be 1-4096 characters")
    with cx.act("item.ingest", eng) as a:
        item_id = cx.new_id()
        s = a.s
        key = cx.current_key(s, eng)
        scanner = cx.scanner(s, eng)
        # card data in the file name: masked in the metadata, flagged (and quarantined) below
        in_name = card_findings(src.name, cx.scanner(s, eng, cards_only=True))
        name = masked(src.name, in_name)
        feed = ScanFeed(scanner, name, size=src.size, caps=flagging.caps())
        pending = EvidenceItem(
            id=item_id, engagement_id=eng.id, key_id=key.id, kind=opts.kind or "other",
            original_name=name, declared_mime=mimetypes.guess_type(name)[0],
            ingested_at=cx.clock(), ingested_by=cx.user.id, system=opts.system,
            description=opts.description, disclosure=opts.disclosure,
            state=ItemState.PENDING,
            supersedes_id=supersedes.id if supersedes is not None else None,
            object_key=f"payload/{item_id}")
        s.add(pending)
        s.commit()  # a killed ingest leaves a pending row that `vault doctor` finds
        dropped = (item_id, pending.object_key)  # plain values: a rollback expires `pending`
        try:
            stream = src.open()
            try:
                sealed = pipeline.seal(stream, cx.store, pending.object_key,
                                       X25519Recipient.from_str(key.recipient),
                                       name=name, rng=cx.rng, progress=progress,
                                       tap=feed.feed, labels=[binding.label(item_id)])
            finally:
                if src.path is not None:
                    stream.close()
            outcome = feed.finish()
            outcome.drafts += [FlagDraft(f.kind, "file name", None, None, f.masked,
                                         f.confidence, f.value_hash) for f in in_name]
        except BaseException as exc:
            feed.abort()
            _drop_pending(cx, dropped)
            if isinstance(exc, VaultError):
                raise
            if isinstance(exc, OSError):
                raise StorageError(f"could not store {name!r}: {exc.strerror or exc}"
                                   ) from None
            raise
        try:
            result = _finalise(cx, a, eng, pending, sealed, opts, outcome)
            a.commit()
        except BaseException:
            s.rollback()
            _drop_pending(cx, dropped)
            raise
    if result.duplicate:
        _drop_pending(cx, dropped)
        return result
    # Held until its destruction date only now that the record is committed: a payload
    # locked before a failed commit could be neither read (no header) nor deleted.
    try:
        protect(cx.store, result.view.item, eng.completed_on, eng.retention_years)
        with cx.session() as s:  # a hold on the whole engagement holds new evidence too
            held = is_held(s, result.view.item)
        failed = mirror(cx.store, [result.view.item.object_key], True) if held else []
        if failed:
            raise StorageError(f"could not set the legal hold on its payload: {failed[0]}")
    except StorageError as exc:
        raise StorageError(f"{result.view.item.original_name!r} is stored as item "
                           f"{result.view.item.id[:12]}, but {exc.message}",
                           hint="`vault doctor --repair` sets it once the store answers"
                           ) from None
    return result


def _drop_pending(cx: Context, pending: tuple[str, str]) -> None:
    """Delete a pending item's payload, then its row (`pending`: its id and object key)."""
    item_id, object_key = pending
    try:
        cx.store.delete(object_key)
    except PermissionError:
        pass  # locked by a bucket's default retention: an unreadable orphan (no header)
    except OSError:
        return  # unreachable: stays pending, and `vault doctor` finds row and payload
    try:
        with cx.session() as s:
            row = s.get(EvidenceItem, item_id)
            if row is not None and row.state == ItemState.PENDING:
                s.delete(row)
                s.commit()
    except sa.exc.OperationalError:
        pass  # the database cannot be written: `vault doctor` finds the pending row


def _finalise(cx: Context, a: Act, eng: Engagement, pending: EvidenceItem,
              sealed: pipeline.Sealed, opts: IngestOptions, outcome: ScanOutcome
              ) -> IngestResult:
    kind = opts.kind or guess_kind(sealed.detected_mime, sealed.head)
    s = a.s
    existing = s.exec(select(EvidenceItem).where(
        EvidenceItem.engagement_id == eng.id, EvidenceItem.sha256 == sealed.sha256)).first()
    if existing is None:
        item = s.get(EvidenceItem, pending.id)
        assert item is not None
        item.sha256, item.size = sealed.sha256, sealed.size
        item.detected_mime, item.age_header = sealed.detected_mime, sealed.header
        item.kind = kind
        counts = outcome.counts()
        move(item, ItemState.QUARANTINED if quarantines(counts) else ItemState.ACTIVE)
        s.add(item)
        for req in dict.fromkeys(opts.requirements):
            s.add(ItemRequirement(item_id=item.id, requirement_id=req))
        for ref in opts.roc_refs:
            s.add(ItemRocRef(item_id=item.id, ref=ref))
        try:
            s.flush()  # the unique (engagement, sha256) constraint decides races here
        except sa.exc.IntegrityError:
            s.rollback()  # a concurrent ingest of the same bytes won the race
        else:
            # random ids handed out in ascending order (see flagging.add_flags)
            ids = sorted(cx.new_id() for _ in outcome.drafts)
            flagging.add_flags(s, item, outcome.drafts, ids, cx.clock())
            s.add_all(ItemMember(item_id=item.id, seq=i, path=where[:4096], size=size,
                                 note=why[:300] if why else None)
                      for i, (where, size, why) in enumerate(outcome.members))
            detail: dict[str, Any] = {"sha256": sealed.sha256, "size": sealed.size}
            if outcome.drafts:
                detail["flags"] = counts
                detail["state"] = item.state
            if outcome.dropped:
                detail["flags_not_kept"] = outcome.dropped
            if outcome.members:
                detail["members"] = len(outcome.members) + outcome.members_not_kept
            if item.supersedes_id:
                detail["supersedes"] = item.supersedes_id
            if opts.roc_refs:
                detail["roc_refs"] = list(opts.roc_refs)
            a.obj, a.detail = item.id, detail
            return IngestResult(item_view(s, item, eng), duplicate=False, flags=counts)
    existing = s.exec(select(EvidenceItem).where(
        EvidenceItem.engagement_id == eng.id, EvidenceItem.sha256 == sealed.sha256)).one()
    a.record = False  # nothing was added: the first ingest's event stands
    return IngestResult(item_view(s, existing, eng), duplicate=True)


def check_filter(eng: Engagement, flt: ItemFilter) -> None:
    """InvalidInput for a filter naming what does not exist (rather than an empty list); an
    old (renumbered) requirement id in `flt` is replaced by its new one."""
    if flt.requirement is not None:
        cat = catalogue.load(eng.standard)
        found = cat.resolve(flt.requirement)
        if found is None:
            raise InvalidInput(f"requirement {flt.requirement!r} is not in the {cat.title} "
                               "catalogue")
        flt.requirement = found[0].id


def list_items(cx: Context, ref: str, flt: ItemFilter | None = None) -> list[ItemView]:
    flt = flt or ItemFilter()
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    check_filter(eng, flt)
    with cx.act("item.list", eng) as a:
        q = filtered(a.s, select(EvidenceItem), eng, flt)
        q = q.order_by(col(EvidenceItem.ingested_at), col(EvidenceItem.id)).offset(flt.offset)
        if flt.limit is not None:
            q = q.limit(flt.limit)
        return item_views(a.s, list(a.s.exec(q).all()), eng)


def item(cx: Context, ref: str) -> ItemView:
    with cx.session() as s:
        it, eng = cx.find_item(s, ref)
    with cx.act("item.list", it, eng) as a:
        return item_view(a.s, it, eng)


def newer_version(s: Any, item_id: str) -> str | None:
    return s.exec(select(EvidenceItem.id).where(EvidenceItem.supersedes_id == item_id)).first()


def read_item(cx: Context, ref: str, *, dest: Path | None = None, out: BinaryIO | None = None,
              overwrite: bool = False, progress: pipeline.Progress | None = None,
              quarantined: bool = False) -> ItemView:
    """Decrypt one item to `dest` (atomically) or to `out` (after full authentication).

    A quarantined item holds card data no reviewer has resolved: its content is read only with
    `quarantined` (by the roles that decide flags; audited as ``item.read-quarantined``)."""
    with cx.session() as s:
        it, eng = cx.find_item(s, ref)
    held = it.state == ItemState.QUARANTINED
    with cx.act("item.read-quarantined" if held and quarantined else "item.read", it,
                eng) as a:
        if held and not quarantined:
            raise InvalidInput(
                f"item {it.id[:12]} is quarantined: it holds card data (or content that could "
                "not be scanned) that no reviewer has resolved",
                hint="`vault flags ENGAGEMENT --item ID` shows what was found; a lead or QA "
                     "reviewer may read it with --quarantined (audited)")
        refuse_shredded(it, newer_version(a.s, it.id))
        key = cx.engagement_identity(a.s, it.key_id)
        view = item_view(a.s, it, eng)
        a.s.commit()  # nothing is held open while the payload streams
        if dest is not None:
            retrieve.publish(it, cx.store, key, dest, overwrite=overwrite, progress=progress)
        else:
            assert out is not None
            retrieve.stream_out(it, cx.store, key, out, cx.tmp_dir, progress=progress)
    return view


def verify(cx: Context, ref: str | None = None, *, engagement: str | None = None
           ) -> list[VerifyResult]:
    """Re-read, decrypt and re-hash one item, one engagement's, or all the actor may check.

    Each item checked is an audited ``item.verify``; an engagement whose items the actor may
    not verify is skipped in a bulk run, and that refusal is audited too (once per
    engagement)."""
    with cx.session() as s:
        if ref is not None:
            it, eng = cx.find_item(s, ref)
            items, engs = [it], {eng.id: eng}
        else:
            q = select(EvidenceItem).where(col(EvidenceItem.state).in_(VISIBLE))
            if engagement is not None:
                q = q.where(EvidenceItem.engagement_id == cx.find_engagement(s, engagement).id)
            items = list(s.exec(q.order_by(col(EvidenceItem.engagement_id),
                                           col(EvidenceItem.ingested_at))).all())
            engs = {e.id: e for e in s.exec(select(Engagement).where(col(Engagement.id).in_(
                {i.engagement_id for i in items}))).all()}
    refused: set[str] = set()
    with cx.session() as s:  # a refusal rolls its session back: not the one items came from
        for eng_id in dict.fromkeys(i.engagement_id for i in items):
            try:
                cx.permit(s, "item.verify", target(engs[eng_id]))
            except PermissionDenied:
                if ref is not None:
                    raise
                refused.add(eng_id)
    results: list[VerifyResult] = []
    keys: dict[str, X25519Identity] = {}
    recorded: dict[str, dict[str, tuple[str, int]]] = {}
    for it in items:
        if it.engagement_id in refused:
            continue
        with cx.act("item.verify", it, engs[it.engagement_id]) as a:
            if it.state == ItemState.DESTROYED:
                results.append(VerifyResult(it.id, it.original_name, True,
                                            "destroyed at the end of its retention"))
                continue
            if it.state == ItemState.SHREDDED:
                results.append(VerifyResult(it.id, it.original_name, True,
                                            "redacted: the original was crypto-shredded"))
                continue
            if it.engagement_id not in recorded:
                recorded[it.engagement_id] = ingest_records(a.s, it.engagement_id)
            if it.key_id not in keys:
                keys[it.key_id] = cx.engagement_identity(a.s, it.key_id)
            a.s.commit()
            try:
                check_recorded(it, recorded[it.engagement_id].get(it.id))
                retrieve.check(it, cx.store, keys[it.key_id])
                results.append(VerifyResult(it.id, it.original_name, True))
            except (IntegrityError, StorageError) as exc:
                results.append(VerifyResult(it.id, it.original_name, False, str(exc)))
                a.outcome = "integrity-failure"
    return results


def ingest_records(s: Any, engagement_id: str) -> dict[str, tuple[str, int]]:
    """What the audit log recorded at each ingest into the engagement: item id -> (SHA-256,
    size). (The log's own integrity is `vault audit verify`'s to check.)"""
    out: dict[str, tuple[str, int]] = {}
    rows = s.exec(select(AuditEvent.object, AuditEvent.detail).where(
        AuditEvent.engagement_id == engagement_id, AuditEvent.action == "item.ingest",
        AuditEvent.outcome == "ok").order_by(col(AuditEvent.seq))).all()
    for obj, detail in rows:
        try:
            d = json.loads(detail or "{}")
            out.setdefault(obj, (str(d["sha256"]), int(d["size"])))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def check_recorded(it: EvidenceItem, recorded: tuple[str, int] | None) -> None:
    """IntegrityError unless the item's SHA-256 and size are those its ingest event recorded
    (rows swapped or edited in the database, with their payloads, are caught here)."""
    if recorded is None:
        raise IntegrityError(f"item {it.id[:12]}: no ingest event in the audit log names it "
                             "(its database record was added or edited)",
                             hint="restore the database from a backup")
    sha, size = recorded
    if (it.sha256, it.size) != (sha, size):
        raise IntegrityError(
            f"item {it.id[:12]}: its record says sha256 {(it.sha256 or '-')[:16]}… and "
            f"{it.size} bytes, its ingest event sha256 {sha[:16]}… and {size} bytes (the "
            "database record was swapped or edited)",
            hint="restore the database from a backup")
