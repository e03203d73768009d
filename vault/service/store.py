"""Vault and store verbs: what the vault holds and where, what the object store guarantees, and
a doctor that finds payloads without metadata, metadata without payloads, stalled ingests and
abandoned multipart uploads — and, with repair, removes only what is safe (never a live item)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, func, select

from vault.evidence.lifecycle import READABLE, VISIBLE, ItemState
from vault.metadata.models import Engagement, EvidenceItem, Member
from vault.retention.protect import enforces_retention
from vault.service.context import Context

STALE = timedelta(hours=1)


def status(cx: Context) -> dict[str, Any]:
    """What this vault holds and where (counts, never names)."""
    with cx.act("vault.status", "vault") as a:
        s = a.s
        engagements = s.exec(select(func.count()).select_from(Engagement)).one()
        items = s.exec(select(func.count()).select_from(EvidenceItem)
                       .where(col(EvidenceItem.state).in_(VISIBLE))).one()
        mine = s.exec(select(func.count()).select_from(Member)
                      .where(Member.user_id == cx.user.id)).one()
    return {"user": cx.user.name, "engagements": engagements, "my_engagements": mine,
            "items": items, "store": cx.store.url,
            "database": cx.engine.url.render_as_string(hide_password=True)}


def store_check(cx: Context) -> dict[str, Any]:
    """What the configured store guarantees."""
    with cx.act("store.check", "store"):
        pass
    store: Any = cx.store
    if not hasattr(store, "bucket_status"):  # a directory: no service of its own to ask
        return {"store": store.url, "kind": "local directory", "versioning": False,
                "object_lock": False, "worm": False,
                "retention": enforces_retention(store),
                "note": "retention is enforced only through the vault, not against root"}
    status = dict(store.bucket_status())
    status.update({"store": store.url, "kind": "s3",
                   "worm": "object_lock" in store.capabilities})
    return status


def doctor(cx: Context, *, repair: bool = False, older_than: timedelta = STALE
           ) -> dict[str, Any]:
    """Find (and with `repair` clean) leftovers; live items are only reported."""
    with cx.act("store.doctor", "store") as a:
        rows = a.s.exec(select(EvidenceItem.id, EvidenceItem.object_key, EvidenceItem.state,
                               EvidenceItem.ingested_at)).all()
        a.s.commit()
        store: Any = cx.store
        known = {key: (iid, state, at) for iid, key, state, at in rows}
        keys = set(store.list("payload/"))
        now = cx.clock()
        report: dict[str, Any] = {"orphan_payloads": [], "missing_payloads": [],
                                  "stalled_ingests": [], "abandoned_uploads": [],
                                  "repaired": [], "kept": []}
        for key in sorted(keys - known.keys()):
            report["orphan_payloads"].append(key)
            if repair:
                _try_delete(cx, key, report)
        for key, (iid, state, at) in sorted(known.items()):
            if state == ItemState.PENDING:
                if now - at < older_than:
                    continue  # an ingest may still be running
                report["stalled_ingests"].append(iid)
                if repair:
                    if key in keys:
                        _try_delete(cx, key, report)
                    with cx.session() as s:
                        row = s.get(EvidenceItem, iid)
                        if row is not None and row.state == ItemState.PENDING:
                            s.delete(row)
                            s.commit()
                            report["repaired"].append(f"pending record {iid}")
            elif state in READABLE and key not in keys:
                report["missing_payloads"].append(iid)
        if hasattr(store, "abandoned_uploads"):  # only S3 stores have multipart uploads
            uploads = store.abandoned_uploads(older_than)
            report["abandoned_uploads"] = [u.key for u in uploads]
            if repair and uploads:
                for u in store.abort_abandoned_uploads(older_than):
                    report["repaired"].append(f"multipart upload {u.key}")
        a.detail = {k: len(v) for k, v in report.items() if isinstance(v, list)} | {
            "repair": repair}
    return report


def _try_delete(cx: Context, key: str, report: dict[str, Any]) -> None:
    try:
        cx.store.delete(key)
        report["repaired"].append(f"payload {key}")
    except PermissionError:
        report["kept"].append(f"payload {key} (locked by retention; delete it after expiry)")
