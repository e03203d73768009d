"""Flags: what detection found in one item, kept for a reviewer, and the reviewer's decisions.

A flag keeps the kind, where a value was first seen, how often, the masked value and a keyed
hash (HMAC-SHA256 with a per-engagement key derived from the engagement's first age identity, so
only members can test a guess) - never the value itself. Who may decide a flag is the
permission matrix's ``flag.resolve`` (:mod:`vault.people.access`); what a decision does to the
item is the lifecycle's (:mod:`vault.evidence.lifecycle`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import Session, col, select

from vault.age import X25519Identity
from vault.errors import InvalidInput
from vault.evidence.lifecycle import QUARANTINE_KINDS, ItemState, move
from vault.metadata.db import driver_value
from vault.metadata.models import EvidenceItem, Flag
from vault.pii import CARD_KINDS, KINDS
from vault.pii.feed import FlagDraft

if TYPE_CHECKING:
    from vault.pii import Scanner

DECISIONS = ("false_positive", "redact", "retain")
"""What a reviewer may decide: not what the detector thought; store a masked version and
crypto-shred the original; keep it as is, with a reason why the evidence needs it."""
FLAG_STATES = ("open", "false_positive", "redacted", "retained")

MAX_FLAGS_PER_KIND = 10_000
"""Distinct values of a card-data kind kept per item; more are counted in the ingest's audit
event only."""
MAX_OTHER_FLAGS_PER_KIND = 1_000
"""Distinct values kept per item of each other kind (IP addresses, phone numbers, IBANs...:
flagged for review, never quarantined), so a log full of them neither crowds out its card
numbers nor fills the database with rows no reviewer reads; more are counted in the audit
event."""

_HASH_INFO = b"evidence-vault flag value hash v1 "
_FLAG_COLUMNS = ("id", "item_id", "engagement_id", "kind", "detector", "line", "page",
                 "member", "occurrences", "masked", "confidence", "value_hash", "state",
                 "created_at")
_SQLITE_BULK_CACHE_KIB = 65536
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # SQLite, PostgreSQL


def caps() -> dict[str, int]:
    """Distinct values kept per item, by kind."""
    return {kind: MAX_FLAGS_PER_KIND if kind in CARD_KINDS else MAX_OTHER_FLAGS_PER_KIND
            for kind in KINDS}


def flag_hash_key(first_key: X25519Identity, engagement_id: str) -> bytes:
    """The engagement's key for flag value hashes (HKDF of its first identity's secret)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_HASH_INFO + engagement_id.encode()).derive(first_key.secret)


def add_flags(s: Session, item: EvidenceItem, drafts: list[FlagDraft], ids: list[str],
              now: datetime) -> None:
    """One open flag row per draft (`ids`: theirs, in ascending order, so the primary-key index
    takes them page after page), by the driver's executemany: an item can bring tens of
    thousands (SQLAlchemy's per-row parameter processing would double the time)."""
    add_flags_many(s, [(item, drafts, ids)], now)


def add_flags_many(s: Session, batch: list[tuple[EvidenceItem, list[FlagDraft], list[str]]],
                   now: datetime) -> None:
    """:func:`add_flags` for several items (a batch of small files) in one executemany."""
    rows = [(fid, item.id, item.engagement_id, d.kind, d.detector, d.line, d.page,
             d.member[:1000] if d.member else None, d.occurrences, d.masked, d.confidence,
             d.value_hash, "open")
            for item, drafts, ids in batch
            for fid, d in zip(ids, drafts, strict=True)]
    if not rows:
        return
    conn = s.connection()
    table = Flag.__table__  # type: ignore[attr-defined]
    at = driver_value(table.c.created_at, now, conn.dialect)
    mark = _PLACEHOLDERS[conn.dialect.paramstyle]
    sql = (f"INSERT INTO {table.name} ({', '.join(_FLAG_COLUMNS)}) "
           f"VALUES ({', '.join([mark] * len(_FLAG_COLUMNS))})")
    before = None
    if conn.dialect.name == "sqlite" and len(rows) > 1000:
        # the five indexes take random keys: a page cache that holds them (~1/3 faster)
        before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
        conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_BULK_CACHE_KIB}")
    try:
        conn.exec_driver_sql(sql, [(*r, at) for r in rows])
    finally:
        if before is not None:  # as it was, for this pooled connection
            conn.exec_driver_sql(f"PRAGMA cache_size={before}")


def check_reason(reason: str, scanner: Scanner) -> str:
    """The reason a reviewer gives, on one line; refused when it holds card data or a secret
    (it is kept in the audit log)."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("a decision needs a reason (--reason TEXT)")
    if len(reason) > 2000:
        raise InvalidInput("the reason is too long (at most 2000 characters)")
    if any(f.kind in CARD_KINDS or f.kind == "secret" for f in scanner.scan_text(reason)):
        raise InvalidInput("the reason contains card data or a secret: describe it instead")
    return reason


def check_decision(decision: str) -> None:
    if decision not in DECISIONS:
        raise InvalidInput(f"unknown decision {decision!r}",
                           hint="one of: " + ", ".join(DECISIONS))


def check_open(flag: Flag) -> None:
    if flag.state != "open":
        raise InvalidInput(f"flag {flag.id[:12]} is already resolved ({flag.state})")


def decide(flag: Flag, state: str, reason: str, by: str, now: datetime) -> None:
    """Record one decision on an open flag."""
    check_open(flag)
    flag.state, flag.reason, flag.resolved_by, flag.resolved_at = state, reason, by, now


def lift_quarantine(s: Session, item: EvidenceItem) -> None:
    """Make a quarantined item active when none of its quarantining flags is open any more."""
    s.flush()
    still = s.exec(select(Flag.id).where(Flag.item_id == item.id, Flag.state == "open",
                                         col(Flag.kind).in_(QUARANTINE_KINDS))).first()
    if item.state == ItemState.QUARANTINED and still is None:
        move(item, ItemState.ACTIVE)
        s.add(item)
