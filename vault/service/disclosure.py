"""Disclosure verbs: an item's disclosure level and the ROC references it is cited by.

Both are audited: the level with the old and new values and the reason, the references with
what was added and removed. An item's ``item_search`` row follows the level through the
database's own triggers (migration 0004)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select

from vault.errors import InvalidInput
from vault.evidence.lifecycle import ItemState
from vault.evidence.vocabulary import DISCLOSURES
from vault.export.refs import roc_refs
from vault.metadata.models import EvidenceItem, ItemRocRef
from vault.service.context import Context
from vault.service.evidence import typed_text


def set_disclosure(cx: Context, ref: str, level: str, reason: str) -> EvidenceItem:
    """Set one item's disclosure level (leads and QA reviewers), with a reason."""
    if level not in DISCLOSURES:
        raise InvalidInput(f"unknown disclosure level {level!r}",
                           hint="one of: " + ", ".join(DISCLOSURES))
    reason = (typed_text(reason, "reason", 500) or "").strip()
    if not reason:
        raise InvalidInput("a reason is required", hint="say why the level changes")
    with cx.session() as s:
        it, eng = cx.find_item(s, ref)
    with cx.act("item.disclose", it, eng) as a:
        item = a.s.get(EvidenceItem, it.id)
        assert item is not None
        if item.state == ItemState.SHREDDED:
            raise InvalidInput(f"item {item.id[:12]} was crypto-shredded: its level no longer "
                               "matters", hint="set the level of its redacted version")
        old = item.disclosure
        if old == level:
            raise InvalidInput(f"item {item.id[:12]} is already {level}")
        item.disclosure = level
        a.s.add(item)
        a.detail = {"from": old, "to": level, "reason": reason}
        return item


def roc_refs_of(s: object, item_ids: Iterable[str]) -> dict[str, list[str]]:
    """Each item's ROC references, sorted (one query)."""
    ids = list(item_ids)
    out: dict[str, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = s.exec(select(ItemRocRef.item_id, ItemRocRef.ref)  # type: ignore[attr-defined]
                  .where(col(ItemRocRef.item_id).in_(ids)).order_by(col(ItemRocRef.ref))).all()
    for item_id, r in rows:
        out[item_id].append(r)
    return out


def set_roc_refs(cx: Context, ref: str, add: Iterable[str] = (), remove: Iterable[str] = ()
                 ) -> list[str]:
    """Add and remove ROC references of one item; its references afterwards."""
    added, removed = roc_refs(add), roc_refs(remove)
    if not added and not removed:
        raise InvalidInput("nothing to change", hint="give --roc-ref or --drop-roc-ref")
    if set(added) & set(removed):
        raise InvalidInput("a reference is both added and removed")
    with cx.session() as s:
        it, eng = cx.find_item(s, ref)
    with cx.act("item.roc-ref", it, eng) as a:
        have = set(roc_refs_of(a.s, [it.id])[it.id])
        missing = [r for r in removed if r not in have]
        if missing:
            raise InvalidInput(f"item {it.id[:12]} has no ROC reference {missing[0]}")
        new = [r for r in added if r not in have]
        for r in new:
            a.s.add(ItemRocRef(item_id=it.id, ref=r))
        for r in removed:
            row = a.s.get(ItemRocRef, (it.id, r))
            if row is not None:
                a.s.delete(row)
        if not new and not removed:
            raise InvalidInput(f"item {it.id[:12]} has those references already")
        a.detail = {"added": new, "removed": list(removed)}
        return sorted((have | set(new)) - set(removed))


def engagement_roc_refs(cx: Context, ref: str) -> list[str]:
    """The ROC references the engagement's items carry (for completing a request's scope)."""
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    with cx.act("item.list", eng) as a:
        return list(a.s.exec(select(ItemRocRef.ref).join(
            EvidenceItem, col(EvidenceItem.id) == col(ItemRocRef.item_id)).where(
            EvidenceItem.engagement_id == eng.id).distinct().order_by(col(ItemRocRef.ref))
        ).all())
