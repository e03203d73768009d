"""The helper-thread feeder: every sink sees every block, in order; a sink's error reaches the
caller; an abort feeds nothing more."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from vault.crypto.feeder import BATCH, Feeder


def test_the_sinks_see_every_block_in_order_on_a_helper_thread() -> None:
    blocks = [os.urandom(n) for n in (1, 70_000, BATCH, 3 * BATCH + 5, 0, 12)] * 5
    h256, h512, seen, threads = hashlib.sha256(), hashlib.sha512(), [], set()

    def keep(b: bytes) -> None:
        seen.append(b)
        threads.add(threading.current_thread().name)

    with Feeder([h256.update, h512.update, keep], depth=1) as f:
        for b in blocks:
            f.update(b)
    data = b"".join(blocks)
    assert h256.hexdigest() == hashlib.sha256(data).hexdigest()
    assert h512.hexdigest() == hashlib.sha512(data).hexdigest()
    assert seen == blocks
    assert threads and threading.current_thread().name not in threads


def test_a_sinks_error_reaches_the_caller() -> None:
    def broken(b: bytes) -> None:
        raise OSError(28, "No space left on device")

    f = Feeder([broken])
    with pytest.raises(OSError, match="No space left"):
        for _ in range(4 * 8 + 2):  # fails at a later update, or at close at the latest
            f.update(b"x" * BATCH)
        f.close()
    f.abort()


def test_an_abort_feeds_nothing_more() -> None:
    seen: list[bytes] = []
    release = threading.Event()

    def slow(b: bytes) -> None:
        release.wait(5)
        seen.append(b)

    f = Feeder([slow], depth=4)
    for i in range(3):
        f.update(bytes([i]) * BATCH)
    f.update(b"left in the batch")
    release.set()
    f.abort()
    assert b"left in the batch" not in seen and len(seen) <= 3
