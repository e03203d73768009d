"""Ingest's flags from per-chunk distinct values equal a row-by-row pass over every row."""

from __future__ import annotations

import pickle
import random
from typing import Any

import pytest

from vault.pii.distinct import Distinct, Kept, distinct_reference


def reference(rows: list[Any], cap: int, caps: dict[str, int] | None = None
              ) -> tuple[dict[tuple[str, str], list[Any]], int]:  # fmt: skip
    """The row-by-row pass: first occurrence kept, max confidence, count; at most cap values
    per kind (caps[kind] where given), every occurrence of another value dropped."""
    caps = caps or {}
    seen: dict[tuple[str, str], list[Any]] = {}
    per_kind: dict[str, int] = {}
    dropped = 0
    for kind, det, _s, _e, line, masked, conf, vh in rows:
        d = seen.get((kind, vh))
        if d is not None:
            d[5] += 1
            d[4] = max(d[4], conf)
        elif per_kind.get(kind, 0) < caps.get(kind, cap):
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
    """As ingest runs it: chunks reduced by Distinct (pickled, as for a worker process) whose
    snapshot of full kinds lags the merges by up to three chunks (the chunks in flight)."""
    rng = random.Random(8)
    dropped_any = snapshots = 0
    for trial in range(400):
        cap = rng.choice([1, 2, 5, 20, 1000])
        caps = rng.choice([{}, {"ip_address": rng.randint(1, cap), "email": rng.randint(1, cap)},
                           {"pan": rng.randint(1, cap)}])
        rows = random_rows(rng, rng.randint(0, 400), rng.choice([3, 30, 300]))
        cuts = sorted(rng.sample(range(len(rows) + 1), k=min(len(rows) + 1, rng.randint(0, 9))))
        chunks = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]
        kept = Kept(cap, caps)
        render = Distinct(cap)
        lag = rng.randint(0, 3)
        sent = [pickle.loads(pickle.dumps(render)) for _ in chunks[:lag]]
        for i, chunk in enumerate(chunks):
            if i + lag < len(chunks):
                sent.append(pickle.loads(pickle.dumps(render)))  # chunk i + lag goes out
            r = sent[i]
            snapshots += bool(r.full)
            kept.merge(r("p", None, chunk) if impl == "native"
                       else distinct_reference(chunk, None, cap, r.full))  # fmt: skip
            render.update(kept)
        want, dropped = reference(rows, cap, caps)
        got = {(kind, h): e for kind, vals in kept.values.items() for h, e in vals.items()}
        assert got == want, trial
        assert kept.dropped == dropped, trial
        # in order of first occurrence within each kind
        for kind, vals in kept.values.items():
            assert list(vals) == [h for (k, h) in want if k == kind]
        dropped_any += dropped > 0
    assert dropped_any > 50 and snapshots > 200


def test_native_distinct_equals_the_reference() -> None:
    fastscan = pytest.importorskip("vault.pii._fastscan", reason="native core not built")
    rng = random.Random(9)
    for trial in range(300):
        rows = random_rows(rng, rng.randint(0, 300), rng.choice([2, 20, 200]))
        cap, page = rng.choice([0, 1, 3, 50]), rng.choice([None, 4])
        full = {kind: frozenset(f"h{v}" for v in range(0, 200, rng.randint(1, 5)))
                for kind in rng.sample(["pan", "email", "x"], k=rng.randint(0, 2))}
        assert fastscan.distinct(rows, page, cap, full) == distinct_reference(rows, page, cap,
                                                                              full), trial
    for bad, full in (([("pan",)], {}), ([("pan", "d", 0, 1, 1, "m", "0.5", "k")], {}),
                      (["row"], {}), ([("pan", "d", 0, 1, 1, "m", 0.5, "k")], {"pan": ["k"]})):
        with pytest.raises(TypeError):
            fastscan.distinct(bad, None, 5, full)


def test_distinct_hits_equal_distinct_of_the_clear_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest's workers reduce their hits to distinct values without making rows: the same
    result as the rows with clear values, for any range, line offset, page and snapshot."""
    fastscan = pytest.importorskip("vault.pii._fastscan", reason="native core not built")
    from tests.pii.corpus import make_pan
    from vault.pii import Scanner
    from vault.pii.distinct import BoundDistinct

    rng = random.Random(21)
    sc = Scanner(b"k")
    for trial in range(300):
        pans = [make_pan(rng) for _ in range(3)]
        b = "".join(rng.choice([f"card {rng.choice(pans)} ", f"ip 10.1.2.{rng.randint(1, 4)} ",
                                "\n", "xx ", "mail a.b@example.com "])
                    for _ in range(rng.randint(0, 60))).encode()  # fmt: skip
        hits = sc._hits(b, None)
        lo = rng.randint(0, len(b))
        hi = rng.choice([len(b), rng.randint(lo, len(b) + 5), 1 << 62])
        base_line, cap, page = rng.randint(0, 99), rng.choice([1, 2, 50]), rng.choice([None, 2])
        full = {k: frozenset(rng.sample(pans, k=2)) for k in rng.sample(["pan", "email"], k=1)}
        rows = sc._rows(b, None, 0, base_line, lo, hi, values="clear")
        bound = BoundDistinct(Distinct(cap, full), page)
        assert bound.of_hits(b, hits, base_line, lo, hi, "clear") == bound(rows), trial
        assert bound.of_hits(b, hits, base_line, lo, hi, "hash") is None  # keys would differ
    # the scanner uses it for ingest's chunks
    calls = []
    real = fastscan.distinct_hits
    monkeypatch.setattr(fastscan, "distinct_hits", lambda *a: calls.append(1) or real(*a))
    from vault.pii.feed import ScanFeed
    feed = ScanFeed(Scanner(b"k"), "gw.log")
    feed.feed(b"card 4111111111111111 from 10.1.2.3\n" * 100)
    out = feed.finish()
    assert calls and {d.kind: d.occurrences for d in out.drafts} == {"pan": 100, "ip_address": 100}


def test_a_render_that_cannot_use_the_hits_gets_the_rows() -> None:
    """_job_result falls back to rows (made from the hits it already has) when of_hits says
    None: here the value hashes, which only the rows carry."""
    from vault.pii import Scanner
    from vault.pii.distinct import BoundDistinct
    from vault.pii.scanner import _job_result

    sc = Scanner(b"k")
    b = b"card 4111111111111111 from 10.1.2.3\nmail a.b@example.com\n" * 3
    render = BoundDistinct(Distinct(5), None)
    got = _job_result(sc, (b, None, 0, 0, 0, len(b), "hash", render))
    assert got == render(sc._rows(b, None, 0, 0, 0, len(b), "hash"))
    assert all(len(key) == 64 for kv in got.values() for key in kv[0])  # hashes, not values
    assert _job_result(sc, (b, None, 0, 0, 0, len(b), "clear", render)) == render(
        sc._rows(b, None, 0, 0, 0, len(b), "clear"))


def test_a_kinds_cap_may_not_exceed_the_chunks_cap() -> None:
    Kept(5, {"pan": 5, "email": 1})
    for bad in (6, 0):
        with pytest.raises(ValueError, match="between 1 and cap"):
            Kept(5, {"pan": bad})
