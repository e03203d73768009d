"""What a file is, by its content (libmagic), never by its name."""

from __future__ import annotations

import threading

import magic

MAGIC_BYTES = 1 << 16
"""How much of a file's head the type detection reads."""

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
        m = _local.magic = magic.Magic(mime=True)
    found = str(m.from_buffer(head))
    _local.last = (bytes(head), found)
    return found
