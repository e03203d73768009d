"""Scanning a stream while something else reads it: the ingest pipeline hands each plaintext
block to a :class:`ScanFeed`, which scans on a thread of its own, so the scanner sees exactly
the bytes that were encrypted (no second read, no window for the file to change in between).

The outcome is each distinct value found (kind, where first seen, how often, masked, keyed
hash), capped per kind, never the value itself; what could not be read becomes one
``unscannable`` finding (fail closed).
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, cast

from vault.errors import VaultError
from vault.pii.distinct import Distinct, Kept
from vault.pii.model import KINDS

if TYPE_CHECKING:  # the caller brings its scanner: the scanner module loads with it
    from vault.pii.scanner import Scanner

MAX_MEMBERS_KEPT = 10_000
"""A container's table of contents is kept up to this many members (the rest counted)."""

UNSCANNABLE = "unscannable"
"""Kind of the finding made when content could not be read for scanning (fail closed)."""


class _Stream(NamedTuple):
    name: str
    size: int | None
    open: Callable[[], BinaryIO]
    path: None = None


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


BlockStream = _BlockStream
"""The stream the scan of an ingest reads (also the one a member's preview reads, so that it
meets a container exactly as the ingest did)."""


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
    member: str | None = None
    """Where in a container it was first seen (an archive's member, a document's part: see
    :mod:`vault.pii.scan`), None for a plain file."""


@dataclass
class ScanOutcome:
    drafts: list[FlagDraft] = field(default_factory=list)
    dropped: int = 0  # occurrences of values beyond the kinds' caps
    error: str | None = None
    members: list[tuple[str, int | None, str | None]] = field(default_factory=list)
    """A container's members as met: (where, size, why not read), at most MAX_MEMBERS_KEPT."""
    members_not_kept: int = 0

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
                 caps: Mapping[str, int] | None = None,
                 scan: Callable[[Any, Scanner], Any] | None = None) -> None:
        """`size`: the file's, when known (a big file is scanned in the worker processes from
        its first block); `caps`: distinct values kept per kind (more are only counted, in
        ``ScanOutcome.dropped``; default 10,000 of each); `scan` (tests) replaces
        :func:`vault.pii.scan.scan_batches`."""
        self._scanner = scanner
        self._name = name
        self._size = size
        self._q: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._outcome = ScanOutcome()
        self._caps = dict(caps) if caps is not None else {k: 10_000 for k in KINDS}
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

    def scan_whole(self, data: bytes) -> ScanOutcome:
        """Scan a whole (small) file, given as one block, in this thread: what feeding it as
        one block and finishing gives, without a thread (a batch of small files)."""
        if self._thread is not None:
            raise RuntimeError("this feed was fed already")
        if data:  # nothing fed is an empty file: no scan, as finish() does
            self._q.put_nowait(data)
            self._q.put_nowait(None)
            self._run()
        return self._outcome

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

    def _member(self, where: str, size: int | None, problem: str | None) -> None:
        out = self._outcome
        if len(out.members) < MAX_MEMBERS_KEPT:
            out.members.append((where, size, problem))
        else:
            out.members_not_kept += 1

    def _run(self) -> None:
        stream = _BlockStream(self._q)
        src = _Stream(self._name, self._size, lambda: cast(BinaryIO, stream))
        cap = max(self._caps.values())
        render = Distinct(cap)
        kept = Kept(cap, self._caps)
        # whether kept's keys are the values themselves (else their hashes): scan_batches'
        # rows all carry the clear values (values="clear"); a test's scan, only its chunks
        clear = self._scan is None
        members: dict[tuple[str, str], str] = {}  # (kind, key) -> member, where not None
        out = self._outcome
        try:
            if self._scan is None:
                from vault.pii.scan import scan_batches
                # the scanner's worker processes reduce their rows to distinct values, keyed
                # by the clear value: only the values kept are hashed, below
                batches = scan_batches(src, self._scanner, render=render, values="clear",
                                       on_member=self._member)
            else:
                batches = self._scan(src, self._scanner)
            for batch in batches:
                if self._stopped.is_set():
                    return
                rendered = getattr(batch, "rendered", None)
                member = getattr(batch, "member", None)
                before = ({kind: len(v) for kind, v in kept.values.items()}
                          if member is not None else None)  # fmt: skip
                if rendered is not None:  # a text file's chunk (and every chunk is one)
                    clear = True
                    kept.merge(rendered)
                    render.update(kept)  # the chunks sent from now on carry the full kinds
                else:  # PDF pages, images, binary strings, names
                    kept.merge(render(batch.path, batch.page, batch.rows))
                if before is not None:  # the values first kept from this member
                    for kind, values in kept.values.items():
                        for key in islice(values, before.get(kind, 0), None):
                            members[(kind, key)] = cast(str, member)
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
        out.drafts = [FlagDraft(kind, e[0], e[1], e[2], e[3], e[4], value_hash(key), e[5],
                                members.get((kind, key)))
                      for kind, values in kept.values.items()
                      for key, e in values.items()]  # fmt: skip
        if out.error is not None:
            out.drafts.append(FlagDraft(UNSCANNABLE, "extract", None, None, out.error[:200],
                                        1.0, ""))
