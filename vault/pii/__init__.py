"""PII and cardholder-data detection (pure library: no DB, no CLI).

>>> from vault.pii import Scanner
>>> [f.masked for f in Scanner().scan_text("card 4111 1111 1111 1111")]
['411111******1111']
"""

from typing import TYPE_CHECKING

from .encoding import decode_text, detect_encoding
from .model import CARD_KINDS, KINDS, Finding

if TYPE_CHECKING:
    from .scanner import HAVE_HYPERSCAN, Scanner, scan_bytes
else:
    def __getattr__(name: str) -> object:
        """The scanner (hyperscan, the compiled rules, the process pool's modules) loads on
        first use: a command that scans nothing (``vault status``, ``ls``, ``get``) does not
        pay for it."""
        if name in ("HAVE_HYPERSCAN", "Scanner", "scan_bytes"):
            from . import scanner
            return getattr(scanner, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "CARD_KINDS",
    "HAVE_HYPERSCAN",
    "KINDS",
    "Finding",
    "Scanner",
    "decode_text",
    "detect_encoding",
    "scan_bytes",
]
