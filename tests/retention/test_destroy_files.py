"""Deleted means gone from the database files: after a redaction and after a destruction, in a
vault of a few thousand items, neither the SQLite file nor its WAL holds an erased header's
bytes (nor a destroyed item's file name), while the headers of living items are still found
there (the search works)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from tests.conftest import StepClock
from tests.retention.destroykit import CARD, bulk_items, ingest, open_firm
from vault.evidence.sources import Source
from vault.metadata.models import EvidenceItem
from vault.service import IngestOptions, IngestResult
from vault.service import destruction as destroying


def _files(home: Path) -> bytes:
    db = home / "vault.db"
    wal = home / "vault.db-wal"
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _found(header: bytes, files: bytes) -> bool:
    """Whether any 20-byte slice of the header's random parts (the X25519 share, the wrapped
    file key, the MAC; not a stanza naming the item's id, which stays) is in the files: a
    fragment left in a freed cell counts."""
    lines = header.split(b"\n")[1:]   # after the version line, which every header has
    pieces = [tok for line in lines if b"evidence-vault-item" not in line
              for tok in line.split(b" ") if len(tok) >= 20]
    return any(p[i:i + 20] in files for p in pieces for i in range(0, len(p) - 19, 8))


def _header(f, item_id: str) -> bytes:  # type: ignore[no-untyped-def]
    with Session(f.admin.engine) as s:
        it = s.get(EvidenceItem, item_id)
        assert it is not None and it.age_header is not None
        return bytes(it.age_header)


def test_erased_headers_are_not_left_in_the_sqlite_file_or_its_wal(tmp_path: Path) -> None:
    f = open_firm(tmp_path / "v", StepClock(datetime(2026, 3, 1, tzinfo=UTC)))
    v = f.admin
    for name in ("done", "kept"):
        v.create_engagement(name, client="c", standard="pci-dss-4.0.1")
    at = datetime(2026, 3, 2, tzinfo=UTC)
    kept = bulk_items(v, "kept", [at + timedelta(seconds=n) for n in range(3000)], store=False)
    gone = bulk_items(v, "done", [at + timedelta(seconds=n) for n in range(200)])
    card = ingest(v, "done", "cards-of-2026.log", CARD)
    gone_headers = [_header(f, i) for i in gone[:50]] + [_header(f, card.id)]
    kept_headers = [_header(f, i) for i in kept[:20]]
    card_header = gone_headers[-1]

    [flag] = v.flags("done", kind="pan")
    res = v.resolve_flag(flag.flag.id, "redact", "mask the card")   # shreds the original
    files = _files(f.home)
    assert not _found(card_header, files)                   # the redaction's header is gone
    assert all(_found(h, files) for h in kept_headers)       # others' are there: search works
    assert (f.home / "vault.db-wal").stat().st_size == 0    # checkpointed and truncated

    v.complete_engagement("done", date(2026, 3, 31))
    f.clock.now = datetime(2029, 4, 2, tzinfo=UTC)
    report = destroying.destroy_due(f.job)
    assert len(report.items) == 202 and res.redacted_version in {i.id for i in report.items}
    files = _files(f.home)
    assert not [h for h in gone_headers if _found(h, files)]
    assert b"cards-of-2026" not in files                    # nor a destroyed item's name
    assert all(_found(h, files) for h in kept_headers)
    with f.admin.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA secure_delete")).scalar() == 1


def _sqlite_temp_files(engine: sa.engine.Engine) -> list[str]:
    """Records the temporary files SQLite has open (statement journals, sorts; opened under
    /var/tmp and unlinked at once, so only /proc shows them) after each statement run on
    `engine`; returns the list it fills."""
    seen: list[str] = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def look(*_args: object) -> None:
        for fd in Path("/proc/self/fd").iterdir():
            try:
                target = str(fd.readlink())
            except OSError:
                continue
            if "etilqs_" in target:
                seen.append(target)
    return seen


def test_sqlite_keeps_its_temporary_files_in_memory(tmp_path: Path) -> None:
    # A statement journal holds the pages a statement changes as they were before it: an
    # erased header and file name among them. Written to /var/tmp and unlinked, its blocks
    # keep them, out of reach of secure_delete and the WAL checkpoint above.
    f = open_firm(tmp_path / "v", StepClock(datetime(2026, 3, 1, tzinfo=UTC)))
    v = f.admin
    seen = _sqlite_temp_files(v.engine)
    v.create_engagement("done", client="c", standard="pci-dss-4.0.1")
    at = datetime(2026, 3, 2, tzinfo=UTC)
    bulk_items(v, "done", [at + timedelta(seconds=n) for n in range(200)])
    files = [Source(name=f"config-{n}.log", size=len(data), open=lambda d=data: io.BytesIO(d))
             for n, data in enumerate(f"hostname sw-{n}\n".encode() * 40 for n in range(30))]
    assert all(isinstance(r, IngestResult) for r in v.ingest("done", files, IngestOptions()))
    ingest(v, "done", "cards-of-2026.log", CARD)
    [flag] = v.flags("done", kind="pan")
    v.resolve_flag(flag.flag.id, "redact", "mask the card")
    v.complete_engagement("done", date(2026, 3, 31))
    f.clock.now = datetime(2029, 4, 2, tzinfo=UTC)
    assert f.job.engine is v.engine  # the destruction job's statements are watched too
    assert len(destroying.destroy_due(f.job).items) == 232
    assert seen == []
    with f.admin.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA temp_store")).scalar() == 2  # MEMORY
