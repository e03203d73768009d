"""Verifying the audit log, in numbered steps; each problem names what was expected and what
was found."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vault.audit import merkle
from vault.audit.log import GENESIS
from vault.audit.prune import ACTION as PRUNE_ACTION
from vault.crypto import signing
from vault.metadata.models import AuditEvent, AuditHead, AuditNode, SigningKey


@dataclass
class VerifyReport:
    events: int = 0
    checkpoints: int = 0
    pruned: int = 0
    """Events older than the retention, pruned to their hashes (see vault.audit.prune)."""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


_RAW_EVENTS = ("SELECT seq, at, actor, action, object, outcome, engagement_id, detail, "
               "prev_hash, hash, pruned FROM audit_event WHERE seq >= {lo} AND seq < {hi} "
               "ORDER BY seq")


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
    leaves: list[bytes] = field(default_factory=list)  # b"" for a pruned event (see below)
    pruned: list[int] = field(default_factory=list)    # offsets of pruned events
    newest_pruned: tuple[int, int, str] | None = None  # (offset, seq, time) of the last one
    latest_pruned_at: str = ""                         # the newest time of a pruned event
    prunes: list[tuple[int, str]] = field(default_factory=list)  # audit.prune: (upto, before)


def _verify_slice(url: str, lo: int, hi: int) -> _Slice:
    engine = sa.create_engine(url)
    out = _Slice()
    sha = hashlib.sha256
    try:
        with engine.connect() as conn:
            rows = conn.execution_options(yield_per=20000).exec_driver_sql(
                _RAW_EVENTS.format(lo=int(lo), hi=int(hi)))
            prev: str | None = None
            for (seq, at, actor, action, obj, outcome, eng, detail, prev_hash, digest,
                 pruned) in rows:
                if prev is None:
                    out.first_prev, out.first_seq = prev_hash, seq
                elif prev_hash != prev and out.broken is None:
                    out.broken = (out.count, seq, prev_hash, prev)
                try:
                    when = _iso(at)
                except (TypeError, ValueError):  # a time edited into something else
                    when = str(at)
                if pruned:  # content cleared: the chain by its stored hashes, the leaf later
                    out.pruned.append(out.count)
                    out.newest_pruned = (out.count, seq, when)
                    out.latest_pruned_at = max(out.latest_pruned_at, when)
                    out.leaves.append(b"")
                    prev = digest
                    out.count += 1
                    continue
                if action == PRUNE_ACTION and outcome == "ok":
                    out.prunes.append(_prune_scope(detail))
                doc = _doc(prev_hash or "", when, actor or "", action or "", obj or "",
                           outcome or "", eng, detail)
                if out.edited is None and sha(doc).hexdigest() != digest:
                    out.edited = (out.count, seq)
                out.leaves.append(sha(b"\x00" + doc).digest())
                prev = digest
                out.count += 1
            out.last_hash = prev
    finally:
        engine.dispose()
    return out


def _prune_scope(detail: str | None) -> tuple[int, str]:
    """(up to which seq, before which time) an audit.prune event says it pruned."""
    try:
        d = json.loads(detail or "{}")
        return int(d["upto_seq"]), _iso(str(d["before"]))
    except (ValueError, KeyError, TypeError):
        return 0, ""


def _fill_pruned(engine: Engine, base: int, part: _Slice) -> None:
    """A pruned event's leaf is the tree's level-0 node at its index."""
    if not part.pruned:
        return
    with engine.connect() as conn:
        lo, hi = base + part.pruned[0], base + part.pruned[-1]
        nodes: dict[int, bytes] = dict(conn.execute(sa.select(AuditNode.idx, AuditNode.hash).where(  # type: ignore[call-overload]
            AuditNode.level == 0, AuditNode.idx >= lo, AuditNode.idx <= hi)).all())
    for off in part.pruned:
        part.leaves[off] = nodes.get(base + off, b"")


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

    1. chain: every event's hash matches its content and links to the one before (a pruned
       event, whose content is gone, by its stored hashes; it must lie within what an
       ``audit.prune`` event says it pruned);
    2. tree: the Merkle root over the first N events equals every checkpoint's root;
    3. signatures: every checkpoint is signed by a known key of the firm;
    4. head: the recorded size matches the events present.
    Step 1 runs in `workers` processes over ranges of the log; the tree is folded here.
    """
    report = VerifyReport()
    with engine.connect() as conn:
        keys = {k: pem for k, pem in conn.execute(sa.select(SigningKey.id,  # type: ignore[call-overload]
                                                            SigningKey.public_pem))}
        # tree heads read raw: an edited time must be reported, not fail the whole check
        cps = [_Head(*row) for row in conn.exec_driver_sql(
            "SELECT size, root, at, key_id, signature FROM audit_checkpoint ORDER BY size")]
        size = conn.execute(sa.select(AuditHead.size)).scalar() or 0  # type: ignore[call-overload]
    frontier = merkle.Frontier()
    pending = iter(cps)
    nxt = next(pending, None)
    prev, base = GENESIS, 0
    newest_pruned: tuple[int, int, str] | None = None
    latest_pruned_at, prunes = "", []
    for part in _slices(engine, workers):
        _fill_pruned(engine, base, part)
        report.pruned += len(part.pruned)
        prunes += part.prunes
        if part.newest_pruned is not None:
            off, seq, when = part.newest_pruned
            newest_pruned = (base + off + 1, seq, when)
            latest_pruned_at = max(latest_pruned_at, part.latest_pruned_at)
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
            if not leaf and report.ok:
                report.problems.append(f"2. tree: the leaf of pruned event "
                                       f"{frontier.size + 1} is missing")
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
    if newest_pruned is not None:
        upto = max((u for u, _ in prunes), default=0)
        before = max((b for _, b in prunes), default="")
        n, seq, _when = newest_pruned
        if seq > upto or latest_pruned_at >= before:
            report.problems.append(
                f"1. chain: event {n} (seq {seq}) was pruned, but no audit.prune event covers "
                "it (its content was cleared outside the retention rule)")
    if size != frontier.size:
        report.problems.append(f"4. head: the log records {size} events, found "
                               f"{frontier.size}")
    report.events, report.checkpoints = frontier.size, len(cps)
    return report


def _broken(n: int, seq: int | None, found: str | None, expected: str) -> str:
    return (f"1. chain: event {n} (seq {seq}) links to {(found or '')[:16]}…, expected "
            f"{expected[:16]}… (an event before it was deleted, reordered or edited)")


@dataclass(frozen=True)
class _Head:
    """A signed tree head as stored (raw driver values)."""

    size: int
    root: str
    at: Any
    key_id: str
    signature: str


def _check_cp(report: VerifyReport, cp: Any, root: bytes, keys: dict[str, str]) -> None:
    if cp.root != root.hex():
        report.problems.append(f"2. tree: tree head of size {cp.size} has root "
                               f"{str(cp.root)[:16]}…, the events give {root.hex()[:16]}… "
                               f"(an event among the first {cp.size} was altered)")
    pem = keys.get(cp.key_id)
    if pem is None:
        report.problems.append(f"3. signatures: tree head of size {cp.size} is signed by an "
                               f"unknown key {str(cp.key_id)[:16]}…")
        return
    try:
        msg = signing.tree_head_message(cp.size, cp.root, _iso(cp.at))
        good = signing.verify(pem, msg, base64.b64decode(cp.signature, validate=True))
    except (TypeError, ValueError):  # an edited time, signature or key that does not parse
        good = False
    if not good:
        report.problems.append(f"3. signatures: tree head of size {cp.size} has a bad "
                               "signature")
