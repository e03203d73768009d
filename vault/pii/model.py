"""Finding model, kinds and the masking / keyed-hash helpers shared by every detector."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

KINDS: tuple[str, ...] = (
    "pan",
    "track_data",
    "cvv",
    "pin_block",
    "email",
    "phone",
    "national_id",
    "iban",
    "ip_address",
    "secret",
)
CARD_KINDS = frozenset({"pan", "track_data", "cvv", "pin_block"})


@dataclass(frozen=True)
class Finding:
    """One detected item. Never carries the clear value: only ``masked`` and a keyed hash."""

    kind: str
    detector: str
    start: int
    end: int
    line: int | None
    masked: str
    confidence: float
    value_hash: str


def mask_pan(digits: str) -> str:
    """First 6 + stars + last 4 (the PCI DSS display maximum)."""
    n = len(digits)
    return digits[:6] + "*" * (n - 10) + digits[-4:]


def mask_tail(value: str, keep: int = 2, min_len_to_show: int = 8) -> str:
    """'****' plus at most the last ``keep`` characters (none for short values)."""
    if len(value) >= min_len_to_show and keep > 0:
        return "****" + value[-keep:]
    return "****"


def mask_keep_last(value: str, keep: int = 2) -> str:
    """Replace every alphanumeric character except the last ``keep`` with '*'."""
    out = []
    remaining = sum(1 for c in value if c.isalnum())
    for c in value:
        if c.isalnum():
            out.append(c if remaining <= keep else "*")
            remaining -= 1
        else:
            out.append(c)
    return "".join(out)


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return (local[:1] or "*") + "***@" + domain


def mask_ip(value: str) -> str:
    if ":" in value:
        head = value.split(":", 1)[0]
        return (head or "") + ":****"
    parts = value.split(".")
    return ".".join(parts[:2] + ["*"] * (len(parts) - 2))


def keyed_hash(key: bytes, normalised: str) -> str:
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()
