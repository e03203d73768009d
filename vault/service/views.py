"""What the service hands the CLI and the TUI: options in, views out (no header, no key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from vault import catalogue
from vault.evidence.lifecycle import ItemState
from vault.evidence.search import ItemFilter
from vault.metadata.models import (
    AuditEvent,
    Engagement,
    EvidenceItem,
    Flag,
    ItemRequirement,
    ItemRocRef,
    User,
)
from vault.pii import CARD_KINDS

__all__ = ["EngagementView", "FlagView", "IngestOptions", "IngestResult", "ItemFilter",
           "ItemPage", "ItemView", "Resolution", "VerifyResult", "engagement_dict",
           "event_dict"]


@dataclass(frozen=True)
class IngestOptions:
    kind: str | None = None
    requirements: tuple[str, ...] = ()
    disclosure: str = "team"
    system: str | None = None
    description: str | None = None
    allow_unlocked: bool = False
    roc_refs: tuple[str, ...] = ()
    """Reference numbers the ROC cites this evidence by (``DOC-12``)."""


@dataclass(frozen=True)
class ItemView:
    """An evidence item as the interfaces show it (no header, no key)."""

    item: EvidenceItem
    requirements: tuple[str, ...]
    engagement: str
    ingested_by: str
    roc_refs: tuple[str, ...] = ()
    """The reference numbers the ROC cites it by."""

    @property
    def type_mismatch(self) -> bool:
        d, m = self.item.declared_mime, self.item.detected_mime
        return bool(d and m and d != m and m != "application/x-empty"
                    and not (d.startswith("text/") and m.startswith("text/")))

    def as_dict(self) -> dict[str, Any]:
        i = self.item
        return {
            "id": i.id, "engagement": self.engagement, "kind": i.kind,
            "original_name": i.original_name, "declared_mime": i.declared_mime,
            "detected_mime": i.detected_mime, "type_mismatch": self.type_mismatch,
            "size": i.size, "sha256": i.sha256, "ingested_at": i.ingested_at.isoformat(),
            "ingested_by": self.ingested_by, "requirements": list(self.requirements),
            "roc_refs": list(self.roc_refs),
            "system": i.system, "description": i.description, "disclosure": i.disclosure,
            "state": i.state, "supersedes": i.supersedes_id,
        }


@dataclass(frozen=True)
class IngestResult:
    view: ItemView
    duplicate: bool
    flags: dict[str, int] = field(default_factory=dict)
    """Distinct values found per kind (empty for a duplicate: the first ingest's flags hold)."""
    warnings: tuple[str, ...] = ()
    """About the requirement mapping: an old requirement number mapped to its new one,
    evidence mapped only to headings (empty for a duplicate)."""

    @property
    def quarantined(self) -> bool:
        return self.view.item.state == ItemState.QUARANTINED


@dataclass(frozen=True)
class VerifyResult:
    item_id: str
    name: str
    ok: bool
    problem: str | None = None


@dataclass(frozen=True)
class ItemPage:
    """One page of an engagement's evidence list. `total` counts every match when `exact`;
    otherwise there are more than `total - 1` (the count stopped at a cap)."""

    offset: int
    total: int
    exact: bool
    items: list[ItemView]


@dataclass(frozen=True)
class FlagView:
    flag: Flag
    item_name: str
    item_state: str
    resolved_by: str | None

    @property
    def where(self) -> str:
        """Where the value was first seen: inside a container (its member), then line or page."""
        f = self.flag
        at = (f"page {f.page}" if f.page is not None
              else f"line {f.line}" if f.line is not None else "")
        if f.member:
            return f"{f.member} {at}".strip()
        return at or "-"

    @property
    def shown(self) -> str:
        """The masked value, and for a value whose mask can look like another's (two IPs of
        one /16 both show as ``10.20.*.*``) a short tag of its keyed hash that tells them apart
        without revealing them (card numbers show their first 6 and last 4 already)."""
        f = self.flag
        if f.kind in CARD_KINDS or not f.value_hash:
            return f.masked
        return f"{f.masked} #{f.value_hash[:4]}"

    def as_dict(self) -> dict[str, Any]:
        f = self.flag
        return {"id": f.id, "item": f.item_id, "item_name": self.item_name, "shown": self.shown,
                "item_state": self.item_state, "kind": f.kind, "detector": f.detector,
                "line": f.line, "page": f.page, "member": f.member,
                "occurrences": f.occurrences,
                "masked": f.masked, "confidence": round(f.confidence, 2), "state": f.state,
                "reason": f.reason, "resolved_by": self.resolved_by,
                "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
                "created_at": f.created_at.isoformat()}


@dataclass(frozen=True)
class Resolution:
    flags: tuple[FlagView, ...]
    item_state: str
    redacted_version: str | None = None


EngagementView = tuple[Engagement, int]
"""An engagement and how many visible items it holds."""


def engagement_dict(e: Engagement, items: int | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"id": e.id, "name": e.name, "client": e.client, "standard": e.standard,
         "period_start": e.period_start.isoformat() if e.period_start else None,
         "period_end": e.period_end.isoformat() if e.period_end else None,
         "completed_on": e.completed_on.isoformat() if e.completed_on else None,
         "retention_years": e.retention_years, "created_at": e.created_at.isoformat()}
    if items is not None:
        d["items"] = items
    return d


def event_dict(e: AuditEvent) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
            "object": e.object, "outcome": e.outcome, "engagement": e.engagement_id,
            "detail": e.detail, "hash": e.hash}


# -- building views from rows ------------------------------------------------------------------


def item_view(s: Session, item: EvidenceItem, engagement: Engagement | None = None) -> ItemView:
    reqs = s.exec(select(ItemRequirement.requirement_id)
                  .where(ItemRequirement.item_id == item.id)).all()
    eng = engagement or s.get(Engagement, item.engagement_id)
    user = s.get(User, item.ingested_by)
    assert eng is not None and user is not None
    refs = s.exec(select(ItemRocRef.ref).where(ItemRocRef.item_id == item.id)
                  .order_by(col(ItemRocRef.ref))).all()
    return ItemView(item=item, requirements=tuple(sorted(reqs, key=catalogue.sort_key)),
                    engagement=eng.name, ingested_by=user.name, roc_refs=tuple(refs))


def item_views(s: Session, items: list[EvidenceItem], eng: Engagement) -> list[ItemView]:
    """item_view for a page of one engagement's items: one query for all their requirements."""
    reqs: dict[str, list[str]] = {i.id: [] for i in items}
    if items:
        for item_id, req in s.exec(select(ItemRequirement.item_id,
                                          ItemRequirement.requirement_id)
                                   .where(col(ItemRequirement.item_id).in_(list(reqs)))):
            reqs[item_id].append(req)
    refs: dict[str, list[str]] = {i.id: [] for i in items}
    if items:
        for item_id, ref in s.exec(select(ItemRocRef.item_id, ItemRocRef.ref)
                                   .where(col(ItemRocRef.item_id).in_(list(refs)))
                                   .order_by(col(ItemRocRef.ref))):
            refs[item_id].append(ref)
    names: dict[str, str] = {}
    views = []
    for i in items:
        if i.ingested_by not in names:
            user = s.get(User, i.ingested_by)
            assert user is not None
            names[i.ingested_by] = user.name
        views.append(ItemView(item=i, requirements=tuple(sorted(reqs[i.id],
                                                                key=catalogue.sort_key)),
                              engagement=eng.name, ingested_by=names[i.ingested_by],
                              roc_refs=tuple(refs[i.id])))
    return views


def flag_views(s: Session, flags: list[Flag]) -> list[FlagView]:
    items: dict[str, EvidenceItem] = {}
    users: dict[str, str] = {}
    out = []
    for f in flags:
        if f.item_id not in items:
            it = s.get(EvidenceItem, f.item_id)
            assert it is not None
            items[f.item_id] = it
        by = None
        if f.resolved_by:
            if f.resolved_by not in users:
                u = s.get(User, f.resolved_by)
                users[f.resolved_by] = u.name if u else f.resolved_by
            by = users[f.resolved_by]
        it = items[f.item_id]
        out.append(FlagView(f, it.original_name, it.state, by))
    return out
