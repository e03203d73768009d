"""Printable runs of binary files: the fast finder equals the reference regexes, and a whole
file is read in pieces without losing or splitting runs at chunk boundaries."""

from __future__ import annotations

import io
import random
import re

import pytest

from vault.pii import extract
from vault.pii.extract import (
    HAVE_NATIVE_RUNS,
    iter_text,
    printable_runs,
    py_printable_runs,
    py_run_texts,
    run_texts,
)

ASCII = re.compile(rb"[\t\x20-\x7e]{8,}")
UTF16 = re.compile(rb"(?:[\t\x20-\x7e]\x00){8,}")


def _reference(data: bytes) -> list[tuple[int, int, str]]:
    return ([(m.start(), m.end(), "ascii") for m in ASCII.finditer(data)]
            + [(m.start(), m.end(), "utf-16-le") for m in UTF16.finditer(data)])


def _samples() -> list[bytes]:
    rng = random.Random(3)
    out = [b"", b"short", b"exactly8", b"\x00" * 40, "x".encode("utf-16-le") * 7,
           "y".encode("utf-16-le") * 8, b"\x01" + "password=hunter2".encode("utf-16-le"),
           b"a\x00b\x00" * 20 + b"tail-text-here\x00\x00", bytes(range(256)) * 4]
    for _ in range(300):
        pieces = []
        for _ in range(rng.randint(1, 30)):
            r = rng.random()
            if r < 0.3:
                pieces.append(rng.randbytes(rng.randint(0, 40)))
            elif r < 0.6:
                n = rng.randint(0, 20)
                pieces.append(bytes(rng.choice(b"\tabc XYZ-=09~") for _ in range(n)))
            else:
                txt = "".join(rng.choice("abc 12\t") for _ in range(rng.randint(0, 20)))
                pieces.append(txt.encode("utf-16-le"))
        out.append(b"".join(pieces))
    return out


@pytest.mark.parametrize("data", _samples())
def test_fast_runs_equal_the_regexes(data: bytes) -> None:
    want = _reference(data)
    assert list(py_printable_runs(data)) == want
    assert list(printable_runs(data)) == want  # the C version when built


def test_native_runs_are_built() -> None:
    """setup.py builds the C version on a machine with a compiler (as `make setup` does)."""
    assert HAVE_NATIVE_RUNS


def test_native_runs_on_large_and_hostile_input() -> None:
    rng = random.Random(9)
    data = rng.randbytes(3 << 20) + b"A" * (2 << 20) + "Z".encode("utf-16-le") * 100_000
    assert list(printable_runs(data)) == _reference(data)
    assert list(printable_runs(memoryview(data)[5:-3])) == _reference(data[5:-3])


def test_runs_across_read_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "CHUNK", 64)
    rng = random.Random(5)
    words = [f"card-{i:05d}-{'x' * rng.randint(0, 90)}" for i in range(200)]
    data = b"".join(rng.randbytes(rng.randint(1, 5)).replace(b"\t", b"\x01") + w.encode()
                    + b"\x00\x01" for w in words)
    got = "\n".join(iter_text(io.BytesIO(data), "application/octet-stream"))
    for w in words:
        assert w in got


def _block_edges(rng: random.Random) -> bytes:
    """Runs of 6-10 units (just under, at and over the minimum) and long ones, ASCII and
    UTF-16 at both byte parities, placed so that they start, end or straddle the 64-byte blocks
    the C version passes over with bit masks."""
    out = bytearray()
    while len(out) < 700:
        gap = rng.choice([0, 1, 2, 3, 17, 63, 64, 65])
        out += bytes(rng.choice(b"\x00\x01\x80\xff\x1f\x7f") for _ in range(gap))
        pad = (-len(out)) % 64 + rng.randint(-9, 9)  # near the next block boundary
        out += b"\x01" * max(pad, 0)
        n = rng.choice([6, 7, 8, 9, 10, 15, 16, 17, 63, 64, 65, 130])
        text = bytes(rng.choice(b"\tab ~Z09") for _ in range(n))
        if rng.random() < 0.4:
            out += text.decode().encode("utf-16-le")
            if rng.random() < 0.5:
                out += b"\x00"  # a NUL after the pair run: the next starts at the other parity
        else:
            out += text
    return bytes(out)


def test_native_runs_equal_the_regexes_at_block_boundaries() -> None:
    """The C version's bit-mask pass over 64-byte blocks finds exactly what the byte-by-byte
    one does (the regexes), whatever the run lengths and where runs meet the blocks."""
    rng = random.Random(11)
    for _ in range(3000):
        data = _block_edges(rng)
        cut = rng.randint(0, 70)  # every alignment of the data to the blocks
        data = data[cut:]
        assert list(printable_runs(data)) == _reference(data)
    # long printable stretches (blocks wholly inside a run) and long UTF-16 text
    long_ascii = rng.randbytes(100) + b"x" * 1000 + b"\x01" + b"y" * 7 + b"\x02" + b"z" * 64
    long_wide = b"\x01" + "wide text ".encode("utf-16-le") * 50 + b"\x03"
    for data in (long_ascii, long_wide, long_wide[1:], long_ascii + long_wide):
        assert list(printable_runs(data)) == _reference(data)


@pytest.mark.parametrize("final", [True, False])
def test_run_texts_equal_the_reference(final: bool) -> None:
    """The C texts of the runs (one call per read) are the reference's: the runs decoded, and
    the same stretch of printable or NUL bytes at the end left for the next read."""
    rng = random.Random(13)
    samples = [*_samples()[:150], *(_block_edges(rng) for _ in range(150)),
               b"tail-of-a-run", b"x" * 40 + b"\x01" + "ab".encode("utf-16-le"), b"\x00" * 9]
    for data in samples:
        for max_carry in (4, 12, 1 << 20):
            want = py_run_texts(data, final, max_carry)
            assert run_texts(data, final, max_carry) == want
            assert run_texts(memoryview(data), final, max_carry) == want
    words, carried = py_run_texts(b"\x01" + b"abcdefghij" + b"\x02" + b"klm", False)
    assert (words, carried) == (["abcdefghij"], 3)
    assert py_run_texts(b"\x01" + b"abcdefghij", True) == (["abcdefghij"], 0)


def test_binary_strings_read_in_blocks_find_every_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs cut by the reads (4 CHUNKs at a time) are carried over and found whole: what the
    reads find together is what one pass over the whole data finds; a stretch longer than
    _MAX_RUN is emitted in pieces."""
    monkeypatch.setattr(extract, "CHUNK", 16)
    monkeypatch.setattr(extract, "_MAX_RUN", 100)
    rng = random.Random(17)
    pieces = []
    for _ in range(400):
        text = bytes(rng.choice(b"\tab ~Z09") for _ in range(rng.randint(5, 40)))
        pieces.append(text.decode().encode("utf-16-le") if rng.random() < 0.4 else text)
        pieces.append(rng.choice([b"\x01", b"\x01\x00", b"\xff\x01"]))
    data = b"".join(pieces)
    got = "\n".join(iter_text(io.BytesIO(data), "application/octet-stream")).split("\n")
    assert sorted(got) == sorted(py_run_texts(data, True)[0])
    long = b"\x01" + b"L" * 250 + b"\x01"
    got = "\n".join(iter_text(io.BytesIO(data + long), "application/octet-stream")).split("\n")
    cut = [t for t in got if t.startswith("L")]
    assert len(cut) > 1 and all(set(t) == {"L"} for t in cut)
    assert 250 - 7 <= sum(map(len, cut)) <= 250
