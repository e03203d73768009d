"""What a file is, by its content (libmagic), never by its name."""

from __future__ import annotations

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


def _csv_decided(prefix: bytes) -> bool:
    """Whether libmagic's CSV test gives `prefix` the answer it gives the whole head: it has
    ``_CSV_LINES`` complete lines, or its complete lines already fail the test (the first has no
    comma, or two have different numbers of commas). Not when a quote is in it (a quoted field
    may hold a newline)."""
    if b'"' in prefix:
        return False
    lines = prefix.split(b"\n")[:-1]  # the complete ones
    if len(lines) >= _CSV_LINES:
        return True
    commas = {line.count(b",") for line in lines}
    return bool(lines) and (lines[0].count(b",") == 0 or len(commas) > 1)
