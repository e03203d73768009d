"""What a file is, by its content (libmagic), never by its name."""

from __future__ import annotations

import magic

MAGIC_BYTES = 1 << 16
"""How much of a file's head the type detection reads."""


def detect_mime(head: bytes) -> str:
    """libmagic's MIME type for the first bytes of a file."""
    return magic.Magic(mime=True).from_buffer(head) if head else "application/x-empty"
