"""What one destruction run did, as plain data: the input of its destruction certificate
(:mod:`vault.retention.certificate`) and of ``vault destroy --due --json``.

The fields follow the NIST SP 800-88 sanitization record (Rev. 1 §4.8 / Appendix G, carried
into Rev. 2): what was sanitised (each item's id, SHA-256, size, object key and the store's
version ids), how (cryptographic erase of the per-object key + purge of every stored version),
the verification performed and its result, when, by which job identity, with which tool, and
what remains (locked versions pending purge, backups and WAL archives until they expire).
Nothing here is content: no file name, description or key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

METHOD_PURGED = "cryptographic erase + purge"
"""The item's age header (its only file key) was erased and every stored version deleted."""

METHOD_PENDING = "cryptographic erase; purge pending (object lock until {until})"
"""The header was erased; the store still holds a version it refuses to delete before
`until` (a later run purges it)."""

VERIFICATION = ("the store was asked for every version and delete marker of each object key "
                "after the purge and listed none; the item's header is absent from the "
                "metadata database")
"""The verification a run performs for every item it reports as verified."""

REMAINS = (
    "Database backups and PostgreSQL WAL archives taken before this run still hold the "
    "destroyed items' age headers until they expire under the firm's backup retention.",
    "Object store versions still under Object Lock (listed as pending) keep their ciphertext "
    "until their retain-until date; without the erased header it cannot be decrypted.",
)
"""What a run cannot reach: said plainly on every certificate."""


@dataclass(frozen=True)
class DestroyedItem:
    """One item a run sanitised."""

    id: str
    engagement_id: str
    sha256: str | None
    size: int
    object_key: str
    version_ids: tuple[str, ...]
    """The store's version ids that were deleted ("" for an unversioned store's one copy)."""
    method: str
    """:data:`METHOD_PURGED`, or :data:`METHOD_PENDING` with its date."""
    verified: bool
    """Whether the store, asked afterwards, held no version of the object key."""
    ingested_at: datetime | None = None
    destruction_due: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["version_ids"] = list(self.version_ids)
        for k in ("ingested_at", "destruction_due"):
            d[k] = d[k].isoformat() if d[k] is not None else None
        return d


@dataclass(frozen=True)
class PendingItem:
    """An item whose header is erased but whose payload the store still locks."""

    id: str
    engagement_id: str
    object_key: str
    locked_until: datetime | None
    """The lock's date, when the store says it (None: a legal hold or unknown)."""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["locked_until"] = self.locked_until.isoformat() if self.locked_until else None
        return d


@dataclass
class RunReport:
    """One run of ``vault destroy --due`` (or its dry run: ``dry_run`` True, nothing done)."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None
    job_name: str
    """The job's user name in this vault."""
    job_recipient: str
    """The job's age recipient: its identity, as registered."""
    tool: str
    """``evidence-vault <version>``."""
    store_url: str
    """The object store, as opened (never credentials)."""
    dry_run: bool = False
    items: list[DestroyedItem] = field(default_factory=list)
    pending: list[PendingItem] = field(default_factory=list)
    """Items shredded (now or earlier) whose purge the store still refuses."""
    engagements_destroyed: list[str] = field(default_factory=list)
    """Engagements whose every item is destroyed: keys' grants erased, row a tombstone."""
    due: int = 0
    """Items found due at the start (a dry run lists them in `items`)."""
    held: int = 0
    """Items due by date but under a legal hold (left alone)."""
    verification: str = VERIFICATION
    remains: tuple[str, ...] = REMAINS
    certificate_id: str | None = None
    """Set once the run's certificate is issued."""
    database: str = ""
    """``sqlite`` or ``postgresql``: how the database files were cleaned (see remains)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "job": {"name": self.job_name, "recipient": self.job_recipient},
            "tool": self.tool,
            "store": self.store_url,
            "database": self.database,
            "dry_run": self.dry_run,
            "due": self.due,
            "held": self.held,
            "items": [i.as_dict() for i in self.items],
            "pending": [p.as_dict() for p in self.pending],
            "engagements_destroyed": list(self.engagements_destroyed),
            "verification": self.verification,
            "remains": list(self.remains),
            "certificate_id": self.certificate_id,
        }
