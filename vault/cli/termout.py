"""Terminal output: escaping untrusted text, plain tables, and the progress bar."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from vault.evidence.preview import mask_cards_fallback

PROGRESS_MIN_BYTES = 16 << 20
PROGRESS_MIN_FILES = 10


def safe(text: str) -> str:
    """`text` with control characters escaped, so a hostile file name cannot drive the terminal
    or forge output lines, and card numbers masked (first 6, last 4), so none reaches the
    terminal's scrollback from a name or a message."""
    if any(c.isdigit() for c in text):
        text = mask_cards_fallback(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 file', '2 files', '1,000 files' ('many' when adding an s is wrong)."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def table(rows: Sequence[Sequence[str]], *, header: bool = False) -> None:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        cells = [c.ljust(w) for c, w in zip(r, widths, strict=False)] + [r[-1]]
        print("  ".join(cells).rstrip())
    if header and len(rows) == 1:
        print("(none)")


def wants_progress(total: int, count: int, *, enabled: bool, tty: bool) -> bool:
    """A bar only on a terminal, never for --json, and only for large or many files."""
    return enabled and tty and (total >= PROGRESS_MIN_BYTES or count >= PROGRESS_MIN_FILES)


class Progress(AbstractContextManager["Progress"]):
    """A byte progress bar on stderr, or nothing; `println` prints above it either way."""

    def __init__(self, total: int | None) -> None:
        self._bar: Any = None
        if total is not None:
            from rich.console import Console  # imported only when a bar is shown
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )
            from rich.progress import Progress as RichProgress
            self._bar = RichProgress("[progress.description]{task.description}", BarColumn(),
                                     DownloadColumn(), TransferSpeedColumn(),
                                     TimeRemainingColumn(), console=Console(stderr=True),
                                     transient=True)
            self._task = self._bar.add_task("ingest", total=total)

    @classmethod
    def maybe(cls, total: int, count: int, *, enabled: bool) -> Progress:
        show = wants_progress(total, count, enabled=enabled, tty=sys.stderr.isatty())
        return cls(total if show else None)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def println(self, line: str, *, err: bool = False) -> None:
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=sys.stderr if err else sys.stdout)
