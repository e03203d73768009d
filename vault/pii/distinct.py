"""Distinct values of a scan's rows, per kind: what ingest keeps as flags.

:func:`distinct_values` runs where the rows were found (the scanner's worker processes, see
``Scanner.scan_stream_rendered``), so a log with millions of findings crosses to the ingesting
process as one entry per distinct value and chunk, in flat lists that pickle fast, not as
millions of rows; :meth:`Kept.merge` folds the chunks in order into exactly what a row-by-row
pass would have kept.
"""

from __future__ import annotations

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
firsts]``: value key -> position; occurrences and highest confidence per position; the
``(detector, line, page, masked)`` of the first occurrence of the first ``cap`` values."""


def distinct_values(path: str, page: int | None, rows: list[Any], *,
                    cap: int) -> dict[str, KindValues]:  # fmt: skip
    """The distinct values of ``rows`` (:data:`vault.pii.scanner.Row`), per kind, keyed by the
    rows' last field (the value's hash, or the value itself: the same distinct values); a render
    function for ``scan_batches`` (``path`` is not used). In C when the extension is built."""
    if _native is not None:
        return _native.distinct(rows, page, cap)
    return distinct_reference(rows, page, cap)


def distinct_reference(rows: list[Any], page: int | None, cap: int) -> dict[str, KindValues]:
    """:func:`distinct_values` in Python (the C loop's reference)."""
    out: dict[str, KindValues] = {}
    for kind, det, _s, _e, line, masked, conf, key in rows:
        kv = out.get(kind)
        if kv is None:
            kv = out[kind] = [{}, [], [], []]
        index, counts, confs, firsts = kv
        i = index.get(key)
        if i is not None:
            counts[i] += 1
            if conf > confs[i]:
                confs[i] = conf
            continue
        index[key] = len(counts)
        counts.append(1)
        confs.append(conf)
        if len(firsts) < cap:
            firsts.append((det, line, page, masked))
    return out


@dataclass
class Kept:
    """The values kept so far: at most ``cap`` per kind, each with its first occurrence, in
    order of first occurrence; ``dropped`` counts the occurrences of the other values."""

    cap: int
    values: dict[str, dict[str, Entry]] = field(default_factory=dict)
    dropped: int = 0

    def merge(self, chunk: dict[str, KindValues]) -> None:
        """Fold in the next chunk's values (chunks in stream order)."""
        for kind, (index, counts, confs, firsts) in chunk.items():
            kept = self.values.setdefault(kind, {})
            counted = 0
            for key in index.keys() & kept.keys():  # values seen before: set speed
                i, k = index[key], kept[key]
                k[5] += counts[i]
                if confs[i] > k[4]:
                    k[4] = confs[i]
                counted += counts[i]
            # the first `room` new values are among the chunk's first `cap` (firsts): at most
            # cap - room of those were kept before
            room = self.cap - len(kept)
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
            self.dropped += sum(counts) - counted
