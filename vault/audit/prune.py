"""Audit log retention: events older than the retention period are pruned to their hashes.

A pruned event keeps its sequence number, time, chain hashes (`prev_hash`, `hash`) and its
Merkle leaf (``audit_node`` level 0); its content — actor, action, object, outcome, engagement,
detail — is cleared. The tree, the signed tree heads and the inclusion proofs of the events
that remain therefore still verify; `vault audit verify` checks a pruned event's chain links by
its stored hashes and takes its leaf from the tree.

Kept whatever their age: events about a held item (or a flag of one), every event of an
engagement under a hold of the whole engagement, events about the original a living redacted
version came from, and events about an item
whose content still exists (its ingest event is what `vault verify` checks it against). The
retention is rolling: ``now`` minus :data:`RETENTION_YEARS` years, from the caller's clock.
Before it clears anything, the prune re-checks each event it clears against its hash and its
leaf, so a tampered event is reported (IntegrityError), never hidden.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from vault.audit.log import canonical, damaged
from vault.metadata.models import AuditEvent, AuditNode, EvidenceItem, Flag, LegalHold

RETENTION_YEARS = 3
ACTION = "audit.prune"
"""The event a prune leaves (detail: how many, up to which seq, the cut-off time)."""

LIVE_STATES = ("pending", "active", "quarantined")
"""Item states whose content still exists (lifecycle's READABLE and PENDING)."""

_BATCH = 500


def cutoff(now: datetime, years: int = RETENTION_YEARS) -> datetime:
    """``now`` minus `years` calendar years (29 February becomes 28 February)."""
    now = now.astimezone(UTC)
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


@dataclass(frozen=True)
class Pruned:
    """What one prune did."""

    events: int
    """How many events it cleared."""
    upto_seq: int | None
    """The newest event it cleared (None: none)."""
    before: datetime
    """The cut-off: events at or after it are kept."""


def prune(s: Session, now: datetime, held_item_ids: Collection[str], *,
          years: int = RETENTION_YEARS) -> int:
    """Prune what is due (see the module); the caller records the :data:`ACTION` event and
    commits. Returns how many events were pruned; :func:`prune_events` also says up to where."""
    return prune_events(s, now, held_item_ids, years=years).events


def prune_events(s: Session, now: datetime, held_item_ids: Collection[str], *,
                 years: int = RETENTION_YEARS) -> Pruned:
    before = cutoff(now, years)
    held = set(held_item_ids)
    # The oldest event at or after the cut-off: from there on nothing is pruned, so what is
    # pruned is always within a prefix of the log (whose leaf indices are its positions).
    boundary = s.execute(sa.select(sa.func.min(AuditEvent.seq)).where(  # type: ignore[call-overload]
        col(AuditEvent.at) >= before)).scalar()
    live = sa.select(col(EvidenceItem.id)).where(col(EvidenceItem.state).in_(LIVE_STATES))
    q = (sa.select(AuditEvent.seq, AuditEvent.at,  # type: ignore[call-overload]
                   AuditEvent.actor, AuditEvent.action, AuditEvent.object,
                   AuditEvent.outcome, AuditEvent.engagement_id, AuditEvent.detail,
                   AuditEvent.prev_hash, AuditEvent.hash, Flag.item_id)
         .outerjoin(Flag, col(Flag.id) == col(AuditEvent.object))
         .where(col(AuditEvent.pruned) == sa.false(), col(AuditEvent.object).not_in(live))
         .order_by(col(AuditEvent.seq)))
    if boundary is not None:
        q = q.where(col(AuditEvent.seq) < boundary)
    # a hold on a whole engagement keeps every event of it (its own ``hold.place`` too)
    held_engs = set(s.execute(sa.select(LegalHold.engagement_id).where(  # type: ignore[call-overload]
        col(LegalHold.released_at).is_(None), col(LegalHold.item_id).is_(None))).scalars())
    # the originals a living redacted version came from: its custody starts with them
    origins = _origins(s)
    rows = [r for r in s.execute(q) if r.object not in held and r.item_id not in held
            and r.engagement_id not in held_engs and r.object not in held_engs
            and r.object not in origins]
    if not rows:
        return Pruned(0, None, before)
    # leaf index = number of events before it (the rows skipped above count too)
    first = rows[0].seq
    base = s.execute(sa.select(sa.func.count()).select_from(AuditEvent).where(  # type: ignore[call-overload]
        col(AuditEvent.seq) < first)).scalar() or 0
    seqs = sa.select(AuditEvent.seq).where(col(AuditEvent.seq) >= first,  # type: ignore[call-overload]
                                           col(AuditEvent.seq) <= rows[-1].seq
                                           ).order_by(col(AuditEvent.seq))
    wanted = {r.seq for r in rows}
    index_of = {seq: base + i for i, seq in enumerate(s.execute(seqs).scalars())
                if seq in wanted}
    due: list[tuple[int, int, bytes, str]] = []  # (seq, index, canonical doc, stored hash)
    for r in rows:
        at = r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)
        doc = canonical(r.prev_hash, at, r.actor, r.action, r.object, r.outcome,
                        r.engagement_id, r.detail)
        due.append((r.seq, index_of[r.seq], doc, r.hash))
    for start in range(0, len(due), _BATCH):
        batch = due[start:start + _BATCH]
        leaves: dict[int, bytes] = dict(s.execute(sa.select(AuditNode.idx, AuditNode.hash).where(  # type: ignore[call-overload]
            AuditNode.level == 0, col(AuditNode.idx).in_([b[1] for b in batch]))).all())
        for seq, index, doc, digest in batch:
            if hashlib.sha256(doc).hexdigest() != digest:
                raise damaged(f"event seq {seq} does not match its hash (its content was "
                              "edited); nothing was pruned")
            if leaves.get(index) != hashlib.sha256(b"\x00" + doc).digest():
                raise damaged(f"the tree leaf of event seq {seq} does not match it; nothing "
                              "was pruned")
    for start in range(0, len(due), _BATCH):  # all checked first: nothing is half-pruned
        _clear(s, [b[0] for b in due[start:start + _BATCH]])
    return Pruned(len(due), max(b[0] for b in due), before)


def _origins(s: Session) -> set[str]:
    """Ids of the items that a living item supersedes, directly or through others (one
    query)."""
    rows = s.execute(sa.select(EvidenceItem.id, EvidenceItem.supersedes_id,  # type: ignore[call-overload]
                               EvidenceItem.state).where(
        col(EvidenceItem.supersedes_id).is_not(None))).all()
    older = {r.id: r.supersedes_id for r in rows}
    out: set[str] = set()
    for r in rows:
        if r.state not in LIVE_STATES:
            continue
        cur = r.supersedes_id
        while cur is not None and cur not in out:
            out.add(cur)
            cur = older.get(cur)
    return out


def _clear(s: Session, seqs: list[int]) -> None:
    """Clear these events' content (the one UPDATE the database permits on the log). On
    PostgreSQL through ``vault_audit_prune()`` (migration 0012), which the application role,
    holding no UPDATE on the audit tables, may call."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(sa.text("SELECT vault_audit_prune(CAST(:seqs AS bigint[]))"), {"seqs": seqs})
        return
    s.execute(sa.update(AuditEvent).where(col(AuditEvent.seq).in_(seqs))
              .values(actor="", action="", object="", outcome="", engagement_id=None,
                      detail=None, pruned=True))
