"""Parallel scanning: worker processes, threads and a single thread report the same findings.

Processes get chunks of the stream (with the overlap/ownership rule of ``Scanner._jobs``) and
return rows in order; the parent reads a bounded number of chunks ahead, so a pipe works and
memory stays flat. Also the per-finding shortcuts: the cached keyed hash and the Finding
builder.
"""

from __future__ import annotations

import io
import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bench.bench_scan import generate as gateway_log
from tests.pii.corpus import generate
from vault.pii import Finding, Scanner
from vault.pii import scanner as scanner_mod
from vault.pii.model import KINDS, keyed_hash
from vault.pii.rules import (
    _CARD_WORDS,
    _NEG_LABEL,
    _NEG_SUFFIXES,
    _NEG_WORDS,
    Hit,
    card_words,
    neg_label,
)
from vault.pii.scanner import _drop_overlaps, _rank, finding_from_row

KEY = b"parallel-test-key"


@pytest.fixture(scope="module")
def scanner() -> Iterator[Scanner]:
    sc = Scanner(KEY)
    yield sc
    if sc._pool is not None:
        sc._pool.shutdown()


def scan(sc: Scanner, data: bytes, **kw: object) -> list[Finding]:
    return list(sc.scan_stream(io.BytesIO(data), **kw))  # type: ignore[arg-type]


def test_corpus_same_findings_in_processes_threads_and_single(scanner: Scanner) -> None:
    total = 0
    for doc in generate(seed=91, scale=1):
        data = doc.data()
        single = scan(scanner, data, workers=1)
        assert single == scanner.scan_text(doc.text), doc.name
        for chunk in (4096, 10007):
            assert scan(scanner, data, chunk_chars=chunk, overlap=512, workers=2,
                        processes=False) == single, (doc.name, chunk)  # fmt: skip
            assert scan(scanner, data, chunk_chars=chunk, overlap=512, workers=2,
                        processes=True) == single, (doc.name, chunk)  # fmt: skip
        total += len(single)
    assert total > 500


def test_generated_log_across_chunk_boundaries(scanner: Scanner, tmp_path: Path) -> None:
    log = tmp_path / "gw.log"
    gateway_log(log, 2_000_000, seed=3)
    data = log.read_bytes()
    single = scan(scanner, data, workers=1)
    kinds = {f.kind for f in single}
    assert {"pan", "track_data", "ip_address"} <= kinds and len(single) > 8000
    for chunk in (65_537, 250_000, 1 << 20):
        assert scan(scanner, data, chunk_chars=chunk, processes=True) == single, chunk
        assert scan(scanner, data, chunk_chars=chunk, processes=False) == single, chunk


def test_automatic_switch_to_processes_mid_stream(scanner: Scanner, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "gw.log"
    gateway_log(log, 3_000_000, seed=4)
    data = log.read_bytes()
    single = scan(scanner, data, workers=1)
    monkeypatch.setattr(scanner_mod, "THREAD_CHUNK", 100_003)
    monkeypatch.setattr(scanner_mod, "PROCESS_CHUNK", 400_009)
    monkeypatch.setattr(scanner_mod, "PROCESS_MIN_BYTES", 1_000_000)
    sc = Scanner(KEY)
    try:
        assert scan(sc, data) == single
        assert sc._pool is not None  # it did move to processes
    finally:
        if sc._pool is not None:
            sc._pool.shutdown()


def test_pipe_in_processes(scanner: Scanner, tmp_path: Path) -> None:
    """A non-seekable stream, as ingest feeds it."""
    log = tmp_path / "gw.log"
    gateway_log(log, 1_500_000, seed=5)
    data = log.read_bytes()
    r, w = os.pipe()

    def feed() -> None:
        with open(w, "wb") as out:
            for i in range(0, len(data), 65536):
                out.write(data[i : i + 65536])

    t = threading.Thread(target=feed)
    t.start()
    with open(r, "rb") as f:
        got = list(scanner.scan_stream(f, chunk_chars=300_007, processes=True))
    t.join()
    assert got == scan(scanner, data, workers=1)


class _Counting(io.RawIOBase):
    """An endless-looking stream of log lines that counts what was read from it."""

    def __init__(self, size: int) -> None:
        self.size, self.pos = size, 0
        self.line = b"2024-03-01 gw txn=123456789012 ip=10.1.2.3 pan=4111111111111111\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
        n = min(len(buf), self.size - self.pos)
        if n <= 0:
            return 0
        off = self.pos % len(self.line)
        block = (self.line * (n // len(self.line) + 2))[off : off + n]
        buf[:n] = block
        self.pos += n
        return n


def test_processes_read_a_bounded_number_of_chunks_ahead(scanner: Scanner) -> None:
    chunk = 1 << 20
    raw = _Counting(1 << 30)
    stream = io.BufferedReader(raw, buffer_size=1 << 16)
    it = scanner.scan_stream_rows(stream, chunk_chars=chunk, processes=True, workers=2)
    first = next(it)
    assert first and first[0][0] == "ip_address"
    assert raw.pos <= 6 * chunk, raw.pos  # workers + 1 in flight, one read ahead, the probe
    it.close()


def test_value_hash_is_keyed_hash_for_any_key() -> None:
    rng = random.Random(3)
    values = ["", "4111111111111111", "10.1.2.3", "Hyvä päivä", "パスワード", "x" * 300]
    for n in (0, 1, 32, 63, 64, 65, 200):
        key = bytes(rng.randrange(256) for _ in range(n))
        sc = Scanner(key, kinds={"pan"})
        for v in values:
            assert sc.value_hash(v) == keyed_hash(key, v)
            assert sc.value_hash(v) == keyed_hash(key, v)  # from the cache


def test_hash_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanner_mod, "_HASH_CACHE_SIZE", 8)
    sc = Scanner(KEY, kinds={"pan"})
    for i in range(100):
        assert sc.value_hash(str(i)) == keyed_hash(KEY, str(i))
        assert len(sc._hash_cache) <= 8


def test_finding_builder_equals_the_constructor() -> None:
    row = ("pan", "pan.luhn_iin", 5, 21, 3, "411111******1111", 0.99, "ab" * 32)
    f = finding_from_row(row)
    assert f == Finding(*row) and hash(f) == hash(Finding(*row))
    assert repr(f) == repr(Finding(*row))
    with pytest.raises(AttributeError):
        f.kind = "x"  # type: ignore[misc]


def _drop_overlaps_reference(hits: list[Hit]) -> list[Hit]:
    """The overlap rule as first written (one sort, active set rebuilt for every hit)."""
    if len(hits) < 2:
        return hits
    hits = sorted(hits, key=lambda h: (h[2], -h[3]))
    kept: list[Hit | None] = []
    active: list[int] = []
    for h in hits:
        if active:
            active = [i for i in active if (k := kept[i]) is not None and k[3] > h[2]]
        if not active:
            active.append(len(kept))
            kept.append(h)
            continue
        losers = []
        for i in active:
            k = kept[i]
            assert k is not None
            if _rank(k) >= _rank(h):
                break
            losers.append(i)
        else:
            for i in losers:
                kept[i] = None
            active.append(len(kept))
            kept.append(h)
    return [k for k in kept if k is not None]


def test_overlap_resolution_equals_the_reference() -> None:
    rng = random.Random(8)
    kinds = list(KINDS)
    for _ in range(20000):
        hits: list[Hit] = []
        for j in range(rng.randint(0, 12)):
            s = rng.randrange(60)
            e = s + rng.randint(1, 25)
            hits.append((rng.choice(kinds), f"d{j}", s, e, "m", "v", rng.choice([0.5, 0.8, 0.9])))
        assert _drop_overlaps(list(hits)) == _drop_overlaps_reference(list(hits)), hits


def _label_context(rng: random.Random, words: list[bytes]) -> bytes:
    parts = []
    for _ in range(rng.randint(0, 5)):
        k = rng.randrange(5)
        if k == 0:
            parts.append(rng.choice(words))
        elif k == 1:
            parts.append(rng.choice([b"_", b"-", b" ", b""])
                         + rng.choice([*_NEG_SUFFIXES, b"ID", b"Num", b"x"]))  # fmt: skip
        elif k == 2:
            parts.append(bytes(rng.choice(b"\"' \t:=>\n") for _ in range(rng.randint(0, 5))))
        elif k == 3:
            parts.append(rng.choice([b"=", b": ", b"\"=\"", b">", b"=\n", b" \t:\t "]))
        else:
            parts.append(bytes(rng.choice(b"aZ09 .-_\n\xff") for _ in range(rng.randint(0, 4))))
    return b"".join(parts)[-40:]


def test_label_checks_equal_their_regexes() -> None:
    """The PAN context checks (non-card field label before the number, card words) give
    the answers of the regexes they stand for."""
    rng = random.Random(9)
    words = [*_NEG_WORDS, b"card", b"pan", b"PAN", b"Mid", b"TXN", b"Visa", b"cc_num", b"ccnum",
             b"acct-num", b"panel", b"pan_", b"x", b"kortti", b"AMEX", b"master"]  # fmt: skip
    neg = card = 0
    for _ in range(200_000):
        b = _label_context(rng, words)
        want = _NEG_LABEL.search(b) is not None
        assert neg_label(b) == want, b
        neg += want
        want = _CARD_WORDS.search(b) is not None
        assert card_words(b) == want, b
        card += want
    assert neg > 3_000 and card > 10_000


def test_rendered_where_scanned_in_every_mode(scanner: Scanner, tmp_path: Path) -> None:
    log = tmp_path / "gw.log"
    gateway_log(log, 2_000_000, seed=5)
    data = log.read_bytes()
    chunk = 400_009
    rows = list(scanner.scan_stream_rows(io.BytesIO(data), processes=True, chunk_chars=chunk))
    want = [len(r) for r in rows]
    assert len(want) >= 4 and sum(want) > 1000
    for mode in ({"processes": True}, {"workers": 2, "processes": False}, {"workers": 1}):
        got = list(scanner.scan_stream_rendered(io.BytesIO(data), len, chunk_chars=chunk,
                                                **mode))  # type: ignore[arg-type]  # fmt: skip
        assert got == want, mode
    bare = list(scanner.scan_stream_rows(io.BytesIO(data), processes=True, values="none",
                                         chunk_chars=chunk))  # fmt: skip
    assert [[r[:7] for r in b] for b in bare] == [[r[:7] for r in b] for b in rows]
    assert all(r[7] == "" for b in bare for r in b)
    assert all(len(r[7]) == 64 for b in rows for r in b)


def test_a_big_regular_file_starts_the_workers_at_once(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream of unknown size moves to processes after PROCESS_MIN_BYTES / 2; a regular file
    known to be bigger than PROCESS_MIN_BYTES goes to them from its first chunk."""
    monkeypatch.setattr(scanner_mod, "PROCESS_MIN_BYTES", 1 << 20)
    data = b"card 4111111111111111 from 10.1.2.3\n" * 90_000  # 3.2 MB
    (tmp_path / "big.log").write_bytes(data)
    for opened, size, started in ((lambda: io.BytesIO(data), None, False),
                                  (lambda: io.BytesIO(data), len(data), True),  # told its size
                                  (lambda: (tmp_path / "big.log").open("rb"), None, True)):
        with Scanner(KEY) as sc, opened() as f:
            rows = sc.scan_stream_rendered(f, None, chunk_chars=64 << 10, workers=2, size=size)
            first = next(rows)  # three 64 KiB chunks read: far below 512 KiB
            assert (sc._pool is not None) is started
            assert first and sum(map(len, rows)) + len(first) == 180_000
            # scanned wholly by the workers: this process never compiled its Hyperscan database
            assert (sc._hs_engine is None) is (started and sc.uses_hyperscan)


def test_close_stops_the_workers_and_the_scanner_stays_usable() -> None:
    data = b"card 4111111111111111 from 10.1.2.3\n" * 30000
    with Scanner(KEY) as sc:
        first = list(sc.scan_stream_rows(io.BytesIO(data), chunk_chars=200_003, processes=True))
        pool = sc._pool
        assert pool is not None
        procs = list(pool._processes.values())
        assert procs and all(p.is_alive() for p in procs)
    assert sc._pool is None and not any(p.is_alive() for p in procs)
    again = list(sc.scan_stream_rows(io.BytesIO(data), chunk_chars=200_003, processes=True))
    assert again == first and sum(map(len, first)) == 60000
    sc.close()
    sc.close()  # idempotent


class _Dribble(io.RawIOBase):
    """A raw stream that returns at most `step` bytes per read (like the ingest pipeline's
    block queue)."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self.step, len(self.data) - self.pos)
        b[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def test_chunks_are_full_size_on_a_stream_of_small_reads() -> None:
    data = b"card 4111111111111111 from 10.1.2.3\n" * 3000  # 108,000 bytes
    sc = Scanner(KEY)
    sizes = list(sc.scan_stream_rendered(_Dribble(data, 1000), lambda rows: len(rows),
                                         chunk_chars=10_000, workers=1))  # fmt: skip
    # the first 64 KiB (read whole to detect the encoding), then 10,000 at a time: not one
    # chunk per 1,000-byte read
    assert len(sizes) == 6
    assert sum(sizes) == 6000
    assert list(sc.scan_stream(_Dribble(data, 1000), chunk_chars=10_000)) == list(
        sc.scan_stream(io.BytesIO(data), chunk_chars=10_000))
