"""What may leave the firm, to whom: the disclosure rules as one table.

Each cell of :data:`RULES` is (recipient type, item situation) × disclosure level → include, or
the reason it is withheld. A *situation* is the item's lifecycle state as export sees it (see
:mod:`vault.evidence.lifecycle`): ``active`` (exportable), ``quarantined`` (unresolved card
data or unscannable content: never), ``redacted`` (a shredded original whose redacted version —
the newer item whose ``supersedes_id`` points to it — goes in its place, judged by its own
cells), ``destroyed`` (shredded with no newer version), ``pending`` (not yet ingested). On top
of the table, a client recipient is bound to one client: another client's evidence is never
included (:func:`decide`). Anything the table does not name is withheld (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vault.evidence.lifecycle import ItemState, exportable
from vault.metadata.models import EvidenceItem


class Situation(StrEnum):
    ACTIVE = "active"
    QUARANTINED = "quarantined"
    REDACTED = "redacted"
    DESTROYED = "destroyed"
    PENDING = "pending"


INCLUDE = "include"
REPLACE = "replace"
"""The item stays out and its redacted version is considered in its place."""

QUARANTINED = "quarantined: unresolved card data or unscannable content"
DESTROYED = "destroyed: its content was crypto-shredded"
PENDING = "pending: not ingested yet"
TEAM_ONLY = "disclosure team: evidence for the assessment team only"
COUNCIL_ONLY = "disclosure council-only: may leave the firm only to the PCI SSC"
OTHER_CLIENT = "another client's evidence"
UNAVAILABLE = "its content is unavailable"
UNKNOWN = "not covered by the disclosure rules"

LEVELS = ("team", "client", "council-only")

RULES: dict[tuple[str, Situation], tuple[str, str, str]] = {
    #                               team           client         council-only
    ("council", Situation.ACTIVE): (INCLUDE, INCLUDE, INCLUDE),
    ("council", Situation.QUARANTINED): (QUARANTINED, QUARANTINED, QUARANTINED),
    ("council", Situation.REDACTED): (REPLACE, REPLACE, REPLACE),
    ("council", Situation.DESTROYED): (DESTROYED, DESTROYED, DESTROYED),
    ("council", Situation.PENDING): (PENDING, PENDING, PENDING),
    ("client", Situation.ACTIVE): (TEAM_ONLY, INCLUDE, COUNCIL_ONLY),
    ("client", Situation.QUARANTINED): (QUARANTINED, QUARANTINED, QUARANTINED),
    ("client", Situation.REDACTED): (REPLACE, REPLACE, REPLACE),
    ("client", Situation.DESTROYED): (DESTROYED, DESTROYED, DESTROYED),
    ("client", Situation.PENDING): (PENDING, PENDING, PENDING),
}


def situation(item: EvidenceItem, newer: str | None) -> Situation | None:
    """The item's situation (`newer`: the id of its redacted version, if any); None for a state
    export does not know."""
    state = item.state
    if state == ItemState.ACTIVE:
        return Situation.ACTIVE
    if state == ItemState.QUARANTINED:
        return Situation.QUARANTINED
    if state == ItemState.SHREDDED:
        return Situation.REDACTED if newer else Situation.DESTROYED
    if state == ItemState.DESTROYED:  # at the end of its retention: a tombstone, never sent
        return Situation.DESTROYED
    if state == ItemState.PENDING:
        return Situation.PENDING
    return None


@dataclass(frozen=True)
class Decision:
    outcome: str
    """:data:`INCLUDE`, :data:`REPLACE`, or the reason the item is withheld."""

    @property
    def included(self) -> bool:
        return self.outcome == INCLUDE

    @property
    def replaced(self) -> bool:
        return self.outcome == REPLACE


def decide(recipient_type: str, recipient_client: str | None, engagement_client: str,
           item: EvidenceItem, newer: str | None) -> Decision:
    """Whether `item` (of an engagement of `engagement_client`) goes to the recipient."""
    if recipient_type == "client" and recipient_client != engagement_client:
        return Decision(OTHER_CLIENT)
    where = situation(item, newer)
    row = RULES.get((recipient_type, where)) if where is not None else None
    if row is None or item.disclosure not in LEVELS:
        return Decision(UNKNOWN)
    outcome = row[LEVELS.index(item.disclosure)]
    if outcome == INCLUDE and not exportable(item):
        return Decision(UNAVAILABLE)
    return Decision(outcome)
