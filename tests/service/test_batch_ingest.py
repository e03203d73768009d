"""Small files ingested as a batch: one commit for many, each file still committed fully or not
at all, scanned and flagged, and audited."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from tests.conftest import src
from vault.errors import InvalidInput, StorageError, VaultError
from vault.evidence.sources import Source, collect
from vault.metadata.models import AuditEvent, EvidenceItem, Flag
from vault.service import IngestOptions, IngestResult, Vault
from vault.service import evidence as ev

CARD = b"card 4111 1111 1111 1111 exp 12/27\n"


def _payloads(vault: Vault) -> list[str]:
    return sorted(vault.store.list("payload/"))


def _rows(vault: Vault) -> list[EvidenceItem]:
    with Session(vault.engine) as s:
        return list(s.exec(select(EvidenceItem)).all())


def _events(vault: Vault) -> list[AuditEvent]:
    with Session(vault.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "item.ingest")
                           .order_by(col(AuditEvent.seq))).all())


def _folder(tmp_path: Path, n: int) -> Path:
    d = tmp_path / "sprint"
    d.mkdir()
    for i in range(n):
        (d / f"f{i:02d}.txt").write_bytes(b"config line %d\n" % i)
    return d


def test_a_folder_lands_as_batches_each_file_scanned_flagged_and_audited(
        vault: Vault, engagement: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ev, "BATCH_FILES", 4)  # 10 files: batches of 4, 4 and 2
    batches: list[int] = []
    real = ev._begin_batch

    def counted(cx, eng, srcs, *a):  # type: ignore[no-untyped-def]
        batches.append(len(srcs))
        return real(cx, eng, srcs, *a)
    monkeypatch.setattr(ev, "_begin_batch", counted)
    d = _folder(tmp_path, 9)
    (d / "z-card.txt").write_bytes(CARD)
    seen: list[str] = []
    results = vault.ingest(engagement, collect([str(d)]), IngestOptions(requirements=("1.2.1",)),
                           on_result=lambda s, r: seen.append(s.name))
    assert batches == [4, 4, 2]
    assert seen == [f"sprint/f{i:02d}.txt" for i in range(9)] + ["sprint/z-card.txt"]
    assert all(isinstance(r, IngestResult) and not r.duplicate for r in results)
    ok = [r for r in results if isinstance(r, IngestResult)]
    assert [r.view.item.original_name for r in ok] == seen
    assert all(r.view.requirements == ("1.2.1",) for r in ok)
    card = ok[-1]
    assert card.quarantined and card.flags.get("pan") == 1
    assert {r.view.item.state for r in ok[:-1]} == {"active"}
    with Session(vault.engine) as s:
        flags = s.exec(select(Flag).where(Flag.item_id == card.view.item.id)).all()
    assert [f.kind for f in flags] == ["pan"] and "1111" in flags[0].masked
    assert "4111 1111 1111 1111" not in flags[0].masked
    events = _events(vault)  # one event per item, in the files' order, with what was stored
    assert [e.object for e in events] == [r.view.item.id for r in ok]
    details = [json.loads(e.detail or "{}") for e in events]
    assert details[0]["sha256"] == hashlib.sha256(b"config line 0\n").hexdigest()
    assert details[-1]["flags"] == {"pan": 1} and details[-1]["state"] == "quarantined"
    assert vault.audit_verify().ok
    assert [v.ok for v in vault.verify(engagement=engagement)] == [True] * 10
    buf = io.BytesIO()
    vault.read_item(ok[3].view.item.id, out=buf)
    assert buf.getvalue() == b"config line 3\n"
    assert {r.state for r in _rows(vault)} == {"active", "quarantined"}  # nothing pending
    for r in ok:  # held until the destruction date, as a file ingested alone
        assert vault.store.head(r.view.item.object_key).retain_until is not None


def test_a_file_failing_mid_batch_leaves_nothing_and_the_others_land(
        vault: Vault, engagement: str, tmp_path: Path) -> None:
    d = _folder(tmp_path, 5)
    listed = collect([str(d)])
    (d / "f02.txt").write_bytes(b"replaced after listing, another size\n")
    results = vault.ingest(engagement, listed, IngestOptions())
    bad = results[2]
    assert isinstance(bad, InvalidInput) and "changed or was replaced" in bad.message
    landed = [r for r in results if isinstance(r, IngestResult)]
    assert len(landed) == 4
    assert sorted(i.id for i in _rows(vault)) == sorted(r.view.item.id for r in landed)
    assert _payloads(vault) == sorted(r.view.item.object_key for r in landed)
    events = _events(vault)
    assert [e.outcome for e in events] == ["ok", "ok", "error", "ok", "ok"]
    assert json.loads(events[2].detail or "{}") == {"error": "SourceChanged"}
    assert vault.audit_verify().ok


class _RefusesOne:
    """Wraps a store; refuses the n-th put like a full disk (after reading its stream)."""

    def __init__(self, inner: object, n: int) -> None:
        self.inner, self.n, self.count = inner, n, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def put(self, key: str, chunks, **kw: object):  # type: ignore[no-untyped-def]
        self.count += 1
        if self.count == self.n:
            list(chunks)
            raise OSError(28, "No space left on device")
        return self.inner.put(key, chunks, **kw)  # type: ignore[attr-defined]


def test_a_payload_the_store_refuses_is_put_aside(vault: Vault, engagement: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ev, "SEAL_THREADS", 1)  # the n-th put is the n-th file
    vault.store = _RefusesOne(vault.store, 2)  # type: ignore[assignment]
    results = vault.ingest(engagement, [src(f"{i}.txt", b"file %d" % i) for i in range(3)],
                           IngestOptions())
    assert isinstance(results[1], StorageError)
    assert "could not store '1.txt': No space left on device" in str(results[1])
    assert [isinstance(r, IngestResult) for r in results] == [True, False, True]
    assert len(_rows(vault)) == 2 and len(_payloads(vault)) == 2


def test_duplicates_in_and_across_batches(vault: Vault, engagement: str) -> None:
    [first] = vault.ingest(engagement, [src("old.txt", b"same")], IngestOptions())
    assert isinstance(first, IngestResult)
    results = vault.ingest(engagement, [src("a.txt", b"new"), src("b.txt", b"same"),
                                        src("c.txt", b"new")], IngestOptions())
    a, b, c = results
    assert isinstance(a, IngestResult) and not a.duplicate
    assert isinstance(b, IngestResult) and b.duplicate
    assert b.view.item.id == first.view.item.id
    assert isinstance(c, IngestResult) and c.duplicate and c.view.item.id == a.view.item.id
    assert len(_rows(vault)) == 2 and len(_payloads(vault)) == 2
    assert len([e for e in _events(vault) if e.outcome == "ok"]) == 2


def test_the_batchs_commit_failing_keeps_none_of_it(vault: Vault, engagement: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    import sqlalchemy as sa

    from vault.audit import log
    real = log.append_many

    def full(s: Session, entries: list[log.Entry]) -> None:
        if any(e.action == "item.ingest" and e.outcome == "ok" for e in entries):
            raise sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError(
                "database or disk is full"))
        real(s, entries)
    monkeypatch.setattr(log, "append_many", full)
    results = vault.ingest(engagement, [src(f"{i}.txt", b"file %d" % i) for i in range(4)],
                           IngestOptions())
    assert all(isinstance(r, StorageError) for r in results)
    assert "database or disk is full" in str(results[0])
    assert _rows(vault) == [] and _payloads(vault) == []
    monkeypatch.setattr(log, "append_many", real)  # room again: the retry lands
    again = vault.ingest(engagement, [src(f"{i}.txt", b"file %d" % i) for i in range(4)],
                         IngestOptions())
    assert all(isinstance(r, IngestResult) and not r.duplicate for r in again)


def test_a_crash_before_the_commit_leaves_what_doctor_finds(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after the payloads were written and before the metadata commit: pending rows
    and their payloads, nothing visible; `vault doctor` reports and repairs them."""
    def killed(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt  # stands for the process dying here
    monkeypatch.setattr(ev, "_finalise_batch", killed)
    monkeypatch.setattr(ev, "_drop_batch", lambda *_a: None)  # a dead process cleans nothing
    with pytest.raises(KeyboardInterrupt):
        vault.ingest(engagement, [src(f"{i}.txt", b"file %d" % i) for i in range(3)],
                     IngestOptions())
    assert vault.list_items(engagement) == []
    pending = _rows(vault)
    assert {r.state for r in pending} == {"pending"} and len(pending) == 3
    assert _payloads(vault) == sorted(r.object_key for r in pending)
    report = vault.doctor(older_than=timedelta(0))
    assert sorted(report["stalled_ingests"]) == sorted(r.id for r in pending)
    vault.doctor(repair=True, older_than=timedelta(0))
    assert _rows(vault) == [] and _payloads(vault) == []


def test_an_orphan_payload_without_its_row_is_found(vault: Vault, engagement: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The pending rows lost (a database restored from an older backup): the payloads the
    batch wrote are orphans that `vault doctor` finds."""
    monkeypatch.setattr(ev, "_finalise_batch", lambda *_a: (_ for _ in ()).throw(
        KeyboardInterrupt))
    monkeypatch.setattr(ev, "_drop_batch", lambda *_a: None)
    with pytest.raises(KeyboardInterrupt):
        vault.ingest(engagement, [src("a.txt", b"a"), src("b.txt", b"b")], IngestOptions())
    with Session(vault.engine) as s:
        for row in s.exec(select(EvidenceItem)).all():
            s.delete(row)
        s.commit()
    assert len(vault.doctor()["orphan_payloads"]) == 2


def test_big_files_and_stdin_keep_the_one_by_one_path_in_order(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ev, "SMALL_FILE", 10)
    stdin = Source(name="piped.txt", size=None, open=lambda: io.BytesIO(b"from a pipe"))
    srcs = [src("s1", b"small 1"), src("s2", b"small 2"), src("big", b"x" * 11), stdin,
            src("s3", b"small 3")]
    got: list[str] = []
    results = vault.ingest(engagement, srcs, IngestOptions(),
                           on_result=lambda s, r: got.append(s.name))
    assert got == ["s1", "s2", "big", "piped.txt", "s3"]
    assert [r.view.item.original_name for r in results  # type: ignore[union-attr]
            if not isinstance(r, VaultError)] == got


def test_progress_is_reported_one_call_at_a_time(vault: Vault, engagement: str) -> None:
    """The batch seals on two threads; the caller's progress callback is never entered twice
    at once (the TUI's and the CLI's keep a running total)."""
    import time
    inside: list[int] = []
    overlaps: list[int] = []
    total: list[int] = []

    def progress(n: int) -> None:
        if inside:
            overlaps.append(n)
        inside.append(n)
        time.sleep(0.002)
        total.append(n)
        inside.pop()
    data = [b"file %d" % i for i in range(40)]
    vault.ingest(engagement, [src(f"{i}.txt", d) for i, d in enumerate(data)], IngestOptions(),
                 progress=progress)
    assert overlaps == [] and sum(total) == sum(len(d) for d in data)


def test_the_stores_final_sync_failing_keeps_none_of_the_batch(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import storage_backends.local as local

    def broken(path: Path) -> bool:
        raise OSError(errno.EIO, "Input/output error")
    monkeypatch.setattr(local, "_syncfs", broken)
    results = vault.ingest(engagement, [src(f"{i}.txt", b"file %d" % i) for i in range(4)],
                           IngestOptions())
    assert all(isinstance(r, StorageError) for r in results)
    assert str(results[0]).startswith("could not make the stored files durable: Input/output")
    assert _rows(vault) == [] and _payloads(vault) == []
    assert _events(vault)[-1].outcome == "error"


def _started_event(monkeypatch: pytest.MonkeyPatch, batch_size: int
                   ) -> tuple[dict[str, threading.Event], list[str]]:
    """Batches of `batch_size`; an event set when each batch's sealing starts (keyed by its
    first file's name), and the order in which sealing and finalising began and ended."""
    monkeypatch.setattr(ev, "BATCH_FILES", batch_size)
    started: dict[str, threading.Event] = {}
    order: list[str] = []
    real_seal, real_finalise = ev._seal_all, ev._finalise_batch

    def seal(cx, files, *a):  # type: ignore[no-untyped-def]
        name = files[0].name
        order.append(f"seal {name}")
        started.setdefault(name, threading.Event()).set()
        real_seal(cx, files, *a)

    def finalise(cx, a, eng, files, opts):  # type: ignore[no-untyped-def]
        order.append(f"finalise {files[0].name}")
        return real_finalise(cx, a, eng, files, opts)
    monkeypatch.setattr(ev, "_seal_all", seal)
    monkeypatch.setattr(ev, "_finalise_batch", finalise)
    return started, order


def test_the_next_batch_is_sealed_while_the_one_before_is_recorded(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started, order = _started_event(monkeypatch, 2)
    real = ev._finalise_batch
    waited: list[bool] = []

    def finalise(cx, a, eng, files, opts):  # type: ignore[no-untyped-def]
        if files[0].name == "0.txt":  # the first batch's record waits for the second's seal
            waited.append(started.setdefault("2.txt", threading.Event()).wait(10))
        return real(cx, a, eng, files, opts)
    monkeypatch.setattr(ev, "_finalise_batch", finalise)
    results = vault.ingest(engagement, [src(f"{i}.txt", b"file %d" % i) for i in range(5)],
                           IngestOptions())
    assert waited == [True]
    assert order.index("seal 2.txt") < order.index("finalise 2.txt")
    assert [r.view.item.original_name for r in results  # type: ignore[union-attr]
            ] == [f"{i}.txt" for i in range(5)]
    assert [e.outcome for e in _events(vault)] == ["ok"] * 5
    assert vault.audit_verify().ok


def test_an_interrupt_undoes_the_batch_being_sealed_too(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started, _order = _started_event(monkeypatch, 2)

    def finalise(*_a: object) -> None:
        started.setdefault("2.txt", threading.Event()).wait(10)
        raise KeyboardInterrupt  # Ctrl-C while the first batch is recorded
    monkeypatch.setattr(ev, "_finalise_batch", finalise)
    with pytest.raises(KeyboardInterrupt):
        vault.ingest(engagement, [src(f"{i}.txt", b"file %d" % i) for i in range(4)],
                     IngestOptions())
    assert "2.txt" in started  # the second batch was under way
    assert _rows(vault) == [] and _payloads(vault) == []
