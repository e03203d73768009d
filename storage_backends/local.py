"""Local-filesystem object store (POSIX)."""

from __future__ import annotations

import builtins
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import secrets
import stat
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from .base import (
    Clock,
    ObjectInfo,
    check_key,
    check_prefix,
    check_retain_until,
    is_valid_key,
    system_clock,
)
from .durable import BackgroundSync

__all__ = ["LocalStore"]

# Internal names contain "~", which is not a valid key character, so they can never collide with
# an object (or a directory made for one) and ``list`` can skip them by that character alone.
_TMP_PREFIX = "~tmp-"
_META_DIR = "~meta"
_LOCK_FILE = "~lock"
_MKSTEMP_ATTEMPTS = 5


@dataclass(frozen=True)
class _Meta:
    retain_until: datetime | None = None
    legal_hold: bool = False


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs(path: Path) -> bool:
    """syncfs(2) of the file system holding `path`: everything written there reaches the disk
    (Linux); False where the call does not exist."""
    fn = getattr(_LIBC, "syncfs", None) if _LIBC is not None else None
    if fn is None:
        return False
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if fn(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)
    return True


try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - no C library to load (not on Linux or macOS)
    _LIBC = None


def _temp_file(directory: Path) -> tuple[int, str]:
    """A new, exclusive (``O_EXCL``), mode 0600 file ``~tmp-<random>`` in ``directory``: its
    descriptor (open for writing) and path."""
    for _ in range(_MKSTEMP_ATTEMPTS):
        path = f"{directory}/{_TMP_PREFIX}{secrets.token_hex(8)}"
        try:
            return os.open(path, _TEMP_FLAGS, 0o600), path
        except FileExistsError:  # pragma: no cover - 64 random bits met an existing name
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(directory))


_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _not_found(key: str) -> FileNotFoundError:
    return FileNotFoundError(errno.ENOENT, "no such object", key)


def _stream(f: IO[bytes], chunk_size: int) -> Iterator[bytes]:
    with f:
        while chunk := f.read(chunk_size):
            yield chunk


class LocalStore:
    """Object store on a local POSIX filesystem.

    Layout under ``root`` (created with mode 0700 if absent):

    * ``<key>`` -- the object's bytes, mode 0600; ``/`` in a key makes subdirectories (mode 0700).
    * ``~meta/<xx>/<sha256(key)>.json`` -- retention / legal-hold sidecar, mode 0600.
    * ``~tmp-*`` -- in-flight writes, invisible to every method and removed on failure.
    * ``~lock`` -- ``flock`` serialising the commit step of writes and all metadata changes.

    Promises: ``put`` is create-only (the final name is made with ``os.link``, which refuses to
    replace), atomic (data goes to a temp file in the target directory, fsynced, then linked) and
    durable on return (directories are fsynced). Protection is written before the object becomes
    visible, so a visible object is never unprotected; ``delete`` checks it against the injected
    clock and removes the object, its sidecar and now-empty directories. Corrupt metadata makes
    ``head``/``delete``/``set_*`` fail with ``OSError(EIO)`` rather than being treated as absent.

    Limitations: retention and legal holds are enforced **only through this API** -- anyone with
    filesystem access (root, the owning user) can delete or alter the files, so ``capabilities`` is
    empty. No versioning (``delete`` returns 0 or 1, ``version_id`` is ``None``). Because keys map
    to paths, a key cannot be both an object and a directory prefix of another key (``a`` and
    ``a/b``): such a ``put`` raises ``FileExistsError``. Case-insensitive filesystems fold keys
    differing only in case.
    """

    def __init__(self, root: str | os.PathLike[str], *, clock: Clock | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        self.clock: Clock = clock if clock is not None else system_clock
        self._url = self.root.as_uri()
        self._root_text = str(self.root)
        self._lock_path = f"{self._root_text}/{_LOCK_FILE}"
        self._deferred = threading.local()
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with suppress(FileExistsError):
            self.root.mkdir(mode=0o700)
        if not self.root.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "store root is not a directory", str(root))

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    @property
    def url(self) -> str:
        """``file://`` URL of the (absolute, resolved) root."""
        return self._url

    @property
    def capabilities(self) -> frozenset[str]:
        """``retention`` only: kept through this API, not enforced against the filesystem (no
        versioning, no Object Lock)."""
        return frozenset({"retention"})

    # ------------------------------------------------------------------ durability

    @contextmanager
    def deferred_sync(self) -> Iterator[None]:
        """Within the block, this thread's writes (``put``, retention, legal holds) are not
        made durable one by one: leaving the block normally makes them all durable at once
        (one ``syncfs`` of the store's file system, else an fsync of each file and directory
        written), and only then returns. For many small objects, whose records the caller
        commits after the block: "no record without its payload" holds as with ``put``
        alone. A crash inside the block may lose any of its writes (never a record).
        Re-entering the block is a no-op; other threads' writes stay durable on return."""
        state = self._deferred
        if getattr(state, "files", None) is not None:
            yield
            return
        state.files, state.dirs = [], set()
        try:
            yield
            self._sync_deferred(state.files, state.dirs)
        finally:
            state.files = state.dirs = None

    def _defer(self, file: Path | None, directory: Path | None) -> bool:
        """Record what a write would fsync now; False when writes are not deferred."""
        state = self._deferred
        files = getattr(state, "files", None)
        if files is None:
            return False
        if file is not None:
            files.append(file)
        if directory is not None:
            state.dirs.add(directory)
        return True

    def _sync_deferred(self, files: builtins.list[Path], dirs: set[Path]) -> None:
        if not files and not dirs:
            return
        if _syncfs(self.root):
            return
        for path in files:  # pragma: no cover - without syncfs(2) (not Linux)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue  # deleted since (a duplicate, a failed ingest)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        for directory in sorted(dirs):  # pragma: no cover
            with suppress(FileNotFoundError):
                _fsync_dir(directory)

    # ------------------------------------------------------------------ paths & locking

    def _path(self, key: str) -> Path:
        # a valid key has no empty, "." or ".." segment: joined as text, it stays under root
        return Path(f"{self._root_text}/{check_key(key)}")

    def _meta_path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("ascii")).hexdigest()
        return Path(f"{self._root_text}/{_META_DIR}/{digest[:2]}/{digest}.json")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the flock

    def _makedirs(self, directory: Path, key: str) -> None:
        """Create ``directory`` (inside root) and missing parents with mode 0700, durably."""
        missing: builtins.list[Path] = []
        current = directory
        while current != self.root:
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                missing.append(current)
                current = current.parent
                continue
            if not stat.S_ISDIR(st.st_mode):
                raise FileExistsError(
                    errno.EEXIST,
                    "a prefix of this key is an existing object (local filesystem limitation)",
                    key,
                )
            break
        for path in reversed(missing):
            with suppress(FileExistsError):  # a concurrent put made it; re-checked by mkstemp
                os.mkdir(path, 0o700)
            if not self._defer(None, path.parent):
                _fsync_dir(path.parent)

    def _check_free(self, path: Path, key: str) -> None:
        """``FileExistsError`` unless nothing (object or directory) occupies ``path``."""
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return  # NotADirectoryError: a prefix is an object; _makedirs reports that
        if stat.S_ISDIR(st.st_mode):
            raise FileExistsError(
                errno.EEXIST,
                "key is a directory of other keys (local filesystem limitation)",
                key,
            )
        raise FileExistsError(errno.EEXIST, "object already exists", key)

    def _create_temp(self, directory: Path, key: str) -> tuple[int, str]:
        """Make ``directory`` and an exclusive 0600 temp file in it; return (fd, path)."""
        for _ in range(_MKSTEMP_ATTEMPTS - 1):
            try:
                self._makedirs(directory, key)
                return _temp_file(directory)
            except FileNotFoundError:  # a concurrent delete pruned a directory we just made
                continue
        self._makedirs(directory, key)
        return _temp_file(directory)

    def _is_object(self, path: Path) -> os.stat_result | None:
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return st if stat.S_ISREG(st.st_mode) else None

    # ------------------------------------------------------------------ metadata sidecars

    def _read_meta(self, key: str) -> _Meta:
        path = self._meta_path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return _Meta()
        try:
            data: Any = json.loads(raw)
            if not isinstance(data, dict) or data.get("key") != key:
                raise ValueError("sidecar does not describe this key")
            hold = data["legal_hold"]
            until_raw = data["retain_until"]
            if not isinstance(hold, bool) or not (until_raw is None or isinstance(until_raw, str)):
                raise ValueError("bad field types")
            until = (
                None if until_raw is None else check_retain_until(datetime.fromisoformat(until_raw))
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise OSError(errno.EIO, f"corrupt retention metadata for {key!r}", str(path)) from exc
        return _Meta(retain_until=until, legal_hold=hold)

    def _write_meta(self, key: str, meta: _Meta) -> None:
        """Atomically replace the sidecar (temp file, fsync, rename, fsync dir). Caller locks."""
        path = self._meta_path(key)
        self._makedirs(path.parent, key)
        body = {
            "key": key,
            "retain_until": None if meta.retain_until is None else meta.retain_until.isoformat(),
            "legal_hold": meta.legal_hold,
        }
        fd, tmp = _temp_file(path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(json.dumps(body, sort_keys=True).encode("ascii"))
                f.flush()
                deferred = self._defer(path, path.parent)
                if not deferred:
                    os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
        if not deferred:
            _fsync_dir(path.parent)

    def _remove_meta(self, key: str) -> None:
        path = self._meta_path(key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        _fsync_dir(path.parent)

    def _protected(self, meta: _Meta) -> bool:
        return meta.legal_hold or (
            meta.retain_until is not None and meta.retain_until > self.clock()
        )

    # ------------------------------------------------------------------ ObjectStore

    def put(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        retain_until: datetime | None = None,
        legal_hold: bool = False,
    ) -> ObjectInfo:
        """Write-once, atomic, durable streaming put (see :class:`ObjectStore`).

        ``FileExistsError`` if ``key`` exists (checked before ``chunks`` is consumed and again,
        race-free, at commit) or conflicts with the directory layout; ``TypeError`` if ``chunks``
        is itself a bytes-like object or yields non-bytes.
        """
        path = self._path(key)
        until = None if retain_until is None else check_retain_until(retain_until)
        if isinstance(chunks, bytes | bytearray | memoryview | str):
            raise TypeError("chunks must be an iterable of bytes chunks, e.g. [data]")
        self._check_free(path, key)
        directory = path.parent
        fd, tmp = self._create_temp(directory, key)
        size = 0
        try:
            with os.fdopen(fd, "wb", buffering=0) as f:
                syncer = BackgroundSync(f.fileno())
                try:
                    for chunk in chunks:
                        if not isinstance(chunk, bytes | bytearray | memoryview):
                            raise TypeError(
                                f"chunks must be bytes, not {type(chunk).__name__}")
                        n = len(chunk)
                        view = memoryview(chunk)
                        while view:
                            view = view[f.write(view) or 0:]
                        size += n
                        syncer.wrote(n)
                    if self._defer(path, directory):
                        syncer.close()  # the file's data is synced with the batch
                    else:
                        syncer.finish()
                finally:
                    syncer.close()
            meta = _Meta(retain_until=until, legal_hold=legal_hold)
            with self._locked():
                self._check_free(path, key)
                # Protection first: a crash after this leaves only a harmless orphan sidecar,
                # never a visible, unprotected object.
                if meta != _Meta():
                    self._write_meta(key, meta)
                else:
                    self._remove_meta(key)  # orphan from an earlier crash
                try:
                    os.link(tmp, path)  # refuses to replace: create-only even under races
                except BaseException:
                    with suppress(OSError):
                        self._remove_meta(key)
                    raise
                if not self._defer(None, directory):
                    _fsync_dir(directory)
        finally:
            with suppress(OSError):
                os.unlink(tmp)
        return ObjectInfo(key=key, size=size, retain_until=until, legal_hold=legal_hold)

    def get(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Open the object now (``FileNotFoundError`` if absent) and return a chunk generator.

        The open file keeps the content readable even if the object is deleted meanwhile.
        ``ValueError`` if ``chunk_size`` is not positive.
        """
        path = self._path(key)
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise _not_found(key) from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a symlink: not an object of this store
                raise _not_found(key) from exc
            raise
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except BaseException:
            os.close(fd)
            raise
        if not regular:  # a directory of other keys, a fifo, ...
            os.close(fd)
            raise _not_found(key)
        return _stream(os.fdopen(fd, "rb", buffering=0), chunk_size)

    def head(self, key: str) -> ObjectInfo:
        """Size plus stored retention and legal hold. ``FileNotFoundError`` if absent."""
        st = self._is_object(self._path(key))
        if st is None:
            raise _not_found(key)
        meta = self._read_meta(key)
        return ObjectInfo(
            key=key, size=st.st_size, retain_until=meta.retain_until, legal_hold=meta.legal_hold
        )

    def exists(self, key: str) -> bool:
        """``True`` if ``key`` names a stored object (directories and temp files do not count)."""
        return self._is_object(self._path(key)) is not None

    def delete(self, key: str) -> int:
        """Remove the object, its sidecar and emptied directories; return 1, or 0 if absent.

        ``PermissionError`` (nothing removed) while ``retain_until > clock()`` or a legal hold
        is on.
        """
        path = self._path(key)
        with self._locked():
            if self._is_object(path) is None:
                return 0
            if self._protected(self._read_meta(key)):
                raise PermissionError(errno.EPERM, "object is under retention or legal hold", key)
            os.unlink(path)
            _fsync_dir(path.parent)
            self._remove_meta(key)
            self._prune(path.parent)
        return 1

    def versions(self, key: str) -> builtins.list[str]:
        """``["null"]`` while the object exists (no versioning here), else ``[]``."""
        return ["null"] if self._is_object(self._path(key)) is not None else []

    def delete_many(self, keys: Iterable[str]) -> dict[str, int | PermissionError]:
        """:meth:`delete` for many keys under one lock, each directory fsynced once (what a
        destruction run of thousands needs): per key 1 or 0 (absent), or the
        ``PermissionError`` that :meth:`delete` would raise (that object is left as it is).
        Durable when it returns. ``ValueError`` for an invalid key, before anything is
        removed."""
        paths = [(key, self._path(key)) for key in keys]
        out: dict[str, int | PermissionError] = {}
        touched: set[Path] = set()
        with self._locked():
            for key, path in paths:
                if self._is_object(path) is None:
                    out[key] = 0
                    continue
                if self._protected(self._read_meta(key)):
                    out[key] = PermissionError(errno.EPERM,
                                               "object is under retention or legal hold", key)
                    continue
                os.unlink(path)
                touched.add(path.parent)
                meta = self._meta_path(key)
                with suppress(FileNotFoundError):
                    os.unlink(meta)
                    touched.add(meta.parent)
                out[key] = 1
            for directory in touched:
                _fsync_dir(directory)
            for directory in touched:
                self._prune(directory)
        return out

    def _prune(self, directory: Path) -> None:
        """Remove now-empty directories from ``directory`` up to (excluding) root."""
        while directory != self.root:
            try:
                os.rmdir(directory)
            except OSError:
                return
            directory = directory.parent
            _fsync_dir(directory)

    def leftover_writes(self, older_than: float) -> builtins.list[Path]:
        """``~tmp-*`` files of writes that never finished (a killed process), untouched for at
        least `older_than` seconds (file time, not the injected clock): an in-flight write is
        younger. Never a symlink, never outside ``root``."""
        now = time.time()
        found: builtins.list[Path] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d != "~meta"]
            for name in filenames:
                if not name.startswith(_TMP_PREFIX):
                    continue
                path = Path(dirpath) / name
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(st.st_mode) and now - st.st_mtime >= older_than:
                    found.append(path)
        return sorted(found)

    def remove_leftover(self, path: Path) -> None:
        """Delete one file :meth:`leftover_writes` returned (ValueError for anything else)."""
        path = Path(path)
        if not path.name.startswith(_TMP_PREFIX) or self.root not in path.parents:
            raise ValueError(f"not a leftover write of this store: {path}")
        path.unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``, lexicographically sorted, streamed directory by directory.

        ``ValueError`` for an invalid prefix (at call time). Skips internal and temp files, and
        files placed by hand whose names are not valid keys.
        """
        check_prefix(prefix)
        directory, _, _ = prefix.rpartition("/")
        if not directory:
            return self._walk(self.root, "", prefix)
        start = self.root.joinpath(*directory.split("/"))
        try:
            is_dir = stat.S_ISDIR(os.lstat(start).st_mode)  # never follow a planted symlink
        except (FileNotFoundError, NotADirectoryError):
            is_dir = False
        return self._walk(start, directory + "/", prefix) if is_dir else iter(())

    def _walk(self, directory: Path, base: str, prefix: str) -> Iterator[str]:
        try:
            with os.scandir(directory) as it:
                entries = builtins.list(it)
        except (FileNotFoundError, NotADirectoryError):
            return
        # Sort directories as "name/" so the walk yields keys in plain string order
        # ("a-x" < "a.txt" < "a/b" because "-" < "." < "/").
        names: builtins.list[tuple[str, bool]] = []
        for entry in entries:
            if "~" in entry.name:
                continue
            if entry.is_dir(follow_symlinks=False):
                names.append((entry.name + "/", True))
            elif entry.is_file(follow_symlinks=False):
                names.append((entry.name, False))
        names.sort()
        for name, is_dir in names:
            full = base + name
            if is_dir:
                if full.startswith(prefix) or prefix.startswith(full):
                    yield from self._walk(directory / name[:-1], full, prefix)
            elif full.startswith(prefix) and is_valid_key(full):
                yield full

    def set_retention(self, key: str, until: datetime) -> None:
        """Extend (never shorten) retention. ``PermissionError`` if ``until`` < current value;
        ``FileNotFoundError`` if absent; ``ValueError`` if ``until`` is naive."""
        path = self._path(key)
        new = check_retain_until(until)
        with self._locked():
            if self._is_object(path) is None:
                raise _not_found(key)
            meta = self._read_meta(key)
            if meta.retain_until is not None and new < meta.retain_until:
                raise PermissionError(
                    errno.EPERM,
                    f"retention may only be extended (currently {meta.retain_until.isoformat()})",
                    key,
                )
            self._write_meta(key, _Meta(retain_until=new, legal_hold=meta.legal_hold))

    def set_legal_hold(self, key: str, on: bool) -> None:
        """Place or release a legal hold. ``FileNotFoundError`` if absent."""
        path = self._path(key)
        with self._locked():
            if self._is_object(path) is None:
                raise _not_found(key)
            meta = self._read_meta(key)
            self._write_meta(key, _Meta(retain_until=meta.retain_until, legal_hold=bool(on)))
