"""Card data in the short texts that become metadata: a name, a description, a client, a file
name. Metadata is stored and shown in clear, so card data never belongs there: where a person
typed it, it is refused; where a file name carries it, it is masked (first 6, last 4).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from vault.errors import InvalidInput
from vault.pii.model import CARD_KINDS, Finding

if TYPE_CHECKING:  # the scanner loads with the first text checked, not with this module
    from vault.pii.scanner import Scanner

_lock = threading.Lock()
_scanner: Scanner | None = None


def _default() -> Scanner:
    global _scanner
    from vault.pii.scanner import Scanner

    with _lock:
        if _scanner is None:
            _scanner = Scanner(kinds=tuple(sorted(CARD_KINDS)))
        return _scanner


def card_findings(text: str, scanner: Scanner | None = None) -> list[Finding]:
    """The card data in `text` (`scanner`: one whose value hashes should be used), in order,
    without overlaps."""
    found = sorted((f for f in (scanner or _default()).scan_text(text)
                    if f.kind in CARD_KINDS), key=lambda f: (f.start, -f.end))
    out: list[Finding] = []
    for f in found:
        if not out or f.start >= out[-1].end:
            out.append(f)
    return out


def masked(text: str, findings: list[Finding]) -> str:
    """`text` with each finding replaced by its masked form."""
    parts, pos = [], 0
    for f in findings:
        parts += [text[pos:f.start], f.masked]
        pos = f.end
    return "".join(parts) + text[pos:]


def refuse_card_data(text: str | None, what: str) -> None:
    """InvalidInput when a text a person typed holds card data (the error never repeats it)."""
    if text and card_findings(text):
        raise InvalidInput(f"the {what} contains card data: metadata is stored in clear",
                           hint="describe it instead (for example its last 4 digits) and "
                                "keep card data in evidence, where it is scanned and "
                                "quarantined")
