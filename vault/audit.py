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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from vault import merkle, signing
from vault.models import AuditCheckpoint, AuditEvent, AuditHead, AuditNode, SigningKey

GENESIS = "0" * 64


def canonical(prev: str, at: datetime, actor: str, action: str, obj: str, outcome: str,
              engagement_id: str | None, detail: str | None) -> bytes:
    """The exact bytes that are hashed for the chain and as the Merkle leaf."""
    doc = {"prev": prev, "at": at.astimezone(UTC).isoformat(), "actor": actor,
           "action": action, "object": obj, "outcome": outcome, "engagement": engagement_id,
           "detail": detail}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def _node(conn: Connection | Session, level: int, idx: int) -> bytes:
    h = conn.execute(sa.select(AuditNode.hash).where(  # type: ignore[call-overload]
        AuditNode.level == level, AuditNode.idx == idx)).scalar()
    if h is None:
        raise LookupError(f"audit tree node {level}/{idx} is missing")
    return h  # type: ignore[no-any-return]


def append(session: Session, *, at: datetime, actor: str, action: str, obj: str, outcome: str,
           engagement_id: str | None = None, detail: str | None = None) -> AuditEvent:
    """Add one event after the newest; the caller commits (with its own work, atomically)."""
    session.execute(sa.update(AuditHead).where(col(AuditHead.id) == 1)
                    .values(size=col(AuditHead.size) + 1))
    size, prev = session.execute(sa.select(AuditHead.size, AuditHead.last_hash)  # type: ignore[call-overload]
                                 .where(AuditHead.id == 1)).one()
    index = size - 1
    doc = canonical(prev, at, actor, action, obj, outcome, engagement_id, detail)
    digest = hashlib.sha256(doc).hexdigest()
    event = AuditEvent(at=at, actor=actor, action=action, object=obj, outcome=outcome,
                       engagement_id=engagement_id, detail=detail, prev_hash=prev, hash=digest)
    session.add(event)
    rows = [{"level": 0, "idx": index, "hash": merkle.leaf_hash(doc)}]
    level, j, h = 0, index, rows[0]["hash"]
    while j & 1:
        h = merkle.node_hash(_node(session, level, j - 1), h)  # type: ignore[arg-type]
        level, j = level + 1, j >> 1
        rows.append({"level": level, "idx": j, "hash": h})
    session.execute(sa.insert(AuditNode), rows)
    session.execute(sa.update(AuditHead).where(col(AuditHead.id) == 1).values(last_hash=digest))
    return event


def head(session: Session) -> tuple[int, bytes]:
    """(size, Merkle root) of the log as committed."""
    size = session.execute(sa.select(AuditHead.size).where(AuditHead.id == 1)).scalar() or 0  # type: ignore[call-overload]
    return size, merkle.tree_root(size, lambda lv, ix: _node(session, lv, ix))


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
                  AuditEvent.detail, AuditEvent.prev_hash, AuditEvent.hash
                  ).order_by(AuditEvent.seq)
    yield from conn.execution_options(yield_per=20000).execute(q)


@dataclass
class VerifyReport:
    events: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


_RAW_EVENTS = ("SELECT seq, at, actor, action, object, outcome, engagement_id, detail, "
               "prev_hash, hash FROM audit_event WHERE seq >= {lo} AND seq < {hi} ORDER BY seq")


def _iso(at: Any) -> str:
    """The canonical time text from a driver value (SQLite: text; PostgreSQL: datetime)."""
    if isinstance(at, str):
        # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) in SQLite: rewrite it as
        # datetime.isoformat() would, without parsing (verification reads millions of them).
        if len(at) == 26 and at[10] == " " and at[19] == ".":
            if at.endswith(".000000"):
                return at[:10] + "T" + at[11:19] + "+00:00"
            return at[:10] + "T" + at[11:] + "+00:00"
        at = datetime.fromisoformat(at)
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).isoformat()


_q = json.encoder.encode_basestring  # type: ignore[attr-defined]  # json's own (C) quoting


def _doc(prev: str, at: str, actor: str, action: str, obj: str, outcome: str,
         eng: str | None, detail: str | None) -> bytes:
    """canonical(), assembled directly in its sorted-key order (a test checks they agree)."""
    return ('{"action":' + _q(action) + ',"actor":' + _q(actor) + ',"at":' + _q(at)
            + ',"detail":' + ("null" if detail is None else _q(detail))
            + ',"engagement":' + ("null" if eng is None else _q(eng))
            + ',"object":' + _q(obj) + ',"outcome":' + _q(outcome)
            + ',"prev":' + _q(prev) + "}").encode("utf-8")


@dataclass
class _Slice:
    """Chain and leaf hashes of the events with lo <= seq < hi (step 1, one worker)."""

    count: int = 0
    first_prev: str | None = None
    first_seq: int | None = None
    last_hash: str | None = None
    broken: tuple[int, int, str, str] | None = None  # (offset, seq, found prev, expected prev)
    edited: tuple[int, int] | None = None             # (offset, seq)
    leaves: list[bytes] = field(default_factory=list)


def _verify_slice(url: str, lo: int, hi: int) -> _Slice:
    engine = sa.create_engine(url)
    out = _Slice()
    sha = hashlib.sha256
    try:
        with engine.connect() as conn:
            rows = conn.execution_options(yield_per=20000).exec_driver_sql(
                _RAW_EVENTS.format(lo=int(lo), hi=int(hi)))
            prev: str | None = None
            for seq, at, actor, action, obj, outcome, eng, detail, prev_hash, digest in rows:
                if prev is None:
                    out.first_prev, out.first_seq = prev_hash, seq
                elif prev_hash != prev and out.broken is None:
                    out.broken = (out.count, seq, prev_hash, prev)
                doc = _doc(prev_hash, _iso(at), actor, action, obj, outcome, eng, detail)
                if out.edited is None and sha(doc).hexdigest() != digest:
                    out.edited = (out.count, seq)
                out.leaves.append(sha(b"\x00" + doc).digest())
                prev = digest
                out.count += 1
            out.last_hash = prev
    finally:
        engine.dispose()
    return out


def _slices(engine: Engine, workers: int) -> list[_Slice]:
    with engine.connect() as conn:
        first, last = conn.execute(sa.select(sa.func.min(AuditEvent.seq),  # type: ignore[call-overload]
                                             sa.func.max(AuditEvent.seq))).one()
    if first is None or last is None:
        return []
    lo, hi = int(first), int(last)
    url = engine.url.render_as_string(hide_password=False)
    step = (hi - lo) // workers + 1
    bounds = [(lo + i * step, min(lo + (i + 1) * step, hi + 1)) for i in range(workers)]
    if workers == 1 or hi - lo < 20000:
        return [_verify_slice(url, lo, hi + 1)]
    import multiprocessing
    with multiprocessing.get_context("spawn").Pool(workers) as pool:  # safe beside threads
        return pool.starmap(_verify_slice, [(url, a, b) for a, b in bounds])


def verify(engine: Engine, *, workers: int = 2) -> VerifyReport:
    """Check the log in numbered steps; each problem names what was expected and what found.

    1. chain: every event's hash matches its content and links to the one before;
    2. tree: the Merkle root over the first N events equals every checkpoint's root;
    3. signatures: every checkpoint is signed by a known key of the firm;
    4. head: the recorded size matches the events present.
    Step 1 runs in `workers` processes over ranges of the log; the tree is folded here.
    """
    report = VerifyReport()
    with engine.connect() as conn:
        keys = {k: pem for k, pem in conn.execute(sa.select(SigningKey.id,  # type: ignore[call-overload]
                                                            SigningKey.public_pem))}
        cps = list(conn.execute(sa.select(AuditCheckpoint).order_by(
            col(AuditCheckpoint.size))).all())
        size = conn.execute(sa.select(AuditHead.size)).scalar() or 0  # type: ignore[call-overload]
    frontier = merkle.Frontier()
    pending = iter(cps)
    nxt = next(pending, None)
    prev, base = GENESIS, 0
    for part in _slices(engine, workers):
        if report.ok and part.count:
            if part.first_prev != prev:
                report.problems.append(_broken(base + 1, part.first_seq, part.first_prev, prev))
            elif part.broken is not None:
                off, seq, found, expected = part.broken
                report.problems.append(_broken(base + off + 1, seq, found, expected))
            elif part.edited is not None:
                off, seq = part.edited
                report.problems.append(f"1. chain: event {base + off + 1} (seq {seq}) does not "
                                       "match its hash (its content was edited)")
        for leaf in part.leaves:
            while nxt is not None and nxt.size == frontier.size:
                _check_cp(report, nxt, frontier.root(), keys)
                nxt = next(pending, None)
            frontier.push(leaf)
        prev = part.last_hash or prev
        base += part.count
    while nxt is not None:
        if nxt.size == frontier.size:
            _check_cp(report, nxt, frontier.root(), keys)
        else:
            report.problems.append(
                f"2. tree: tree head of size {nxt.size} but only {frontier.size} events "
                "exist (events were deleted)")
        nxt = next(pending, None)
    if size != frontier.size:
        report.problems.append(f"4. head: the log records {size} events, found "
                               f"{frontier.size}")
    report.events, report.checkpoints = frontier.size, len(cps)
    return report


def _broken(n: int, seq: int | None, found: str | None, expected: str) -> str:
    return (f"1. chain: event {n} (seq {seq}) links to {(found or '')[:16]}…, expected "
            f"{expected[:16]}… (an event before it was deleted, reordered or edited)")


def _check_cp(report: VerifyReport, cp: Any, root: bytes, keys: dict[str, str]) -> None:
    if cp.root != root.hex():
        report.problems.append(f"2. tree: tree head of size {cp.size} has root "
                               f"{cp.root[:16]}…, the events give {root.hex()[:16]}… "
                               "(an event among the first {0} was altered)".format(cp.size))
    at = cp.at if cp.at.tzinfo else cp.at.replace(tzinfo=UTC)
    msg = signing.tree_head_message(cp.size, cp.root, at.isoformat())
    pem = keys.get(cp.key_id)
    if pem is None:
        report.problems.append(f"3. signatures: tree head of size {cp.size} is signed by an "
                               f"unknown key {cp.key_id[:16]}…")
    elif not signing.verify(pem, msg, base64.b64decode(cp.signature)):
        report.problems.append(f"3. signatures: tree head of size {cp.size} has a bad "
                               "signature")


def event_index(session: Session, seq: int) -> int:
    """0-based leaf index of the event with this sequence number."""
    return session.execute(sa.select(sa.func.count()).select_from(AuditEvent).where(  # type: ignore[call-overload]
        col(AuditEvent.seq) < seq)).scalar() or 0


def export_lines(engine: Engine) -> Iterator[str]:
    """JSON Lines: every signing key, every event (its exact canonical JSON), every tree head."""
    with engine.connect() as conn:
        for kid, pem in conn.execute(sa.select(SigningKey.id, SigningKey.public_pem)):  # type: ignore[call-overload]
            yield json.dumps({"type": "signing_key", "key_id": kid, "pem": pem})
        for i, row in enumerate(_events(conn)):
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
