"""The scanner: Hyperscan (or plain ``re``) prefilter, Python validation, chunked streaming.

PAN candidates come from the native core (``_fastscan``, C, GIL released) when it is built,
else from the rule's regex/Hyperscan prefilter; both give the same findings."""

from __future__ import annotations

import bisect
import codecs
import dataclasses
import hashlib
import hmac
import io
import multiprocessing as mp
import operator
import os
import stat
import threading
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, BinaryIO, Literal, TextIO

from .cards import (
    DOTTED_LAYOUTS,
    FREE_FIRST,
    FREE_GROUPS,
    FREE_REST,
    LAYOUTS,
    MAX_GROUP,
    iin_length_table,
)
from .encoding import byte_view, detect_encoding, read_full
from .model import KINDS, Finding
from .rules import (
    _MAX_GROUPS,
    _NEG_SUFFIXES,
    _NEG_WORDS,
    MAX_CHAIN,
    PAN_DIRECT_HS,
    RULES,
    SUPPRESS,
    Ctx,
    Hit,
    Rule,
    pan_direct,
    str_pass,
)

_hs: Any
try:  # optional accelerator
    import hyperscan as _hs
except ImportError:  # pragma: no cover - depends on the environment
    _hs = None

HAVE_HYPERSCAN = _hs is not None

try:  # optional accelerator, built from _fastscan.c by setup.py
    from . import _fastscan as _native
except ImportError:  # pragma: no cover - depends on the build
    _native = None  # type: ignore[assignment]
# The regex's bounds are compiled into the core: one built from another rules.py is not used.
if _native is not None and (
    getattr(_native, "MAX_GROUP", None), getattr(_native, "MAX_CHAIN", None),
    getattr(_native, "MAX_LAYOUT_GROUPS", None),
) != (MAX_GROUP, MAX_CHAIN, _MAX_GROUPS):  # pragma: no cover - a stale build
    warnings.warn("vault.pii._fastscan is stale (rebuild it: setup.py build_ext); not used",
                  RuntimeWarning, stacklevel=1)  # fmt: skip
    _native = None  # type: ignore[assignment]
if _native is not None:
    _native.configure(iin_length_table(), sorted(LAYOUTS), sorted(DOTTED_LAYOUTS),
                      (*FREE_GROUPS, *FREE_FIRST, *FREE_REST))  # fmt: skip
    _native.configure_labels(_NEG_WORDS, _NEG_SUFFIXES)

HAVE_NATIVE = _native is not None
_CPUS = min(2, os.cpu_count() or 1)
"""Scanner threads for a stream of several chunks (glibc reads /sys for the count: once)."""
DEFAULT_OVERLAP = 16384  # must be > 2 x the longest finding (PEM block <= ~7.1k chars)
_INF = 1 << 62
_HASH_CACHE_SIZE = 1 << 16  # value -> keyed hash, per scanner
THREAD_CHUNK = 1 << 20
PROCESS_CHUNK = 8 << 20
PROCESS_MIN_BYTES = 16 << 20  # a stream is scanned in processes once it is this large

Row = tuple[str, str, int, int, int | None, str, float, str]
"""A finding as a plain tuple, fields in :class:`Finding` order (cheap to build and pickle);
the last field as :data:`Values` says."""

Values = Literal["hash", "clear", "none"]
"""What a :data:`Row`'s last field holds: the value's keyed hash ("hash", as in a
:class:`Finding`), the normalised value itself ("clear": only for the ingesting process, which
hashes just the distinct values it keeps, and never stores or prints it), or "" ("none": for a
stand-alone scan, which neither stores nor compares values)."""

_FINDING_FIELDS = tuple(f.name for f in dataclasses.fields(Finding))
assert _FINDING_FIELDS == ("kind", "detector", "start", "end", "line", "masked", "confidence",
                           "value_hash")  # fmt: skip
_new = object.__new__


def finding_from_row(row: Row) -> Finding:
    """``Finding(*row)`` without the frozen dataclass's per-field ``object.__setattr__``
    (a third of the cost); Finding has no ``__post_init__`` and no slots."""
    f = _new(Finding)
    d = f.__dict__
    (d["kind"], d["detector"], d["start"], d["end"], d["line"], d["masked"], d["confidence"],
     d["value_hash"]) = row  # fmt: skip
    return f


# Prefilter patterns whose match ends the native core reports (_fastscan.digit_prefilter,
# in this order) instead of Hyperscan, which is slow on digit-dense text for exactly these.
NATIVE_PREFILTERS = (
    rb"[0-9]{12,19}=[0-9=]{2}",
    rb"[A-Z]{2}[0-9]{2} ?[0-9A-Z]{4} ?[0-9A-Z]{4}",
    rb"[0-9]{3}[-.][0-9]{4}",
    rb"0[1-9][0-9]{0,3}[- ][0-9]{2,4}[- ][0-9]{3}",
    rb"[0-9]{3}-[0-9]{2}-[0-9]{4}",
    rb"[0-9]{6}[-+A-FU-Y][0-9]{3}",
)


class _HSEngine:
    """One Hyperscan block-mode database for all prefilter patterns of the selected rules.

    Window patterns report end offsets, which become windows for the rule's precise regex;
    the contiguous-PAN pattern is compiled with start-of-match and handled directly. With
    ``native``, the patterns of :data:`NATIVE_PREFILTERS` (case-sensitive ones only) come
    from the native core's digit prefilter instead (the same end offsets)."""

    def __init__(self, rules: list[Rule], *, direct_pan: bool, skip: set[str],
                 native: bool = False) -> None:  # fmt: skip
        assert _hs is not None
        exprs: list[bytes] = []
        flags: list[int] = []
        self.rule_of: list[int] = []
        self.native_of: list[tuple[int, int]] = []  # (digit_prefilter slot, rule index)
        for ri, rule in enumerate(rules):
            if rule.name in skip:
                continue
            for pat, f in rule.hs:
                if native and not f & 1 and pat in NATIVE_PREFILTERS:
                    self.native_of.append((NATIVE_PREFILTERS.index(pat), ri))
                    continue
                exprs.append(pat)
                flags.append(_hs.HS_FLAG_CASELESS if f & 1 else 0)
                self.rule_of.append(ri)
        self.direct_id = -1
        if direct_pan:
            self.direct_id = len(exprs)
            exprs.append(PAN_DIRECT_HS)
            flags.append(_hs.HS_FLAG_SOM_LEFTMOST)
        self.db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        self.db.compile(expressions=exprs, ids=list(range(len(exprs))), flags=flags)
        self._local = threading.local()

    def hits(self, b: bytes, nrules: int) -> tuple[list[list[int]], list[tuple[int, int]]]:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            assert _hs is not None
            scratch = self._local.scratch = _hs.Scratch(self.db)
        found: list[tuple[int, int]] = []
        direct: list[tuple[int, int]] = []
        append = found.append
        dappend = direct.append
        direct_id = self.direct_id

        def on_match(pid: int, start: int, end: int, flags: int, context: Any) -> None:
            if pid == direct_id:
                dappend((start, end))
            else:
                append((pid, end))

        self.db.scan(b, match_event_handler=on_match, scratch=scratch)
        per_rule: list[list[int]] = [[] for _ in range(nrules)]
        rule_of = self.rule_of
        for pid, end in found:
            per_rule[rule_of[pid]].append(end)
        if self.native_of:
            ends = _native.digit_prefilter(b)
            for slot, ri in self.native_of:
                per_rule[ri].extend(ends[slot])
        return per_rule, direct


_PRIORITY = {k: i for i, k in enumerate(
    ("phone", "ip_address", "cvv", "pin_block", "email", "national_id", "iban", "secret", "pan",
     "track_data")
)}  # fmt: skip


_START = operator.itemgetter(2)
_END = operator.itemgetter(3)


def _rank(h: Hit) -> tuple[int, float, int]:
    return (_PRIORITY[h[0]], h[6], h[3] - h[2])


def _drop_overlaps(hits: list[Hit]) -> list[Hit]:
    """Where findings overlap, keep the one of higher kind priority, then confidence, then
    length (e.g. digits inside an IBAN are not a phone number, a URL's user:pass@host is a
    secret and not an e-mail address)."""
    if len(hits) < 2:
        return hits
    hits.sort(key=_END, reverse=True)  # two stable sorts == key (start, -end), C speed
    hits.sort(key=_START)
    kept: list[Hit | None] = []
    active: list[int] = []  # indexes into kept whose end is beyond the current start
    reach = -1  # >= the largest end among active (exact after each slow step)
    for h in hits:
        start = h[2]
        if start >= reach:  # overlaps nothing kept: the common case
            active = [len(kept)]
            kept.append(h)
            reach = h[3]
            continue
        active = [i for i in active if (k := kept[i]) is not None and k[3] > start]
        if active:
            rank = _rank(h)
            losers = []
            for i in active:
                k = kept[i]
                assert k is not None
                if _rank(k) >= rank:
                    break
                losers.append(i)
            else:
                for i in losers:
                    kept[i] = None
                active = [i for i in active if kept[i] is not None]
                active.append(len(kept))
                kept.append(h)
        else:
            active.append(len(kept))
            kept.append(h)
        reach = max((k[3] for i in active if (k := kept[i]) is not None), default=-1)
    return [k for k in kept if k is not None]


def _windows(ends: list[int], back: int, fwd: int, n: int) -> list[tuple[int, int]]:
    ends.sort()
    out: list[tuple[int, int]] = []
    lo_cur = hi_cur = -1
    for e in ends:
        lo = e - back if e > back else 0
        hi = e + fwd
        if hi > n:
            hi = n
        if lo <= hi_cur:
            if hi > hi_cur:
                hi_cur = hi
        else:
            if hi_cur >= 0:
                out.append((lo_cur, hi_cur))
            lo_cur, hi_cur = lo, hi
    if hi_cur >= 0:
        out.append((lo_cur, hi_cur))
    return out


_DIGIT = frozenset(b"0123456789")
_GROUP_SEP = frozenset(b" .-")


def _chain_windows(b: bytes, wins: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """PAN windows widened to the whole chains of digit groups (digits, and single separators
    between digits) at their edges, merged, the end 2 bytes past a chain for the lookaheads:
    no match of PAN_RE crosses a chain's edge, so matches start where they do over the whole
    buffer and the handler sees a space-separated chain whole (which layouts it holds, whether
    it stands alone), as it does without a prefilter."""
    n = len(b)
    out: list[tuple[int, int]] = []
    for lo, hi in wins:
        while lo > 0 and (b[lo - 1] in _DIGIT or lo >= 2 and b[lo - 1] in _GROUP_SEP
                          and b[lo - 2] in _DIGIT):  # fmt: skip
            lo -= 1
        if hi < n:
            while hi < n and (b[hi] in _DIGIT or hi + 1 < n and b[hi] in _GROUP_SEP
                              and b[hi + 1] in _DIGIT):  # fmt: skip
                hi += 1
            hi = min(n, hi + 2)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _outside(hits: list[Hit], suppress: list[tuple[int, int]]) -> list[Hit]:
    """``hits`` without the PANs that overlap a span of ``suppress`` (track data, IBANs: their
    digits are not a card number of their own)."""
    if not any(h[0] == "pan" for h in hits):
        return hits
    suppress.sort()
    starts = [s for s, _ in suppress]
    max_len = max(e - s for s, e in suppress)

    def covered(s: int, e: int) -> bool:
        i = bisect.bisect_right(starts, e - 1)
        while i > 0:
            i -= 1
            ss, se = suppress[i]
            if ss + max_len < s:
                break
            if ss < e and s < se:
                return True
        return False

    return [h for h in hits if h[0] != "pan" or not covered(h[2], h[3])]


class Scanner:
    """Detects PII and cardholder data in text.

    ``kinds`` restricts what is reported (default: all of :data:`KINDS`). ``use_hyperscan``
    and ``use_native`` (the C PAN core) None mean "if available"; every combination reports
    the same findings. Offsets are character offsets into the text given.
    """

    def __init__(
        self,
        hash_key: bytes = b"",
        kinds: Iterable[str] | None = None,
        *,
        use_hyperscan: bool | None = None,
        use_native: bool | None = None,
    ) -> None:
        self.hash_key = bytes(hash_key)
        self._hmac = hmac.new(self.hash_key, digestmod=hashlib.sha256)  # copied per value
        self._hash_cache: dict[str, str] = {}
        self.kinds = frozenset(KINDS if kinds is None else kinds)
        self._all_kinds = self.kinds >= frozenset(KINDS)  # no rule reports another kind
        unknown = self.kinds - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds: {sorted(unknown)}")
        need = set(self.kinds)
        if "pan" in need:
            need.add(SUPPRESS)  # tracks and IBANs must be seen to exclude their digits
        rules = [r for r in RULES if r.kinds & need]
        if use_hyperscan is None:
            use_hyperscan = HAVE_HYPERSCAN
        if use_hyperscan and not HAVE_HYPERSCAN:
            raise RuntimeError("hyperscan is not installed")
        if use_native is None:
            use_native = HAVE_NATIVE
        if use_native and not HAVE_NATIVE:
            raise RuntimeError("the native scanner core (vault.pii._fastscan) is not built")
        has_pan = any(r.name == "pan" for r in rules)
        self._native_pan = bool(use_native) and has_pan
        if self._native_pan:
            rules = [r for r in rules if r.name != "pan"]
        self._rules = rules
        # rules whose matches come from the native core (the prefilter skips them)
        self._native_rules = {"ipv4"} if use_native else set()
        hs_rules = [r for r in rules if r.name not in self._native_rules]
        # the Hyperscan database is compiled on first use (~0.1 s): a scan that runs wholly in
        # the worker processes never needs this process's
        self._hs_args: dict[str, Any] | None = (
            {"rules": rules, "direct_pan": has_pan and not self._native_pan,
             "skip": self._native_rules, "native": bool(use_native)}  # fmt: skip
            if use_hyperscan and (hs_rules or has_pan and not self._native_pan)
            else None
        )
        self._hs_engine: _HSEngine | None = None
        self._hs_lock = threading.Lock()
        self._config = {"hash_key": self.hash_key, "kinds": sorted(self.kinds),
                        "use_hyperscan": use_hyperscan, "use_native": use_native}
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def close(self) -> None:
        """Stop the worker processes, if any were started (the scanner stays usable)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def uses_hyperscan(self) -> bool:
        return self._hs_args is not None

    @property
    def uses_native(self) -> bool:
        """True when PAN candidates come from the native core."""
        return self._native_pan

    @property
    def engine(self) -> str:
        """Which path runs: "native+hyperscan", "native+re", "hyperscan" or "re"."""
        hs = "hyperscan" if self._hs_args is not None else "re"
        return f"native+{hs}" if self._native_pan else hs

    # ---------------------------------------------------------------- core

    def _engine(self) -> _HSEngine | None:
        """The Hyperscan engine (compiled now if not yet), or None when Hyperscan is not used."""
        if self._hs_args is None:
            return None
        with self._hs_lock:
            if self._hs_engine is None:
                self._hs_engine = _HSEngine(**self._hs_args)
            return self._hs_engine

    def _hits(self, b: bytes, text: str | None) -> list[Hit]:
        n = len(b)
        ctx = Ctx(b, text)
        out: list[Hit] = []
        rules = self._rules
        seen: set[tuple[str, int, int]] = set()
        pans: list[Hit] | None = None
        if self._native_pan:  # == handle_pan over every PAN_RE match, hits built in C
            pans = _native.pan_hits(b)  # one match per start: no duplicates
        engine = self._engine()
        if engine is not None:
            per_rule, direct = engine.hits(b, len(rules))
            for s, e in direct:
                res = pan_direct(b, s, e, ctx)
                if res:
                    for h in res:
                        key = (h[1], h[2], h[3])
                        if key not in seen:
                            seen.add(key)
                            out.append(h)
        else:
            per_rule = [[] for _ in rules]
        for ri, rule in enumerate(rules):
            if rule.name in self._native_rules:  # == _IPV4_RE.finditer + the IPv4 handler
                out.extend(_native.ipv4_hits(b))
                continue
            if engine is not None:
                ends = per_rule[ri]
                if not ends:
                    continue
                wins = _windows(ends, rule.back, rule.fwd, n)
                if rule.name == "pan":
                    wins = _chain_windows(b, wins)
            else:
                wins = [(0, n)]
            finditer = rule.regex.finditer
            handle = rule.handle
            for lo, hi in wins:
                edge = hi - 2 if hi < n else _INF
                for m in finditer(b, lo, hi):
                    if m.end() > edge:
                        continue
                    res = handle(m, ctx)
                    if res:
                        for h in res:
                            key = (h[1], h[2], h[3])
                            if key not in seen:
                                seen.add(key)
                                out.append(h)
        if text is not None:
            out.extend(str_pass(text, self.kinds))
        return self._resolve(out, ctx.suppress, pans)

    def _resolve(self, hits: list[Hit], suppress: list[tuple[int, int]],
                 pans: list[Hit] | None = None) -> list[Hit]:  # fmt: skip
        """Keep the reported kinds, drop PANs inside track data or IBANs (``suppress``), then
        overlaps. ``pans``: the native core's PAN hits, kept apart from ``hits`` (which then
        hold no PAN) so that only they are tested against ``suppress``."""
        kinds = self.kinds
        res = hits if self._all_kinds else [h for h in hits if h[0] in kinds]
        if pans is not None:
            res.extend(_outside(pans, suppress) if suppress else pans)
        elif suppress:
            res = _outside(res, suppress)
        if self._native_pan and len(res) > 1:
            return _native.drop_overlaps(res, _PRIORITY)  # sorts as _drop_overlaps does
        return _drop_overlaps(res)

    def _rows(
        self, b: bytes, text: str | None, base: int, base_line: int, lo: int, hi: int,
        values: Values = "hash", hits: list[Hit] | None = None,
    ) -> list[Row]:  # fmt: skip
        """Findings as :data:`Row` tuples (absolute offsets) for hits starting in [lo, hi),
        their last field as ``values`` says (``hits``: ``_hits(b, text)`` if already made)."""
        if hits is None:
            hits = self._hits(b, text)  # sorted by start, no two with the same start
        if self._native_pan:  # the loop below, in C
            mode = self.value_hash if values == "hash" else values == "clear" or None
            return _native.rows(b, hits, base, base_line, lo, hi, self._hash_cache, mode)
        if lo > 0 or hi < len(b):
            hits = [h for h in hits if lo <= h[2] < hi]
        out: list[Row] = []
        append = out.append
        line = base_line + 1
        pos = 0
        count = b.count
        cache = self._hash_cache
        value_hash = self.value_hash
        for kind, det, s, e, masked, norm, conf in hits:
            line += count(b"\n", pos, s)
            pos = s
            vh = cache.get(norm) if values == "hash" else "" if values == "none" else norm
            if vh is None:
                vh = value_hash(norm)
            append((kind, det, base + s, base + e, line, masked, conf, vh))
        return out

    def value_hash(self, norm: str) -> str:
        """keyed_hash(hash_key, norm): a copy of the keyed HMAC object (the key is processed
        once, by the standard library); cached."""
        h = self._hmac.copy()
        h.update(norm.encode("utf-8"))
        vh = h.hexdigest()
        cache = self._hash_cache
        if len(cache) >= _HASH_CACHE_SIZE:
            cache.clear()  # bounded; logs repeat values within a stretch, not across the file
        cache[norm] = vh
        return vh

    def _findings(
        self, b: bytes, text: str | None, base: int, base_line: int, lo: int, hi: int
    ) -> list[Finding]:
        return [finding_from_row(r) for r in self._rows(b, text, base, base_line, lo, hi)]

    def scan_text(self, text: str, *, line_offset: int = 0) -> list[Finding]:
        b, t = byte_view(text)
        return self._findings(b, t, 0, line_offset, 0, _INF)

    # ---------------------------------------------------------------- streaming

    def scan_stream(
        self,
        f: BinaryIO | TextIO,
        *,
        encoding: str | None = None,
        chunk_chars: int | None = None,
        overlap: int = DEFAULT_OVERLAP,
        workers: int | None = None,
        processes: bool | None = None,
    ) -> Iterator[Finding]:
        """Scan a stream in chunks of ``chunk_chars`` new characters, each preceded by the last
        ``overlap`` characters of the previous buffer. A finding belongs to the buffer whose
        ownership range holds its start, so it is reported exactly once, in order, with
        absolute character offsets and line numbers; memory stays bounded (a few chunks in
        flight) whatever the stream's length, and the stream need not be seekable.

        ``workers`` > 1 scans chunks in parallel (default: 2 when Hyperscan is in use, else 1):
        on threads, and once more than :data:`PROCESS_MIN_BYTES` were read, in worker
        processes (``processes`` None); ``processes`` True uses processes from the start,
        False never. Default chunk size: 1 MiB on threads, 8 MiB in processes. Every mode
        reports the same findings. The worker processes (started once per Scanner, by the
        "forkserver" method) import the program's main module, which must therefore be
        importable without side effects (the usual ``if __name__ == "__main__"`` guard)."""
        for rows in self.scan_stream_rows(f, encoding=encoding, chunk_chars=chunk_chars,
                                          overlap=overlap, workers=workers,
                                          processes=processes):  # fmt: skip
            yield from map(finding_from_row, rows)

    def scan_stream_rows(
        self,
        f: BinaryIO | TextIO,
        *,
        encoding: str | None = None,
        chunk_chars: int | None = None,
        overlap: int = DEFAULT_OVERLAP,
        workers: int | None = None,
        processes: bool | None = None,
        values: Values = "hash",
    ) -> Generator[list[Row], None, None]:
        """:meth:`scan_stream`'s findings as lists of :data:`Row` tuples, one list per chunk
        (for callers that handle millions of findings and need no Finding objects); the rows'
        last field as ``values`` says (:data:`Values`): only "hash" computes a keyed hash per
        distinct value."""
        return self.scan_stream_rendered(f, None, encoding=encoding, chunk_chars=chunk_chars,
                                         overlap=overlap, workers=workers, processes=processes,
                                         values=values)  # fmt: skip

    def scan_stream_rendered(
        self,
        f: BinaryIO | TextIO,
        render: Callable[[list[Row]], Any] | None,
        *,
        encoding: str | None = None,
        chunk_chars: int | None = None,
        overlap: int = DEFAULT_OVERLAP,
        workers: int | None = None,
        processes: bool | None = None,
        values: Values = "hash",
        size: int | None = None,
    ) -> Generator[Any, None, None]:
        """:meth:`scan_stream_rows`, yielding ``render(rows)`` per chunk, computed where the
        rows were found (in a worker process when the stream is scanned in processes, so the
        rows never cross to this one): ``render`` must be picklable (a module-level function
        or a ``functools.partial`` of one). ``render`` None yields the rows. ``size``: the
        stream's length when the caller knows it (else read from ``f`` if it is a regular
        file): a big one goes to the worker processes from its first chunk."""
        if chunk_chars is not None and chunk_chars < 1:
            raise ValueError("chunk_chars must be >= 1")
        if values not in ("hash", "clear", "none"):
            raise ValueError(f"unknown values mode {values!r}")
        if workers is None:
            workers = _CPUS if self._hs_args is not None else 1
        known = size if size is not None else _remaining(f)
        chunk = _ChunkSize(chunk_chars or THREAD_CHUNK)
        jobs = ((*j, values, render) for j in self._jobs(_pieces(f, encoding, chunk), overlap))
        one_chunk = size is not None and size <= chunk.n  # one job: no pool to start
        if (workers <= 1 or one_chunk) and not processes:
            for job in jobs:
                yield _job_result(self, job)
            return
        use_proc = bool(processes)
        seen = 0
        # a file known to be big goes to the worker processes from its first chunk
        warm = processes is None and known > PROCESS_MIN_BYTES and self._warm_up(workers)
        if warm:
            use_proc = True
            if chunk_chars is None:
                chunk.n = PROCESS_CHUNK
        procs: ProcessPoolExecutor | None = None
        with ThreadPoolExecutor(max_workers=max(1, workers)) as threads:
            pending: deque[Future[Any]] = deque()
            try:
                for job in jobs:
                    seen += len(job[0])
                    if processes is None and not use_proc and seen > PROCESS_MIN_BYTES // 2:
                        if not warm:  # start the workers while threads scan on
                            warm = self._warm_up(workers)
                        if seen > PROCESS_MIN_BYTES:
                            use_proc = True
                            if chunk_chars is None:
                                chunk.n = PROCESS_CHUNK
                    if use_proc and procs is None:
                        procs = self._process_pool(max(1, workers))
                        use_proc = procs is not None
                    fut = None
                    if procs is not None:
                        try:
                            fut = procs.submit(_worker_rows, job)
                        except (OSError, RuntimeError):  # cannot start processes: stay on threads
                            procs = None
                            use_proc = False
                    if fut is None:
                        fut = threads.submit(_job_result, self, job)
                    pending.append(fut)
                    if len(pending) > max(1, workers):
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for fut in pending:
                    fut.cancel()

    def _warm_up(self, workers: int) -> bool:
        pool = self._process_pool(workers)
        if pool is not None:
            try:
                for _ in range(workers):
                    pool.submit(_worker_rows, (b"", None, 0, 0, 0, 0, "none", None))
            except (OSError, RuntimeError):
                pass
        return True

    def _process_pool(self, workers: int) -> ProcessPoolExecutor | None:
        """The scanner's worker processes (started once, each building its own Scanner), or
        None where processes cannot be used."""
        with self._pool_lock:
            if self._pool is None:
                methods = mp.get_all_start_methods()
                ctx: Any
                if "forkserver" in methods:
                    ctx = mp.get_context("forkserver")
                    # the server imports the main module once, so workers forked from it do not
                    # (each would otherwise re-import it: the vault CLI costs ~1 s)
                    ctx.set_forkserver_preload(["__main__", "vault.pii.scanner"])
                elif "spawn" in methods:  # pragma: no cover - platform dependent
                    ctx = mp.get_context("spawn")
                else:  # pragma: no cover
                    return None
                pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                           initializer=_worker_init,
                                           initargs=(self._config,))  # fmt: skip
                # joined, not left to close on its own: a pool closing while the interpreter
                # exits races concurrent.futures' exit hook (EBADF traceback on 3.11)
                weakref.finalize(self, pool.shutdown, wait=True, cancel_futures=True)
                self._pool = pool
            return self._pool

    @staticmethod
    def _jobs(
        pieces: Iterator[tuple[bytes, str | None]], overlap: int
    ) -> Iterator[tuple[bytes, str | None, int, int, int, int]]:
        half = overlap // 2
        carry_b = b""
        carry_t: str | None = None
        abs_start = 0  # absolute offset of carry start
        lines_before = 0
        own_lo = 0
        nxt = next(pieces, None)
        while nxt is not None:
            pb, pt = nxt
            nxt = next(pieces, None)
            buf_b = carry_b + pb if carry_b else pb
            if pt is None and carry_t is None:
                buf_t: str | None = None
            else:
                ct = carry_t if carry_t is not None else carry_b.decode("latin-1")
                buf_t = ct + (pt if pt is not None else pb.decode("latin-1"))
            end_abs = abs_start + len(buf_b)
            own_hi = _INF if nxt is None else max(own_lo, end_abs - half)
            if own_hi > own_lo:
                yield (buf_b, buf_t, abs_start, lines_before, own_lo - abs_start,
                       own_hi - abs_start)  # fmt: skip
            own_lo = own_hi
            keep = min(len(buf_b), overlap)
            cut = len(buf_b) - keep
            if cut:
                lines_before += buf_b.count(b"\n", 0, cut)
                abs_start += cut
            carry_b = buf_b[cut:]
            carry_t = None
            if buf_t is not None:
                tail = buf_t[cut:]
                carry_t = None if tail.isascii() else tail


class _ChunkSize:
    """How much :func:`_pieces` reads next (raised when a stream moves to processes)."""

    def __init__(self, n: int) -> None:
        self.n = n


def _pieces(
    f: BinaryIO | TextIO, encoding: str | None, size: _ChunkSize
) -> Iterator[tuple[bytes, str | None]]:
    """Yield (byte view, text-or-None) per chunk of ``size.n``; see :func:`byte_view`."""
    probe = f.read(0)
    if isinstance(probe, str):
        tf: Any = f
        while True:
            s = tf.read(size.n)
            if not s:
                return
            yield byte_view(s)
    bf: Any = f
    raw = read_full(bf, max(size.n, 1 << 16))  # enough to detect the encoding
    if not raw:
        return
    enc = codecs.lookup(encoding or detect_encoding(raw)).name
    if enc == "latin-1" or enc == "iso8859-1":
        while raw:
            yield raw, None
            raw = read_full(bf, size.n)
        return
    dec = codecs.getincrementaldecoder(enc)(errors="replace")
    ascii_compatible = enc in ("utf-8", "ascii")
    while True:
        nxt = read_full(bf, size.n)
        final = not nxt
        if ascii_compatible and raw.isascii() and not dec.getstate()[0]:
            if raw:
                yield raw, None
        else:
            s = dec.decode(raw, final=final)
            if s:
                yield byte_view(s)
        if final:
            return
        raw = nxt


_WORKER: Scanner | None = None


def _worker_init(config: dict[str, Any]) -> None:
    global _WORKER
    _WORKER = Scanner(**config)


_Job = tuple[bytes, str | None, int, int, int, int, Values, Callable[[list[Row]], Any] | None]


def _job_result(scanner: Scanner, job: _Job) -> Any:
    """The rows of one chunk, or their rendering when the job carries a renderer (straight from
    the hits when the renderer can: ``of_hits(buf, hits, base_line, lo, hi, values)`` not None,
    e.g. :class:`vault.scanjson.BoundJsonLines`, :class:`vault.pii.distinct.BoundDistinct`)."""
    render = job[7]
    of_hits = getattr(render, "of_hits", None)
    hits = None
    if of_hits is not None and scanner._native_pan:  # where _rows would run its C loop
        b, text, _, base_line, lo, hi, values = job[:7]
        hits = scanner._hits(b, text)
        out = of_hits(b, hits, base_line, lo, hi, values)
        if out is not None:
            return out
    rows = scanner._rows(*job[:7], hits=hits)
    return rows if render is None else render(rows)


def _worker_rows(job: _Job) -> Any:
    assert _WORKER is not None, "worker not initialised"
    return _job_result(_WORKER, job)


def _remaining(f: Any) -> int:
    """Bytes left in ``f`` when it is a regular file, else 0."""
    try:
        st = os.fstat(f.fileno())
        return st.st_size - f.tell() if stat.S_ISREG(st.st_mode) else 0
    except (AttributeError, OSError, ValueError):
        return 0


def scan_bytes(data: bytes, scanner: Scanner | None = None) -> list[Finding]:
    """Convenience: scan an in-memory byte string (encoding detected)."""
    sc = scanner or Scanner()
    return list(sc.scan_stream(io.BytesIO(data), workers=1))
