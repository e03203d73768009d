"""Ingest's flags from per-chunk distinct values equal a row-by-row pass over every row."""

from __future__ import annotations

import random
from typing import Any

import pytest

from vault.pii.distinct import Kept, distinct_reference, distinct_values


def reference(rows: list[Any], cap: int) -> tuple[dict[tuple[str, str], list[Any]], int]:
    """The row-by-row pass: first occurrence kept, max confidence, count; at most cap values
    per kind, every occurrence of another value dropped."""
    seen: dict[tuple[str, str], list[Any]] = {}
    per_kind: dict[str, int] = {}
    dropped = 0
    for kind, det, _s, _e, line, masked, conf, vh in rows:
        d = seen.get((kind, vh))
        if d is not None:
            d[5] += 1
            d[4] = max(d[4], conf)
        elif per_kind.get(kind, 0) < cap:
            per_kind[kind] = per_kind.get(kind, 0) + 1
            seen[(kind, vh)] = [det, line, None, masked, conf, 1]
        else:
            dropped += 1
    return seen, dropped


def random_rows(rng: random.Random, n: int, distinct: int) -> list[Any]:
    rows = []
    for i in range(n):
        kind = rng.choice(["pan", "ip_address", "email"])
        v = rng.randrange(distinct)
        rows.append((kind, f"{kind}.d{rng.randrange(2)}", i, i + 1, i // 3 + 1, f"m{v}",
                     rng.choice([0.5, 0.8, 0.99]), f"h{v}"))  # fmt: skip
    return rows


@pytest.mark.parametrize("impl", ["native", "python"])
def test_chunked_distinct_values_equal_the_row_by_row_pass(impl: str) -> None:
    distinct = (distinct_values if impl == "native"
                else lambda _p, page, rows, cap: distinct_reference(rows, page, cap))
    rng = random.Random(8)
    dropped_any = 0
    for trial in range(400):
        cap = rng.choice([1, 2, 5, 20, 1000])
        rows = random_rows(rng, rng.randint(0, 400), rng.choice([3, 30, 300]))
        cuts = sorted(rng.sample(range(len(rows) + 1), k=min(len(rows) + 1, rng.randint(0, 6))))
        chunks = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]
        kept = Kept(cap)
        for chunk in chunks:
            kept.merge(distinct("p", None, chunk, cap=cap))
        want, dropped = reference(rows, cap)
        got = {(kind, h): e for kind, vals in kept.values.items() for h, e in vals.items()}
        assert got == want, trial
        assert kept.dropped == dropped, trial
        # in order of first occurrence within each kind
        for kind, vals in kept.values.items():
            assert list(vals) == [h for (k, h) in want if k == kind]
        dropped_any += dropped > 0
    assert dropped_any > 50


def test_native_distinct_equals_the_reference() -> None:
    fastscan = pytest.importorskip("vault.pii._fastscan", reason="native core not built")
    rng = random.Random(9)
    for trial in range(300):
        rows = random_rows(rng, rng.randint(0, 300), rng.choice([2, 20, 200]))
        cap, page = rng.choice([0, 1, 3, 50]), rng.choice([None, 4])
        assert fastscan.distinct(rows, page, cap) == distinct_reference(rows, page, cap), trial
    for bad in ([("pan",)], [("pan", "d", 0, 1, 1, "m", "0.5", "k")], ["row"]):
        with pytest.raises(TypeError):
            fastscan.distinct(bad, None, 5)
