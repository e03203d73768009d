"""Reading evidence back: decrypt, re-hash, and publish only what fully authenticated.

age authenticates chunk by chunk, so a tampered payload yields correct plaintext up to the bad
chunk. Plaintext therefore goes to a temporary file first; it is moved to the destination (or
copied to stdout) only after the last chunk authenticated and the SHA-256 and size match the
record. On any failure the temporary file is removed: no prefix is ever handed out.

Where decrypted plaintext can be on disk (what `vault doctor` looks for): only in temporary
files whose names start with :data:`TEMP_PREFIX` (``.vault-get-``), created 0600 —

- for ``vault get ITEM -o DEST``: in DEST's own directory (beside the destination), as
  ``.vault-get-XXXXXXXX`` (:func:`tempfile.mkstemp`); it becomes DEST once everything
  authenticated (renamed, or hard-linked to DEST and then removed when DEST must not be
  replaced) and is removed on any failure;
- for standard output: in the vault's tmp directory (the service's ``tmp_dir``,
  ``$VAULT_HOME/tmp``), as an anonymous ``O_TMPFILE`` file that never has a name; on a file
  system without ``O_TMPFILE``, Python creates ``.vault-get-XXXXXXXX`` there and unlinks it at
  once.

So only a process killed (SIGKILL, power loss) between creating and publishing or removing
such a file leaves one behind — holding a plaintext prefix. Nothing else in this module writes
plaintext to disk.

A bad destination (a missing directory, a directory, even with ``overwrite``) is refused before
anything is decrypted; a failing output (a full disk, a closed pipe) is an :class:`OutputError`.
Either way nothing is left at the destination and nothing there is removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from storage_backends import ObjectStore
from storage_backends.durable import BackgroundSync
from vault.age import AgeError, X25519Identity, decrypt_payload, unwrap_file_key
from vault.crypto.feeder import Feeder, tune_malloc
from vault.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound, StorageError
from vault.evidence.binding import check_bound
from vault.metadata.models import EvidenceItem

Progress = Callable[[int], None]

SMALL = 1 << 20
"""Payloads up to this size are decrypted on the calling thread (one batch of chunks)."""

TEMP_PREFIX = ".vault-get-"
"""Every temporary file that may hold plaintext starts with this (see the module docstring)."""


class OutputError(StorageError):
    """Writing the plaintext out failed: the destination file or its directory, the vault's
    temporary directory, or standard output (a full disk, a closed pipe)."""


def _reason(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _corrupted(item: EvidenceItem) -> IntegrityError:
    return IntegrityError(f"item {item.id} is corrupted or was tampered with",
                          hint="restore its payload from a backup; `vault verify --all` "
                               "checks the rest")


def plaintext(item: EvidenceItem, store: ObjectStore, key: X25519Identity
              ) -> Iterator[bytes]:
    """The item's plaintext, block by block as it authenticates; after the last block, its
    SHA-256 and size are checked against the record.

    Raises IntegrityError if the header, a payload chunk, the hash or the size does not match,
    and StorageError if the payload is missing or the store fails. Blocks already yielded when
    it raises are not the evidence: consumers discard what they made of them."""
    if item.age_header is None:
        raise IntegrityError(f"item {item.id} was crypto-shredded: its content is gone")
    check_bound(item)
    try:
        file_key = unwrap_file_key(item.age_header, [key])
    except AgeError:
        raise IntegrityError(
            f"item {item.id} is corrupted or was tampered with: its header (kept in the "
            "database) does not open",
            hint="restore the database from a backup (its header is only there; the payload "
                 "in the store is fine); `vault verify --all` checks the rest") from None
    try:
        chunks = store.get(item.object_key)
    except FileNotFoundError:
        raise StorageError(f"the payload of item {item.id} is missing from the store",
                           hint="restore the store from a backup; `vault verify --all` "
                                "checks the rest") from None
    except OSError as exc:
        raise StorageError(f"cannot read item {item.id} from the store: {exc}") from None
    digest = hashlib.sha256()
    size = 0
    # a payload of one batch gains nothing from threads: decrypted inline, without a pool
    big = item.size > SMALL
    if big:
        tune_malloc()
    blocks = decrypt_payload(file_key, chunks, workers=2 if big else 1)
    # a big payload is hashed on a helper thread while the next blocks are decrypted
    hashing = Feeder([digest.update], name="get-hash") if big else None
    try:
        while True:
            try:  # reading from the store and authenticating
                block = next(blocks, None)
            except AgeError:
                raise _corrupted(item) from None
            except OSError as exc:
                raise StorageError(f"cannot read item {item.id} from the store: {exc}"
                                   ) from None
            if block is None:
                break
            if hashing is None:
                digest.update(block)
            else:
                hashing.update(block)
            size += len(block)
            yield block
        if hashing is not None:
            hashing.close()
    finally:
        if hashing is not None:
            hashing.abort()
        for it in (blocks, chunks):
            close = getattr(it, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
    if digest.hexdigest() != item.sha256 or size != item.size:
        raise _corrupted(item)


def decrypt_to(item: EvidenceItem, store: ObjectStore, key: X25519Identity, out: BinaryIO, *,
               progress: Progress | None = None) -> None:
    """Write the item's plaintext to `out`, then check SHA-256 and size.

    Raises IntegrityError if the header, a payload chunk, the hash or the size does not match,
    and StorageError if the payload is missing or the store fails; an OSError from writing to
    `out` propagates as it is. `out` may hold a prefix when this raises: callers must discard it
    (see :func:`publish`).
    """
    for block in plaintext(item, store, key):
        out.write(block)  # an OSError here is the output's: the caller names it
        if progress is not None:
            progress(len(block))


class _SyncingWriter:
    """Writes everything (a raw file may write less than asked) and starts writeback early."""

    def __init__(self, f: BinaryIO, syncer: BackgroundSync) -> None:
        self._f, self._syncer = f, syncer

    def write(self, b: bytes) -> int:
        view = memoryview(b)
        while view:
            view = view[self._f.write(view) or 0:]
        self._syncer.wrote(len(b))
        return len(b)


class _Sink:
    def write(self, b: bytes) -> int:
        return len(b)


def check(item: EvidenceItem, store: ObjectStore, key: X25519Identity) -> None:
    """Decrypt and re-hash without writing anything; raises like :func:`decrypt_to`."""
    decrypt_to(item, store, key, _Sink(), progress=None)  # type: ignore[arg-type]


def _check_destination(dest: Path, overwrite: bool) -> None:
    """Refuse, before anything is decrypted: a missing directory, a directory (even with
    `overwrite`), anything but a regular file or a link, and an existing file unless
    `overwrite`."""
    parent = dest.parent
    try:
        pst = os.stat(parent)
    except FileNotFoundError:
        raise NotFound(f"no such directory: {parent}",
                       hint="create it first, or write elsewhere") from None
    except OSError as exc:
        raise OutputError(f"cannot write in {parent}: {_reason(exc)}") from None
    if not stat.S_ISDIR(pst.st_mode):
        raise InvalidInput(f"not a directory: {parent}")
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot write {dest}: {_reason(exc)}") from None
    if stat.S_ISDIR(st.st_mode) or (stat.S_ISLNK(st.st_mode) and os.path.isdir(dest)):
        raise InvalidInput(f"output is a directory: {dest}",
                           hint="name a file (in it, or elsewhere) to write the item to")
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise InvalidInput(f"output is not a regular file: {dest}",
                           hint="to write to a pipe or a device, use standard output "
                                "(no -o) and redirect it")
    if not overwrite:
        raise AlreadyExists(f"output file exists: {dest}", hint="use --force to replace it")


_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK,
                  errno.ENOSYS}


def install(tmp: str | Path, dest: Path, overwrite: bool) -> None:
    """Make the finished temporary file `dest`: renamed over it, or, when `dest` must not be
    replaced, hard-linked to it (which fails if something appeared there meanwhile)."""
    try:
        if overwrite:
            os.replace(tmp, dest)
            return
        try:
            os.link(tmp, dest)
        except FileExistsError:
            raise AlreadyExists(f"output file exists: {dest}",
                                hint="use --force to replace it") from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            if os.path.lexists(dest):  # no hard links on this file system: check, then rename
                raise AlreadyExists(f"output file exists: {dest}",
                                    hint="use --force to replace it") from None
            os.replace(tmp, dest)
            return
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    except IsADirectoryError:
        raise InvalidInput(f"output is a directory: {dest}",
                           hint="name a file (in it, or elsewhere) to write the item to"
                           ) from None
    except OSError as exc:
        if exc.errno == errno.ENOTEMPTY:
            raise InvalidInput(f"output is a directory: {dest}") from None
        raise OutputError(f"cannot write {dest}: {_reason(exc)}") from None


def publish(item: EvidenceItem, store: ObjectStore, key: X25519Identity, dest: Path, *,
            overwrite: bool = False, progress: Progress | None = None) -> None:
    """Decrypt into a temporary file beside `dest` (0600, named ``.vault-get-*``) and make it
    `dest` only when everything authenticated. Nothing is left at `dest` (or beside it) on
    failure, and nothing there is removed: a directory at `dest` is refused even with
    `overwrite`, as are a missing directory and (without `overwrite`) an existing file."""
    dest = dest.absolute()
    _check_destination(dest, overwrite)
    try:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=dest.parent)
    except OSError as exc:
        raise OutputError(f"cannot write in {dest.parent}: {_reason(exc)}") from None
    try:
        try:
            with os.fdopen(fd, "wb", buffering=0) as f:
                syncer = BackgroundSync(f.fileno())
                try:
                    decrypt_to(item, store, key,
                               _SyncingWriter(f, syncer),  # type: ignore[arg-type]
                               progress=progress)
                    syncer.finish()
                finally:
                    syncer.close()
        except OSError as exc:  # the destination's disk (the store's are StorageErrors)
            raise OutputError(f"cannot write {dest}: {_reason(exc)}") from None
        install(tmp, dest, overwrite)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _described(out: BinaryIO) -> str:
    name = getattr(out, "name", None)
    if name == "<stdout>" or name == 1:
        return "standard output"
    return name if isinstance(name, str) and not name.startswith("<") else "the output"


def stream_out(item: EvidenceItem, store: ObjectStore, key: X25519Identity, out: BinaryIO,
               tmp_dir: Path, *, progress: Progress | None = None) -> None:
    """For stdout: decrypt into an anonymous (already unlinked) temporary file under `tmp_dir`,
    then copy it to `out` only after everything authenticated.

    A failing `out` (a full disk, a closed pipe) is an OutputError; the temporary file is gone
    either way."""
    try:
        tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        f = tempfile.TemporaryFile(prefix=TEMP_PREFIX, dir=tmp_dir)
    except OSError as exc:
        raise OutputError(f"cannot make a temporary file in {tmp_dir}: {_reason(exc)}"
                          ) from None
    with f:
        try:
            decrypt_to(item, store, key, f, progress=progress)  # type: ignore[arg-type]
            f.seek(0)
        except OSError as exc:
            raise OutputError(f"cannot write a temporary file in {tmp_dir}: {_reason(exc)}"
                              ) from None
        try:
            shutil.copyfileobj(f, out, 1 << 20)
            out.flush()
        except OSError as exc:
            raise OutputError(f"cannot write to {_described(out)}: {_reason(exc)}") from None
