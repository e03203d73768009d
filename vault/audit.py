"""The audit log: append-only events, each holding the SHA-256 of the one before it.

An event records who (actor), what (action), on which object, the outcome and when — never
content, keys, passphrases or card numbers.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlmodel import Session, col, select

from vault.models import AuditEvent

GENESIS = "0" * 64


def event_hash(prev_hash: str, at: datetime, actor: str, action: str, obj: str, outcome: str,
               engagement_id: str | None, detail: str | None) -> str:
    """SHA-256 over the canonical JSON of the event and its predecessor's hash."""
    doc = {"prev": prev_hash, "at": at.isoformat(), "actor": actor, "action": action,
           "object": obj, "outcome": outcome, "engagement": engagement_id, "detail": detail}
    canon = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def append(session: Session, *, at: datetime, actor: str, action: str, obj: str, outcome: str,
           engagement_id: str | None = None, detail: str | None = None) -> AuditEvent:
    """Add one event after the newest; the caller commits (with its own work, atomically)."""
    last = session.exec(select(AuditEvent.hash).order_by(col(AuditEvent.seq).desc()).limit(1))
    prev = last.first() or GENESIS
    event = AuditEvent(at=at, actor=actor, action=action, object=obj, outcome=outcome,
                       engagement_id=engagement_id, detail=detail, prev_hash=prev,
                       hash=event_hash(prev, at, actor, action, obj, outcome, engagement_id,
                                       detail))
    session.add(event)
    return event
