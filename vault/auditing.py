"""Reading, checking, proving and exporting the audit log (service mixin)."""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from vault import audit, merkle
from vault.errors import NotFound
from vault.facade import Facade
from vault.models import AuditCheckpoint, AuditEvent
from vault.people import signing_key_for


def event_dict(e: AuditEvent) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
            "object": e.object, "outcome": e.outcome, "engagement": e.engagement_id,
            "detail": e.detail, "hash": e.hash}


class AuditMixin:
    def audit_events(self: Facade, engagement: str | None = None, *, limit: int | None = None,
                     actor: str | None = None, action: str | None = None
                     ) -> list[AuditEvent]:
        """Events, newest last: one engagement's (its lead and QA) or all (administrators)."""
        with self._session() as s:
            q = select(AuditEvent)
            if engagement is not None:
                eng = self._engagement(s, engagement)
                self._require(s, "audit.read", eng.id, eng.id)
                q = q.where(AuditEvent.engagement_id == eng.id)
            else:
                self._require(s, "audit.read-all", "audit")
            if actor:
                q = q.where(AuditEvent.actor == actor)
            if action:
                q = q.where(col(AuditEvent.action).startswith(action))
            q = q.order_by(col(AuditEvent.seq).desc())
            if limit is not None:
                q = q.limit(limit)
            return list(reversed(s.exec(q).all()))

    def audit_checkpoint(self: Facade) -> AuditCheckpoint:
        """Sign the current tree head with the firm key (administrators, the destruction job)."""
        with self._session() as s:
            self._require(s, "audit.checkpoint", "audit")
            key = signing_key_for(s, self)
            cp = audit.checkpoint(s, key, self.clock())
            s.commit()
            self._audit(s, "audit.checkpoint", f"tree-head/{cp.size}")
            s.commit()
            return cp

    def audit_verify(self: Facade) -> audit.VerifyReport:
        with self._session() as s:
            self._require(s, "audit.verify", "audit")
        report = audit.verify(self.engine)
        with self._session() as s:
            self._audit(s, "audit.verify", "audit", "ok" if report.ok else "broken")
            s.commit()
        return report

    def audit_proof(self: Facade, seq: int) -> dict[str, Any]:
        """An inclusion proof of one event against the latest signed tree head."""
        with self._session() as s:
            self._require(s, "audit.proof", f"event/{seq}")
            event = s.get(AuditEvent, seq)
            if event is None:
                raise NotFound(f"no audit event {seq}")
            index = audit.event_index(s, seq)
            cp = s.exec(select(AuditCheckpoint).order_by(
                col(AuditCheckpoint.size).desc())).first()
            if cp is None or cp.size <= index:
                raise NotFound(f"no signed tree head covers event {seq} yet",
                               hint="run `vault audit checkpoint` first")
            path = merkle.inclusion_proof(index, cp.size,
                                          lambda lv, ix: audit._node(s, lv, ix))
            doc = audit.canonical(event.prev_hash, event.at, event.actor, event.action,
                                  event.object, event.outcome, event.engagement_id,
                                  event.detail)
            head = audit.tree_head_dict(cp.size, cp.root, cp.at, cp.key_id, cp.signature)
            self._audit(s, "audit.proof", f"event/{seq}")
            s.commit()
        return {"event": doc.decode("utf-8"), "index": index,
                "leaf_hash": merkle.leaf_hash(doc).hex(), "proof": [p.hex() for p in path],
                "tree_head": head}

    def audit_export(self: Facade, dest: Path) -> int:
        """Write the whole log as JSON Lines (keys, events, tree heads) atomically."""
        with self._session() as s:
            self._require(s, "audit.export", "audit")
        fd, tmp = tempfile.mkstemp(prefix=".vault-audit-", dir=dest.absolute().parent)
        n = 0
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                for line in audit.export_lines(self.engine):
                    f.write(line + "\n")
                    n += 1
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        with self._session() as s:
            self._audit(s, "audit.export", "audit", detail={"lines": n})
            s.commit()
        return n


def signature_bytes(cp: AuditCheckpoint) -> bytes:
    return base64.b64decode(cp.signature)
