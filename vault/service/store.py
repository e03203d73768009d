"""Vault and store verbs: what the vault holds and where, what the object store guarantees, and
a doctor that finds payloads without metadata, metadata without payloads, stalled ingests and
abandoned multipart uploads — and, with repair, removes only what is safe (never a live item)."""

from __future__ import annotations

import stat
import time
from datetime import timedelta
from typing import Any

from sqlmodel import col, func, select

from vault.errors import StorageError
from vault.evidence import retrieve
from vault.evidence.lifecycle import READABLE, VISIBLE, ItemState
from vault.metadata.models import Engagement, EvidenceItem, Member
from vault.retention.dates import destruction_date
from vault.retention.holds import held_item_ids, mirror
from vault.retention.protect import enforces_retention, protect
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
                                  "unfinished_writes": [], "plaintext_leftovers": [],
                                  "unprotected_items": [], "unheld_payloads": [],
                                  "stale_holds": [],
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
        _leftover_files(cx, store, older_than, repair, report)
        _unprotected(cx, repair, report)
        if hasattr(store, "abandoned_uploads"):  # only S3 stores have multipart uploads
            uploads = store.abandoned_uploads(older_than)
            report["abandoned_uploads"] = [u.key for u in uploads]
            if repair and uploads:
                for u in store.abort_abandoned_uploads(older_than):
                    report["repaired"].append(f"multipart upload {u.key}")
        a.detail = {k: len(v) for k, v in report.items() if isinstance(v, list)} | {
            "repair": repair}
    return report


def _unprotected(cx: Context, repair: bool, report: dict[str, Any]) -> None:
    """Items whose payload the store does not hold until their destruction date (an ingest
    whose store failed after the commit; a store restored from a backup), or whose legal-hold
    flag disagrees with the vault's holds."""
    if not enforces_retention(cx.store):
        return
    with cx.session() as s:
        rows = s.exec(select(EvidenceItem, Engagement).join(
            Engagement, col(Engagement.id) == col(EvidenceItem.engagement_id)).where(
            col(EvidenceItem.state).in_(VISIBLE))).all()
        on_hold = held_item_ids(s)
    for item, eng in rows:
        completed_on = eng.completed_on
        try:
            info = cx.store.head(item.object_key)
        except OSError:
            continue  # missing payloads are reported above
        _legal_hold_flag(cx, item, info.legal_hold, item.id in on_hold, repair, report)
        held = info.retain_until
        if held is not None and held >= destruction_date(completed_on, item.ingested_at,
                                                         eng.retention_years):
            continue
        report["unprotected_items"].append(item.id)
        if repair:
            try:
                protect(cx.store, item, completed_on, eng.retention_years)
                report["repaired"].append(f"retention of item {item.id}")
            except StorageError as exc:
                report["kept"].append(f"item {item.id} ({exc.message})")


def _legal_hold_flag(cx: Context, item: EvidenceItem, flagged: bool, held: bool,
                     repair: bool, report: dict[str, Any]) -> None:
    """The store's legal-hold flag disagrees with the vault's holds (a store that failed while
    a hold was placed or released): set or clear it."""
    if flagged == held:
        return
    report["unheld_payloads" if held else "stale_holds"].append(item.id)
    if repair:
        failed = mirror(cx.store, [item.object_key], held)
        if failed:
            report["kept"].append(f"item {item.id} ({failed[0]})")
        else:
            report["repaired"].append(f"legal hold of item {item.id} "
                                      f"{'set' if held else 'cleared'}")


def _leftover_files(cx: Context, store: Any, older_than: timedelta, repair: bool,
                    report: dict[str, Any]) -> None:
    """Files a killed process leaves: the local store's unfinished writes (ciphertext), and
    under the vault's tmp directory the temporaries of `vault get` to standard output
    (plaintext!). A `get -o` leaves its temporary beside the destination: the README says
    where to look."""
    age = older_than.total_seconds()
    if hasattr(store, "leftover_writes"):  # the local directory store
        for path in store.leftover_writes(age):
            report["unfinished_writes"].append(str(path))
            if repair:
                store.remove_leftover(path)
                report["repaired"].append(f"unfinished write {path}")
    now = time.time()
    try:
        entries = sorted(cx.tmp_dir.glob(retrieve.TEMP_PREFIX + "*"))
    except OSError:
        entries = []
    for path in entries:
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < age:
            continue
        report["plaintext_leftovers"].append(str(path))
        if repair:
            path.unlink(missing_ok=True)
            report["repaired"].append(f"plaintext leftover {path}")


def _try_delete(cx: Context, key: str, report: dict[str, Any]) -> None:
    try:
        cx.store.delete(key)
        report["repaired"].append(f"payload {key}")
    except PermissionError:
        report["kept"].append(f"payload {key} (locked by retention; delete it after expiry)")
