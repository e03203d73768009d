"""Encoding detection, the one-byte-per-character view the detectors run on, and reading a
stream whole."""

from __future__ import annotations

import codecs
from typing import Any

_FULLWIDTH = {0xFF10 + i: 0x30 + i for i in range(10)}
_FULLWIDTH.update({0xFF21 + i: 0x41 + i for i in range(26)})
_FULLWIDTH.update({0xFF41 + i: 0x61 + i for i in range(26)})
_FULLWIDTH.update({0xFF0D: 0x2D, 0x3000: 0x20, 0xFF1A: 0x3A, 0xFF1D: 0x3D})
_SEPARATORS = {c: 0x2D for c in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212,
                                 0xFE58, 0xFE63)}
_SEPARATORS.update({c: 0x20 for c in (0xA0, *range(0x2000, 0x200B), 0x202F, 0x205F)})
"""Unicode dashes and spaces (a card number split by en dashes or no-break spaces, as word
processors and web pages write it) seen as '-' and ' ', one character for one."""
_FULLWIDTH.update(_SEPARATORS)
_LATIN1_SEPARATORS = {c: r for c, r in _SEPARATORS.items() if c < 0x100}


def detect_encoding(head: bytes, *, complete: bool = False) -> str:
    """Codec name for ``head``: BOMs first, then BOM-less UTF-16 by NUL pattern, then strict
    UTF-8, else Latin-1. Unless ``complete``, a UTF-8 sequence cut at the end of ``head`` is
    allowed (``head`` is then taken to be the start of a longer stream)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 8 and sample.count(0) * 4 >= len(sample):
        even_nul = sample[0::2].count(0)
        odd_nul = sample[1::2].count(0)
        half = len(sample) // 2
        if odd_nul >= half * 0.6 and even_nul <= half * 0.1:
            return "utf-16-le"
        if even_nul >= half * 0.6 and odd_nul <= half * 0.1:
            return "utf-16-be"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if complete:
        return "latin-1"
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        dec.decode(head, final=False)  # only a sequence cut at the end of the head
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def decode_text(head: bytes) -> str:
    """Decode ``head`` with the detected encoding (undecodable bytes become U+FFFD)."""
    return head.decode(detect_encoding(head, complete=True), errors="replace")


def byte_view(text: str) -> tuple[bytes, str | None]:
    """(one byte per character, text-or-None).

    Latin-1-representable text maps 1:1 to bytes (a no-break space as a space) and the second
    item is None. Other text has full-width digits/letters and Unicode dashes and spaces folded
    to ASCII (same length) and every character outside Latin-1 replaced by '?'; the folded
    text is returned for the non-ASCII label pass.
    """
    if text.isascii():
        return text.encode("ascii"), None
    try:
        return text.translate(_LATIN1_SEPARATORS).encode("latin-1"), None
    except UnicodeEncodeError:
        pass
    folded = text.translate(_FULLWIDTH)
    return folded.encode("latin-1", "replace"), folded


def read_full(f: Any, n: int) -> bytes:
    """`n` bytes, fewer only at the end: a raw stream (the ingest pipeline's blocks, a member
    being decompressed) may return less per read."""
    data = f.read(n)
    if not data or len(data) >= n:
        return data or b""
    parts = [data]
    got = len(data)
    while got < n:
        more = f.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)
