"""Small-file batches under way when something fails: a result callback that raises while
the next batch is sealed, a sealing that raises. Each batch lands whole or leaves nothing
(no pending row, no payload), and no thread of the pipeline is left behind."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import Session, select

from tests.conftest import src
from vault.evidence.lifecycle import ItemState
from vault.metadata.models import EvidenceItem
from vault.service import IngestOptions, IngestResult, Vault
from vault.service import evidence as ev


def _rows(vault: Vault) -> dict[str, str]:
    with Session(vault.engine) as s:
        return {it.original_name: it.state for it in s.exec(select(EvidenceItem)).all()}


def _payloads(vault: Vault) -> list[str]:
    return sorted(vault.store.list("payload/"))


def _no_pipeline_threads() -> bool:
    return not [t for t in threading.enumerate()
                if t.name.startswith(("vault-batch", "vault-seal"))]


def test_a_result_callback_raising_keeps_the_landed_batch_and_undoes_the_next(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ev, "BATCH_FILES", 2)
    sealing = threading.Event()
    real = ev._seal_all

    def seal(cx: Any, files: Any, *a: Any) -> None:
        if files[0].name == "2.txt":
            sealing.set()
        real(cx, files, *a)
    monkeypatch.setattr(ev, "_seal_all", seal)
    seen: list[str] = []

    def on_result(s: Any, r: Any) -> None:
        assert sealing.wait(10)  # the second batch is under way
        seen.append(s.name)
        raise BrokenPipeError("stdout went away")
    with pytest.raises(BrokenPipeError):
        vault.ingest(engagement, [src(f"{i}.txt", b"file %d" % i) for i in range(4)],
                     IngestOptions(), on_result=on_result)
    assert seen == ["0.txt"]
    rows = _rows(vault)
    assert rows == {"0.txt": ItemState.ACTIVE, "1.txt": ItemState.ACTIVE}
    with Session(vault.engine) as s:
        keys = sorted(it.object_key for it in s.exec(select(EvidenceItem)).all())
    assert _payloads(vault) == keys
    assert _no_pipeline_threads()
    assert vault.audit_verify().ok


def test_a_sealing_that_raises_leaves_nothing_of_its_batch(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ev, "BATCH_FILES", 2)
    real = ev._seal_small

    def seal(cx: Any, f: Any, *a: Any) -> None:
        if f.name == "3.txt":
            raise RuntimeError("scanner broke")
        real(cx, f, *a)
    monkeypatch.setattr(ev, "_seal_small", seal)
    got: list[Any] = []
    with pytest.raises(RuntimeError, match="scanner broke"):
        vault.ingest(engagement, [src(f"{i}.txt", b"file %d" % i) for i in range(6)],
                     IngestOptions(), on_result=lambda s, r: got.append(r))
    assert [r.view.item.original_name for r in got if isinstance(r, IngestResult)
            ] == ["0.txt", "1.txt"]
    assert _rows(vault) == {"0.txt": ItemState.ACTIVE, "1.txt": ItemState.ACTIVE}
    assert len(_payloads(vault)) == 2
    assert _no_pipeline_threads()


def _interrupt_after_commit(monkeypatch: pytest.MonkeyPatch, vault: Vault) -> None:
    """Ctrl-C lands just after the ingest's commit (its audit events written), before the
    ingest has returned."""
    real = type(vault)._finish

    def finish(self: Any, a: Any) -> None:
        real(self, a)
        if a._events or a.record:
            raise KeyboardInterrupt
    monkeypatch.setattr(type(vault), "_finish", finish)


def test_an_interrupt_after_a_batch_committed_keeps_its_payloads(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _interrupt_after_commit(monkeypatch, vault)
    with pytest.raises(KeyboardInterrupt):
        vault.ingest(engagement, [src(f"{i}.txt", b"file %d" % i) for i in range(3)],
                     IngestOptions())
    monkeypatch.undo()
    with Session(vault.engine) as s:
        items = list(s.exec(select(EvidenceItem)).all())
    # whatever the interrupt left, no record says a payload is there that is not
    assert [it.state for it in items] == [ItemState.ACTIVE] * 3
    assert _payloads(vault) == sorted(it.object_key for it in items)


def test_an_interrupt_after_one_file_committed_keeps_its_payload(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _interrupt_after_commit(monkeypatch, vault)
    with pytest.raises(KeyboardInterrupt):
        vault.ingest(engagement, [src("one.txt", b"just one file")], IngestOptions())
    monkeypatch.undo()
    with Session(vault.engine) as s:
        items = list(s.exec(select(EvidenceItem)).all())
    assert [it.state for it in items] == [ItemState.ACTIVE]
    assert _payloads(vault) == [items[0].object_key]
