"""Binding an item's id to its ciphertext, so that rows swapped or edited in the database are
caught, not decrypted as the other item.

Each payload's age header carries a label stanza ``-> evidence-vault-item <item id>``, covered
by the header MAC (keyed by the file key): nobody without the file key can change it or make a
header that names another item. ``age -d`` ignores the label (unknown stanzas are skipped), so
header + payload stays a standard age file. Items ingested before labels existed have none:
``verify`` still checks them against their ingest audit events.
"""

from __future__ import annotations

from vault.age import HeaderError, Stanza, header_stanzas
from vault.errors import IntegrityError
from vault.metadata.models import EvidenceItem

ITEM_LABEL = "evidence-vault-item"


def label(item_id: str) -> Stanza:
    """The header label that names the item a payload belongs to."""
    return Stanza(ITEM_LABEL, (item_id,), b"")


def bound_item(header: bytes) -> str | None:
    """The item id a header names, or None (an item ingested before labels existed)."""
    try:
        stanzas = header_stanzas(header)
    except HeaderError:
        return None  # decrypting it will say what is wrong, in the usual words
    for s in stanzas:
        if s.type == ITEM_LABEL and len(s.args) == 1:
            return s.args[0]
    return None


def check_bound(item: EvidenceItem) -> None:
    """IntegrityError when the item's header names another item. The label is authentic only
    once the header MAC is checked, which every decryption does next: a forged label fails
    there."""
    if item.age_header is None:
        return
    bound = bound_item(item.age_header)
    if bound is not None and bound != item.id:
        raise IntegrityError(
            f"item {item.id[:12]} holds the key of item {bound[:12]}: its database record was "
            "swapped or edited",
            hint="restore the database from a backup; `vault audit verify` checks the log")
