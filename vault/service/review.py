"""Review verbs: an engagement's flags, and a reviewer's decision on one.

``redact`` masks every card-data value (and the flag's own kind) in a new version, shreds the
original (:func:`vault.evidence.lifecycle.shred`) and resolves all the original's open flags;
``false_positive`` and ``retain`` resolve one flag. The quarantine lifts when no quarantining
flag of the item stays open.
"""

from __future__ import annotations

import io

from sqlmodel import col, func, select

from vault.errors import IntegrityError, InvalidInput, NotFound
from vault.evidence import retrieve
from vault.evidence.lifecycle import QUARANTINE_KINDS, ItemState, shred
from vault.evidence.sources import Source
from vault.metadata.db import forget_deleted
from vault.metadata.models import (
    Engagement,
    EvidenceItem,
    Flag,
    ItemRequirement,
    ItemRocRef,
    Member,
)
from vault.pii import CARD_KINDS
from vault.review import flags as flagging
from vault.service.context import Act, Context
from vault.service.evidence import ingest_one
from vault.service.views import FlagView, IngestOptions, Resolution, flag_views

MAX_REDACT_BYTES = 256 << 20
"""Redaction works in memory; larger items must be redacted outside and ingested again."""


def flags(cx: Context, ref: str, *, open_only: bool = False, item: str | None = None,
          kind: str | None = None) -> list[FlagView]:
    """An engagement's flags (or one item's), card data first, then by item and place."""
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    with cx.act("flag.list", eng) as a:
        s = a.s
        q = select(Flag).where(Flag.engagement_id == eng.id)
        if open_only:
            q = q.where(Flag.state == "open")
        if kind is not None:
            q = q.where(Flag.kind == kind)
        if item is not None:
            it, _ = cx.find_item(s, item)
            if it.engagement_id != eng.id:
                raise NotFound(f"no item {item} in engagement {eng.name}")
            q = q.where(Flag.item_id == it.id)
        rows = list(s.exec(q).all())
        rows.sort(key=lambda f: (f.kind not in QUARANTINE_KINDS, f.created_at, f.item_id,
                                 f.page or 0, f.line or 0, f.id))
        return flag_views(s, rows)


def open_flag_counts(cx: Context) -> dict[str, int]:
    """Open flags per engagement id, over the engagements the actor sees (all of them for
    an administrator, as `list_engagements`)."""
    with cx.session() as s:
        q = select(Flag.engagement_id, func.count()).where(Flag.state == "open")
        if cx.user.firm_role != "admin":
            q = q.join(Member, col(Member.engagement_id) == col(Flag.engagement_id)).where(
                Member.user_id == cx.user.id)
        return dict(s.exec(q.group_by(Flag.engagement_id)).all())


def resolve_flag(cx: Context, ref: str, decision: str, reason: str) -> Resolution:
    """Decide one flag (see the module's docstring). After a redaction, the shredded header
    is made gone from the database files too (:func:`vault.metadata.db.forget_deleted`)."""
    res = _resolve_flag(cx, ref, decision, reason)
    if decision == "redact":
        forget_deleted(cx.engine)
    return res


def _resolve_flag(cx: Context, ref: str, decision: str, reason: str) -> Resolution:
    flagging.check_decision(decision)
    with cx.session() as s:
        flag, eng = cx.find_flag(s, ref)
    with cx.act("flag.resolve", flag, eng) as a:
        reason = flagging.check_reason(reason, cx.scanner(a.s, eng))
        flagging.check_open(flag)
        if decision == "redact":
            return _redact(cx, a, flag, reason)
        state = "false_positive" if decision == "false_positive" else "retained"
        row = a.s.get(Flag, flag.id)
        assert row is not None
        flagging.decide(row, state, reason, cx.user.id, cx.clock())
        a.s.add(row)
        it = a.s.get(EvidenceItem, row.item_id)
        assert it is not None
        flagging.lift_quarantine(a.s, it)
        a.detail = {"item": it.id, "kind": row.kind, "decision": state, "reason": reason,
                    "item_state": it.state}
        return Resolution(tuple(flag_views(a.s, [row])), it.state)


def _redact(cx: Context, a: Act, flag: Flag, reason: str) -> Resolution:
    from vault.pii import redact as redaction
    s = a.s
    it = s.get(EvidenceItem, flag.item_id)
    assert it is not None
    if it.age_header is None or it.state == ItemState.SHREDDED:
        raise InvalidInput(f"item {it.id[:12]} was redacted already")
    if it.size > MAX_REDACT_BYTES:
        raise InvalidInput(
            f"item {it.id[:12]} is too large to redact in the vault "
            f"({it.size} bytes; at most {MAX_REDACT_BYTES})",
            hint="redact a copy outside the vault, ingest it, and retain or resolve "
                 "this flag with a reason")
    key = cx.engagement_identity(s, it.key_id)
    reqs = tuple(s.exec(select(ItemRequirement.requirement_id)
                        .where(ItemRequirement.item_id == it.id)).all())
    refs = tuple(s.exec(select(ItemRocRef.ref).where(ItemRocRef.item_id == it.id)
                        .order_by(col(ItemRocRef.ref))).all())
    eng = s.get(Engagement, it.engagement_id)
    assert eng is not None
    scanner = cx.scanner(s, eng)
    s.commit()  # nothing held open while the item is decrypted, redacted and ingested
    buf = io.BytesIO()
    retrieve.decrypt_to(it, cx.store, key, buf)
    kinds = frozenset(CARD_KINDS) | {flag.kind}
    try:
        original = buf.getvalue()
        redacted = redaction.redact_bytes(original, it.detected_mime or "", scanner, kinds)
        unchanged = redacted == original
    finally:
        original = b""
        buf.seek(0)
        buf.truncate()
    if unchanged:
        raise InvalidInput(f"nothing to redact: no {flag.kind} or card data is found in "
                           f"item {it.id[:12]} now",
                           hint="resolve the flag as a false positive or retain it")
    result = ingest_one(cx, eng, Source(name=it.original_name, size=len(redacted),
                                        open=lambda: io.BytesIO(redacted)),
                        IngestOptions(kind=it.kind, requirements=reqs,
                                      disclosure=it.disclosure, system=it.system,
                                      description=it.description, roc_refs=refs),
                        supersedes=it)
    new = result.view.item
    if result.duplicate:
        raise InvalidInput(f"the redacted content is already item {new.id[:12]}; "
                           "the original is unchanged",
                           hint="resolve this flag as retained or redact outside the vault")
    left = s.exec(select(Flag).where(Flag.item_id == new.id, Flag.state == "open",
                                     col(Flag.kind).in_(kinds))).all()
    if left:
        raise IntegrityError(
            f"redaction of item {it.id[:12]} left {len(left)} value(s) of the "
            f"redacted kinds in version {new.id[:12]}; the original is unchanged",
            hint="redact a copy outside the vault and ingest it")
    orig = s.get(EvidenceItem, it.id)
    assert orig is not None
    s.refresh(orig)
    now = cx.clock()
    resolved = list(s.exec(select(Flag).where(Flag.item_id == orig.id,
                                              Flag.state == "open")).all())
    for f in resolved:
        flagging.decide(f, "redacted", reason, cx.user.id, now)
        s.add(f)
    a.detail = {"item": orig.id, "kind": flag.kind, "decision": "redacted", "reason": reason,
                "resolved": len(resolved), "redacted_version": new.id,
                "item_state": ItemState.SHREDDED.value}
    shred(orig, a.event, why={"superseded_by": new.id})
    s.add(orig)
    return Resolution(tuple(flag_views(s, resolved)), ItemState.SHREDDED,
                      redacted_version=new.id)
