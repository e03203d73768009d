"""Evidence verbs: ingest, read, verify, list and show one item."""

from __future__ import annotations

import json
import mimetypes
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlmodel import col, select

from storage_backends import deferred_sync
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
from vault.retention.holds import held_item_ids, is_held, mirror
from vault.retention.protect import protect
from vault.review import flags as flagging
from vault.service import catalogue as catalogues
from vault.service.context import Act, Context, failure_outcome, target
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

    def done(src: Source, r: IngestResult | VaultError) -> None:
        # a duplicate keeps its first mapping: nothing to warn about
        if warnings and isinstance(r, IngestResult) and not r.duplicate:
            r = replace(r, warnings=warnings)
        results.append(r)
        if on_result is not None:
            on_result(src, r)

    run: list[Source] = []  # small files in a row: ingested as a batch
    run_bytes = 0
    with _Pipeline(cx, eng, opts, progress, done) as batches:

        def flush() -> None:
            nonlocal run_bytes
            run_bytes = 0
            if len(run) > 1:
                batches.add(list(run))
            elif run:
                batches.drain()
                one(run[0])
            run.clear()

        def one(src: Source) -> None:
            r: IngestResult | VaultError
            try:
                r = ingest_one(cx, eng, src, opts, progress)
            except VaultError as exc:
                r = exc
            done(src, r)

        for src in sources:
            if not _batchable(src):
                flush()
                batches.drain()
                one(src)
                continue
            run.append(src)
            run_bytes += src.size or 0
            if len(run) >= BATCH_FILES or run_bytes >= BATCH_BYTES:
                flush()
        flush()
    return results


SMALL_FILE = 1 << 20
"""Files up to this size are ingested in batches (one block each: read, hashed, scanned and
encrypted in this thread)."""
BATCH_FILES = 500
BATCH_BYTES = 32 << 20


def _batchable(src: Source) -> bool:
    """A file of known small size (not standard input, not a skipped entry)."""
    return src.size is not None and src.size <= SMALL_FILE and src.skipped is None


@dataclass
class _Pending:
    """One file of a batch: its item's id, masked name, object key and what ingest learnt."""

    src: Source
    item_id: str
    name: str
    object_key: str
    in_name: list[Any]
    sealed: pipeline.Sealed | None = None
    kind: str = "other"
    outcome: ScanOutcome | None = None
    failed: VaultError | None = None
    duplicate_of: str | None = None


@dataclass
class _Batch:
    """A batch under way: its sources, their pending files, the early results (an invalid
    name, or the batch's own failure), and the sealing running in the background."""

    srcs: list[Source]
    out: list[IngestResult | VaultError | None]
    files: list[_Pending]
    recipient: X25519Recipient | None = None
    scanner: Any = None
    sealing: Future[None] | None = None


class _Pipeline:
    """Batches of small files, each still committed fully or not at all, with the sealing of
    one batch (its files read, hashed, scanned, encrypted and stored on SEAL_THREADS threads)
    overlapping the database work of the one before: its record, its payloads' retention and
    its results. Results reach `done` in the sources' order. Leaving the block finishes (or,
    on an exception, undoes) the batch still under way."""

    def __init__(self, cx: Context, eng: Engagement, opts: IngestOptions,
                 progress: pipeline.Progress | None,
                 done: Callable[[Source, IngestResult | VaultError], None]) -> None:
        self.cx, self.eng, self.opts, self.done = cx, eng, opts, done
        self.progress = _serialised(progress)
        self.ahead: _Batch | None = None
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vault-batch")

    def __enter__(self) -> _Pipeline:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_exc: object) -> None:
        try:
            if kind is None:
                self.drain()
            elif self.ahead is not None:  # interrupted: the batch under way is undone
                batch, self.ahead = self.ahead, None
                if batch.sealing is not None:
                    with suppress(BaseException):
                        batch.sealing.result()
                _drop_batch(self.cx, batch.files)
        finally:
            self.pool.shutdown(wait=True)

    def add(self, srcs: list[Source]) -> None:
        """Start a batch (its pending rows committed, its sealing under way), then finish the
        one before it while this one is sealed."""
        batch = _begin_batch(self.cx, self.eng, srcs, self.opts)
        if batch.files and batch.recipient is not None:
            batch.sealing = self.pool.submit(_seal_all, self.cx, batch.files,
                                             batch.recipient, batch.scanner, self.opts,
                                             self.progress)
        before, self.ahead = self.ahead, batch
        if before is not None:
            self._finish(before)

    def drain(self) -> None:
        """Finish the batch under way, if any."""
        batch, self.ahead = self.ahead, None
        if batch is not None:
            self._finish(batch)

    def _finish(self, batch: _Batch) -> None:
        results = _end_batch(self.cx, self.eng, batch, self.opts)
        for src, r in zip(batch.srcs, results, strict=True):
            self.done(src, r)


def _serialised(progress: pipeline.Progress | None) -> pipeline.Progress | None:
    """`progress` made safe to call from the sealing threads: callers' callbacks need not be
    thread-safe (the TUI's and the CLI's keep a running total)."""
    if progress is None:
        return None
    lock, report = threading.Lock(), progress

    def serialised(done: int) -> None:
        with lock:
            report(done)
    return serialised


def _begin_batch(cx: Context, eng: Engagement, srcs: list[Source], opts: IngestOptions
                 ) -> _Batch:
    """A batch's pending rows, committed together (a killed ingest leaves what `vault doctor`
    finds); each file's name masked where it holds card data."""
    out: list[IngestResult | VaultError | None] = [None] * len(srcs)
    for i, src in enumerate(srcs):
        if len(src.name) > 4096 or not src.name:
            out[i] = InvalidInput("a file name must be 1-4096 characters")
    files: list[_Pending] = []
    try:
        with cx.act("item.ingest", eng) as a:
            a.record = False  # one event per file, when the batch lands
            s = a.s
            key = cx.current_key(s, eng)
            cards = cx.scanner(s, eng, cards_only=True)
            rows = []
            for i, src in enumerate(srcs):
                if out[i] is not None:
                    continue
                item_id = cx.new_id()
                in_name = card_findings(src.name, cards)
                name = masked(src.name, in_name)
                files.append(_Pending(src, item_id, name, f"payload/{item_id}", in_name))
                rows.append({
                    "id": item_id, "engagement_id": eng.id, "key_id": key.id,
                    "kind": opts.kind or "other", "original_name": name,
                    "declared_mime": mimetypes.guess_type(name)[0],
                    "ingested_at": cx.clock(), "ingested_by": cx.user.id,
                    "system": opts.system, "description": opts.description,
                    "disclosure": opts.disclosure, "state": ItemState.PENDING,
                    "supersedes_id": None, "object_key": f"payload/{item_id}"})
            if rows:
                s.execute(sa.insert(EvidenceItem), rows)
            recipient = X25519Recipient.from_str(key.recipient)
            scanner = cx.scanner(s, eng)
    except VaultError as exc:  # nothing of the batch was written
        return _Batch(srcs, [r if r is not None else exc for r in out], [])
    return _Batch(srcs, out, files, recipient, scanner)


def _end_batch(cx: Context, eng: Engagement, batch: _Batch, opts: IngestOptions
               ) -> list[IngestResult | VaultError]:
    """Once its files are sealed (every payload durable: only from then may a record say it
    is there), the batch's one transaction turns its rows active (or quarantined) with their
    flags, requirements and audit events. A file that failed (unreadable, changed while read,
    its payload refused by the store) is put aside: its row and payload go, its failure is
    audited in that transaction, the others land. A failure of the batch itself (the
    database, the store's final sync) fails every file of it and leaves none of them."""
    files, out = batch.files, batch.out
    if batch.sealing is None:
        return [r for r in out if r is not None]
    committed: list[_Pending] = []
    try:
        with cx.act("item.ingest", eng) as a:
            a.record = False  # one event per file, below
            batch.sealing.result()
            committed = _finalise_batch(cx, a, eng, files, opts)
            a.commit()
    except VaultError as exc:  # the batch's own failure: none of its files is kept
        _drop_batch(cx, files)
        return [r if r is not None else exc for r in out]
    except BaseException:
        _drop_batch(cx, files)
        raise
    for f in files:  # records gone in the commit: their payloads now
        if f.failed is not None or f.duplicate_of is not None:
            _delete_payload(cx, f.object_key)
    return _batch_results(cx, eng, files, committed, out)


def _seal_all(cx: Context, files: list[_Pending], recipient: X25519Recipient, scanner: Any,
              opts: IngestOptions, progress: pipeline.Progress | None) -> None:
    """Seal and scan the batch's files on SEAL_THREADS threads (libmagic, hashing, the scan
    and the writes release the GIL), each thread's writes made durable together when it is
    done (:func:`storage_backends.deferred_sync`); `progress` must be thread-safe."""
    def seal(part: list[_Pending]) -> None:
        for f in part:
            _seal_small(cx, f, recipient, scanner, opts, progress)
    try:
        _on_threads(cx, files, seal)
    except OSError as exc:  # the store's final sync: none of the payloads is surely kept
        raise StorageError("could not make the stored files durable: "
                           f"{exc.strerror or exc}") from None


def _on_threads(cx: Context, files: list[_Pending],
                work: Callable[[list[_Pending]], None]) -> None:
    """`work` on SEAL_THREADS shares of `files`, each thread's writes to the store made
    durable together when its share is done (:func:`storage_backends.deferred_sync`); the
    first exception raised is raised here, once every thread is done."""
    def share(part: list[_Pending]) -> None:
        with deferred_sync(cx.store):
            work(part)

    n = max(1, min(SEAL_THREADS, len(files)))
    if n == 1:
        share(files)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="vault-seal") as pool:
        for done in [pool.submit(share, files[k::n]) for k in range(n)]:
            done.result()


SEAL_THREADS = min(2, os.cpu_count() or 1)


def _seal_small(cx: Context, f: _Pending, recipient: X25519Recipient, scanner: Any,
                opts: IngestOptions, progress: pipeline.Progress | None) -> None:
    """Seal and scan one small file of a batch; a failure is kept in `f.failed`."""
    blocks: list[bytes] = []
    feed = ScanFeed(scanner, f.name, size=f.src.size, caps=flagging.caps())
    try:
        stream = f.src.open()
        try:
            sealed = pipeline.seal(stream, cx.store, f.object_key, recipient, name=f.name,
                                   rng=cx.rng, progress=progress, tap=blocks.append,
                                   labels=[binding.label(f.item_id)])
        finally:
            if f.src.path is not None:
                stream.close()
    except VaultError as exc:
        f.failed = exc
        return
    except OSError as exc:
        f.failed = StorageError(f"could not store {f.name!r}: {exc.strerror or exc}")
        return
    outcome = feed.scan_whole(b"".join(blocks))
    outcome.drafts += [FlagDraft(x.kind, "file name", None, None, x.masked, x.confidence,
                                 x.value_hash) for x in f.in_name]
    f.kind = opts.kind or guess_kind(sealed.detected_mime, sealed.head)
    f.sealed, f.outcome = replace(sealed, head=b""), outcome  # the head is not kept


def _finalise_batch(cx: Context, a: Act, eng: Engagement, files: list[_Pending],
                    opts: IngestOptions) -> list[_Pending]:
    """The batch's one transaction (committed by the caller): the files that landed, each
    with its row made active or quarantined, its flags, requirements, members and event;
    duplicates and failed files lose their pending rows."""
    s = a.s
    for _attempt in range(3):
        ok = [f for f in files if f.failed is None]
        shas = {f.sealed.sha256 for f in ok if f.sealed is not None}
        existing = dict(s.exec(select(EvidenceItem.sha256, EvidenceItem.id).where(
            EvidenceItem.engagement_id == eng.id, col(EvidenceItem.state) != ItemState.PENDING,
            col(EvidenceItem.sha256).in_(shas))).all()) if shas else {}
        first: dict[str, str] = {}
        landing: list[_Pending] = []
        for f in ok:
            assert f.sealed is not None
            sha = f.sealed.sha256
            f.duplicate_of = existing.get(sha) or first.get(sha)
            if f.duplicate_of is None:
                first[sha] = f.item_id
                landing.append(f)
        items = {it.id: it for it in s.exec(select(EvidenceItem).where(
            col(EvidenceItem.id).in_([f.item_id for f in landing])))} if landing else {}
        flags: list[tuple[EvidenceItem, list[FlagDraft], list[str]]] = []
        for f in landing:
            item, sealed, outcome = items[f.item_id], f.sealed, f.outcome
            assert sealed is not None and outcome is not None
            item.sha256, item.size = sealed.sha256, sealed.size
            item.detected_mime, item.age_header = sealed.detected_mime, sealed.header
            item.kind = f.kind
            move(item, ItemState.QUARANTINED if quarantines(outcome.counts())
                 else ItemState.ACTIVE)
            # random ids handed out in ascending order (see flagging.add_flags)
            flags.append((item, outcome.drafts, sorted(cx.new_id() for _ in outcome.drafts)))
        gone = [f.item_id for f in files if f.failed is not None or f.duplicate_of is not None]
        try:
            s.flush()  # the unique (engagement, sha256) constraint decides races here
            if gone:
                s.execute(sa.delete(EvidenceItem).where(
                    col(EvidenceItem.id).in_(gone),
                    col(EvidenceItem.state) == ItemState.PENDING))
        except sa.exc.IntegrityError:
            s.rollback()  # a concurrent ingest of the same bytes won a race: look again
            continue
        break
    else:
        raise StorageError("could not record the batch: other ingests of the same files "
                           "kept racing it", hint="ingest them again")
    reqs = [{"item_id": f.item_id, "requirement_id": r} for f in landing
            for r in dict.fromkeys(opts.requirements)]
    if reqs:
        s.execute(sa.insert(ItemRequirement), reqs)
    refs = [{"item_id": f.item_id, "ref": r} for f in landing for r in opts.roc_refs]
    if refs:
        s.execute(sa.insert(ItemRocRef), refs)
    flagging.add_flags_many(s, flags, cx.clock())
    members = [{"item_id": f.item_id, "seq": i, "path": where[:4096], "size": size,
                "note": why[:300] if why else None}
               for f in landing if f.outcome is not None
               for i, (where, size, why) in enumerate(f.outcome.members)]
    if members:
        s.execute(sa.insert(ItemMember), members)
    for f in files:  # the events in the order the files were given
        if f.failed is not None:
            a.event("item.ingest", eng.id, {"error": type(f.failed).__name__},
                    outcome=failure_outcome(f.failed))
        elif f.duplicate_of is None:
            a.event("item.ingest", f.item_id,
                    _ingest_detail(items[f.item_id], f.outcome, opts))
    return landing


def _ingest_detail(item: EvidenceItem, outcome: ScanOutcome | None,
                   opts: IngestOptions) -> dict[str, Any]:
    """What an item's ingest event records, alone or in a batch."""
    assert outcome is not None
    detail: dict[str, Any] = {"sha256": item.sha256, "size": item.size}
    if outcome.drafts:
        detail["flags"] = outcome.counts()
        detail["state"] = item.state
    if outcome.dropped:
        detail["flags_not_kept"] = outcome.dropped
    if outcome.members:
        detail["members"] = len(outcome.members) + outcome.members_not_kept
    if item.supersedes_id:
        detail["supersedes"] = item.supersedes_id
    if opts.roc_refs:
        detail["roc_refs"] = list(opts.roc_refs)
    return detail


def _batch_results(cx: Context, eng: Engagement, files: list[_Pending],
                   landed: list[_Pending], out: list[IngestResult | VaultError | None]
                   ) -> list[IngestResult | VaultError]:
    """Each file's result, in order; the landed ones' payloads held until their destruction
    date (now that their records are committed, as :func:`ingest_one` does)."""
    problems: dict[str, StorageError] = {}
    with cx.session() as s:
        ids = [f.item_id for f in landed] + [f.duplicate_of for f in files
                                             if f.duplicate_of is not None]
        rows = {it.id: it for it in s.exec(select(EvidenceItem).where(
            col(EvidenceItem.id).in_(ids)))} if ids else {}
        views = {v.item.id: v for v in item_views(s, list(rows.values()), eng)}
        held = held_item_ids(s, eng.id) if landed else set()

    def hold(part: list[_Pending]) -> None:
        for f in part:
            try:
                _hold_payload(cx, rows[f.item_id], eng, f.item_id in held)
            except StorageError as exc:
                problems[f.item_id] = exc
    try:
        _on_threads(cx, landed, hold)
    except OSError as exc:  # the store's final sync: none of the batch is surely held
        for f in landed:
            problems.setdefault(f.item_id, StorageError(f"could not protect item "
                                                        f"{f.item_id[:12]} with retention: "
                                                        f"{exc.strerror or exc}"))
    it = iter(files)
    results: list[IngestResult | VaultError] = []
    for r in out:
        if r is not None:
            results.append(r)
            continue
        f = next(it)
        if f.failed is not None:
            results.append(f.failed)
        elif f.duplicate_of is not None:
            results.append(IngestResult(views[f.duplicate_of], duplicate=True))
        elif f.item_id in problems:
            view = views[f.item_id]
            results.append(StorageError(
                f"{view.item.original_name!r} is stored as item {view.item.id[:12]}, but "
                f"{problems[f.item_id].message}",
                hint="`vault doctor --repair` sets it once the store answers"))
        else:
            assert f.outcome is not None
            results.append(IngestResult(views[f.item_id], duplicate=False,
                                        flags=f.outcome.counts()))
    return results


def _delete_payload(cx: Context, object_key: str) -> None:
    try:
        cx.store.delete(object_key)
    except OSError:
        pass  # locked or unreachable: an orphan payload (no record) that `vault doctor` finds


def _drop_batch(cx: Context, files: list[_Pending]) -> None:
    """Undo a batch that did not commit: its payloads, then its pending rows. A file whose
    record did land keeps its payload: an interrupt can come just after the commit."""
    if not files:
        return
    landed = _landed(cx, [f.item_id for f in files])
    if landed is None:
        return  # the database cannot be read: `vault doctor` finds rows and payloads
    for f in files:
        if f.item_id not in landed:
            _delete_payload(cx, f.object_key)
    try:
        with cx.session() as s:
            s.execute(sa.delete(EvidenceItem).where(
                col(EvidenceItem.id).in_([f.item_id for f in files]),
                col(EvidenceItem.state) == ItemState.PENDING))
            s.commit()
    except sa.exc.OperationalError:
        pass  # the database cannot be written: `vault doctor` finds the pending rows


def _landed(cx: Context, ids: list[str]) -> set[str] | None:
    """Which of these items have a committed record that is no longer pending (their payloads
    must stay); None when the database cannot be read."""
    try:
        with cx.session() as s:
            return set(s.exec(select(EvidenceItem.id).where(
                col(EvidenceItem.id).in_(ids),
                col(EvidenceItem.state) != ItemState.PENDING)).all())
    except sa.exc.OperationalError:
        return None


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
        with cx.session() as s:
            held = is_held(s, result.view.item)
        _hold_payload(cx, result.view.item, eng, held)
    except StorageError as exc:
        raise StorageError(f"{result.view.item.original_name!r} is stored as item "
                           f"{result.view.item.id[:12]}, but {exc.message}",
                           hint="`vault doctor --repair` sets it once the store answers"
                           ) from None
    return result


def _hold_payload(cx: Context, item: EvidenceItem, eng: Engagement, held: bool) -> None:
    """Hold a committed item's payload in the store until its destruction date and, when a
    vault hold covers it (a hold on the whole engagement holds new evidence too), set the
    store's legal-hold flag. StorageError when the store refuses either."""
    protect(cx.store, item, eng.completed_on, eng.retention_years)
    failed = mirror(cx.store, [item.object_key], True) if held else []
    if failed:
        raise StorageError(f"could not set the legal hold on its payload: {failed[0]}")


def _drop_pending(cx: Context, pending: tuple[str, str]) -> None:
    """Delete a pending item's payload, then its row (`pending`: its id and object key);
    nothing when its record is no longer pending."""
    item_id, object_key = pending
    if _landed(cx, [item_id]) != set():
        return  # its record landed (an interrupt just after the commit), or cannot be read
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
            a.obj, a.detail = item.id, _ingest_detail(item, outcome, opts)
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
