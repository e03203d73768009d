"""Distinct values of a scan's rows, per kind: what ingest keeps as flags.

:class:`Distinct` runs where the rows were found (the scanner's worker processes, see
``Scanner.scan_stream_rendered``), so a log with millions of findings crosses to the ingesting
process as one entry per distinct value and chunk, in flat lists that pickle fast, not as
millions of rows; :meth:`Kept.merge` folds the chunks in order into exactly what a row-by-row
pass would have kept. Once a kind has its ``cap`` values it takes no new one, so its kept values
go out with the next chunks (:attr:`Distinct.full`) and the workers send back only their counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

try:
    from vault.pii import _fastscan as _native
except ImportError:  # pragma: no cover - the extension is built by `make setup`
    _native = None  # type: ignore[assignment]

Entry = list[Any]
"""[detector, line, page, masked, confidence, occurrences] of a kept value's first occurrence
(confidence: the highest seen; occurrences: how often)."""

KindValues = list[Any]
"""One kind's values in one chunk, in order of first occurrence: ``[index, counts, confs,
firsts, total]``: value key -> position; occurrences and highest confidence per position; the
``(detector, line, page, masked)`` of the first occurrence of the first ``cap`` values; the
kind's occurrences in the chunk. For a kind given as full, only its kept values are indexed."""

Full = Mapping[str, frozenset[str]]
"""Kinds that have all their values (kind -> the keys kept)."""


def distinct_values(path: str, page: int | None, rows: list[Any], *, cap: int,
                    full: Full | None = None) -> dict[str, KindValues]:  # fmt: skip
    """The distinct values of ``rows`` (:data:`vault.pii.scanner.Row`), per kind, keyed by the
    rows' last field (the value's hash, or the value itself: the same distinct values); a render
    function for ``scan_batches`` (``path`` is not used). In C when the extension is built."""
    full = full or {}
    if _native is not None:
        return _native.distinct(rows, page, cap, dict(full))
    return distinct_reference(rows, page, cap, full)


def distinct_reference(rows: list[Any], page: int | None, cap: int,
                       full: Full | None = None) -> dict[str, KindValues]:  # fmt: skip
    """:func:`distinct_values` in Python (the C loop's reference)."""
    full = full or {}
    out: dict[str, KindValues] = {}
    for kind, det, _s, _e, line, masked, conf, key in rows:
        kv = out.get(kind)
        if kv is None:
            kv = out[kind] = [{}, [], [], [], 0]
        kv[4] += 1
        index, counts, confs, firsts, _ = kv
        i = index.get(key)
        if i is not None:
            counts[i] += 1
            if conf > confs[i]:
                confs[i] = conf
            continue
        keep = full.get(kind)
        if keep is not None and key not in keep:
            continue
        index[key] = len(counts)
        counts.append(1)
        confs.append(conf)
        if keep is None and len(firsts) < cap:
            firsts.append((det, line, page, masked))
    return out


class Distinct:
    """The render for ingest's text chunks (picklable): :func:`distinct_values` with the kinds
    that were full when the chunk was sent to a worker. :meth:`update` replaces the snapshot
    (never mutates it: a pickling thread may be reading it)."""

    def __init__(self, cap: int, full: Full | None = None) -> None:
        self.cap = cap
        self.full: Full = dict(full or {})

    def __call__(self, path: str, page: int | None, rows: list[Any]) -> dict[str, KindValues]:
        return distinct_values(path, page, rows, cap=self.cap, full=self.full)

    def bind(self, path: str, page: int | None) -> BoundDistinct:
        """The render of one file's (page's) chunks for ``scan_batches``."""
        return BoundDistinct(self, page)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Distinct, (self.cap, self.full))

    def update(self, kept: Kept) -> None:
        """Add the kinds that ``kept`` has filled since the last update."""
        new = {kind: frozenset(values) for kind, values in kept.values.items()
               if len(values) >= kept.cap_of(kind) and kind not in self.full}  # fmt: skip
        if new:
            self.full = {**self.full, **new}


class BoundDistinct:
    """:class:`Distinct` for one page (None: a text file); pickles its owner's snapshot."""

    def __init__(self, owner: Distinct, page: int | None) -> None:
        self.owner, self.page = owner, page

    def __call__(self, rows: list[Any]) -> dict[str, KindValues]:
        return self.owner("", self.page, rows)

    def __reduce__(self) -> tuple[Any, ...]:
        return (BoundDistinct, (self.owner, self.page))

    def of_hits(self, buf: bytes, hits: list[Any], base_line: int, lo: int, hi: int,
                values: str) -> dict[str, KindValues] | None:  # fmt: skip
        """This render of the rows ``Scanner._rows`` would make of ``hits`` with the clear
        values (ingest's mode), made without them (in C); None in any other case."""
        if _native is None or values != "clear":
            return None
        return _native.distinct_hits(buf, hits, base_line, lo, hi, self.page, self.owner.cap,
                                     dict(self.owner.full))  # fmt: skip


@dataclass
class Kept:
    """The values kept so far: at most ``cap`` per kind (``caps[kind]`` where given, which must
    not exceed ``cap``: the chunks' :class:`Distinct` has ``cap``), each with its first
    occurrence, in order of first occurrence; ``dropped`` counts the occurrences of the other
    values."""

    cap: int
    caps: Mapping[str, int] = field(default_factory=dict)
    values: dict[str, dict[str, Entry]] = field(default_factory=dict)
    dropped: int = 0

    def __post_init__(self) -> None:
        if any(not 0 < c <= self.cap for c in self.caps.values()):
            raise ValueError("a kind's cap must be between 1 and cap")

    def cap_of(self, kind: str) -> int:
        return self.caps.get(kind, self.cap)

    def merge(self, chunk: dict[str, KindValues]) -> None:
        """Fold in the next chunk's values (chunks in stream order)."""
        for kind, (index, counts, confs, firsts, total) in chunk.items():
            kept = self.values.setdefault(kind, {})
            counted = 0
            for key in index.keys() & kept.keys():  # values seen before: set speed
                i, k = index[key], kept[key]
                k[5] += counts[i]
                if confs[i] > k[4]:
                    k[4] = confs[i]
                counted += counts[i]
            # the first `room` new values are among the chunk's first `cap` (firsts): at most
            # cap - room of those were kept before (a kind's own cap is at most `cap`)
            room = self.cap_of(kind) - len(kept)
            if room > 0:
                news = zip(index, firsts, strict=False)  # firsts: the first len(firsts) keys
                for i, (key, (det, line, page, masked)) in enumerate(news):
                    if key in kept:
                        continue
                    kept[key] = [det, line, page, masked, confs[i], counts[i]]
                    counted += counts[i]
                    room -= 1
                    if not room:
                        break
            self.dropped += total - counted
