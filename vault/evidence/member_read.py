"""Reading one member of a container item for display: the item is decrypted into the same
block stream the ingest's scan read, and the container walker of :mod:`vault.pii.scan` (same
readers, same limits) finds the member and keeps its head. Nothing is written to disk; the
head is returned only once the whole payload authenticated (its SHA-256 and size match)."""

from __future__ import annotations

import queue
import threading
from typing import BinaryIO, cast

from storage_backends import ObjectStore
from vault.age import X25519Identity
from vault.evidence import retrieve
from vault.metadata.models import EvidenceItem
from vault.pii import Scanner
from vault.pii.feed import BlockStream
from vault.pii.scan import MemberRead, read_member

_DEPTH = 4  # blocks in flight between the decryption and the walk


class _Blocks:
    """The decryption's output: each block handed to the walk (waits while the walk is busy)."""

    def __init__(self, q: queue.Queue[bytes | None]) -> None:
        self.q = q

    def write(self, b: bytes) -> int:
        self.q.put(bytes(b))
        return len(b)


def member_head(item: EvidenceItem, store: ObjectStore, key: X25519Identity, scanner: Scanner,
                where: str, limit: int, *, nth: int = 0) -> MemberRead | None:
    """The first `limit` bytes of the member `where` (the `nth` after others of that name) of
    the container `item`, or None when the walk does not meet it. Raises what
    :func:`retrieve.decrypt_to` raises (a tampered payload, a missing object) instead of
    returning anything read."""
    q: queue.Queue[bytes | None] = queue.Queue(maxsize=_DEPTH)
    failed: list[BaseException] = []

    def decrypt() -> None:
        try:
            retrieve.decrypt_to(item, store, key, cast(BinaryIO, _Blocks(q)))
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
            failed.append(exc)
        finally:
            q.put(None)

    thread = threading.Thread(target=decrypt, name="vault-member-read", daemon=True)
    thread.start()
    stream = BlockStream(q)
    try:
        found = read_member(stream, item.original_name, scanner, where, limit, nth=nth)
    finally:  # read to the end: the decryption finishes and authenticates the whole payload
        while stream.read(1 << 20):
            pass
        thread.join()
    if failed:
        raise failed[0]
    return found
