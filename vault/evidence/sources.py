"""Turning the paths a user names into evidence sources: files, directories (recursively) and
standard input. Original names are kept as metadata only — never used as a path."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vault.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Source:
    """One thing to ingest: its original name and how to open it."""

    name: str
    size: int | None
    open: Callable[[], BinaryIO]
    path: Path | None = None


def _file_source(path: Path, name: str, size: int) -> Source:
    def opener() -> BinaryIO:
        try:
            return open(path, "rb")  # noqa: SIM115 - the caller closes it
        except OSError as exc:
            raise InvalidInput(f"cannot read {_show(path)}: {exc.strerror}") from None
    return Source(name=name, size=size, open=opener, path=path)


def _show(path: Path) -> str:
    return repr(str(path))[1:-1]


def stdin_source(name: str, stream: BinaryIO | None = None) -> Source:
    """Standard input, ingested under the name the user gave with --name."""
    if not name:
        raise InvalidInput("reading from standard input needs --name")
    s = stream if stream is not None else sys.stdin.buffer
    return Source(name=name, size=None, open=lambda: s)


def collect(paths: list[str], *, stdin_name: str | None = None,
            stdin: BinaryIO | None = None) -> list[Source]:
    """Check every path first (so a typo fails before anything is stored), then list sources.

    Directories are walked recursively without following symbolic links; the sources' names are
    paths relative to the named directory's parent. Only regular files are taken.
    """
    out: list[Source] = []
    for raw in paths:
        if raw == "-":
            out.append(stdin_source(stdin_name or "", stdin))
            continue
        path = Path(raw)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise NotFound(f"no such file or directory: {_show(path)}") from None
        except OSError as exc:
            raise InvalidInput(f"cannot read {_show(path)}: {exc.strerror}") from None
        if stat.S_ISDIR(st.st_mode):
            out.extend(_walk(path))
        elif stat.S_ISREG(st.st_mode):
            if not os.access(path, os.R_OK):
                raise InvalidInput(f"cannot read {_show(path)}: permission denied")
            out.append(_file_source(path, path.name, st.st_size))
        else:
            raise InvalidInput(f"not a regular file or directory: {_show(path)}")
    return out


def _walk(root: Path) -> Iterator[Source]:
    base = root.absolute().parent
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            st = p.lstat()
            if not stat.S_ISREG(st.st_mode):
                continue
            if not os.access(p, os.R_OK):
                raise InvalidInput(f"cannot read {_show(p)}: permission denied")
            yield _file_source(p, str(p.absolute().relative_to(base)), st.st_size)
