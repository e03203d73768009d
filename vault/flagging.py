"""Scanning at ingest, flags, quarantine and the reviewer's decisions (service mixin).

Every item is scanned while the ingest pipeline reads it: the pipeline hands each plaintext
block to a :class:`ScanFeed`, which scans on a thread of its own, so the scanner sees exactly the
bytes that were encrypted (no second read, no window for the file to change in between).

Flags keep the kind, where a value was first seen, how often, the masked value and a keyed hash
(HMAC-SHA256 with a per-engagement key derived from the engagement's first age identity, so only
members can test a guess) - never the value itself. An item with card data (``pan``,
``track_data``, ``cvv``, ``pin_block``), or one whose content could not be read for scanning, is
quarantined until every such flag is resolved: false positive, retained with a reason, or
redacted (a new version with the values masked; the original's age header - its only copy of the
file key - is erased, which makes the stored payload unreadable: crypto-shredding).
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import Session, col, func, select

from vault import retrieve
from vault.age import X25519Identity
from vault.db import driver_value
from vault.errors import IntegrityError, InvalidInput, NotFound, VaultError
from vault.facade import Facade
from vault.lookup import by_id_prefix
from vault.models import EngagementKey, EvidenceItem, Flag, ItemRequirement, Member, User
from vault.pii import CARD_KINDS, KINDS, Scanner
from vault.pii.distinct import Distinct, Kept
from vault.sources import Source

if TYPE_CHECKING:
    from vault.service import IngestResult

UNSCANNABLE = "unscannable"
"""Flag kind of an item whose content could not be read for scanning (fail closed)."""
QUARANTINE_KINDS = frozenset(CARD_KINDS) | {UNSCANNABLE}
DECISIONS = ("false_positive", "redact", "retain")
FLAG_STATES = ("open", "false_positive", "redacted", "retained")
MAX_FLAGS_PER_KIND = 10_000
"""Distinct values of a card-data kind kept per item; more are counted in the ingest's audit
event only."""
MAX_OTHER_FLAGS_PER_KIND = 1_000
"""Distinct values kept per item of each other kind (IP addresses, phone numbers, IBANs...:
flagged for review, never quarantined), so a log full of them neither crowds out its card
numbers nor fills the database with rows no reviewer reads; more are counted in the audit
event."""
MAX_REDACT_BYTES = 256 << 20
"""Redaction works in memory; larger items must be redacted outside and ingested again."""
_HASH_INFO = b"evidence-vault flag value hash v1 "
_FLAG_COLUMNS = ("id", "item_id", "engagement_id", "kind", "detector", "line", "page",
                 "occurrences", "masked", "confidence", "value_hash", "state", "created_at")
_SQLITE_BULK_CACHE_KIB = 65536
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # SQLite, PostgreSQL


# -- scanning during ingest --------------------------------------------------------------------


class _BlockStream(io.RawIOBase):
    """A readable stream over blocks handed over through a queue by another thread.

    It may be rewound to the start while the first block has not been read past (the scanner
    reads a file's head to detect its type, then starts again)."""

    def __init__(self, q: queue.Queue[bytes | None]) -> None:
        self._q = q
        self._first: bytes | None = None
        self._buf = memoryview(b"")
        self._pos = 0
        self._past_first = False
        self._eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return not self._past_first

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET and not self._past_first and self._first is not None \
                and 0 <= pos <= len(self._first):
            self._buf = memoryview(self._first)[pos:]
            self._pos = pos
            return pos
        if whence == io.SEEK_CUR and pos == 0:
            return self._pos
        raise io.UnsupportedOperation("the ingest stream can only be rewound within its head")

    def _fill(self) -> bool:
        """Make ``_buf`` non-empty (the next block); False at the end of the stream."""
        while not self._buf:
            if self._eof:
                return False
            block = self._q.get()
            if block is None:
                self._eof = True
                return False
            if self._first is None:
                self._first = block
            else:
                self._past_first = True
            self._buf = memoryview(block)
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes from the current block; a whole block not yet read from is
        handed over as it is (no copy: the scanner reads in chunks of at least a block)."""
        if size is None or size < 0:
            return self.readall()
        if not size or not self._fill():
            return b""
        buf = self._buf
        n = min(size, len(buf))
        block = buf.obj
        if isinstance(block, bytes) and n == len(block):  # a block not yet read from
            data = block
        else:
            data = bytes(buf[:n])
        self._buf = buf[n:]
        self._pos += n
        return data

    def readinto(self, b: Any) -> int:
        if not self._fill():
            return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self._pos += n
        return n


@dataclass
class FlagDraft:
    """A distinct value found in one item, before it becomes a :class:`Flag` row."""

    kind: str
    detector: str
    line: int | None
    page: int | None
    masked: str
    confidence: float
    value_hash: str
    occurrences: int = 1


@dataclass
class ScanOutcome:
    drafts: list[FlagDraft] = field(default_factory=list)
    dropped: int = 0  # occurrences of values beyond the kinds' caps
    error: str | None = None

    @property
    def quarantine(self) -> bool:
        return any(d.kind in QUARANTINE_KINDS for d in self.drafts)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.drafts:
            out[d.kind] = out.get(d.kind, 0) + 1
        return out


def _error_text(exc: BaseException) -> str:
    """A message that cannot carry content: our own errors' text, else the exception type."""
    if isinstance(exc, VaultError):
        return exc.message[:200]
    return f"{type(exc).__name__} while extracting text"


class ScanFeed:
    """The ingest pipeline's tap: ``feed(block)`` for each plaintext block, ``finish()`` at the
    end. Scans on its own thread with a bounded queue (the pipeline waits for a slow scan
    rather than buffering the file)."""

    def __init__(self, scanner: Scanner, name: str, *, depth: int = 4, size: int | None = None,
                 scan: Callable[[Source, Scanner], Any] | None = None) -> None:
        """`size`: the file's, when known (a big file is scanned in the worker processes from
        its first block); `scan` (tests) replaces :func:`vault.scan.scan_batches`."""
        self._scanner = scanner
        self._name = name
        self._size = size
        self._q: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._outcome = ScanOutcome()
        self._scan = scan

    def feed(self, block: bytes) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vault-scan", daemon=True)
            self._thread.start()
        while not self._stopped.is_set():
            try:
                self._q.put(block, timeout=0.1)
                return
            except queue.Full:
                continue

    def finish(self) -> ScanOutcome:
        """Wait for the scan of everything fed so far (nothing fed: an empty file)."""
        if self._thread is not None:
            self._end()
            self._thread.join()
        return self._outcome

    def abort(self) -> None:
        """Stop scanning (the ingest failed); never blocks on a full queue."""
        self._stopped.set()
        if self._thread is not None:
            self._end()
            self._thread.join()

    def _end(self) -> None:
        while self._thread is not None and self._thread.is_alive():
            try:
                self._q.put(None, timeout=0.1)
                return
            except queue.Full:
                if self._stopped.is_set():  # the scanner stopped reading: drop what's queued
                    try:
                        while True:
                            self._q.get_nowait()
                    except queue.Empty:
                        pass

    def _run(self) -> None:
        stream = _BlockStream(self._q)
        src = Source(name=self._name, size=self._size, open=lambda: cast(BinaryIO, stream))
        cap = max(MAX_FLAGS_PER_KIND, MAX_OTHER_FLAGS_PER_KIND)
        render = Distinct(cap)
        kept = Kept(cap, {kind: MAX_FLAGS_PER_KIND if kind in CARD_KINDS
                          else MAX_OTHER_FLAGS_PER_KIND for kind in KINDS})
        clear = False  # whether kept's keys are the values themselves (else their hashes)
        out = self._outcome
        try:
            if self._scan is None:
                from vault.scan import scan_batches
                # the scanner's worker processes reduce their rows to distinct values, keyed
                # by the clear value: only the values kept are hashed, below
                batches = scan_batches(src, self._scanner, render=render, values="clear")
            else:
                batches = self._scan(src, self._scanner)
            for batch in batches:
                if self._stopped.is_set():
                    return
                rendered = getattr(batch, "rendered", None)
                if rendered is not None:  # a text file's chunk (and every chunk is one)
                    clear = True
                    kept.merge(rendered)
                    render.update(kept)  # the chunks sent from now on carry the full kinds
                else:  # PDF pages, images, binary strings: rows carry the value hash
                    kept.merge(render(batch.path, batch.page, batch.rows))
        except Exception as exc:  # noqa: BLE001 - any extraction failure becomes a flag
            out.error = _error_text(exc)
        finally:
            self._stopped.set()
            try:  # let a producer blocked on a full queue go on
                while True:
                    self._q.get_nowait()
            except queue.Empty:
                pass
        out.dropped = kept.dropped
        value_hash = self._scanner.value_hash if clear else str
        out.drafts = [FlagDraft(kind, e[0], e[1], e[2], e[3], e[4], value_hash(key), e[5])
                      for kind, values in kept.values.items()
                      for key, e in values.items()]  # fmt: skip
        if out.error is not None:
            out.drafts.append(FlagDraft(UNSCANNABLE, "extract", None, None, out.error[:200],
                                        1.0, ""))


def flag_hash_key(first_key: X25519Identity, engagement_id: str) -> bytes:
    """The engagement's key for flag value hashes (HKDF of its first identity's secret)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_HASH_INFO + engagement_id.encode()).derive(first_key.secret)


# -- views --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagView:
    flag: Flag
    item_name: str
    item_state: str
    resolved_by: str | None

    def as_dict(self) -> dict[str, Any]:
        f = self.flag
        return {"id": f.id, "item": f.item_id, "item_name": self.item_name,
                "item_state": self.item_state, "kind": f.kind, "detector": f.detector,
                "line": f.line, "page": f.page, "occurrences": f.occurrences,
                "masked": f.masked, "confidence": round(f.confidence, 2), "state": f.state,
                "reason": f.reason, "resolved_by": self.resolved_by,
                "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
                "created_at": f.created_at.isoformat()}


@dataclass(frozen=True)
class Resolution:
    flags: tuple[FlagView, ...]
    item_state: str
    redacted_version: str | None = None


def _check_reason(reason: str, scanner: Scanner) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("a decision needs a reason (--reason TEXT)")
    if len(reason) > 2000:
        raise InvalidInput("the reason is too long (at most 2000 characters)")
    if any(f.kind in CARD_KINDS or f.kind == "secret" for f in scanner.scan_text(reason)):
        raise InvalidInput("the reason contains card data or a secret: describe it instead")
    return reason


class FlagMixin:
    """Scanning at ingest, ``flags`` and ``resolve_flag``."""

    _scanners: dict[str, Scanner]

    def _scanner_for(self: Facade, s: Session, engagement_id: str) -> Scanner:
        cache: dict[str, Scanner] = self.__dict__.setdefault("_scanners", {})
        sc = cache.get(engagement_id)
        if sc is None:
            first = s.exec(select(EngagementKey).where(
                EngagementKey.engagement_id == engagement_id)
                .order_by(col(EngagementKey.created_at), col(EngagementKey.id))).first()
            if first is None:
                raise IntegrityError(f"engagement {engagement_id} has no key")
            ident = self._engagement_identity(s, first.id)
            sc = cache[engagement_id] = Scanner(hash_key=flag_hash_key(ident, engagement_id))
        return sc

    def _add_flags(self: Facade, s: Session, item: EvidenceItem, outcome: ScanOutcome) -> None:
        """One row per draft, by the driver's executemany: an item can bring tens of thousands
        (SQLAlchemy's per-row parameter processing would double the time)."""
        if not outcome.drafts:
            return
        conn = s.connection()
        table = Flag.__table__  # type: ignore[attr-defined]
        now = driver_value(table.c.created_at, self.clock(), conn.dialect)
        mark = _PLACEHOLDERS[conn.dialect.paramstyle]
        sql = (f"INSERT INTO {table.name} ({', '.join(_FLAG_COLUMNS)}) "
               f"VALUES ({', '.join([mark] * len(_FLAG_COLUMNS))})")
        item_id, eng_id, new_id = item.id, item.engagement_id, self._new_id
        # random ids handed out in ascending order: the primary-key index takes them in key
        # order, page after page, not in random order (rows stay in the drafts' order)
        ids = sorted(new_id() for _ in outcome.drafts)
        rows = [(fid, item_id, eng_id, d.kind, d.detector, d.line, d.page, d.occurrences,
                 d.masked, d.confidence, d.value_hash, "open", now)
                for fid, d in zip(ids, outcome.drafts, strict=True)]
        before = None
        if conn.dialect.name == "sqlite" and len(rows) > 1000:
            # the five indexes take random keys: a page cache that holds them (~1/3 faster)
            before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
            conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_BULK_CACHE_KIB}")
        try:
            conn.exec_driver_sql(sql, rows)
        finally:
            if before is not None:  # as it was, for this pooled connection
                conn.exec_driver_sql(f"PRAGMA cache_size={before}")

    def _flag(self: Facade, s: Session, ref: str) -> Flag:
        return by_id_prefix(s, Flag, ref, "flag", hint="`vault flags ENGAGEMENT` lists them")

    def _flag_views(self: Facade, s: Session, flags: list[Flag]) -> list[FlagView]:
        items: dict[str, EvidenceItem] = {}
        users: dict[str, str] = {}
        out = []
        for f in flags:
            if f.item_id not in items:
                it = s.get(EvidenceItem, f.item_id)
                assert it is not None
                items[f.item_id] = it
            by = None
            if f.resolved_by:
                if f.resolved_by not in users:
                    u = s.get(User, f.resolved_by)
                    users[f.resolved_by] = u.name if u else f.resolved_by
                by = users[f.resolved_by]
            it = items[f.item_id]
            out.append(FlagView(f, it.original_name, it.state, by))
        return out

    def flags(self: Facade, ref: str, *, open_only: bool = False, item: str | None = None,
              kind: str | None = None) -> list[FlagView]:
        """An engagement's flags (or one item's), card data first, then by item and place."""
        with self._session() as s:
            eng = self._engagement(s, ref)
            self._require(s, "flag.list", eng.id, eng.id)
            q = select(Flag).where(Flag.engagement_id == eng.id)
            if open_only:
                q = q.where(Flag.state == "open")
            if kind is not None:
                q = q.where(Flag.kind == kind)
            if item is not None:
                it = self._item(s, item)
                if it.engagement_id != eng.id:
                    raise NotFound(f"no item {item} in engagement {eng.name}")
                q = q.where(Flag.item_id == it.id)
            rows = list(s.exec(q).all())
            rows.sort(key=lambda f: (f.kind not in QUARANTINE_KINDS, f.created_at, f.item_id,
                                     f.page or 0, f.line or 0, f.id))
            return FlagMixin._flag_views(self, s, rows)

    def open_flag_counts(self: Facade) -> dict[str, int]:
        """Open flags per engagement id, over the engagements the actor sees (all of them for
        an administrator, as `list_engagements`)."""
        with self._session() as s:
            q = select(Flag.engagement_id, func.count()).where(Flag.state == "open")
            if self.user.firm_role != "admin":
                q = q.join(Member, col(Member.engagement_id) == col(Flag.engagement_id)).where(
                    Member.user_id == self.user.id)
            return dict(s.exec(q.group_by(Flag.engagement_id)).all())

    def resolve_flag(self: Facade, ref: str, decision: str, reason: str) -> Resolution:
        """Decide one flag. ``redact`` masks every card-data value (and the flag's own kind)
        in a new version, erases the original's header and resolves all the original's open
        flags; ``false_positive`` and ``retain`` resolve this flag only. The quarantine lifts
        when no card-data flag of the item stays open."""
        if decision not in DECISIONS:
            raise InvalidInput(f"unknown decision {decision!r}",
                               hint="one of: " + ", ".join(DECISIONS))
        with self._session() as s:
            flag = FlagMixin._flag(self, s, ref)
            self._require(s, "flag.resolve", flag.id, flag.engagement_id)
            scanner = FlagMixin._scanner_for(self, s, flag.engagement_id)
        reason = _check_reason(reason, scanner)
        if flag.state != "open":
            raise InvalidInput(f"flag {flag.id[:12]} is already resolved ({flag.state})")
        if decision == "redact":
            return FlagMixin._redact(self, flag, reason)
        state = "false_positive" if decision == "false_positive" else "retained"
        with self._session() as s:
            row = s.get(Flag, flag.id)
            assert row is not None
            if row.state != "open":
                raise InvalidInput(f"flag {flag.id[:12]} is already resolved ({row.state})")
            row.state, row.reason = state, reason
            row.resolved_by, row.resolved_at = self.user.id, self.clock()
            s.add(row)
            item = s.get(EvidenceItem, row.item_id)
            assert item is not None
            FlagMixin._lift_quarantine(self, s, item)
            self._audit(s, "flag.resolve", row.id, engagement_id=row.engagement_id,
                        detail={"item": item.id, "kind": row.kind, "decision": state,
                                "reason": reason, "item_state": item.state})
            s.commit()
            return Resolution(tuple(FlagMixin._flag_views(self, s, [row])), item.state)

    def _lift_quarantine(self: Facade, s: Session, item: EvidenceItem) -> None:
        s.flush()
        still = s.exec(select(Flag.id).where(Flag.item_id == item.id, Flag.state == "open",
                                             col(Flag.kind).in_(QUARANTINE_KINDS))).first()
        if item.state == "quarantined" and still is None:
            item.state = "active"
            s.add(item)

    def _redact(self: Facade, flag: Flag, reason: str) -> Resolution:
        from vault.pii import redact as redaction
        from vault.service import IngestOptions
        with self._session() as s:
            item = s.get(EvidenceItem, flag.item_id)
            assert item is not None
            if item.age_header is None or item.state == "shredded":
                raise InvalidInput(f"item {item.id[:12]} was redacted already")
            if item.size > MAX_REDACT_BYTES:
                raise InvalidInput(
                    f"item {item.id[:12]} is too large to redact in the vault "
                    f"({item.size} bytes; at most {MAX_REDACT_BYTES})",
                    hint="redact a copy outside the vault, ingest it, and retain or resolve "
                         "this flag with a reason")
            key = self._engagement_identity(s, item.key_id)
            reqs = tuple(s.exec(select(ItemRequirement.requirement_id)
                                .where(ItemRequirement.item_id == item.id)).all())
            scanner = FlagMixin._scanner_for(self, s, item.engagement_id)
        buf = io.BytesIO()
        retrieve.decrypt_to(item, self.store, key, buf)  # type: ignore[attr-defined]
        kinds = frozenset(CARD_KINDS) | {flag.kind}
        try:
            original = buf.getvalue()
            redacted = redaction.redact_bytes(original, item.detected_mime or "", scanner, kinds)
            unchanged = redacted == original
        finally:
            original = b""
            buf.seek(0)
            buf.truncate()
        if unchanged:
            raise InvalidInput(f"nothing to redact: no {flag.kind} or card data is found in "
                               f"item {item.id[:12]} now",
                               hint="resolve the flag as a false positive or retain it")
        result: IngestResult = self._ingest_version(  # type: ignore[attr-defined]
            item, Source(name=item.original_name, size=len(redacted),
                         open=lambda: io.BytesIO(redacted)),
            IngestOptions(kind=item.kind, requirements=reqs, disclosure=item.disclosure,
                          system=item.system, description=item.description))
        new = result.view.item
        if result.duplicate:
            raise InvalidInput(f"the redacted content is already item {new.id[:12]}; "
                               "the original is unchanged",
                               hint="resolve this flag as retained or redact outside the vault")
        with self._session() as s:
            left = s.exec(select(Flag).where(Flag.item_id == new.id, Flag.state == "open",
                                             col(Flag.kind).in_(kinds))).all()
            if left:
                raise IntegrityError(
                    f"redaction of item {item.id[:12]} left {len(left)} value(s) of the "
                    f"redacted kinds in version {new.id[:12]}; the original is unchanged",
                    hint="redact a copy outside the vault and ingest it")
            orig = s.get(EvidenceItem, item.id)
            assert orig is not None
            now = self.clock()
            resolved = list(s.exec(select(Flag).where(Flag.item_id == orig.id,
                                                      Flag.state == "open")).all())
            for f in resolved:
                f.state, f.reason, f.resolved_by, f.resolved_at = (
                    "redacted", reason, self.user.id, now)
                s.add(f)
            orig.age_header = None  # crypto-shredding: the only copy of the file key
            orig.state = "shredded"
            s.add(orig)
            self._audit(s, "flag.resolve", flag.id, engagement_id=orig.engagement_id,
                        detail={"item": orig.id, "kind": flag.kind, "decision": "redacted",
                                "reason": reason, "resolved": len(resolved),
                                "redacted_version": new.id, "item_state": "shredded"})
            self._audit(s, "item.shred", orig.id, engagement_id=orig.engagement_id,
                        detail={"superseded_by": new.id})
            s.commit()
            return Resolution(tuple(FlagMixin._flag_views(self, s, resolved)), "shredded",
                              redacted_version=new.id)
