"""Feed a byte stream to hash objects (or a file) on a helper thread, in order, with bounded
memory: the caller keeps producing (decrypting, encrypting) while the bytes are hashed or
written; `hashlib` and file writes release the GIL on large buffers, so both really run at once.

Blocks are gathered into batches of about :data:`BATCH` bytes (one thread hand-over per batch,
not per 64 KiB chunk); when more than ``depth`` batches' worth of bytes wait for the helper,
the caller waits.
The blocks must not change once given (bytes, or views of bytes). An exception raised by a sink
is raised again to the caller, at a later :meth:`Feeder.update` or at :meth:`Feeder.close`.
"""

from __future__ import annotations

import ctypes
import functools
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

BATCH = 1 << 20

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's malloc.h


@functools.cache
def tune_malloc() -> bool:
    """With glibc, for streams of blocks of up to a few MiB handed between threads (ingest, get,
    export): at most 2 malloc arenas; blocks up to 4 MiB taken from the heap rather than each
    mapped afresh; up to 16 MiB free at a heap's top kept rather than handed back to the
    kernel. By default each thread gets an arena of its own (more RSS), and a block is mapped,
    faulted in, zeroed and unmapped again each time (a quarter of a 1 GiB `vault get`'s CPU).
    Once per process; True if applied (False on another C library)."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return (bool(mallopt(M_ARENA_MAX, 2)) and bool(mallopt(M_MMAP_THRESHOLD, 4 << 20))
            and bool(mallopt(M_TRIM_THRESHOLD, 16 << 20)))


Sink = Callable[[bytes], object]


def _feed(sinks: Sequence[Sink], blocks: list[bytes]) -> None:
    for block in blocks:
        for sink in sinks:
            sink(block)


class Feeder:
    """``update(block)`` gives every sink the block, in order, on one helper thread; ``close()``
    waits until all were fed (then the hashes can be read) and stops the thread."""

    def __init__(self, sinks: Sequence[Sink], *, depth: int = 8, name: str = "feeder") -> None:
        self._sinks = tuple(sinks)
        self._depth = depth
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: deque[tuple[Future[None], int]] = deque()
        self._behind = 0
        self._batch: list[bytes] = []
        self._size = 0

    def update(self, block: bytes) -> None:
        self._batch.append(block)
        self._size += len(block)
        if self._size >= BATCH:
            self._submit()

    def _submit(self) -> None:
        if self._batch:
            self._pending.append((self._pool.submit(_feed, self._sinks, self._batch),
                                  self._size))
            self._behind += self._size
            self._batch, self._size = [], 0
        while self._pending and (self._pending[0][0].done()
                                 or self._behind > self._depth * BATCH):
            future, size = self._pending.popleft()
            self._behind -= size
            future.result()

    def close(self) -> None:
        """Feed what is left and wait for it; raises what a sink raised."""
        try:
            self._submit()
            while self._pending:
                self._pending.popleft()[0].result()
        finally:
            self.abort()

    def abort(self) -> None:
        """Stop without feeding what is left (on an error elsewhere)."""
        for future, _ in self._pending:
            future.cancel()
        self._pending.clear()
        self._behind = 0
        self._batch = []
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Feeder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
