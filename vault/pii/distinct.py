"""Distinct values of a scan's rows, per kind: what ingest keeps as flags.

:func:`distinct_values` runs where the rows were found (the scanner's worker processes, see
``Scanner.scan_stream_rendered``), so a log with millions of findings crosses to the ingesting
process as a few thousand entries per kind and chunk, not as millions of rows; :meth:`Kept.merge`
folds the chunks in order into exactly what a row-by-row pass would have kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Entry = list[Any]
"""[detector, line, page, masked, confidence, occurrences] of a value's first occurrence
(confidence: the highest seen; occurrences: how often)."""


@dataclass
class KindValues:
    """One kind's values in one chunk, in order of first occurrence: the first ``cap``
    distinct values in full, the later ones as value hash -> [occurrences, confidence]."""

    full: dict[str, Entry] = field(default_factory=dict)
    rest: dict[str, list[Any]] = field(default_factory=dict)
    total: int = 0  # occurrences of every value


def distinct_values(path: str, page: int | None, rows: list[Any], *,
                    cap: int) -> dict[str, KindValues]:  # fmt: skip
    """The distinct values (by keyed hash) of ``rows`` (:data:`vault.pii.scanner.Row`), per
    kind; a render function for ``scan_batches`` (``path`` is not used)."""
    out: dict[str, KindValues] = {}
    for kind, det, _s, _e, line, masked, conf, vh in rows:
        kv = out.get(kind)
        if kv is None:
            kv = out[kind] = KindValues()
        kv.total += 1
        e = kv.full.get(vh)
        if e is not None:
            e[5] += 1
            if conf > e[4]:
                e[4] = conf
        elif len(kv.full) < cap:  # (rest is empty until full is full)
            kv.full[vh] = [det, line, page, masked, conf, 1]
        elif (r := kv.rest.get(vh)) is not None:
            r[0] += 1
            if conf > r[1]:
                r[1] = conf
        else:
            kv.rest[vh] = [1, conf]
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
        for kind, kv in chunk.items():
            kept = self.values.setdefault(kind, {})
            counted = 0
            for h in kv.full.keys() & kept.keys():  # values seen before: set speed
                e, k = kv.full[h], kept[h]
                k[5] += e[5]
                if e[4] > k[4]:
                    k[4] = e[4]
                counted += e[5]
            for h in kv.rest.keys() & kept.keys():
                (n, conf), k = kv.rest[h], kept[h]
                k[5] += n
                if conf > k[4]:
                    k[4] = conf
                counted += n
            room = self.cap - len(kept)  # never more than full's new values (see KindValues)
            if room > 0:
                for h, e in kv.full.items():
                    if h in kept:
                        continue
                    kept[h] = e
                    counted += e[5]
                    room -= 1
                    if not room:
                        break
            self.dropped += kv.total - counted
