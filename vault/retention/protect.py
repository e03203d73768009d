"""Holding each payload in the object store until its destruction date, where the store can.

Whether it can is the store's own declaration (its ``retention`` capability: S3 with Object
Lock, enforced by the service; the local directory, through its API only), never guessed from
its address.
"""

from __future__ import annotations

from datetime import date

from storage_backends import ObjectStore
from vault.errors import StorageError
from vault.metadata.models import EvidenceItem
from vault.retention.dates import destruction_date


def enforces_retention(store: ObjectStore) -> bool:
    """Whether payloads get a retain-until date that the store refuses to delete before."""
    return "retention" in store.capabilities


def protect(store: ObjectStore, item: EvidenceItem, completed_on: date | None,
            years: int) -> None:
    """Hold the item's payload until its destruction date under the engagement's retention
    (`years`; without a completion date, at least ingest + `years`), extend only."""
    if not enforces_retention(store):
        return
    until = destruction_date(completed_on, item.ingested_at, years)
    try:
        try:
            store.set_retention(item.object_key, until)  # one call: a new payload's case
        except PermissionError:  # shortening is refused, and so may be the call itself
            held = store.head(item.object_key).retain_until
            if held is None or held < until:
                raise
            # else e.g. a bucket's default retention already holds it longer
    except OSError as exc:
        raise StorageError(f"could not protect item {item.id[:12]} with retention: "
                           f"{exc.strerror or exc}") from None
