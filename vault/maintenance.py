"""Store health (service mixin): what the object store guarantees, and a doctor that finds
payloads without metadata, metadata without payloads, stalled ingests and abandoned multipart
uploads — and, with repair, removes only what is safe (never a live item)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from storage_backends import ObjectStore
from vault.facade import Facade
from vault.models import EvidenceItem

STALE = timedelta(hours=1)


def is_local(store: ObjectStore) -> bool:
    return store.url.startswith("file:")


def enforces_retention(store: ObjectStore) -> bool:
    """Whether payloads get a retain-until date (the local store keeps it through its API)."""
    return is_local(store) or "object_lock" in store.capabilities


class MaintenanceMixin:
    store: ObjectStore

    def store_check(self: Any) -> dict[str, Any]:
        """What the configured store guarantees."""
        with self._session() as s:
            self._require(s, "store.check", "store")
        store: ObjectStore = self.store
        if is_local(store):
            return {"store": store.url, "kind": "local directory", "versioning": False,
                    "object_lock": False, "worm": False,
                    "note": "retention is enforced only through the vault, not against root"}
        status = dict(store.bucket_status())  # type: ignore[attr-defined]
        status.update({"store": store.url, "kind": "s3",
                       "worm": "object_lock" in store.capabilities})
        return status

    def doctor(self: Any, *, repair: bool = False, older_than: timedelta = STALE
               ) -> dict[str, Any]:
        """Find (and with `repair` clean) leftovers; live items are only reported."""
        f: Facade = self
        with f._session() as s:
            f._require(s, "store.doctor", "store")
            rows = s.exec(select(EvidenceItem.id, EvidenceItem.object_key, EvidenceItem.state,
                                 EvidenceItem.ingested_at)).all()
        store: ObjectStore = self.store
        known = {key: (iid, state, at) for iid, key, state, at in rows}
        keys = set(store.list("payload/"))
        now = f.clock()
        report: dict[str, Any] = {"orphan_payloads": [], "missing_payloads": [],
                                  "stalled_ingests": [], "abandoned_uploads": [],
                                  "repaired": [], "kept": []}
        for key in sorted(keys - known.keys()):
            report["orphan_payloads"].append(key)
            if repair:
                self._try_delete(key, report)
        for key, (iid, state, at) in sorted(known.items()):
            if state == "pending":
                if now - at < older_than:
                    continue  # an ingest may still be running
                report["stalled_ingests"].append(iid)
                if repair:
                    if key in keys:
                        self._try_delete(key, report)
                    with f._session() as s:
                        row = s.get(EvidenceItem, iid)
                        if row is not None and row.state == "pending":
                            s.delete(row)
                            s.commit()
                            report["repaired"].append(f"pending record {iid}")
            elif state in ("active", "quarantined", "superseded") and key not in keys:
                report["missing_payloads"].append(iid)
        multipart: Any = store  # only S3 stores have multipart uploads
        if hasattr(multipart, "abandoned_uploads"):
            uploads = multipart.abandoned_uploads(older_than)
            report["abandoned_uploads"] = [u.key for u in uploads]
            if repair and uploads:
                for u in multipart.abort_abandoned_uploads(older_than):
                    report["repaired"].append(f"multipart upload {u.key}")
        with f._session() as s:
            f._audit(s, "store.doctor", "store", detail={
                k: len(v) for k, v in report.items() if isinstance(v, list)} | {
                "repair": repair})
            s.commit()
        return report

    def _try_delete(self: Any, key: str, report: dict[str, Any]) -> None:
        try:
            self.store.delete(key)
            report["repaired"].append(f"payload {key}")
        except PermissionError:
            report["kept"].append(f"payload {key} (locked by retention; delete it after expiry)")


__all__ = ["MaintenanceMixin", "enforces_retention", "is_local"]
