"""What a file is, by its content (libmagic), never by its name."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import magic

MAGIC_BYTES = 1 << 16
"""How much of a file's head the type detection reads."""
TEXT_BYTES = 8 << 10
"""How much of a plain text's head libmagic is asked about (see :func:`detect_mime`)."""
_NOT_TEXT = bytes(sorted(set(range(0x20)) - set(b"\a\b\t\n\v\f\r\x1b"))) + b"\x7f"
"""The bytes libmagic's text tests never accept in a text, in any encoding."""

_local = threading.local()  # libmagic's handle is not to be shared between threads


def detect_mime(head: bytes) -> str:
    """libmagic's MIME type for the first bytes of a file.

    The last answer is kept (per thread): ingest asks for the same head twice, when it stores
    the file and when the scanner walks it, and libmagic takes a millisecond or two for a
    text (its text rules)."""
    if not head:
        return "application/x-empty"
    last = getattr(_local, "last", None)
    if last is not None and last[0] == head:
        return last[1]  # type: ignore[no-any-return]
    m = getattr(_local, "magic", None)
    if m is None:  # loading the database costs about a millisecond: once per thread
        import magic  # with the first file typed, not with every command (~4 ms)
        m = _local.magic = magic.Magic(mime=True)
    found = _plain_text(m, head) or str(m.from_buffer(head))
    _local.last = (bytes(head), found)
    return found


def _plain_text(m: magic.Magic, head: bytes) -> str | None:
    """"text/plain" when libmagic calls the first TEXT_BYTES of `head` that and the rest holds
    only bytes a text may hold (so the whole head would be called text/plain as well), else
    None. libmagic's text rules cost about 0.1 ms a KiB; a log export or configuration dump
    is typed from its first 8 KiB. Not for a head that starts like JSON, which libmagic types
    by parsing the whole of it."""
    if len(head) <= TEXT_BYTES or head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return None
    rest = head[TEXT_BYTES:]
    if len(rest.translate(None, _NOT_TEXT)) != len(rest) or not _csv_decided(head[:TEXT_BYTES]):
        return None
    found = str(m.from_buffer(head[:TEXT_BYTES]))
    return found if found == "text/plain" else None


_CSV_LINES = 10
"""libmagic's CSV test (``is_csv.c``) decides on a text's first lines: this many."""
_CSV_TOKEN = re.compile(rb'[",\n]')


def _csv_decided(prefix: bytes) -> bool:
    """Whether libmagic's CSV test (``csv_parse`` in ``is_csv.c``) decides on `prefix`, so
    the whole head gets the same answer: it stops at a newline (the ``_CSV_LINES``-th, a
    first line without a comma, or a line whose commas differ from the first's) before the
    end of `prefix`, quoted fields (which may hold newlines) skipped as it skips them."""
    fields = first = lines = 0
    at, end = 0, len(prefix)
    while True:
        m = _CSV_TOKEN.search(prefix, at)
        if m is None:
            return False
        c, at = m.group(), m.end()
        if c == b'"':  # up to the closing quote ("" is an escaped one)
            while True:
                q = prefix.find(b'"', at)
                if q < 0 or q + 1 >= end:
                    return False
                if prefix[q + 1] != 0x22:
                    at = q + 1
                    break
                at = q + 2
        elif c == b",":
            fields += 1
        else:
            lines += 1
            if lines == _CSV_LINES or (first == 0 and fields == 0) or \
                    (first != 0 and first != fields):
                return True
            first, fields = first or fields, 0
