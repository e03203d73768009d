"""``vault destroy --due``: destroy what its retention no longer keeps, step by recorded step.

For each due, unheld item (:func:`vault.retention.due.due_items`), in batches:

1. **claim** — a ``destruction`` row names this run (``claimed_by``); other workers skip it.
   On PostgreSQL the candidates are locked with ``FOR UPDATE SKIP LOCKED`` in a short
   transaction, so two workers never claim one item.
2. **shred** — the one :func:`vault.evidence.lifecycle.shred` erases its age header (a
   redacted original was shredded already), with the ``item.shred`` event.
3. **purge** — the store's version ids are recorded, then every version and delete marker is
   deleted. A store that refuses (Object Lock: its own clock decides) leaves the item shredded
   with ``locked`` set; the next run retries it.
4. **verify** — the store is asked again and must list no version of the key.
5. **tombstone** — :func:`vault.evidence.lifecycle.tombstone`: no name, description, system,
   types, flags, members or requirement links remain.
6. **done** — the ``item.destroy`` event, exactly once (in the transaction that sets the step).

Each step commits before the next starts, so a run killed anywhere is continued by the next run:
it takes over the claims of runs that are gone (PostgreSQL: their run row is not locked by a
live worker; SQLite: runs are serialised by a lock file, so any other unfinished run is gone).
When an engagement's every item is destroyed, its key grants are erased (the engagement key is
gone) and its row becomes a tombstone. The run then signs a certificate of what it destroyed,
signs an audit checkpoint, and makes the erased rows gone from the database files
(:func:`vault.metadata.db.forget_deleted`).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from vault.evidence.lifecycle import ItemState, shred, tombstone
from vault.metadata.db import forget_deleted
from vault.metadata.models import (
    Destruction,
    DestructionRun,
    Engagement,
    EngagementKey,
    EvidenceItem,
    ExportRecord,
    KeyGrant,
    LegalHold,
)
from vault.retention.dates import destruction_date
from vault.retention.due import DESTROYABLE, Due, due_items
from vault.retention.holds import held_item_ids, lock_engagement, mirror
from vault.retention.report import (
    METHOD_PENDING,
    METHOD_PURGED,
    DestroyedItem,
    PendingItem,
    RunReport,
)
from vault.service.context import Context, Target

ACTION = "retention.destroy"

BATCH = 500
"""Items per claim: one transaction per step per batch, bulk statements inside."""

STEPS = ("claimed", "shredded", "purged", "verified", "tombstoned", "done")
"""A destruction row's steps, in order (``shredded`` with ``locked``: purge pending)."""

FAULT_POINTS = ("claimed", "shredded", "versions", "deleted", "purged", "verified",
                "tombstoned", "done", "engagements", "finished")
"""Where a fault hook is called: after each step's commit, and inside the purge after the
version ids are recorded (``versions``) and after the store deleted but before that is
recorded (``deleted``). Tests raise (or SIGKILL) there to show a rerun ends in the same
state."""

Fault = Callable[[str], None]


def _no_fault(_point: str) -> None:
    return None


def tool_version() -> str:
    try:
        return f"evidence-vault {version('evidence-vault')}"
    except PackageNotFoundError:
        return "evidence-vault (unreleased)"


# -- serialising runs and telling a live run from a dead one ------------------------------------

@contextmanager
def _sqlite_serialised(engine: Engine) -> Iterator[None]:
    """SQLite has one writer: runs take turns, by an exclusive lock on a file beside the
    database (released by the kernel when a killed process dies). Any unfinished run other
    than the holder's is therefore dead."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    lock = Path(path).with_name(Path(path).name + "-destroy.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


_LOCK_CLASS = 0x5644  # "VD": the advisory-lock class of destruction runs (PostgreSQL)


def _lock_key(run_id: str) -> int:
    return int(run_id[:8], 16) - (1 << 31)  # a signed int4


@contextmanager
def _alive(engine: Engine, run_id: str) -> Iterator[None]:
    """PostgreSQL: hold a session advisory lock named after this run, on a connection of its
    own, for as long as the run works; a killed process's session ends and its lock with it,
    which is how another worker knows the run is gone (:func:`_gone_runs`)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    conn: Connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        conn.execute(sa.text("SELECT pg_advisory_lock(:c, :o)"),
                     {"c": _LOCK_CLASS, "o": _lock_key(run_id)})
        yield
    finally:
        with suppress(Exception):
            conn.execute(sa.text("SELECT pg_advisory_unlock(:c, :o)"),
                         {"c": _LOCK_CLASS, "o": _lock_key(run_id)})
        conn.close()


def _gone_runs(s: Session, me: str) -> list[str]:
    """Unfinished runs other than `me` whose worker is gone (PostgreSQL: nobody holds its
    advisory lock, :func:`_alive`). Their rows stay locked until the caller's transaction ends
    (``FOR NO KEY UPDATE SKIP LOCKED``), so two workers never both take one over. On SQLite
    runs are serialised (:func:`_sqlite_serialised`): every other unfinished run is gone."""
    q = select(DestructionRun.id).where(col(DestructionRun.finished_at).is_(None),
                                        DestructionRun.id != me)
    if s.get_bind().dialect.name != "postgresql":
        return list(s.exec(q).all())
    gone = []
    for rid in s.exec(q).all():  # first without row locks: a live run's row is its own
        key = {"c": _LOCK_CLASS, "o": _lock_key(rid)}
        if s.execute(sa.text("SELECT pg_try_advisory_lock(:c, :o)"), key).scalar():
            s.execute(sa.text("SELECT pg_advisory_unlock(:c, :o)"), key)
            gone.append(rid)
    if gone:
        # NO KEY UPDATE: exclusive among takers, yet no obstacle to the KEY SHARE lock that
        # inserting a row referencing a run takes (FOR UPDATE would deadlock with it).
        gone = list(s.exec(q.where(col(DestructionRun.id).in_(gone))
                           .with_for_update(skip_locked=True, key_share=True)).all())
    return gone


# -- the verb ------------------------------------------------------------------------------

def destroy_due(cx: Context, *, dry_run: bool = False, limit: int | None = None,
                fault: Fault | None = None, batch: int = BATCH) -> RunReport:
    """Destroy every due, unheld item (at most `limit`), or with `dry_run` only say which."""
    if limit is not None and limit < 1:
        from vault.errors import InvalidInput
        raise InvalidInput("--limit must be 1 or more")
    hook = fault or _no_fault
    if dry_run:
        return _dry_run(cx, limit)
    with _sqlite_serialised(cx.engine):
        return _run(cx, limit, hook, batch)


def _report(cx: Context, run_id: str, started: datetime, dry_run: bool) -> RunReport:
    return RunReport(run_id=run_id, started_at=started, finished_at=None,
                     job_name=cx.user.name, job_recipient=cx.user.recipient,
                     tool=tool_version(), store_url=cx.store.url, dry_run=dry_run,
                     database=cx.engine.dialect.name)


def _dry_run(cx: Context, limit: int | None) -> RunReport:
    now = cx.clock()
    with cx.act(ACTION, "destruction/dry-run") as a:
        a.record = False  # it changes nothing
        due, held = due_items(a.s, now)
        report = _report(cx, "", now, True)
        report.due, report.held = len(due), held
        if limit is not None:
            due = due[:limit]
        items = _items(a.s, [d.item_id for d in due])
        when = {d.item_id: d.destruction_date for d in due}
        report.items = [DestroyedItem(
            id=it.id, engagement_id=it.engagement_id, sha256=it.sha256, size=it.size,
            object_key=it.object_key, version_ids=(), method="", verified=False,
            ingested_at=it.ingested_at, destruction_due=when[it.id]) for it in items]
        report.finished_at = now
    return report


def _items(s: Session, ids: Sequence[str]) -> list[EvidenceItem]:
    out: list[EvidenceItem] = []
    for i in range(0, len(ids), 900):
        out.extend(s.exec(select(EvidenceItem).where(
            col(EvidenceItem.id).in_(ids[i:i + 900]))).all())
    order = {x: n for n, x in enumerate(ids)}
    out.sort(key=lambda it: order[it.id])
    return out


def _run(cx: Context, limit: int | None, hook: Fault, batch: int) -> RunReport:
    now = cx.clock()
    run_id = cx.new_id()
    report = _report(cx, run_id, now, False)
    with _alive(cx.engine, run_id):  # before the run's row exists: never seen as gone
        with cx.act(ACTION, f"destruction-run/{run_id}") as a:
            a.s.add(DestructionRun(id=run_id, started_at=now, job_user_id=cx.user.id))
            a.detail = {"phase": "start"}
        with cx.session() as s:
            due, report.held = due_items(s, now)
        report.due = len(due)
        fresh = list(due)
        retries: set[str] = set()
        left = limit
        while left is None or left > 0:
            size = batch if left is None else min(batch, left)
            claimed = _claim(cx, run_id, fresh, size, now, retries)
            hook("claimed")
            if not claimed:
                break
            _work(cx, run_id, claimed, hook)
            if left is not None:
                left -= len(claimed)
        gone = _tombstone_engagements(cx, run_id)
        hook("engagements")
        report.engagements_destroyed = gone
        _finish(cx, run_id, report, retries)
    hook("finished")
    from vault.service.audit import audit_checkpoint, audit_prune
    audit_prune(cx)  # the audit log's own retention, before the head that covers it
    audit_checkpoint(cx)
    forget_deleted(cx.engine)
    return report


def _claim(cx: Context, run_id: str, fresh: list[Due], size: int, now: datetime,
           retries: set[str]) -> list[str]:
    """Claim up to `size` items: first unfinished ones of runs that are gone (or finished,
    e.g. a purge the store refused then: their ids go to `retries`), then fresh due ones.
    One short transaction."""
    with cx.act(ACTION, f"destruction-run/{run_id}") as a:
        a.record = False
        s = a.s
        gone = _gone_runs(s, run_id)
        q = select(Destruction).where(Destruction.step != "done",
                                      Destruction.claimed_by != run_id)
        finished = select(DestructionRun.id).where(col(DestructionRun.finished_at).is_not(None))
        q = q.where(sa.or_(col(Destruction.claimed_by).in_(gone),
                           col(Destruction.claimed_by).in_(finished)))
        if s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        resumed = list(s.exec(q.order_by(col(Destruction.claimed_at)).limit(size)).all())
        for d in resumed:
            if d.locked and d.claimed_by not in gone:  # a finished run's certificate has it
                retries.add(d.item_id)
            d.claimed_by, d.run_id, d.claimed_at = run_id, run_id, now
            s.add(d)
        claimed = [d.item_id for d in resumed]
        while fresh and len(claimed) < size:
            take = fresh[:size - len(claimed)]
            del fresh[:len(take)]
            ids = [d.item_id for d in take]
            held = held_item_ids(s)
            recorded = select(Destruction.item_id).where(
                col(Destruction.item_id) == col(EvidenceItem.id))
            lock = select(EvidenceItem.id, EvidenceItem.object_key, EvidenceItem.engagement_id
                          ).where(col(EvidenceItem.id).in_(ids),
                                  col(EvidenceItem.state).in_(DESTROYABLE), ~recorded.exists())
            if s.get_bind().dialect.name == "postgresql":
                # Rows another worker is claiming right now are skipped, not waited for.
                lock = lock.with_for_update(skip_locked=True, key_share=True, of=EvidenceItem)
            rows = [r for r in s.exec(lock).all() if r[0] not in held]
            if rows:  # claimed by another worker since this statement's snapshot: leave them
                taken = set(s.exec(select(Destruction.item_id).where(
                    col(Destruction.item_id).in_([r[0] for r in rows]))).all())
                rows = sorted(r for r in rows if r[0] not in taken)
            if not rows:
                continue
            table = Destruction.__table__  # type: ignore[attr-defined]
            values = [{"item_id": i, "engagement_id": e, "run_id": run_id, "step": "claimed",
                       "claimed_by": run_id, "claimed_at": now, "object_key": k,
                       "version_ids": "[]", "locked": False, "verified": False}
                      for i, k, e in rows]
            s.execute(_insert_ignore(s, table), values)
            mine = s.exec(select(Destruction.item_id).where(
                col(Destruction.item_id).in_([r[0] for r in rows]),
                Destruction.claimed_by == run_id, Destruction.step == "claimed")).all()
            claimed.extend(mine)
        return claimed


def _insert_ignore(s: Session, table: sa.Table) -> Any:
    """INSERT that leaves a row another worker claimed first as it is."""
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert(table).on_conflict_do_nothing(index_elements=["item_id"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert(table).on_conflict_do_nothing(index_elements=["item_id"])


def _mine(s: Session, run_id: str, ids: Sequence[str], step: str) -> list[Destruction]:
    return list(s.exec(select(Destruction).where(col(Destruction.item_id).in_(ids),
                                                 Destruction.claimed_by == run_id,
                                                 Destruction.step == step)).all())


def _by_engagement(rows: Sequence[Destruction]) -> dict[str, list[Destruction]]:
    out: dict[str, list[Destruction]] = defaultdict(list)
    for d in rows:
        out[d.engagement_id].append(d)
    return out


def _engagement_act(cx: Context, run_id: str, eng_id: str) -> Any:
    """An unrecorded act whose further events are filed under the engagement."""
    return cx.act(ACTION, Target(f"destruction-run/{run_id}", eng_id, None))


def _work(cx: Context, run_id: str, ids: list[str], hook: Fault) -> None:
    _shred(cx, run_id, ids)
    hook("shredded")
    _purge(cx, run_id, ids, hook)
    hook("purged")
    _verify(cx, run_id, ids)
    hook("verified")
    with cx.act(ACTION, f"destruction-run/{run_id}") as a:
        a.record = False
        rows = _mine(a.s, run_id, ids, "verified")
        tombstone(a.s, [d.item_id for d in rows])
        for d in rows:
            d.step = "tombstoned"
            a.s.add(d)
    hook("tombstoned")
    _done(cx, run_id, ids)
    hook("done")


def _shred(cx: Context, run_id: str, ids: list[str]) -> None:
    with cx.session() as s:
        rows = _mine(s, run_id, ids, "claimed")
    for eng_id, group in _by_engagement(rows).items():
        with _engagement_act(cx, run_id, eng_id) as a:
            a.record = False
            s = a.s
            eng = lock_engagement(s, eng_id)  # no hold or retention change commits meanwhile
            held = held_item_ids(s, eng_id)  # a hold placed since the claim still wins
            now = cx.clock()
            mine = _mine(s, run_id, [g.item_id for g in group], "claimed")
            items = {it.id: it for it in _items(s, [d.item_id for d in mine])}
            for d in mine:
                it = items[d.item_id]
                # and so does a retention extended (years, completion date) since the claim,
                # also one a gone run made: the item is judged again, in this transaction
                if d.item_id in held or not _still_due(eng, it, now):
                    s.delete(d)
                    continue
                if it.state != ItemState.SHREDDED:
                    shred(it, a.event, why={"destruction_run": run_id})
                    s.add(it)
                d.step = "shredded"
                s.add(d)


def _still_due(eng: Engagement | None, it: EvidenceItem, now: datetime) -> bool:
    """Whether the item is due at `now` by its engagement's dates as they are now."""
    if eng is None or eng.completed_on is None or eng.destroyed_at is not None:
        return False
    return destruction_date(eng.completed_on, it.ingested_at, eng.retention_years) <= now


def _stale_hold(cx: Context, key: str) -> bool:
    """A payload the store refused to delete because its legal-hold flag stayed on after the
    vault's last covering hold was released (the store failed then): clear the flag and delete
    again. True when that purged it; a retention date still running keeps it refused."""
    try:
        if not cx.store.head(key).legal_hold:
            return False
    except OSError:
        return False
    if mirror(cx.store, [key], False):
        return False
    try:
        cx.store.delete(key)
    except (PermissionError, FileNotFoundError):
        return False
    return True


def _purge(cx: Context, run_id: str, ids: list[str], hook: Fault) -> None:
    """Record the store's version ids, delete them all, record the outcome."""
    with cx.act(ACTION, f"destruction-run/{run_id}") as a:
        a.record = False
        rows = _mine(a.s, run_id, ids, "shredded")
        for d in rows:
            seen = json.loads(d.version_ids)
            now = cx.store.versions(d.object_key)
            d.version_ids = json.dumps(seen + [v for v in now if v not in seen])
            a.s.add(d)
    hook("versions")
    refused: dict[str, datetime | None] = {}
    many = getattr(cx.store, "delete_many", None)  # the local store: one fsync per directory
    if many is not None:
        outcome = many([d.object_key for d in rows])
        failed = [d for d in rows if isinstance(outcome[d.object_key], PermissionError)]
    else:
        failed = []
        for d in rows:
            try:
                cx.store.delete(d.object_key)
            except PermissionError:
                failed.append(d)
    for d in failed:
        if _stale_hold(cx, d.object_key):
            continue  # its flag outlived the vault's holds (rows re-checked unheld): purged now
        until = None
        with suppress(OSError):
            until = cx.store.head(d.object_key).retain_until
        refused[d.item_id] = until
    hook("deleted")
    with cx.act(ACTION, f"destruction-run/{run_id}") as a:
        a.record = False
        for d in _mine(a.s, run_id, ids, "shredded"):
            if d.item_id in refused:
                d.locked, d.locked_until = True, refused[d.item_id]
            else:
                d.step, d.locked, d.locked_until = "purged", False, None
            a.s.add(d)


def _verify(cx: Context, run_id: str, ids: list[str]) -> None:
    """Ask the store again: no version of the key may be left (else the purge is redone)."""
    with cx.session() as s:
        rows = _mine(s, run_id, ids, "purged")
    empty = {d.item_id for d in rows if not cx.store.versions(d.object_key)}
    with cx.act(ACTION, f"destruction-run/{run_id}") as a:
        a.record = False
        for d in _mine(a.s, run_id, ids, "purged"):
            d.verified = d.item_id in empty
            d.step = "verified" if d.verified else "shredded"
            a.s.add(d)


def _done(cx: Context, run_id: str, ids: list[str]) -> None:
    """The ``item.destroy`` event of each tombstoned item, in the transaction that marks it
    done (so exactly once)."""
    with cx.session() as s:
        rows = _mine(s, run_id, ids, "tombstoned")
    for eng_id, group in _by_engagement(rows).items():
        with _engagement_act(cx, run_id, eng_id) as a:
            a.record = False
            mine = _mine(a.s, run_id, [g.item_id for g in group], "tombstoned")
            items = {it.id: it for it in _items(a.s, [d.item_id for d in mine])}
            for d in mine:
                it = items[d.item_id]
                a.event("item.destroy", d.item_id, {
                    "run": run_id, "sha256": it.sha256, "size": it.size,
                    "object_key": d.object_key, "version_ids": json.loads(d.version_ids)})
                d.step, d.run_id, d.done_at = "done", run_id, cx.clock()
                a.s.add(d)


def _tombstone_engagements(cx: Context, run_id: str) -> list[str]:
    """Engagements whose every item is destroyed now: erase their key grants (nobody can
    unwrap the engagement key again) and make the row a tombstone (name = id, client
    cleared). Only engagements some destruction touched."""
    with cx.session() as s:
        touched = s.exec(select(Destruction.engagement_id).distinct()
                         .join(Engagement, col(Engagement.id) == col(Destruction.engagement_id))
                         .where(col(Engagement.destroyed_at).is_(None))).all()
        live = set(s.exec(select(EvidenceItem.engagement_id).distinct().where(
            col(EvidenceItem.engagement_id).in_(touched),
            EvidenceItem.state != ItemState.DESTROYED)).all())
        held = set(s.exec(select(LegalHold.engagement_id).where(
            col(LegalHold.released_at).is_(None), col(LegalHold.item_id).is_(None))).all())
    gone = sorted(set(touched) - live - held)
    for eng_id in gone:
        with _engagement_act(cx, run_id, eng_id) as a:
            a.record = False
            eng = a.s.get(Engagement, eng_id)
            assert eng is not None
            if eng.destroyed_at is not None:
                continue
            keys = select(EngagementKey.id).where(EngagementKey.engagement_id == eng_id)
            erased = a.s.execute(sa.delete(KeyGrant).where(col(KeyGrant.key_id).in_(keys)))
            eng.name, eng.client, eng.destroyed_at = eng.id, "", cx.clock()
            a.s.add(eng)
            # an export's bag was named after the engagement: the record keeps only its id
            a.s.execute(sa.update(ExportRecord).where(col(ExportRecord.engagement_id) == eng_id)
                        .values(bag_name=ExportRecord.id))
            a.event("engagement.destroy", eng_id, {
                "run": run_id, "key_grants_erased": int(erased.rowcount or 0)})  # type: ignore[attr-defined]
    return gone


def _finish(cx: Context, run_id: str, report: RunReport, retries: set[str]) -> None:
    """Adopt what gone runs finished but never certified, fill the report from the records,
    sign its certificate, mark the run finished: one transaction with the run's event. An
    item shredded by an earlier run whose purge the store still refuses (`retries`) is listed
    as pending only: an earlier certificate has it."""
    with cx.act(ACTION, f"destruction-run/{run_id}") as a:
        s = a.s
        gone = _gone_runs(s, run_id)
        if gone:
            s.execute(sa.update(Destruction).where(col(Destruction.run_id).in_(gone),
                                                   col(Destruction.step) == "done")
                      .values(run_id=run_id))
            s.execute(sa.update(Destruction).where(col(Destruction.claimed_by).in_(gone))
                      .values(claimed_by=run_id, run_id=run_id))  # this report has them
            s.execute(sa.update(DestructionRun).where(col(DestructionRun.id).in_(gone))
                      .values(finished_at=cx.clock()))
        done = list(s.exec(select(Destruction).where(Destruction.run_id == run_id,
                                                     Destruction.step == "done")).all())
        pending = list(s.exec(select(Destruction).where(Destruction.claimed_by == run_id,
                                                        Destruction.step != "done")).all())
        items = {it.id: it for it in _items(s, [d.item_id for d in done + pending])}
        report.items = [_destroyed(items[d.item_id], d) for d in done + pending
                        if d.step != "claimed" and not (d.step != "done"
                                                        and d.item_id in retries)]
        report.pending = [PendingItem(d.item_id, d.engagement_id, d.object_key, d.locked_until)
                          for d in pending if d.locked]
        report.finished_at = cx.clock()
        run = s.get(DestructionRun, run_id)
        assert run is not None
        run.finished_at = report.finished_at
        run.destroyed = len(done)
        run.pending = len(report.pending)
        run.engagements = len(report.engagements_destroyed)
        if report.items:
            run.certificate_id = _certify(cx, s, report)
        s.add(run)
        a.detail = {"phase": "finish", "destroyed": run.destroyed, "pending": run.pending,
                    "engagements": run.engagements, "held": report.held,
                    "certificate": run.certificate_id}


def _destroyed(it: EvidenceItem, d: Destruction) -> DestroyedItem:
    if d.step == "done":
        method, verified = METHOD_PURGED, d.verified
    else:  # shredded, the store refusing the purge: the erase is what is verified
        until = d.locked_until.isoformat() if d.locked_until else "the store releases it"
        method, verified = METHOD_PENDING.format(until=until), it.age_header is None
    return DestroyedItem(id=it.id, engagement_id=it.engagement_id, sha256=it.sha256,
                         size=it.size, object_key=d.object_key,
                         version_ids=tuple(json.loads(d.version_ids)), method=method,
                         verified=verified, ingested_at=it.ingested_at)


def _certify(cx: Context, s: Session, report: RunReport) -> str:
    """Sign the run's certificate with the firm key the job holds (in the caller's
    transaction)."""
    from vault.people.grants import signing_key_for
    from vault.retention import certificate
    key = signing_key_for(s, cx.user, cx._identity)
    cert = certificate.issue(s, report, key, cert_id=cx.new_id(), at=cx.clock())
    return cert.id
