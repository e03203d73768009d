"""Metadata tables (SQLModel). Schema changes go through an Alembic migration in
``vault/migrations/versions`` — this data lives for years and must survive upgrades.

Nothing here holds evidence content, a key in clear, or a card number: engagement identities are
stored only wrapped to each member's personal recipient, and each item's age header (which is
what makes its payload readable) is kept here so that deleting it crypto-shreds the item.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(unique=True, max_length=200)
    recipient: str = Field(unique=True, max_length=100)
    firm_role: str | None = Field(default=None, max_length=20)  # admin | destruction-job
    created_at: datetime = _ts()


class Engagement(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(unique=True, max_length=200)
    client: str = Field(max_length=500)
    standard: str = Field(max_length=40)
    period_start: date | None = None
    period_end: date | None = None
    completed_on: date | None = None
    created_at: datetime = _ts()
    created_by: str = Field(foreign_key="user_account.id", max_length=32)
    retention_years: int = Field(default=3, sa_column_kwargs={"server_default": "3"})
    """How long after max(completion, ingest) its items are kept (3; longer only)."""
    destroyed_at: datetime | None = _ts(default=None, nullable=True)
    """Set when its every item was destroyed: its key grants are erased and the row is a
    tombstone (name = id, client cleared)."""


class EngagementKey(SQLModel, table=True):
    """One generation of an engagement's X25519 identity (public part only)."""

    __tablename__ = "engagement_key"
    id: str = Field(primary_key=True, max_length=32)
    engagement_id: str = Field(foreign_key="engagement.id", index=True, max_length=32)
    recipient: str = Field(max_length=100)
    created_at: datetime = _ts()
    retired_at: datetime | None = _ts(default=None, nullable=True)


class Member(SQLModel, table=True):
    engagement_id: str = Field(foreign_key="engagement.id", primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="user_account.id", primary_key=True, max_length=32)
    role: str = Field(max_length=20)
    added_at: datetime = _ts()
    added_by: str = Field(max_length=32)


class KeyGrant(SQLModel, table=True):
    """An engagement identity, age-encrypted to one member's personal recipient."""

    __tablename__ = "key_grant"
    key_id: str = Field(foreign_key="engagement_key.id", primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="user_account.id", primary_key=True, max_length=32)
    wrapped: bytes = Field(sa_type=sa.LargeBinary)
    granted_at: datetime = _ts()


class EvidenceItem(SQLModel, table=True):
    __tablename__ = "evidence_item"
    __table_args__ = (sa.UniqueConstraint("engagement_id", "sha256", name="uq_item_sha256"),)
    id: str = Field(primary_key=True, max_length=32)
    engagement_id: str = Field(foreign_key="engagement.id", index=True, max_length=32)
    key_id: str = Field(foreign_key="engagement_key.id", max_length=32)
    kind: str = Field(max_length=20)
    original_name: str = Field(max_length=4096)
    declared_mime: str | None = Field(default=None, max_length=200)
    detected_mime: str | None = Field(default=None, max_length=200)
    size: int = Field(default=0, sa_type=sa.BigInteger)
    sha256: str | None = Field(default=None, max_length=64)
    ingested_at: datetime = _ts()
    ingested_by: str = Field(foreign_key="user_account.id", max_length=32)
    system: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=4000)
    disclosure: str = Field(default="team", max_length=20)
    state: str = Field(default="pending", max_length=20, index=True)
    supersedes_id: str | None = Field(default=None, foreign_key="evidence_item.id", max_length=32)
    object_key: str = Field(unique=True, max_length=200)
    age_header: bytes | None = Field(default=None, sa_type=sa.LargeBinary)


class ItemSearch(SQLModel, table=True):
    """One narrow row per evidence item: what the evidence list filters, sorts and searches on
    (`body` = lower-cased name, description and system). Written only by the database's own
    triggers on evidence_item (migration 0004), never by the application, so it cannot drift;
    scanning it is several times cheaper than scanning evidence_item, whose rows carry the age
    header. Clustered by (engagement, ingest time, id) on SQLite: a page in list order is a
    range scan that stops early."""

    __tablename__ = "item_search"
    __table_args__ = {"sqlite_with_rowid": False}
    engagement_id: str = Field(primary_key=True, max_length=32)
    ingested_at: datetime = _ts(primary_key=True)
    item_id: str = Field(primary_key=True, foreign_key="evidence_item.id", ondelete="CASCADE",
                         unique=True, index=True, max_length=32)
    state: str = Field(max_length=20)
    kind: str = Field(max_length=20)
    disclosure: str = Field(max_length=20)
    body: str = Field(sa_type=sa.Text)


class ItemMember(SQLModel, table=True):
    """One file inside a container item (an archive's member, an e-mail's attachment), as the
    scan at ingest met it: its path (card data masked), size and detected type, or why it was
    not read. The container itself is the evidence; this is its table of contents."""

    __tablename__ = "item_member"
    item_id: str = Field(foreign_key="evidence_item.id", primary_key=True, max_length=32)
    seq: int = Field(primary_key=True)
    path: str = Field(max_length=4096)
    size: int | None = Field(default=None, sa_type=sa.BigInteger)
    mime: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=300)


class ItemRequirement(SQLModel, table=True):
    __tablename__ = "item_requirement"
    item_id: str = Field(foreign_key="evidence_item.id", primary_key=True, max_length=32)
    requirement_id: str = Field(primary_key=True, max_length=20, index=True)


class Flag(SQLModel, table=True):
    """One kind of PII or card data found in an item: one row per distinct value (by keyed
    hash), with where it was first seen and how often. Never holds the clear value."""

    __tablename__ = "flag"
    id: str = Field(primary_key=True, max_length=32)
    item_id: str = Field(foreign_key="evidence_item.id", index=True, max_length=32)
    engagement_id: str = Field(foreign_key="engagement.id", index=True, max_length=32)
    kind: str = Field(max_length=20)
    detector: str = Field(max_length=60)
    line: int | None = Field(default=None, sa_type=sa.BigInteger)
    page: int | None = Field(default=None)
    member: str | None = Field(default=None, max_length=1000)
    """Where inside the item: an archive member's path, a sheet and cell (card data masked)."""
    occurrences: int = Field(default=1, sa_type=sa.BigInteger)
    masked: str = Field(max_length=200)
    confidence: float = Field(default=1.0)
    value_hash: str = Field(max_length=64, index=True)
    state: str = Field(default="open", max_length=20, index=True)
    reason: str | None = Field(default=None, max_length=2000)
    resolved_by: str | None = Field(default=None, foreign_key="user_account.id", max_length=32)
    resolved_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts()


class AuditEvent(SQLModel, table=True):
    """Append-only: never content, keys or a card number — only who did what to which object."""

    __tablename__ = "audit_event"
    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)  # the audit retention's cut-off (migration 0012)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=60)
    object: str = Field(max_length=200)
    outcome: str = Field(max_length=20)
    engagement_id: str | None = Field(default=None, max_length=32, index=True)
    detail: str | None = Field(default=None, max_length=2000)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    pruned: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    """Older than the audit retention: its content (actor, action, object, outcome,
    engagement, detail) was cleared; its time, chain hashes and Merkle leaf stay (migration
    0012's trigger permits that one change and no other)."""


class AuditHead(SQLModel, table=True):
    """One row: the log's size and newest event hash. Appenders update it first, which
    serialises them (a row lock on PostgreSQL, the write lock on SQLite)."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    size: int = Field(default=0, sa_type=sa.BigInteger)
    last_hash: str = Field(max_length=64)


class AuditNode(SQLModel, table=True):
    """Hash of a perfect subtree of the RFC 9162 Merkle tree: leaves [idx*2^level,
    (idx+1)*2^level). Level 0 holds the leaf hashes; appending writes O(log n) rows."""

    __tablename__ = "audit_node"
    level: int = Field(primary_key=True)
    idx: int = Field(primary_key=True, sa_type=sa.BigInteger)
    hash: bytes = Field(sa_type=sa.LargeBinary)


class AuditCheckpoint(SQLModel, table=True):
    """A signed tree head: the Merkle root over the first `size` events at a time."""

    __tablename__ = "audit_checkpoint"
    size: int = Field(primary_key=True, sa_type=sa.BigInteger)
    root: str = Field(max_length=64)
    at: datetime = _ts()
    key_id: str = Field(max_length=64)
    signature: str = Field(max_length=200)


class SigningKey(SQLModel, table=True):
    """A generation of the firm's Ed25519 signing key: public part only; id = SHA-256 of the
    raw public key."""

    __tablename__ = "signing_key"
    id: str = Field(primary_key=True, max_length=64)
    public_pem: str = Field(max_length=400)
    created_at: datetime = _ts()
    retired_at: datetime | None = _ts(default=None, nullable=True)
    ca_pem: str | None = Field(default=None, sa_type=sa.Text)
    """This generation's self-signed CA certificate (the firm key certifies people's keys)."""


class SigningGrant(SQLModel, table=True):
    """The signing key's private part, age-encrypted to one signer's personal recipient."""

    __tablename__ = "signing_grant"
    key_id: str = Field(foreign_key="signing_key.id", primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="user_account.id", primary_key=True, max_length=32)
    wrapped: bytes = Field(sa_type=sa.LargeBinary)


class SignerKey(SQLModel, table=True):
    """A person's own Ed25519 signing key (they sign their exports): public part, and the
    private part age-encrypted to that person only. id = SHA-256 of the raw public key."""

    __tablename__ = "signer_key"
    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="user_account.id", index=True, max_length=32)
    public_pem: str = Field(max_length=400)
    wrapped: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = _ts()


class SignerCertificate(SQLModel, table=True):
    """An X.509 certificate of a person's signing key, issued by a firm-key generation (CA)."""

    __tablename__ = "signer_certificate"
    serial: str = Field(primary_key=True, max_length=64)
    key_id: str = Field(foreign_key="signer_key.id", index=True, max_length=64)
    user_id: str = Field(foreign_key="user_account.id", index=True, max_length=32)
    ca_key_id: str = Field(foreign_key="signing_key.id", max_length=64)
    pem: str = Field(sa_type=sa.Text)
    not_before: datetime = _ts()
    not_after: datetime = _ts()
    issued_by: str = Field(foreign_key="user_account.id", max_length=32)


class FirmCatalogue(SQLModel, table=True):
    """A requirement catalogue an administrator loaded (`vault catalogue load`): the file as
    loaded and checked, which extends the built-in catalogue of its standard for every user of
    this vault. One per standard; loading again replaces it."""

    __tablename__ = "firm_catalogue"
    standard: str = Field(primary_key=True, max_length=40)
    title: str = Field(max_length=200)
    body: str = Field(sa_type=sa.Text)
    """The file's JSON, as loaded."""
    sha256: str = Field(max_length=64)
    requirements: int
    loaded_at: datetime = _ts()
    loaded_by: str = Field(foreign_key="user_account.id", max_length=32)


class LegalHold(SQLModel, table=True):
    """A legal hold: while unreleased, nothing it covers is destroyed, and the store's
    legal-hold flag is set on every version of every covered payload. Covers one item, or a
    whole engagement when ``item_id`` is None. Released holds stay, as the record of who
    released them and why."""

    __tablename__ = "legal_hold"
    id: str = Field(primary_key=True, max_length=32)
    engagement_id: str = Field(foreign_key="engagement.id", index=True, max_length=32)
    item_id: str | None = Field(default=None, index=True, max_length=32)
    """No foreign key: a released hold's record outlives the item once it is destroyed."""
    reason: str = Field(max_length=2000)
    placed_by: str = Field(foreign_key="user_account.id", max_length=32)
    placed_at: datetime = _ts()
    released_by: str | None = Field(default=None, foreign_key="user_account.id",
                                    max_length=32)
    released_at: datetime | None = _ts(default=None, nullable=True)
    release_reason: str | None = Field(default=None, max_length=2000)


class DestructionRun(SQLModel, table=True):
    """One run of ``vault destroy --due``: who ran it, when, what it did, its certificate."""

    __tablename__ = "destruction_run"
    id: str = Field(primary_key=True, max_length=32)
    started_at: datetime = _ts()
    finished_at: datetime | None = _ts(default=None, nullable=True)
    job_user_id: str = Field(foreign_key="user_account.id", max_length=32)
    destroyed: int = Field(default=0)
    pending: int = Field(default=0)
    engagements: int = Field(default=0)
    certificate_id: str | None = Field(default=None, max_length=64)


class Destruction(SQLModel, table=True):
    """One item's destruction, step by step (claimed, shredded, purged, verified, tombstoned,
    done), so that a run killed at any point is continued by the next. One row per item: a
    purge the store refuses (Object Lock) leaves it at ``shredded`` with ``locked`` set, and a
    later run retries it."""

    __tablename__ = "destruction"
    item_id: str = Field(foreign_key="evidence_item.id", primary_key=True, max_length=32)
    engagement_id: str = Field(foreign_key="engagement.id", index=True, max_length=32)
    run_id: str = Field(foreign_key="destruction_run.id", index=True, max_length=32)
    """The run that holds (or last held) the claim; the one that finished it, once done."""
    step: str = Field(max_length=20, index=True)
    claimed_by: str = Field(max_length=32)
    """The claiming run's id: a live run's claims are skipped by other workers."""
    claimed_at: datetime = _ts()
    object_key: str = Field(max_length=200)
    version_ids: str = Field(default="[]", sa_type=sa.Text)
    """JSON list of the store's version ids (and delete markers) purged."""
    locked: bool = Field(default=False)
    """The store refused the purge (Object Lock): shredded now, purge retried later."""
    locked_until: datetime | None = _ts(default=None, nullable=True)
    verified: bool = Field(default=False)
    done_at: datetime | None = _ts(default=None, nullable=True)


class DestructionCertificate(SQLModel, table=True):
    """A signed record of one destruction run (NIST SP 800-88 sanitization record fields).
    `body` is the exact canonical JSON that `signature` (raw Ed25519, base64) signs. Never
    deleted or changed (a trigger refuses it): a certificate outlives what it describes."""

    __tablename__ = "destruction_certificate"
    id: str = Field(primary_key=True, max_length=32)
    created_at: datetime = _ts()
    run_id: str = Field(max_length=64, index=True)
    body: str = Field(sa_type=sa.Text)
    key_id: str = Field(foreign_key="signing_key.id", max_length=64)
    signature: str = Field(max_length=200)
    items: int = Field(default=0, sa_type=sa.BigInteger)


class CertificateEngagement(SQLModel, table=True):
    """Which engagements a certificate's items belonged to (leads and QA of an engagement see
    its certificates' metadata)."""

    __tablename__ = "certificate_engagement"
    certificate_id: str = Field(foreign_key="destruction_certificate.id", primary_key=True,
                                max_length=32)
    engagement_id: str = Field(primary_key=True, index=True, max_length=32)
    items: int = Field(default=0, sa_type=sa.BigInteger)
class ItemRocRef(SQLModel, table=True):
    """A reference number the ROC cites for an item (``DOC-12``); an item may carry several,
    and a QA request names them."""

    __tablename__ = "item_roc_ref"
    item_id: str = Field(foreign_key="evidence_item.id", primary_key=True, max_length=32)
    ref: str = Field(primary_key=True, max_length=64, index=True)


class ExportRecipient(SQLModel, table=True):
    """Someone an export may be encrypted to (firm-wide, kept by administrators): the PCI SSC
    (``council``) or an assessed entity (``client``, bound to one client's engagements)."""

    __tablename__ = "export_recipient"
    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(unique=True, max_length=200)
    type: str = Field(max_length=20)
    age_recipient: str = Field(max_length=100)
    client: str | None = Field(default=None, max_length=500)
    fingerprint: str = Field(max_length=64)
    """SHA-256 of the age recipient string (hex), compared out of band."""
    created_at: datetime = _ts()
    created_by: str = Field(foreign_key="user_account.id", max_length=32)


class ExportRecord(SQLModel, table=True):
    """One export bundle written: to whom (copied, so a removed recipient's exports still
    read), which request, and the SHA-256 of the encrypted bundle."""

    __tablename__ = "export_record"
    id: str = Field(primary_key=True, max_length=32)
    engagement_id: str = Field(foreign_key="engagement.id", index=True, max_length=32)
    recipient: str = Field(max_length=200)
    recipient_type: str = Field(max_length=20)
    recipient_fingerprint: str = Field(max_length=64)
    request_ref: str = Field(max_length=200)
    bag_name: str = Field(max_length=200)
    bundle_sha256: str = Field(max_length=64)
    bundle_size: int = Field(default=0, sa_type=sa.BigInteger)
    items: int = Field(default=0)
    payload_bytes: int = Field(default=0, sa_type=sa.BigInteger)
    withheld: int = Field(default=0)
    created_at: datetime = _ts()
    created_by: str = Field(foreign_key="user_account.id", max_length=32)
