"""Streaming: chunk boundaries, line numbers, memory bound, encodings; text extraction."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from tests.pii.corpus import generate
from vault.pii import HAVE_HYPERSCAN, Scanner, decode_text, detect_encoding
from vault.pii.extract import iter_text

PAN = "4111111111111111"
DOC = (
    "line one\n"
    f"card {PAN} here\n"
    "third line ;5555555555554444=27091011234567890? more\n"
    "mail john@example.com and pw: password=hunter22\n"
    "amex 3782 822463 10005 end\n"
)


def keyset(findings: object) -> list[tuple[str, int, int, int | None]]:
    return [(f.kind, f.start, f.end, f.line) for f in findings]  # type: ignore[attr-defined]


@pytest.mark.parametrize("workers", [1, 2])
def test_every_chunk_size_matches_scan_text(scanner: Scanner, workers: int) -> None:
    expected = keyset(scanner.scan_text(DOC))
    assert [k[0] for k in expected] == ["pan", "track_data", "email", "secret", "pan"]
    for chunk in list(range(1, 41)) + [64, 100, 1000]:
        for overlap in (96, 128):
            got = keyset(
                scanner.scan_stream(
                    io.StringIO(DOC), chunk_chars=chunk, overlap=overlap, workers=workers
                )  # fmt: skip
            )
            assert got == expected, (chunk, overlap)


def test_pan_across_chunk_boundary_found_once_with_line(scanner: Scanner) -> None:
    prefix = "x" * 50 + "\n" + "y" * 37 + "\n" + "pan: "
    text = prefix + PAN + "\nnext\n"
    b = text.encode()
    for chunk in (len(prefix) + 3, len(prefix) + 8, 7, 13):
        found = list(scanner.scan_stream(io.BytesIO(b), chunk_chars=chunk, overlap=64))
        assert [(f.kind, f.start, f.end, f.line) for f in found] == [
            ("pan", len(prefix), len(prefix) + 16, 3)
        ]


def test_line_numbers_far_apart(scanner: Scanner) -> None:
    text = "\n" * 5000 + PAN + "\n" * 7000 + "john@example.com\n"
    for chunk in (333, 4096, 1 << 20):
        found = list(scanner.scan_stream(io.BytesIO(text.encode()), chunk_chars=chunk,
                                         overlap=256))  # fmt: skip
        assert [(f.kind, f.line) for f in found] == [("pan", 5001), ("email", 12001)]
        assert found[0].start == 5000
    assert [f.line for f in scanner.scan_text(PAN, line_offset=10)] == [11]


class _Synthetic(io.RawIOBase):
    """A long single line generated on the fly (never held in memory), with planted PANs."""

    def __init__(self, size: int, plants: dict[int, bytes]) -> None:
        self.size, self.pos, self.plants = size, 0, plants

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
        n = min(len(buf), self.size - self.pos)
        if n <= 0:
            return 0
        block = bytearray(b"abc def 12345 " * (n // 14 + 1))[:n]
        for at, data in self.plants.items():
            lo, hi = max(at, self.pos), min(at + len(data), self.pos + n)
            if lo < hi:
                block[lo - self.pos : hi - self.pos] = data[lo - at : hi - at]
        buf[:n] = block
        self.pos += n
        return n


def test_single_huge_line_bounded_memory() -> None:
    size = 100 * 1024 * 1024 if HAVE_HYPERSCAN else 12 * 1024 * 1024
    chunk = 1 << 20
    plants = {1000: b" " + PAN.encode() + b" ", chunk - 7: b" " + PAN.encode() + b" ",
              size - 100: b" " + PAN.encode() + b" "}  # fmt: skip
    scanner = Scanner(kinds={"pan"})
    stream = io.BufferedReader(_Synthetic(size, plants), buffer_size=1 << 16)
    tracemalloc.start()
    try:
        found = list(scanner.scan_stream(stream, chunk_chars=chunk))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(f.start, f.line) for f in found] == [(a + 1, 1) for a in sorted(plants)]
    assert peak < 12 * chunk, peak


def test_encodings_utf16_latin1_utf8_bom(scanner: Scanner) -> None:
    text = "Henkilö: Matti Meikäläinen\nkortti 4111 1111 1111 1111\nsähköposti matti@example.fi\n"
    expected = keyset(scanner.scan_text(text))
    assert [k[0] for k in expected] == ["pan", "email"]
    for enc in ("utf-8", "utf-8-sig", "utf-16", "latin-1", "utf-16-le"):
        data = text.encode(enc)
        for chunk in (5, 64, 1 << 20):
            got = keyset(scanner.scan_stream(io.BytesIO(data), chunk_chars=chunk, overlap=128))
            assert got == expected, (enc, chunk)


def test_japanese_text_offsets(scanner: Scanner) -> None:
    text = "面談メモ：カード番号 3530111333300000 を表示。\nマイナンバー 123456789018\n"
    found = list(scanner.scan_stream(io.BytesIO(text.encode("utf-16")), chunk_chars=9,
                                     overlap=64))  # fmt: skip
    assert [(f.kind, text[f.start : f.end], f.line) for f in found] == [
        ("pan", "3530111333300000", 1),
        ("national_id", "123456789018", 2),
    ]


def test_detect_encoding() -> None:
    assert detect_encoding("ä".encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding("abc".encode("utf-16")) == "utf-16"
    assert detect_encoding("hello world, ok".encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding("hello world, ok".encode("utf-16-be")) == "utf-16-be"
    assert detect_encoding("äö".encode()) == "utf-8"
    assert detect_encoding("äö".encode()[:-1]) == "utf-8"  # cut sequence
    assert detect_encoding("äö".encode("latin-1")) == "latin-1"
    assert decode_text("Hyvä".encode("latin-1")) == "Hyvä"
    assert decode_text("Hyvä".encode("utf-16")) == "Hyvä"
    assert decode_text("Hyvä".encode("utf-8-sig")) == "Hyvä"


def test_corpus_recall_and_precision_for_card_data() -> None:
    scanner = Scanner(b"k", kinds={"pan", "track_data"})
    tp = fp = fn = 0
    docs = generate(seed=20240601, scale=2)
    assert {d.encoding for d in docs} >= {"utf-8", "utf-16", "latin-1"}
    assert sum(d.lookalikes for d in docs) > 100
    for doc in docs:
        expected = {(p.kind, p.start, p.end) for p in doc.planted if p.kind in scanner.kinds}
        got = {
            (f.kind, f.start, f.end)
            for f in scanner.scan_stream(io.BytesIO(doc.data()), chunk_chars=4096)
        }
        tp += len(expected & got)
        fp += len(got - expected)
        fn += len(expected - got)
    recall, precision = tp / (tp + fn), tp / (tp + fp)
    assert tp > 300
    assert recall >= 0.99 and precision >= 0.99, (recall, precision, tp, fp, fn)


def test_corpus_all_kinds_recall(scanner: Scanner) -> None:
    missed = []
    for doc in generate(seed=5):
        got = {(f.kind, f.start, f.end) for f in scanner.scan_text(doc.text)}
        missed += [(doc.name, p) for p in doc.planted if (p.kind, p.start, p.end) not in got]
    assert missed == []


# ----------------------------------------------------------------------------- extraction


def test_iter_text_plain_encodings() -> None:
    text = "Hyvä päivä 4111111111111111\n" * 3
    for enc in ("utf-8", "utf-16", "latin-1", "utf-8-sig"):
        assert "".join(iter_text(io.BytesIO(text.encode(enc)), "text/plain")) == text
    assert "".join(iter_text(io.BytesIO(text.encode("cp1252")), "text/csv; charset=cp1252")) == text
    assert "".join(iter_text(io.BytesIO(b'{"a": 1}'), "application/json")) == '{"a": 1}'


def test_iter_text_binary_strings(tmp_path: object) -> None:
    blob = (
        b"\x00\x01\x02short\x00"
        + b"card=4111111111111111;"
        + b"\xff\x00\x10"
        + "password=hunter22".encode("utf-16-le")
        + b"\x00\x00\x07"
    )
    pieces = "\n".join(iter_text(io.BytesIO(blob), "application/octet-stream"))
    assert "card=4111111111111111;" in pieces
    assert "password=hunter22" in pieces
    assert "short" not in pieces
    kinds = {f.kind for f in Scanner().scan_text(pieces)}
    assert kinds == {"pan", "secret"}
