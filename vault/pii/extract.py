"""Text extraction for scanning: decoded text for text-like MIME types, ``strings``-style
printable runs (ASCII and UTF-16LE, >= 8 characters) for everything else.

PDFs (:mod:`vault.pii.pdf`, text per page) and PNG/JPEG screenshots (:mod:`vault.pii.ocr`)
have their own extractors; :func:`vault.scan.scan_source` chooses by MIME type.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any, BinaryIO

from vault.errors import InvalidInput

from .encoding import detect_encoding

TEXT_MIME_PREFIXES = ("text/",)
TEXT_MIMES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/x-ndjson",
        "application/csv",
        "application/x-yaml",
        "application/yaml",
        "application/toml",
        "application/javascript",
        "application/x-sh",
        "application/sql",
        "application/x-pem-file",
        "message/rfc822",
    }
)

CHUNK = 1 << 20
_MAX_RUN = 1 << 20  # a printable run longer than this is emitted in pieces


class UnreadableFile(InvalidInput, ValueError):
    """A file could not be read as the type it claims to be: corrupt, truncated, encrypted,
    or over a size/time limit. One file's problem: a scan reports it and goes on.

    (Also a ``ValueError`` so callers that catch per-file ``ValueError`` keep working.)
    """


def is_text_mime(mime: str) -> bool:
    base = mime.split(";", 1)[0].strip().lower()
    return (
        base.startswith(TEXT_MIME_PREFIXES)
        or base in TEXT_MIMES
        or base.endswith(("+json", "+xml"))
    )


def _charset(mime: str) -> str | None:
    for part in mime.split(";")[1:]:
        k, _, v = part.partition("=")
        if k.strip().lower() == "charset" and v.strip():
            name = v.strip().strip('"')
            try:
                return codecs.lookup(name).name
            except LookupError:
                return None
    return None


def iter_text(path_or_stream: str | os.PathLike[str] | BinaryIO, mime: str) -> Iterator[str]:
    """Yield text pieces of about 1 MiB from a file path or binary stream."""
    with ExitStack() as stack:
        if isinstance(path_or_stream, (str, os.PathLike)):
            f: Any = stack.enter_context(open(path_or_stream, "rb"))
        else:
            f = path_or_stream
        if is_text_mime(mime):
            yield from _decoded(f, _charset(mime))
        else:
            yield from _strings(f)


def _decoded(f: Any, charset: str | None) -> Iterator[str]:
    raw = f.read(CHUNK)
    if not raw:
        return
    enc = detect_encoding(raw)
    if charset and not enc.startswith(("utf-16", "utf-32", "utf-8-sig")):
        enc = charset  # a BOM wins over the declared charset
    dec = codecs.getincrementaldecoder(enc)(errors="replace")
    while raw:
        s = dec.decode(raw)
        if s:
            yield s
        raw = f.read(CHUNK)
    tail = dec.decode(b"", final=True)
    if tail:
        yield tail


_PRINTABLE = b"\t" + bytes(range(0x20, 0x7F))
# Runs are found without a per-byte Python or regex loop (Python's re tries a character-class
# repetition at every offset: ~20-30 MB/s on random bytes). Each byte becomes 1 (printable) or
# 0 via bytes.translate, the buffer one big integer; ANDing it with itself shifted by 1..7
# bytes leaves a 1 exactly where 8 printable bytes start, so the (rare) run starts are found
# with bytes.find at memchr speed. UTF-16LE runs alike, with printable/NUL byte pairs.
_IS_PRINTABLE = bytes(1 if bytes([i]) in _PRINTABLE else 0 for i in range(256))
_IS_NUL = bytes([1] + [0] * 255)
_ASCII_TEXT = bytes(0x41 if bytes([i]) in _PRINTABLE else 1 for i in range(256))
_UTF16_TEXT = bytes(0x41 if bytes([i]) in _PRINTABLE else 0x5A if i == 0 else 1
                    for i in range(256))
_UTF16_MORE = re.compile(rb"(?:AZ)*")


def _starts(mask: int, stride: int, n: int) -> bytes:
    """Byte i is 1 where 8 consecutive units of `stride` bytes all hold a 1 in `mask`
    (doubling: 2, 4, then 8 units)."""
    shift = 8 * stride
    acc = mask & (mask >> shift)
    acc &= acc >> (2 * shift)
    acc &= acc >> (4 * shift)
    return acc.to_bytes(n, "little")


try:  # the optional C accelerator (setup.py); the functions below are its reference
    from vault.pii._runs import runs as _native_runs
    from vault.pii._runs import texts as _native_texts
except ImportError:  # pragma: no cover - depends on the build
    _native_runs = _native_texts = None

HAVE_NATIVE_RUNS = _native_runs is not None


def printable_runs(part: bytes) -> Iterator[tuple[int, int, str]]:
    """See :func:`py_printable_runs` (this is its C version when built)."""
    if _native_runs is None:
        yield from py_printable_runs(part)
        return
    for start, end, utf16 in _native_runs(part):
        yield start, end, "utf-16-le" if utf16 else "ascii"


def py_printable_runs(part: bytes) -> Iterator[tuple[int, int, str]]:
    """(start, end, encoding) of every ASCII run of >= 8 printable characters (tab and
    0x20-0x7e), then of every UTF-16LE run of >= 8 such characters: what the regexes
    ``[\t\x20-\x7e]{8,}`` and ``(?:[\t\x20-\x7e]\x00){8,}`` find, leftmost, longest."""
    n = len(part)
    if n < 8:
        return
    printable = int.from_bytes(part.translate(_IS_PRINTABLE), "little")
    starts = _starts(printable, 1, n)
    text = part.translate(_ASCII_TEXT)
    pos = 0
    while (p := starts.find(1, pos)) >= 0:
        e = text.find(1, p + 8)
        e = n if e < 0 else e
        yield p, e, "ascii"
        pos = e
    if n < 16 or 0 not in part:
        return
    pairs = printable & (int.from_bytes(part.translate(_IS_NUL), "little") >> 8)
    starts = _starts(pairs, 2, n)
    if starts.find(1) < 0:
        return
    text = part.translate(_UTF16_TEXT)
    pos = 0
    while (p := starts.find(1, pos)) >= 0:
        m = _UTF16_MORE.match(text, p + 16)
        e = m.end() if m is not None else p + 16
        yield p, e, "utf-16-le"
        pos = e


_KEEP = _PRINTABLE + b"\x00"


def run_texts(buf: bytes, final: bool, max_carry: int = _MAX_RUN) -> tuple[list[str], int]:
    """The decoded text of every run :func:`printable_runs` finds in `buf`, and how many bytes
    at its end were left out: unless `final`, a stretch of printable or NUL bytes touching the
    end and shorter than `max_carry` (a run the next read may go on with). The C version when
    built (one call, no Python step per run)."""
    if _native_texts is not None:
        found, carried = _native_texts(buf, final, max_carry)
        return found, carried
    return py_run_texts(buf, final, max_carry)


def py_run_texts(buf: bytes, final: bool, max_carry: int = _MAX_RUN) -> tuple[list[str], int]:
    """Reference version of :func:`run_texts`."""
    buf = bytes(buf)
    cut = len(buf)
    if not final:
        tail = len(buf) - len(buf.rstrip(_KEEP))
        if 0 < tail < max_carry:
            cut -= tail
    part = buf[:cut]
    return [part[s:e].decode(enc) for s, e, enc in py_printable_runs(part)], len(buf) - cut


def _strings(f: Any) -> Iterator[str]:
    """The printable runs of a binary stream, joined by newlines into pieces of about CHUNK
    characters. Read 4 CHUNKs at a time (a whole block of the ingest's scan feed, handed over
    without a copy); an unfinished run touching the end of a read (up to _MAX_RUN bytes) is
    carried over to the next."""
    carry = b""
    batch: list[str] = []
    size = 0
    while True:
        new = f.read(4 * CHUNK)
        buf = carry + new if carry else new
        if not buf:
            break
        final = not new
        found, kept = run_texts(buf, final, _MAX_RUN)
        carry = bytes(memoryview(buf)[len(buf) - kept:]) if kept else b""
        if found:  # one string per read: a random file has ~250 short runs a MiB
            text = "\n".join(found)
            batch.append(text)
            size += len(text)
        if size >= CHUNK:
            yield "\n".join(batch)
            batch, size = [], 0
        if final:
            break
    if batch:
        yield "\n".join(batch)
