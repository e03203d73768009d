"""A big file is scanned while it is encrypted and stored, not after: the scan takes the first
block before the store has taken the whole payload."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from tests.conftest import src
from vault.pii import feed
from vault.service import IngestOptions, IngestResult, Vault
from vault.service import evidence as ev

CARD = b"settlement 4111 1111 1111 1111 approved\n"


class _Watching:
    """Wraps a store; while it takes a payload's chunks it waits (up to 10 s) for the scan to
    have taken a block, and records whether it had."""

    def __init__(self, inner: Any, scanned: threading.Event) -> None:
        self.inner, self.scanned, self.during_put = inner, scanned, []  # type: ignore[var-annotated]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def put(self, key: str, chunks: Iterable[bytes], **kw: Any) -> Any:
        def watched() -> Iterator[bytes]:
            for i, chunk in enumerate(chunks):
                if i == 1:  # the first ciphertext is in: has the scan started?
                    self.during_put.append(self.scanned.wait(10))
                yield chunk
        return self.inner.put(key, watched(), **kw)


def test_a_big_files_scan_overlaps_its_encryption(vault: Vault, engagement: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    scanned = threading.Event()
    real_fill = feed._BlockStream._fill

    def fill(self: Any) -> bool:
        got = bool(real_fill(self))
        if got:
            scanned.set()
        return got
    monkeypatch.setattr(feed._BlockStream, "_fill", fill)
    watching = _Watching(vault.store, scanned)
    vault.store = watching  # type: ignore[assignment]
    data = CARD + b"interface vlan 10 description uplink\n" * (4 * ev.SMALL_FILE // 38)
    assert len(data) > ev.SMALL_FILE  # the one-file path, block by block
    [r] = vault.ingest(engagement, [src("gateway.log", data)], IngestOptions())
    assert isinstance(r, IngestResult) and r.quarantined and r.flags.get("pan") == 1
    assert watching.during_put and all(watching.during_put)
