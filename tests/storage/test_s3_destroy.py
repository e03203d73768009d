"""`vault destroy --due` on PostgreSQL + a real S3 (SeaweedFS): every version and delete marker
is purged by version id and recorded; a payload under Object Lock COMPLIANCE (S3's own clock
decides) is shredded now, its purge left pending, the certificate saying so."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session

from tests.conftest import StepClock
from vault.age import X25519Identity
from vault.evidence.sources import Source
from vault.metadata.db import open_database
from vault.metadata.models import Destruction
from vault.retention.report import METHOD_PURGED
from vault.service import IngestOptions, IngestResult, Vault, bootstrap
from vault.service import destruction as destroying

from .seaweed import Server
from .test_s3 import new_bucket
from .test_s3_vault import s3_store


def _firm(seaweed: Server, pg_url: str, tmp_path: Path, bucket: str) -> tuple[Vault, Vault]:
    engine = open_database(pg_url)
    clock = StepClock()
    alice, job = X25519Identity.generate(), X25519Identity.generate()
    bootstrap._register_first(engine, alice, "alice", clock, os.urandom)
    store = s3_store(seaweed, bucket)
    admin = Vault(engine, store, alice, tmp_dir=tmp_path / "tmp", clock=clock)
    admin.add_user("job", str(job.recipient), "destruction-job")
    admin.create_engagement("e", client="c", standard="pci-dss-4.0.1")
    return admin, Vault(engine, store, job, tmp_dir=tmp_path / "tmp", clock=clock)


def _ingest(v: Vault, data: bytes, **kw: object) -> IngestResult:
    [r] = v.ingest("e", [Source("a.txt", len(data), lambda: io.BytesIO(data))],
                   IngestOptions(**kw))  # type: ignore[arg-type]
    assert isinstance(r, IngestResult), r
    return r


def test_every_version_and_delete_marker_is_purged(seaweed: Server, pg_url: str,
                                                   tmp_path: Path) -> None:
    bucket = new_bucket(seaweed, lock=False)
    s3 = seaweed.client()
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    admin, job = _firm(seaweed, pg_url, tmp_path, bucket)
    it = _ingest(admin, b"evidence one\n", allow_unlocked=True).view.item
    full = f"vault/{it.object_key}"
    s3.put_object(Bucket=bucket, Key=full, Body=b"a second version")
    s3.delete_object(Bucket=bucket, Key=full)          # and a delete marker on top
    assert len(admin.store.versions(it.object_key)) == 3
    admin.complete_engagement("e", date(2026, 3, 1))
    admin.clock.now = datetime(2029, 6, 1, tzinfo=UTC)  # type: ignore[attr-defined]
    report = destroying.destroy_due(job)
    [entry] = report.items
    assert entry.method == METHOD_PURGED and entry.verified and len(entry.version_ids) == 3
    listed = s3.list_object_versions(Bucket=bucket, Prefix=full)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers")
    assert report.store_url.startswith("s3://")


def test_a_compliance_locked_payload_is_shredded_and_its_purge_left_pending(
        seaweed: Server, pg_url: str, tmp_path: Path) -> None:
    admin, job = _firm(seaweed, pg_url, tmp_path, new_bucket(seaweed))
    it = _ingest(admin, b"evidence two\n").view.item
    admin.complete_engagement("e", date(2026, 3, 1))
    # The vault's clock says 2029; S3's says today, and its lock runs to 2029: it refuses.
    admin.clock.now = datetime(2029, 6, 1, tzinfo=UTC)  # type: ignore[attr-defined]
    report = destroying.destroy_due(job)
    [entry] = report.items
    assert entry.method.startswith("cryptographic erase; purge pending (object lock until 2029")
    assert [p.id for p in report.pending] == [it.id]
    assert admin.store.exists(it.object_key)
    with Session(admin.engine) as s:
        d = s.get(Destruction, it.id)
        assert d is not None and d.locked and d.step == "shredded"
        assert json.loads(d.version_ids) == admin.store.versions(it.object_key)
    assert report.certificate_id is not None
