"""Verbs about evidence items: ingest, ls, show, get, verify.

`ingest` of a directory reads its regular files only: a symbolic link, FIFO, socket or device
file met inside it is not read, and is reported on stderr (``vault: warning: skipped NAME:
REASON``) and, with --json, as a record ``{"name", "path", "skipped": REASON}``; skipped entries
alone do not make the exit code non-zero. A file that fails (replaced since it was listed,
unreadable, ...) is an error for that file; the others go on, and the exit code is 2.

A warning about the requirement mapping (an old requirement number mapped to its new one,
evidence mapped only to headings such as "8.3") is printed once on stderr as
``vault: warning: …`` and, with --json, listed in each new item's record (``"warnings"``).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from vault.cli.base import EXIT_ERROR, EXIT_FOUND, Command
from vault.cli.errors import report_error
from vault.cli.termout import Progress, safe, table
from vault.errors import InvalidInput, VaultError
from vault.evidence import sources
from vault.evidence.preview import mask_cards_fallback

if TYPE_CHECKING:
    from vault.service import IngestResult


class Evidence(Command):
    VERBS = ("ingest", "ls", "show", "get", "verify")

    def ingest(self) -> int:
        from vault.service import IngestOptions
        a = self.args
        listed = sources.collect(a.paths, stdin_name=a.name)
        srcs = [s for s in listed if s.skipped is None]
        v = self.open()
        opts = IngestOptions(kind=a.kind, requirements=tuple(a.req), disclosure=a.disclosure,
                             system=a.system, description=a.description,
                             allow_unlocked=a.allow_unlocked, roc_refs=tuple(a.roc_ref))
        total = sum(s.size or 0 for s in srcs)
        failed = 0
        records: list[dict[str, Any]] = []
        chosen: list[str] = []
        warned: set[str] = set()
        for s in listed:
            if s.skipped is not None:  # not read: said so, never skipped in silence
                where = sources.display(str(s.path)) if s.path is not None else s.name
                records.append({"name": mask_cards_fallback(s.name),
                                "path": mask_cards_fallback(where), "skipped": s.skipped})
                print(f"vault: warning: skipped {safe(s.name)}: {safe(s.skipped)}",
                      file=sys.stderr)
        with Progress.maybe(total, len(srcs), enabled=not self.json) as bar:
            def report(src: sources.Source, r: IngestResult | VaultError) -> None:
                nonlocal failed
                if isinstance(r, VaultError):  # this file only: the others go on
                    failed += 1
                    records.append({"name": mask_cards_fallback(src.name), "error": r.message})
                    report_error(r, out=lambda line: bar.println(line, err=True))
                    return
                d = r.view.as_dict() | {"duplicate": r.duplicate, "flags": r.flags,
                                        "warnings": list(r.warnings)}
                records.append(d)
                for w in r.warnings:  # the same for every file of the command: said once
                    if w not in warned:
                        warned.add(w)
                        bar.println(f"vault: warning: {safe(w)}", err=True)
                if not self.json and not chosen:  # which engagement the name or id chose
                    chosen.append(r.view.item.engagement_id)
                    bar.println(f"into engagement {safe(r.view.engagement)} "
                                f"({r.view.item.engagement_id[:8]})", err=True)
                if not self.json:
                    note = " (already in the vault)" if r.duplicate else ""
                    if r.flags:
                        found = ", ".join(f"{k} x{n}" for k, n in sorted(r.flags.items()))
                        note += (" QUARANTINED: " if r.quarantined else " flagged: ") + found
                    bar.println(f"{r.view.item.id[:12]}  {safe(r.view.item.original_name)}"
                                f"{note}")
            v.ingest(a.engagement, srcs, opts, progress=bar.advance, on_result=report)
        if self.json:
            self.out(records, lambda: None)
        return EXIT_ERROR if failed else 0

    def ls(self) -> int:
        from vault.service import ItemFilter
        a = self.args
        flt = ItemFilter(kind=a.kind, requirement=a.req, disclosure=a.disclosure,
                         state=a.state, text=a.search, limit=a.limit)
        v = self.open()
        items = v.list_items(a.engagement, flt)
        if a.req is not None:  # an old number, or a heading: say what was listed
            req = v.requirement(a.engagement, a.req)
            if req.note:
                print(f"vault: warning: {safe(req.note)}", file=sys.stderr)
            if req.heading:
                print(f"vault: warning: {req.id} is a heading: listed is the evidence mapped "
                      "to it, not to the requirements under it", file=sys.stderr)
        self.out([i.as_dict() for i in items], lambda: table(
            [("ID", "KIND", "SIZE", "DISCLOSURE", "STATE", "REQS", "NAME")]
            + [(i.item.id[:12], i.item.kind, _size(i.item.size), i.item.disclosure,
                i.item.state, ",".join(i.requirements) or "-", safe(i.item.original_name))
               for i in items], header=True))
        return 0

    def show(self) -> int:
        v = self.open()
        view = v.item(self.args.item)
        members = v.item_members(view.item.id)
        d = view.as_dict() | ({"members": members} if members else {})

        def human() -> None:
            table([(k, safe(_fmt(val))) for k, val in d.items() if k != "members"])
            if members:  # a container: its table of contents, as the scan met it
                print()
                table([("MEMBER", "SIZE", "FLAGS", "NOTE")] + [
                    (safe(m["path"]), "-" if m["size"] is None else str(m["size"]),
                     f"{m['open_flags']} open of {m['flags']}" if m["flags"] else "-",
                     safe(m["note"] or "")) for m in members], header=True)
        self.out(d, human)
        return 0

    def get(self) -> int:
        a = self.args
        quarantined = bool(getattr(a, "quarantined", False))
        v = self.open()
        if a.output is None or str(a.output) == "-":
            if sys.stdout.isatty() and not a.force:
                raise InvalidInput("refusing to write evidence to a terminal",
                                   hint="use -o FILE, a pipe, or --force")
            try:
                v.read_item(a.item, out=sys.stdout.buffer, quarantined=quarantined)
            except BaseException:
                _discard_stdout()
                raise
            return 0
        view = v.read_item(a.item, dest=a.output, overwrite=a.force, quarantined=quarantined)
        shown = sources.display(str(a.output))
        self.out({"id": view.item.id, "output": shown, "sha256": view.item.sha256},
                 lambda: print(f"wrote {safe(shown)} ({_size(view.item.size)}, "
                               f"sha256 {view.item.sha256})", file=sys.stderr))
        return 0

    def verify(self) -> int:
        a = self.args
        if a.item is None and not a.all and a.engagement is None:
            raise InvalidInput("name an item, --engagement E or --all")
        results = self.open().verify(a.item, engagement=a.engagement)
        bad = [r for r in results if not r.ok]
        data = {"checked": len(results), "damaged": len(bad),
                "results": [r.__dict__ for r in results]}

        def human() -> None:
            for r in bad:
                print(f"DAMAGED {r.item_id} {safe(r.name)}: {r.problem}")
            print(f"{len(results)} checked, {len(bad)} damaged")
        self.out(data, human)
        return EXIT_FOUND if bad else 0


def _discard_stdout() -> None:
    """After a failed `get` to stdout, point stdout at /dev/null: what is still buffered would
    fail again when the interpreter flushes it at exit (a second error, after ours)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a file descriptor (tests, an embedding program)
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _fmt(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(map(str, v)) or "-"
    return "-" if v is None else str(v)
