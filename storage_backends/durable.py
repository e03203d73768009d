"""Durable streaming writes without a long stall at the end.

Writing a large file and then calling fsync() waits for the whole file to reach the disk. Here,
every `every` bytes a helper thread starts an fdatasync() of what was written so far, so the
disk works while the caller goes on producing data; the final fsync() has only the tail left.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor


class BackgroundSync:
    """Call :meth:`wrote` after each write and :meth:`finish` before publishing the file.

    An error from a background flush is raised by :meth:`finish` (or the next :meth:`wrote`).
    """

    def __init__(self, fd: int, every: int = 64 << 20) -> None:
        self._fd = fd
        self._every = every
        self._pending = 0
        self._pool: ThreadPoolExecutor | None = None
        self._flush: Future[None] | None = None

    def wrote(self, n: int) -> None:
        self._pending += n
        if self._pending < self._every:
            return
        if self._flush is not None:
            if not self._flush.done():
                return
            self._flush.result()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fsync")
        self._pending = 0
        self._flush = self._pool.submit(os.fdatasync, self._fd)

    def finish(self) -> None:
        """Wait for background flushes, then fsync() everything; raises OSError on failure."""
        try:
            if self._flush is not None:
                self._flush.result()
            os.fsync(self._fd)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the helper thread without a final fsync (for abandoned writes)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
