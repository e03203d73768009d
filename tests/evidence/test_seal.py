"""Sealing a file of several blocks: the SHA-256 is taken on a helper thread (after the first
block, hashed in line) while the blocks are encrypted and written, and comes out the same; a
change to the file while it is read, or a read error, still fails with nothing stored and no
thread left behind."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from storage_backends.local import LocalStore
from vault.age import X25519Identity, decrypt_payload, unwrap_file_key
from vault.evidence import pipeline
from vault.evidence.pipeline import BLOCK_SIZE, SourceChanged, SourceUnreadable, seal


@pytest.fixture
def fed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many blocks each helper hashing thread was given (tune_malloc recorded as -1)."""
    seen: list[int] = []

    class Counting(pipeline.Feeder):  # type: ignore[misc,name-defined]
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            seen.append(0)

        def update(self, block: bytes) -> None:
            seen[-1] += 1
            super().update(block)

    monkeypatch.setattr(pipeline, "Feeder", Counting)
    monkeypatch.setattr(pipeline, "tune_malloc", lambda: seen.append(-1))
    return seen


def _opened(store: LocalStore, key: str, header: bytes, ident: X25519Identity) -> bytes:
    return b"".join(decrypt_payload(unwrap_file_key(header, [ident]), store.get(key)))


def test_blocks_after_the_first_are_hashed_on_a_helper_thread(tmp_path: Path,
                                                             fed: list[int]) -> None:
    ident = X25519Identity.generate()
    store = LocalStore(tmp_path / "store")
    data = os.urandom(3 * BLOCK_SIZE + 11)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    with open(path, "rb") as f:
        sealed = seal(f, store, "p/big", ident.recipient, name="big.bin")
    assert sealed.sha256 == hashlib.sha256(data).hexdigest() and sealed.size == len(data)
    assert fed == [-1, 3]  # malloc tuned for the stream; blocks 2, 3 and the tail on the helper
    assert _opened(store, "p/big", sealed.header, ident) == data
    fed.clear()
    small = os.urandom(BLOCK_SIZE - 1)
    sealed = seal(io.BytesIO(small), store, "p/small", ident.recipient, name="small.bin")
    assert sealed.sha256 == hashlib.sha256(small).hexdigest()
    assert fed == []  # one block: hashed in line, no thread


def test_a_file_changed_while_sealed_is_refused_and_nothing_is_left(tmp_path: Path,
                                                                    fed: list[int]) -> None:
    ident = X25519Identity.generate()
    store = LocalStore(tmp_path / "store")
    path = tmp_path / "live.log"
    path.write_bytes(os.urandom(3 * BLOCK_SIZE))
    calls = 0

    def grow(_: int) -> None:  # the file is appended to while it is read
        nonlocal calls
        calls += 1
        if calls == 2:
            with open(path, "ab") as g:
                g.write(b"more")

    with open(path, "rb") as f, pytest.raises(SourceChanged):
        seal(f, store, "p/live", ident.recipient, name="live.log", progress=grow)
    assert list(store.list("p/")) == []
    assert fed[-1] >= 1  # the helper thread was in use
    assert not [t for t in threading.enumerate() if t.name.startswith("seal-hash")]


def test_a_read_error_midway_stops_the_helper_and_stores_nothing(tmp_path: Path,
                                                                 fed: list[int]) -> None:
    ident = X25519Identity.generate()
    store = LocalStore(tmp_path / "store")

    class Failing(io.RawIOBase):
        reads = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            self.reads += 1
            if self.reads == 4:
                raise OSError(5, "Input/output error")
            return b"z" * BLOCK_SIZE

    with pytest.raises(SourceUnreadable, match="cannot read dev: input/output error"):
        seal(Failing(), store, "p/bad", ident.recipient, name="dev")  # type: ignore[arg-type]
    assert list(store.list("p/")) == []
    assert fed[-1] >= 1
    assert not [t for t in threading.enumerate() if t.name.startswith("seal-hash")]
