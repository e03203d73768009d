"""Printable runs of binary files: the fast finder equals the reference regexes, and a whole
file is read in pieces without losing or splitting runs at chunk boundaries."""

from __future__ import annotations

import io
import random
import re

import pytest

from vault.pii import extract
from vault.pii.extract import HAVE_NATIVE_RUNS, iter_text, printable_runs, py_printable_runs

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
