"""`vault scan`: findings in files, stored nowhere, as JSON lines or a table.

A finding inside a container names its member: in the table after the file
(``archive.zip › logs/gw.log``), in the JSON lines as ``"member"`` (only for such findings;
``"path"`` stays the file given). What a file held that could not be scanned (an encrypted
member, a limit passed...) is said on stderr, one line each (at most NOTES per file), and
the file counts as not scanned fully (exit 2). A link or device entry in an archive is said as
a note (it holds no data: nothing was left unscanned)."""

from __future__ import annotations

import sys
from functools import partial
from typing import TYPE_CHECKING, Any

from vault.cli.base import EXIT_ERROR, EXIT_FOUND, Command
from vault.cli.errors import report_error
from vault.cli.termout import plural, safe, table
from vault.errors import VaultError
from vault.evidence import sources

if TYPE_CHECKING:
    from vault.pii.scan import ScanBatch


class Scan(Command):
    VERBS = ("scan",)

    def scan(self) -> int:
        from vault.pii import Scanner
        from vault.pii.scan import scan_batches
        from vault.pii.scanjson import JsonLines

        srcs = []
        for src in sources.collect(self.args.paths):
            if src.skipped is not None:  # a link, FIFO, socket or device inside a directory
                print(f"vault: warning: skipped {safe(src.name)}: {src.skipped}",
                      file=sys.stderr)
            else:
                srcs.append(src)
        report: _ScanJson | _ScanTable = _ScanJson(sys.stdout) if self.json else _ScanTable()
        render = JsonLines() if self.json else None  # JSON lines made by the scanning workers
        errors = 0
        with Scanner() as scanner:
            for src in srcs:
                notes: list[str] = []
                try:
                    for batch in scan_batches(src, scanner, values="none", render=render,
                                              on_note=partial(_add_note, notes),
                                              on_info=partial(_report_info, src.name)):
                        report.add(batch)
                except Exception as exc:  # noqa: BLE001 - this file only, even for a bug: go on
                    errors += 1
                    report.flush()
                    report_error(_scan_error(exc), about=f"cannot scan {src.name}")
                    continue
                if notes:
                    errors += 1
                    report.flush()
                    _report_notes(src.name, notes)
        report.flush()
        if isinstance(report, _ScanTable):
            report.print()
            print(f"{plural(len(srcs), 'file')} scanned, {plural(report.count, 'finding')}"
                  + (f", {errors} could not be scanned (fully)" if errors else ""))
        return EXIT_ERROR if errors else (EXIT_FOUND if report.count else 0)


def _report_info(name: str, path: str, info: str) -> None:
    """What a file held that is said but left nothing unscanned (a link in an archive)."""
    print(f"vault: note: {safe(name)}: {safe(info)}", file=sys.stderr)


def _add_note(notes: list[str], path: str, note: str) -> None:
    notes.append(note)


NOTES = 20
"""The most notes printed for one file (then how many more)."""


def _report_notes(name: str, notes: list[str]) -> None:
    """What of a file was not scanned, one line per note."""
    for note in notes[:NOTES]:
        report_error(f"scanned only in part: {note}", about=f"cannot scan {name}")
    if len(notes) > NOTES:
        report_error(f"scanned only in part: {len(notes) - NOTES} more such notes",
                     about=f"cannot scan {name}")


def _scan_error(exc: Exception) -> VaultError | str:
    """What to say about a file that could not be scanned: a VaultError as it is, an OSError's
    or a ValueError's text, and only the type of anything else (a bug)."""
    if isinstance(exc, (VaultError, OSError, ValueError)):
        return exc if isinstance(exc, VaultError) else str(exc)
    return f"internal error ({type(exc).__name__})"


class _ScanJson:
    """`vault scan --json`: one JSON object per finding and line (see
    :mod:`vault.pii.scanjson`), written in batches, most of them rendered by the scanner's
    worker processes."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.raw = getattr(out, "buffer", None)  # the lines are UTF-8 bytes already
        if self.raw is not None:
            out.flush()
        self.count = 0

    def add(self, batch: ScanBatch) -> None:
        from vault.pii.scanjson import json_lines

        n, data = batch.rendered or json_lines(batch.path, batch.page, batch.rows,
                                               batch.member)
        self.count += n
        if self.raw is not None:
            self.raw.write(data)
        else:
            self.out.write(data.decode("utf-8"))

    def flush(self) -> None:
        self.out.flush()


class _ScanTable:
    """`vault scan`'s table: the first ROWS findings, then how many more and per kind."""

    ROWS = 1000

    def __init__(self) -> None:
        self.count = 0
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.kinds: dict[str, int] = {}

    def add(self, batch: ScanBatch) -> None:
        from vault.pii.containers import PART_JOIN

        kinds = self.kinds
        path = safe(batch.path)
        if batch.member is not None:  # the member of an archive, a part of a document
            path += PART_JOIN + safe(batch.member)
        for kind, det, _, _, line, masked, _, _ in batch.rows:
            kinds[kind] = kinds.get(kind, 0) + 1
            if len(self.rows) < self.ROWS:
                where = str(line) if line is not None else (
                    f"p.{batch.page}" if batch.page is not None else "-")
                self.rows.append((path, where, kind, masked, det))
        self.count += len(batch.rows)

    def flush(self) -> None:
        sys.stdout.flush()

    def print(self) -> None:
        table([("PATH", "LINE/PAGE", "KIND", "VALUE", "DETECTOR"), *self.rows], header=True)
        more = self.count - len(self.rows)
        if more:
            print(f"... {plural(more, 'more finding')} not shown (--json lists every one)")
            print("by kind: " + ", ".join(
                f"{k} {n}" for k, n in sorted(self.kinds.items(), key=lambda kv: (-kv[1], kv[0]))))
