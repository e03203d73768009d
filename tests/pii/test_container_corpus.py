"""Card numbers planted in every kind of container (tests/pii/container_corpus.py: the brands'
public test numbers, irregular layouts, look-alikes that must not be flagged), found by
`vault scan`'s walk and by the ingest's scan: recall and precision >= 0.99 on a small corpus
(tests/bench/bench_containers.py measures a bigger one)."""

from __future__ import annotations

import ast
import io
import random
from collections import Counter
from pathlib import Path

import pytest

from tests.pii import container_corpus as cc
from tests.pii.test_containers import _feed, stream_src
from vault.evidence.sources import Source
from vault.pii import Scanner
from vault.pii.scan import scan_source


@pytest.fixture(scope="module")
def corpus() -> list[cc.Container]:
    return cc.build(random.Random(16), 30)


@pytest.fixture(scope="module")
def sc() -> Scanner:
    return Scanner(b"container-corpus")


def found_in(source: Source, sc: Scanner) -> tuple[Counter[str], list[str]]:
    notes: list[str] = []
    hits = scan_source(source, sc, on_note=lambda _p, n: notes.append(n))
    return Counter(h.finding.masked for h in hits if h.finding.kind == "pan"), notes


def test_the_corpus_is_written_apart_from_the_detector(corpus: list[cc.Container]) -> None:
    tree = ast.parse(Path(cc.__file__).read_text(encoding="utf-8"))
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
        {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m.startswith(("vault", "tests")) for m in imported), imported
    assert all(cc.luhn_ok(n) for n in cc.PUBLIC_TEST_NUMBERS)
    assert [c.kind for c in corpus] == list(cc.KINDS)
    assert all(sum(c.labels.values()) >= 30 for c in corpus)
    # every public test number is planted, and irregular and dotted layouts are written
    planted = Counter(m for c in corpus for m in c.labels.elements())
    assert all(planted[cc.masked(n)] for n in cc.PUBLIC_TEST_NUMBERS)
    rng = random.Random(1)
    layouts = {tuple(len(g) for g in cc.printed(rng, "4111111111111111").replace("-", " ")
                     .replace(".", " ").split()) for _ in range(400)}  # fmt: skip
    assert {(16,), (4, 4, 4, 4)} <= layouts and len(layouts) > 20


@pytest.mark.parametrize("streamed", [False, True], ids=["file", "ingest-stream"])
def test_recall_and_precision_in_every_container(corpus: list[cc.Container], sc: Scanner,
                                                 streamed: bool) -> None:
    tp = fn = fp = 0
    for c in corpus:
        source = stream_src(c.name, c.data) if streamed else \
            Source(name=c.name, size=len(c.data), open=lambda d=c.data: io.BytesIO(d))
        found, notes = found_in(source, sc)
        assert notes == [], (c.kind, notes)
        t, n, p = cc.score(c.labels, found)
        assert t / (t + n) >= 0.95 and (t + p == 0 or t / (t + p) >= 0.99), (c.kind, t, n, p)
        tp, fn, fp = tp + t, fn + n, fp + p
    recall, precision = tp / (tp + fn), tp / (tp + fp)
    assert recall >= 0.99 and precision >= 0.99, (recall, precision, tp, fn, fp)


def test_the_ingest_flags_each_planted_number_once(corpus: list[cc.Container]) -> None:
    for c in corpus:
        outcome = _feed(c.name, c.data)
        assert outcome.error is None, (c.kind, outcome.error)
        flagged = {d.masked for d in outcome.drafts if d.kind == "pan"}
        assert flagged == set(c.labels), c.kind
