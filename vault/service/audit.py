"""Audit verbs: reading, checking, proving, exporting and pruning the audit log."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from vault.audit import log as audit
from vault.audit import merkle
from vault.audit import prune as retention
from vault.audit import verify as verification
from vault.errors import IntegrityError, NotFound
from vault.metadata.models import AuditCheckpoint, AuditEvent
from vault.people.grants import signing_key_for
from vault.retention.holds import held_item_ids
from vault.service.context import Context


def audit_events(cx: Context, engagement: str | None = None, *, limit: int | None = None,
                 actor: str | None = None, action: str | None = None) -> list[AuditEvent]:
    """Events, newest last: one engagement's (its lead and QA) or all (administrators)."""
    if engagement is not None:
        with cx.session() as s:
            eng = cx.find_engagement(s, engagement)
        act = cx.act("audit.read", eng)
    else:
        eng = None
        act = cx.act("audit.read-all", "audit")
    with act as a:
        q = select(AuditEvent).where(col(AuditEvent.pruned).is_(False))
        if eng is not None:
            q = q.where(AuditEvent.engagement_id == eng.id)
        if actor:
            q = q.where(AuditEvent.actor == actor)
        if action:
            q = q.where(col(AuditEvent.action).startswith(action))
        q = q.order_by(col(AuditEvent.seq).desc())
        if limit is not None:
            q = q.limit(limit)
        return list(reversed(a.s.exec(q).all()))


def audit_checkpoint(cx: Context) -> AuditCheckpoint:
    """Sign the current tree head with the firm key (administrators, the destruction job).
    The checkpoint's own event comes after the head it signs."""
    with cx.act("audit.checkpoint", "audit") as a:
        key = signing_key_for(a.s, cx.user, cx._identity)
        cp = audit.checkpoint(a.s, key, cx.clock())
        a.s.commit()
        a.obj = f"tree-head/{cp.size}"
        return cp


def audit_verify(cx: Context) -> verification.VerifyReport:
    """Check the log (see :func:`vault.audit.verify.verify`). A log too damaged to take the
    event of this check still gets its report, which then says so."""
    with cx.act("audit.verify", "audit") as a:
        report = verification.verify(cx.engine)
        a.outcome = "ok" if report.ok else "broken"
        try:
            a.commit()
        except IntegrityError as exc:
            a.s.rollback()
            report.problems.append(f"5. recording: this check could not be logged ({exc})")
        return report


def audit_proof(cx: Context, seq: int) -> dict[str, Any]:
    """An inclusion proof of one event against the latest signed tree head."""
    with cx.act("audit.proof", f"event/{seq}") as a:
        s = a.s
        event = s.get(AuditEvent, seq)
        if event is None:
            raise NotFound(f"no audit event {seq}")
        if event.pruned:
            raise NotFound(f"audit event {seq} was pruned (older than the audit retention): "
                           "only its hashes remain",
                           hint="`vault audit export` still carries its leaf hash")
        index = audit.event_index(s, seq)
        cp = s.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.size).desc())).first()
        if cp is None or cp.size <= index:
            raise NotFound(f"no signed tree head covers event {seq} yet",
                           hint="run `vault audit checkpoint` first")
        path = merkle.inclusion_proof(index, cp.size, lambda lv, ix: audit.node(s, lv, ix))
        doc = audit.canonical(event.prev_hash, event.at, event.actor, event.action,
                              event.object, event.outcome, event.engagement_id, event.detail)
        head = audit.tree_head_dict(cp.size, cp.root, cp.at, cp.key_id, cp.signature)
    return {"event": doc.decode("utf-8"), "index": index,
            "leaf_hash": merkle.leaf_hash(doc).hex(), "proof": [p.hex() for p in path],
            "tree_head": head}


def audit_export(cx: Context, dest: Path) -> int:
    """Write the whole log as JSON Lines (keys, events, tree heads) atomically."""
    with cx.act("audit.export", "audit") as a:
        a.s.commit()
        fd, tmp = tempfile.mkstemp(prefix=".vault-audit-", dir=dest.absolute().parent)
        n = 0
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                for line in audit.export_lines(cx.engine):
                    f.write(line + "\n")
                    n += 1
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        a.detail = {"lines": n}
    return n


def audit_prune(cx: Context) -> retention.Pruned:
    """Prune the events older than the audit retention (3 years before the clock's now) and
    about no held item and no item whose content still exists (the destruction job, after each
    run; administrators). Leaves one ``audit.prune`` event (how many, up to which seq, the
    cut-off) when it pruned anything."""
    with cx.act(retention.ACTION, "audit") as a:
        done = retention.prune_events(a.s, cx.clock(), held_item_ids(a.s))
        a.detail = {"events": done.events, "upto_seq": done.upto_seq,
                    "before": done.before.isoformat()}
        a.record = done.events > 0
        return done
