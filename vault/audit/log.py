"""The audit log: append-only events, a hash chain, and an RFC 9162 Merkle tree with signed
tree heads.

Each event records who (actor), what (action), on which object, the outcome and when — never
content, keys, passphrases or card numbers. Its canonical JSON (sorted keys, no spaces, UTF-8)
also holds the SHA-256 of the previous event's canonical JSON (the chain) and is one leaf of the
Merkle tree (leaf hash = SHA-256(0x00 || canonical JSON)). Appending updates the single
`audit_head` row first — serialising appenders — and stores O(log n) subtree hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from vault.audit import merkle
from vault.crypto import signing
from vault.errors import IntegrityError
from vault.metadata.models import AuditCheckpoint, AuditEvent, AuditHead, AuditNode, SigningKey

GENESIS = "0" * 64


def canonical(prev: str, at: datetime, actor: str, action: str, obj: str, outcome: str,
              engagement_id: str | None, detail: str | None) -> bytes:
    """The exact bytes that are hashed for the chain and as the Merkle leaf."""
    doc = {"prev": prev, "at": at.astimezone(UTC).isoformat(), "actor": actor,
           "action": action, "object": obj, "outcome": outcome, "engagement": engagement_id,
           "detail": detail}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def damaged(what: str) -> IntegrityError:
    """The log's own records do not hold together (edited or deleted rows)."""
    return IntegrityError(f"the audit log is damaged: {what}",
                          hint="`vault audit verify` reports what it finds; restore the "
                               "database from a backup")


def node(conn: Connection | Session, level: int, idx: int) -> bytes:
    h = conn.execute(sa.select(AuditNode.hash).where(  # type: ignore[call-overload]
        AuditNode.level == level, AuditNode.idx == idx)).scalar()
    if h is None:
        raise damaged(f"its tree node {level}/{idx} is missing")
    return h  # type: ignore[no-any-return]


def append(session: Session, *, at: datetime, actor: str, action: str, obj: str, outcome: str,
           engagement_id: str | None = None, detail: str | None = None) -> None:
    """Add one event after the newest; the caller commits (with its own work, atomically)."""
    append_many(session, [Entry(at, actor, action, obj, outcome, engagement_id, detail)])


@dataclass(frozen=True)
class Entry:
    """One event to append (see :func:`append_many`)."""

    at: datetime
    actor: str
    action: str
    obj: str
    outcome: str
    engagement_id: str | None = None
    detail: str | None = None


def append_many(session: Session, entries: Sequence[Entry]) -> None:
    """Add the events after the newest, in order, as :func:`append` would one by one (the same
    chain, leaves and tree nodes), with one update of the head and one insert of the nodes: a
    batch of ingests is audited in one go. The caller commits."""
    if not entries:
        return
    n = len(entries)
    session.execute(sa.update(AuditHead).where(col(AuditHead.id) == 1)
                    .values(size=col(AuditHead.size) + n))
    found = session.execute(sa.select(AuditHead.size, AuditHead.last_hash)  # type: ignore[call-overload]
                            .where(AuditHead.id == 1)).first()
    if found is None:
        raise damaged("its head record is missing")
    size, prev = found
    if size < n or not isinstance(prev, str):
        raise damaged(f"its head record says {size - n} events")
    made: dict[tuple[int, int], bytes] = {}  # nodes of this batch, not yet in the table

    def known(level: int, idx: int) -> bytes:
        h = made.get((level, idx))
        return h if h is not None else node(session, level, idx)

    events: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for index, e in enumerate(entries, start=size - n):
        doc = canonical(prev, e.at, e.actor, e.action, e.obj, e.outcome, e.engagement_id,
                        e.detail)
        digest = hashlib.sha256(doc).hexdigest()
        events.append({"at": e.at, "actor": e.actor, "action": e.action, "object": e.obj,
                       "outcome": e.outcome, "engagement_id": e.engagement_id,
                       "detail": e.detail, "prev_hash": prev, "hash": digest})
        h = merkle.leaf_hash(doc)
        level, j = 0, index
        made[(0, j)] = h
        rows.append({"level": 0, "idx": j, "hash": h})
        while j & 1:
            h = merkle.node_hash(known(level, j - 1), h)
            level, j = level + 1, j >> 1
            made[(level, j)] = h
            rows.append({"level": level, "idx": j, "hash": h})
        prev = digest
    session.execute(sa.insert(AuditEvent), events)  # in order: their seq follows the chain
    session.execute(sa.insert(AuditNode), rows)
    session.execute(sa.update(AuditHead).where(col(AuditHead.id) == 1).values(last_hash=prev))


def head(session: Session) -> tuple[int, bytes]:
    """(size, Merkle root) of the log as committed."""
    size = session.execute(sa.select(AuditHead.size).where(AuditHead.id == 1)).scalar() or 0  # type: ignore[call-overload]
    return size, merkle.tree_root(size, lambda lv, ix: node(session, lv, ix))


def checkpoint(session: Session, key: signing.Ed25519PrivateKey, at: datetime
               ) -> AuditCheckpoint:
    """Sign the current tree head; the caller commits."""
    size, root = head(session)
    kid = signing.key_id(key.public_key())
    msg = signing.tree_head_message(size, root.hex(), at.astimezone(UTC).isoformat())
    cp = AuditCheckpoint(size=size, root=root.hex(), at=at, key_id=kid,
                         signature=base64.b64encode(key.sign(msg)).decode("ascii"))
    existing = session.get(AuditCheckpoint, size)
    if existing is not None:
        return existing
    session.add(cp)
    return cp


def _events(conn: Connection) -> Iterator[sa.Row[Any]]:
    q = sa.select(AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.action,  # type: ignore[call-overload]
                  AuditEvent.object, AuditEvent.outcome, AuditEvent.engagement_id,
                  AuditEvent.detail, AuditEvent.prev_hash, AuditEvent.hash,
                  AuditEvent.pruned).order_by(AuditEvent.seq)
    yield from conn.execution_options(yield_per=20000).execute(q)


def event_index(session: Session, seq: int) -> int:
    """0-based leaf index of the event with this sequence number."""
    return session.execute(sa.select(sa.func.count()).select_from(AuditEvent).where(  # type: ignore[call-overload]
        col(AuditEvent.seq) < seq)).scalar() or 0


def export_lines(engine: Engine) -> Iterator[str]:
    """JSON Lines: every signing key, every event (its exact canonical JSON; a pruned event
    only its hashes: ``prev``, ``hash`` and its Merkle ``leaf``), every tree head."""
    with engine.connect() as conn, engine.connect() as tree:
        for kid, pem in conn.execute(sa.select(SigningKey.id, SigningKey.public_pem)):  # type: ignore[call-overload]
            yield json.dumps({"type": "signing_key", "key_id": kid, "pem": pem})
        leaves: dict[int, bytes] = {}
        for i, row in enumerate(_events(conn)):
            if row.pruned:
                if i not in leaves:  # the pruned are mostly one run of old events: by pages
                    leaves = dict(tree.execute(sa.select(AuditNode.idx, AuditNode.hash).where(  # type: ignore[call-overload]
                        AuditNode.level == 0, col(AuditNode.idx) >= i,
                        col(AuditNode.idx) < i + 10000)).all())
                leaf = leaves.get(i)
                if leaf is None:
                    raise damaged(f"its tree node 0/{i} is missing")
                yield json.dumps({"type": "event", "index": i, "seq": row.seq, "pruned": True,
                                  "prev": row.prev_hash, "hash": row.hash, "leaf": leaf.hex()})
                continue
            at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
            doc = canonical(row.prev_hash, at, row.actor, row.action, row.object, row.outcome,
                            row.engagement_id, row.detail)
            yield json.dumps({"type": "event", "index": i, "seq": row.seq,
                              "event": doc.decode("utf-8")}, ensure_ascii=False)
        for cp in conn.execute(sa.select(AuditCheckpoint).order_by(col(AuditCheckpoint.size))):
            at = cp.at if cp.at.tzinfo else cp.at.replace(tzinfo=UTC)
            yield json.dumps(tree_head_dict(cp.size, cp.root, at, cp.key_id, cp.signature))


def tree_head_dict(size: int, root: str, at: datetime, key_id: str, signature: str
                   ) -> dict[str, Any]:
    return {"type": "tree_head", "size": size, "root": root, "time": at.isoformat(),
            "key_id": key_id, "signature": signature,
            "message": signing.tree_head_message(size, root, at.isoformat()).decode("ascii")}
