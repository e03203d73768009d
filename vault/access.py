"""Who may do what: the one permission matrix (role x action).

Engagement roles come from membership; firm roles from the user record; every registered person
also holds the pseudo-role ``person`` (the destruction job does not). The service layer calls
:func:`check` once per action, before any work, and audits a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable

ENGAGEMENT_ROLES = ("lead", "assessor", "qa", "viewer")
FIRM_ROLES = ("admin", "destruction-job")

_TEAM = frozenset(ENGAGEMENT_ROLES)

MATRIX: dict[str, frozenset[str]] = {
    "engagement.create": frozenset({"person"}),
    "engagement.view": _TEAM | {"admin"},
    "engagement.complete": frozenset({"lead"}),
    "item.ingest": frozenset({"lead", "assessor"}),
    "item.list": _TEAM,
    "item.read": _TEAM,
    "item.verify": frozenset({"lead", "assessor", "qa"}),
    "flag.list": _TEAM,
    "flag.resolve": frozenset({"lead", "qa"}),
    "user.add": frozenset({"admin"}),
    "user.list": frozenset({"admin"}),
    "member.add": frozenset({"lead"}),
    "member.remove": frozenset({"lead"}),
    "member.list": _TEAM | {"admin"},
    "audit.read": frozenset({"lead", "qa", "admin"}),
    "audit.read-all": frozenset({"admin"}),
    "audit.verify": frozenset({"admin"}),
    "audit.proof": frozenset({"admin"}),
    "audit.export": frozenset({"admin"}),
    "audit.checkpoint": frozenset({"admin", "destruction-job"}),
    "signing.export": frozenset({"person", "admin", "destruction-job"}),
    "signing.rotate": frozenset({"admin"}),
    "store.check": frozenset({"person", "admin", "destruction-job"}),
    "store.doctor": frozenset({"admin"}),
}


def allowed(action: str, roles: Iterable[str]) -> bool:
    """True when one of `roles` may perform `action`; unknown actions are never allowed."""
    permitted = MATRIX.get(action, frozenset())
    return any(role in permitted for role in roles)
