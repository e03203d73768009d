"""`vault catalogue list|show|load`: the requirement catalogues.

`list` names each standard's catalogue and where its requirements come from (built-in, or
built-in extended by the firm's file); `show STANDARD` prints its ids and titles (with --json,
in the catalogue file format, so it can be edited and loaded back); `load FILE` checks a
catalogue file and keeps it as the firm's extension of its standard (administrators; audited).
A file that is not acceptable is refused with one line naming the file and what is wrong.
"""

from __future__ import annotations

from pathlib import Path

from vault.cli.base import Command
from vault.cli.termout import plural, safe, table
from vault.errors import InvalidInput, NotFound


class Catalogues(Command):
    VERBS = ("catalogue",)

    def catalogue(self) -> int:
        return {"list": self._list, "show": self._show, "load": self._load}[self.args.ccmd]()

    def _list(self) -> int:
        rows = self.open().catalogues()
        self.out([c.as_dict() for c in rows], lambda: table(
            [("STANDARD", "TITLE", "REQUIREMENTS", "SOURCE")]
            + [(c.standard, safe(c.title), str(c.requirements),
                c.source + (f", loaded {c.loaded_at:%Y-%m-%d} by {safe(c.loaded_by or '-')}"
                            if c.loaded_at else "")) for c in rows], header=True))
        return 0

    def _show(self) -> int:
        cat = self.open().catalogue(self.args.standard)
        data = {"standard": cat.standard, "title": cat.title,
                "requirements": [{"id": r.id, "title": r.title} for r in cat.requirements]}

        def human() -> None:
            print(safe(cat.title))
            rows = []
            for r in cat.requirements:
                title = ("§ " if cat.is_heading(r.id) else "") + r.title
                old = ", ".join(f"{a.version}: {a.old}" for a in cat.formerly(r.id))
                rows.append((r.id, safe(title + (f" (was {old})" if old else ""))))
            table(rows)
        self.out(data, human)
        return 0

    def _load(self) -> int:
        path: Path = self.args.file
        data = _read(path)
        v = self.open()
        try:
            done = v.load_catalogue(data)
        except InvalidInput as exc:  # name the file the message is about
            raise InvalidInput(f"{path}: {exc.message}", hint=exc.hint) from None
        info = done.info
        self.out(info.as_dict() | {"retitled": done.retitled, "replaced": done.replaced},
                 lambda: print(
                     f"loaded {safe(str(path))} into the {info.standard} catalogue: "
                     f"{plural(info.added, 'requirement')} added to the built-in "
                     f"{info.builtin}" + (f", {done.retitled} retitled" if done.retitled
                                          else "")
                     + (" (replaces the firm's previous file)" if done.replaced else "")))
        return 0


def _read(path: Path) -> bytes:
    from vault.service.catalogue import MAX_FILE
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE + 1)
    except FileNotFoundError:
        raise NotFound(f"no file {str(path)!r}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not a catalogue file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE:
        raise InvalidInput(f"{path}: the file is larger than {MAX_FILE >> 20} MiB")
    return data
