"""An evidence item's life: its states, the moves between them, what is quarantined, what may
leave the firm, and the one crypto-shredding.

::

    pending ──> active <──> quarantined        (ingest; a reviewer's decisions)
       │          │            │
       │          └────────────┴──> shredded    (redaction now; destruction later)
       │                                │
       │                                └──> destroyed  (its payload purged, its row a
       │                                                  tombstone: `vault destroy --due`)
       └──> (row deleted)                       (a failed ingest leaves nothing visible)

An item is *quarantined* while it holds card data (``pan``, ``track_data``, ``cvv``,
``pin_block``) or content that could not be scanned (``unscannable``, fail closed) that no
reviewer has resolved. A quarantined item is never exported. *Shredding* erases the item's age
header, the only copy of its file key: the payload, even if a store still holds it under WORM
retention, can no longer be decrypted by anyone. *Destruction* (at the end of retention)
shreds first, then deletes every stored version of the payload and keeps only a tombstone of
the row (id, engagement, SHA-256, size, dates; no name, description, system or flags).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from vault.errors import InvalidInput
from vault.metadata.models import EvidenceItem, Flag, ItemMember, ItemRequirement, ItemRocRef
from vault.pii import CARD_KINDS
from vault.pii.feed import UNSCANNABLE


class ItemState(StrEnum):
    PENDING = "pending"
    """Being ingested: not visible; a failed ingest deletes the row (or `doctor` finds it)."""
    ACTIVE = "active"
    QUARANTINED = "quarantined"
    """Holds unresolved card data or unscannable content: never exported."""
    SHREDDED = "shredded"
    """Its header (file key) was erased: the content is gone for good."""
    DESTROYED = "destroyed"
    """Retention ended: shredded, every stored version purged, the row a tombstone."""


VISIBLE: tuple[str, ...] = (ItemState.ACTIVE, ItemState.QUARANTINED, ItemState.SHREDDED)
"""States an evidence list shows (a pending item is not there yet)."""

READABLE: tuple[str, ...] = (ItemState.ACTIVE, ItemState.QUARANTINED)
"""States whose content can still be decrypted."""

TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    ItemState.PENDING: frozenset({ItemState.ACTIVE, ItemState.QUARANTINED}),
    ItemState.ACTIVE: frozenset({ItemState.QUARANTINED, ItemState.SHREDDED}),
    ItemState.QUARANTINED: frozenset({ItemState.ACTIVE, ItemState.SHREDDED}),
    ItemState.SHREDDED: frozenset({ItemState.DESTROYED}),
    ItemState.DESTROYED: frozenset(),
}
"""The allowed moves; anything else is a bug (:func:`move` refuses it). An active or
quarantined item reaches ``destroyed`` only through ``shredded`` (the one :func:`shred`)."""

QUARANTINE_KINDS: frozenset[str] = frozenset(CARD_KINDS) | {UNSCANNABLE}
"""Flag kinds that keep an item quarantined while any of them is open."""


def quarantines(kinds: Iterable[str]) -> bool:
    """Whether open flags of these kinds put an item in quarantine."""
    return any(k in QUARANTINE_KINDS for k in kinds)


def move(item: EvidenceItem, to: ItemState) -> None:
    """Set the item's state, if the lifecycle allows that move (a no-op when it is there)."""
    now = ItemState(item.state)
    if now == to:
        return
    if to not in TRANSITIONS[now]:
        raise ValueError(f"an item cannot go from {now} to {to}")
    item.state = to


def exportable(item: EvidenceItem) -> bool:
    """Whether the item's content may leave the firm at all (disclosure rules come on top)."""
    return item.state == ItemState.ACTIVE and item.age_header is not None


def refuse_shredded(item: EvidenceItem, newer: str | None) -> None:
    """InvalidInput when the item's content was crypto-shredded (`newer`: its redacted
    version's id, if any, named in the hint) or destroyed."""
    if item.state == ItemState.DESTROYED:
        raise InvalidInput(f"item {item.id[:12]} was destroyed at the end of its retention: "
                           "its content and stored payload are gone",
                           hint="its destruction certificate (`vault certificates`) records "
                                "it")
    if item.state != ItemState.SHREDDED:
        return
    raise InvalidInput(f"item {item.id[:12]} was redacted: its original content was destroyed "
                       "(crypto-shredded)",
                       hint=f"read the redacted version {newer[:12]}" if newer else None)


Record = Callable[[str, str, dict[str, Any]], None]
"""Appends one audit event (action, object, detail) to the caller's transaction."""


def shred(item: EvidenceItem, record: Record, *, why: dict[str, Any]) -> None:
    """Crypto-shred one item: erase its age header (the only copy of its file key) and mark it
    shredded, with an ``item.shred`` audit event in the same transaction (`why` says what
    caused it: a redaction's new version, a destruction run). The caller commits.

    Redaction and destruction both shred through here, and only here."""
    move(item, ItemState.SHREDDED)
    item.age_header = None
    record("item.shred", item.id, why)


TOMBSTONE: dict[str, Any] = {
    "state": ItemState.DESTROYED.value, "age_header": None, "original_name": "",
    "declared_mime": None, "detected_mime": None, "system": None, "description": None,
}
"""What a destroyed item's row keeps no more: its header, name, types, system and
description. Its id, engagement, kind, disclosure, SHA-256, size, dates, object key and the
link to a redacted version stay (none of them is content)."""


def tombstone(s: Session, ids: Sequence[str]) -> int:
    """Turn shredded items whose payload is purged into tombstones (:data:`TOMBSTONE`), and
    delete what described their content: flags, a container's member list, requirement links
    and ROC references (coverage must not count evidence that is gone). The database's
    triggers clear the search copy. One statement per table for the whole batch; the caller
    commits. Returns how many rows became tombstones (already destroyed ones are left as they
    are)."""
    if not ids:
        return 0
    for table in (Flag, ItemMember, ItemRequirement, ItemRocRef):
        s.execute(sa.delete(table).where(col(table.item_id).in_(ids)))
    done = s.execute(sa.update(EvidenceItem)
                     .where(col(EvidenceItem.id).in_(ids),
                            col(EvidenceItem.state) == ItemState.SHREDDED.value)
                     .values(**TOMBSTONE))
    return int(done.rowcount or 0)  # type: ignore[attr-defined]
