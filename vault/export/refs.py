"""ROC references and recipients: the checks on what a person types."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from vault.age import X25519Recipient
from vault.errors import InvalidInput
from vault.evidence.vocabulary import ROC_REF_PATTERN
from vault.pii.fields import card_findings

_REF = re.compile(ROC_REF_PATTERN)


def roc_refs(refs: Iterable[str]) -> tuple[str, ...]:
    """The references, stripped and de-duplicated in order; InvalidInput for a malformed one
    (a card number has no letters... but is refused anyway: 12-19 digits alone never pass)."""
    out: list[str] = []
    for raw in refs:
        ref = raw.strip()
        if (not _REF.fullmatch(ref) or (ref.isdigit() and len(ref) >= 12)
                or card_findings(ref)):  # a PAN split by '-' or '.', or after a prefix
            raise InvalidInput(f"not a ROC reference: {_shown(ref)}",
                               hint="letters, digits, '.', '-' and '_', at most 64 "
                                    "characters (for example DOC-12)")
        if ref not in out:
            out.append(ref)
    return tuple(out)


def _shown(text: str) -> str:
    text = text[:70]
    return repr(text if not any(c.isdigit() for c in text) or len(text) < 12 else
                "(" + str(len(text)) + " characters)")


def age_recipient(text: str) -> str:
    """The canonical form of an age X25519 recipient (``age1…``); InvalidInput otherwise."""
    text = text.strip()
    try:
        return str(X25519Recipient.from_str(text))
    except ValueError as exc:
        raise InvalidInput(f"not an age X25519 recipient: {exc}",
                           hint="an age public key looks like age1 followed by 58 "
                                "characters (`age-keygen -y KEYFILE` prints it)") from None


def fingerprint(recipient: str) -> str:
    """SHA-256 of the recipient string, hex (the whole; :func:`short` for showing)."""
    return hashlib.sha256(recipient.encode("ascii")).hexdigest()


def short(fp: str) -> str:
    """The first 64 bits of a fingerprint in groups of four: ``3f2a 9c01 77be 0d45``."""
    return " ".join(fp[i:i + 4] for i in range(0, 16, 4))
