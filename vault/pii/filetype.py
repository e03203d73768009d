"""What a file is, by its content (libmagic), never by its name."""

from __future__ import annotations

import threading

import magic

MAGIC_BYTES = 1 << 16
"""How much of a file's head the type detection reads."""

_local = threading.local()  # libmagic's handle is not to be shared between threads


def detect_mime(head: bytes) -> str:
    """libmagic's MIME type for the first bytes of a file."""
    if not head:
        return "application/x-empty"
    m = getattr(_local, "magic", None)
    if m is None:  # loading the database costs about a millisecond: once per thread
        m = _local.magic = magic.Magic(mime=True)
    return str(m.from_buffer(head))
