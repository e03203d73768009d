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

_ASCII_RUN = re.compile(rb"[\t\x20-\x7e]{8,}")
_UTF16_RUN = re.compile(rb"(?:[\t\x20-\x7e]\x00){8,}")
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


def _strings(f: Any) -> Iterator[str]:
    carry = b""
    batch: list[str] = []
    size = 0
    while True:
        new = f.read(CHUNK)
        buf = carry + new
        if not buf:
            break
        final = not new
        # keep an unfinished run (touching the end) for the next read
        cut = len(buf)
        if not final:
            m = re.search(rb"(?:[\t\x20-\x7e]|\x00)*\Z", buf[-_MAX_RUN:])
            if m is not None and m.start() > 0:
                cut = len(buf) - (len(buf[-_MAX_RUN:]) - m.start())
        part, carry = buf[:cut], buf[cut:]
        for rx, enc in ((_ASCII_RUN, "ascii"), (_UTF16_RUN, "utf-16-le")):
            for m in rx.finditer(part):
                s = m.group().decode(enc)
                batch.append(s)
                size += len(s)
        if size >= CHUNK:
            yield "\n".join(batch)
            batch, size = [], 0
        if final:
            break
    if batch:
        yield "\n".join(batch)
