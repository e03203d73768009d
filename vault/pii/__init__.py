"""PII and cardholder-data detection (pure library: no DB, no CLI).

>>> from vault.pii import Scanner
>>> [f.masked for f in Scanner().scan_text("card 4111 1111 1111 1111")]
['411111******1111']
"""

from .encoding import decode_text, detect_encoding
from .model import CARD_KINDS, KINDS, Finding
from .scanner import HAVE_HYPERSCAN, Scanner, scan_bytes

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
