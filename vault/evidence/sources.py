"""Turning the paths a user names into evidence sources: files, directories (recursively) and
standard input. Original names are kept as metadata only — never used as a path.

What is read, and what is not:

- A path named on the command line is taken as the user named it: a symbolic link there is
  followed (to a file or to a directory), as ``cat`` or ``cp`` would. A FIFO, socket or device
  file named there is refused before anything is stored.
- Inside a directory nothing is ever followed. The tree is walked through directory file
  descriptors (each directory opened relative to its parent with ``O_NOFOLLOW``), so replacing
  a directory by a symbolic link while it is walked cannot steer the walk out of the tree.
  Symbolic links, FIFOs, sockets and device files met there become *skipped* sources
  (:attr:`Source.skipped` says why): callers that know report them as skipped, and opening one
  raises :class:`~vault.errors.InvalidInput`, so a caller that does not know gets a per-file
  error — never a silent skip.
- Every file is opened with ``O_NONBLOCK`` (a FIFO swapped in never blocks the ingest) and,
  inside a directory, ``O_NOFOLLOW``; the opened file must be the one listed (same device,
  inode and size as the listing's ``lstat``), else :class:`SourceChanged` for that file only
  ("… changed or was replaced between listing and reading") and nothing of it is read.

Names: a source's name is the path relative to the named directory's parent (or the file's
own name). A name that is not valid UTF-8 on disk is made displayable — each byte that does not
decode becomes a ``\\xNN`` escape (``caf\\xe9.txt``) — while the file is still opened by its
real bytes.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

from vault.errors import InvalidInput, NotFound

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC
"""Opening a file never blocks (a FIFO) and never takes a terminal as controlling tty."""
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NONBLOCK | _O_CLOEXEC
_GONE = (errno.ELOOP, errno.ENOENT, errno.ENOTDIR, errno.ENXIO, errno.EISDIR)
"""Errors that mean "not what was listed any more": a link (O_NOFOLLOW), removed, a socket..."""


class SourceChanged(InvalidInput):
    """The file is not the one listed, or changed while it was being read."""


@dataclass(frozen=True)
class Source:
    """One thing to ingest: its original name and how to open it."""

    name: str
    size: int | None
    open: Callable[[], BinaryIO]
    path: Path | None = None
    skipped: str | None = None
    """Why this entry of a directory is not read (a symbolic link, a FIFO, ...), or None;
    `open` then raises InvalidInput saying so."""


def display(text: str) -> str:
    """`text` (a name from the file system, undecodable bytes as surrogate escapes) as valid
    Unicode: each such byte becomes a ``\\xNN`` escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _show(path: Path | str) -> str:
    return display(str(path))


def _reason(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _replaced(name: str) -> SourceChanged:
    return SourceChanged(f"{name} changed or was replaced between listing and reading",
                         hint="nothing of it was read: check what replaced it, then ingest "
                              "it again")


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino, a.st_size) == (b.st_dev, b.st_ino, b.st_size)


def _file_source(path: Path, name: str, listed: os.stat_result, *,
                 in_tree: bool = False) -> Source:
    """A regular file `listed` (its stat) at `path`; `in_tree`: met inside a directory, so a
    symbolic link is not followed to open it."""
    flags = _FILE_FLAGS | (os.O_NOFOLLOW if in_tree else 0)

    def opener() -> BinaryIO:
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno in _GONE:
                raise _replaced(name) from None
            raise InvalidInput(f"cannot read {_show(path)}: {_reason(exc)}") from None
        try:
            now = os.fstat(fd)
            if not stat.S_ISREG(now.st_mode) or not _same(now, listed):
                raise _replaced(name)
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
    return Source(name=name, size=listed.st_size, open=opener, path=path)


def _unreadable_source(path: Path, name: str, error: Callable[[], InvalidInput], *,
                       skipped: str | None = None) -> Source:
    """A source whose opening raises `error()`: nothing is read from `path`."""
    def opener() -> BinaryIO:
        raise error()
    return Source(name=name, size=0, open=opener, path=path, skipped=skipped)


def _skipped_source(path: Path, name: str, reason: str) -> Source:
    return _unreadable_source(path, name, lambda: InvalidInput(f"skipped {name}: {reason}"),
                              skipped=reason)


def _kind(mode: int) -> str:
    """Why an entry that is neither a regular file nor a directory is not read."""
    if stat.S_ISLNK(mode):
        return "a symbolic link (not followed inside a directory)"
    if stat.S_ISFIFO(mode):
        return "a named pipe (fifo)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "not a regular file"


def stdin_source(name: str, stream: BinaryIO | None = None) -> Source:
    """Standard input, ingested under the name the user gave with --name."""
    if not name:
        raise InvalidInput("reading from standard input needs --name")
    s = stream if stream is not None else sys.stdin.buffer
    return Source(name=display(name), size=None, open=lambda: s)


def collect(paths: list[str], *, stdin_name: str | None = None,
            stdin: BinaryIO | None = None) -> list[Source]:
    """Check every path first (so a typo fails before anything is stored), then list sources.

    Directories are walked recursively without following symbolic links; the sources' names are
    paths relative to the named directory's parent. Regular files are read; anything else met
    inside a directory is a skipped source (see the module's docstring).
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
            raise InvalidInput(f"cannot read {_show(path)}: {_reason(exc)}") from None
        if stat.S_ISDIR(st.st_mode):
            _walk(path, st, out)
        elif stat.S_ISREG(st.st_mode):
            if not os.access(path, os.R_OK):
                raise InvalidInput(f"cannot read {_show(path)}: permission denied")
            out.append(_file_source(path, display(path.name), st))
        else:
            raise InvalidInput(f"not a regular file or directory: {_show(path)}")
    return out


def _open_dir(path: Path | str, listed: os.stat_result, *, dir_fd: int | None = None,
              follow: bool = False) -> int | None:
    """A directory's descriptor, or None when it is no longer the directory listed."""
    try:
        fd = os.open(path, _DIR_FLAGS | (0 if follow else os.O_NOFOLLOW), dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in _GONE:
            return None
        raise
    now = os.fstat(fd)  # not the size: a directory's grows with its entries on some file systems
    if (now.st_dev, now.st_ino) != (listed.st_dev, listed.st_ino):
        os.close(fd)
        return None
    return fd


def _walk(root: Path, root_st: os.stat_result, out: list[Source]) -> None:
    """Append the sources under the directory `root` (named by the user: followed if a link)
    to `out`: each directory's entries in name order, its files before its subdirectories."""
    top = root.absolute()
    base = top.parent

    def name_of(p: Path) -> str:
        return display(str(p.relative_to(base)))

    def cannot_read(p: Path, exc: OSError) -> InvalidInput:
        return InvalidInput(f"cannot read {_show(p)}: {_reason(exc)}")

    try:
        fd = _open_dir(top, root_st, follow=True)
    except OSError as exc:
        raise cannot_read(top, exc) from None
    if fd is None:
        raise _replaced(_show(top))

    def listing(dir_fd: int, where: Path) -> list[tuple[str, os.stat_result]]:
        """`where`'s files into `out`; its subdirectories (name, lstat) to walk next."""
        try:
            names = sorted(os.listdir(dir_fd))
        except OSError as exc:
            raise cannot_read(where, exc) from None
        subdirs: list[tuple[str, os.stat_result]] = []
        for entry in names:
            p = where / entry
            try:
                st = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                out.append(_unreadable_source(p, name_of(p), partial(_replaced, name_of(p))))
                continue
            except OSError as exc:
                raise cannot_read(p, exc) from None
            if stat.S_ISDIR(st.st_mode):
                subdirs.append((entry, st))
            elif stat.S_ISREG(st.st_mode):
                if not os.access(entry, os.R_OK, dir_fd=dir_fd, follow_symlinks=False):
                    raise InvalidInput(f"cannot read {_show(p)}: permission denied")
                out.append(_file_source(p, name_of(p), st, in_tree=True))
            else:
                out.append(_skipped_source(p, name_of(p), _kind(st.st_mode)))
        return subdirs

    # Depth first without recursion: one frame (descriptor, path, subdirectories left) per level.
    frames: list[tuple[int, Path, list[tuple[str, os.stat_result]]]] = []
    try:
        frames.append((fd, top, []))
        frames[-1][2].extend(reversed(listing(fd, top)))
        while frames:
            dir_fd, where, todo = frames[-1]
            if not todo:
                os.close(dir_fd)
                frames.pop()
                continue
            entry, st = todo.pop()
            p = where / entry
            try:
                child = _open_dir(entry, st, dir_fd=dir_fd)
            except OSError as exc:
                raise cannot_read(p, exc) from None
            if child is None:  # replaced (by a link, say) since it was listed: not entered
                out.append(_unreadable_source(p, name_of(p), partial(_replaced, name_of(p))))
                continue
            frames.append((child, p, []))
            frames[-1][2].extend(reversed(listing(child, p)))
    finally:
        for dir_fd, _, _ in frames:
            os.close(dir_fd)
