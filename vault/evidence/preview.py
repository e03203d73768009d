"""Showing an item's content on a terminal: the head of it as text (card numbers masked,
escape sequences replaced), an image as its OCR text. Nothing here decrypts or stores."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

PREVIEW_BYTES = 256 * 1024

# -- masking card numbers ------------------------------------------------------------------------

_PAN_RUN = re.compile(r"(?<![\d])\d(?:[ .-]?\d){12,18}(?![\d])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _mask_digits(digits: str) -> str:
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def mask_cards_fallback(text: str) -> str:
    """Mask every 13-19 digit run (single spaces, dots or dashes allowed) that passes Luhn."""
    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"[ .-]", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            return _mask_digits(digits)
        return m.group(0)
    return _PAN_RUN.sub(repl, text)


_scanner: Any = None


def _pii_masker() -> Callable[[str], str] | None:
    """The PII scanner's masking of card numbers and track data (one scanner, made once), or
    None when the library cannot be loaded."""
    global _scanner
    try:
        from vault.pii import Scanner
        from vault.pii.fields import card_findings, masked
        if _scanner is None:
            _scanner = Scanner(kinds=("pan", "track_data"))
    except Exception:  # noqa: BLE001 - the PII library is optional here; fall back
        return None
    scanner = _scanner
    return lambda text: masked(text, card_findings(text, scanner))


def mask_cards(text: str) -> str:
    """Card numbers (and track data) masked for display: the PII scanner when available, then
    the Luhn fallback over what remains (belt and braces)."""
    masker = _pii_masker()
    if masker is not None:
        try:
            text = masker(text)
        except Exception:  # noqa: BLE001 - never show a clear PAN because a detector broke
            pass
    return mask_cards_fallback(text)


class Head:
    """A write-only sink that keeps the first `limit` bytes and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.buf = io.BytesIO()
        self.limit = limit
        self.total = 0

    def write(self, b: bytes) -> int:
        room = self.limit - self.buf.tell()
        if room > 0:
            self.buf.write(b[:room])
        self.total += len(b)
        return len(b)


def ocr_preview(data: bytes) -> str:
    """An image shown as its OCR text (card numbers masked), or why it cannot be."""
    from vault.errors import VaultError
    from vault.pii.ocr import ocr_image
    try:
        text = ocr_image(data).text
    except VaultError as exc:
        return f"no OCR text: {exc.message}"
    return "OCR text of the image:\n\n" + mask_cards(text) if text.strip() else \
        "OCR found no text in this image"


def decode_preview(data: bytes) -> str | None:
    """Text for display, or None when the bytes are not text."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:8192]:
        return None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 3:  # a character cut by the preview limit
                text = data[:exc.start].decode("utf-8-sig")
            else:
                text = data.decode("utf-8", errors="replace")
                if text.count("\ufffd") > max(8, len(text) // 20):
                    text = data.decode("latin-1")
    # Control characters (escape sequences) must never reach the terminal.
    return "".join(c if c in "\n\t" or (c >= " " and c != "\x7f") else "\ufffd" for c in text)


def interview_markdown(role: str, on: date, requirements: Iterable[str], text: str) -> str:
    reqs = ", ".join(requirements) or "-"
    return (f"# Interview note\n\n- Interviewee role: {role}\n- Date: {on.isoformat()}\n"
            f"- Requirements: {reqs}\n\n{text.rstrip()}\n")
