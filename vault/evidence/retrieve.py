"""Reading evidence back: decrypt, re-hash, and publish only what fully authenticated.

age authenticates chunk by chunk, so a tampered payload yields correct plaintext up to the bad
chunk. Plaintext therefore goes to a temporary file first; it is moved to the destination (or
copied to stdout) only after the last chunk authenticated and the SHA-256 and size match the
record. On any failure the temporary file is removed: no prefix is ever handed out.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from storage_backends import ObjectStore
from storage_backends.durable import BackgroundSync
from vault.age import AgeError, X25519Identity, decrypt_payload, unwrap_file_key
from vault.errors import AlreadyExists, IntegrityError, StorageError
from vault.metadata.models import EvidenceItem

Progress = Callable[[int], None]


def _corrupted(item: EvidenceItem) -> IntegrityError:
    return IntegrityError(f"item {item.id} is corrupted or was tampered with",
                          hint="restore its payload from a backup; `vault verify --all` "
                               "checks the rest")


def decrypt_to(item: EvidenceItem, store: ObjectStore, key: X25519Identity, out: BinaryIO, *,
               progress: Progress | None = None) -> None:
    """Write the item's plaintext to `out`, then check SHA-256 and size.

    Raises IntegrityError if the header, a payload chunk, the hash or the size does not match,
    and StorageError if the payload is missing. `out` may hold a prefix when this raises: callers
    must discard it (see :func:`publish`).
    """
    if item.age_header is None:
        raise IntegrityError(f"item {item.id} was crypto-shredded: its content is gone")
    try:
        file_key = unwrap_file_key(item.age_header, [key])
    except AgeError:
        raise _corrupted(item) from None
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
    try:
        for block in decrypt_payload(file_key, chunks):
            digest.update(block)
            out.write(block)
            size += len(block)
            if progress is not None:
                progress(len(block))
    except AgeError:
        raise _corrupted(item) from None
    except OSError as exc:
        if out_is_store_error(exc):
            raise StorageError(f"cannot read item {item.id} from the store: {exc}") from None
        raise
    if digest.hexdigest() != item.sha256 or size != item.size:
        raise _corrupted(item)


def out_is_store_error(exc: OSError) -> bool:
    """Connection and permission failures come from the store; a full disk from our output."""
    return isinstance(exc, ConnectionError | PermissionError | TimeoutError)


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


def publish(item: EvidenceItem, store: ObjectStore, key: X25519Identity, dest: Path, *,
            overwrite: bool = False, progress: Progress | None = None) -> None:
    """Decrypt into a temporary file beside `dest` (0600) and rename it over `dest` only when
    everything authenticated. Nothing is left at `dest` (or beside it) on failure."""
    dest = dest.absolute()
    if dest.exists() and not overwrite:
        raise AlreadyExists(f"output file exists: {dest}", hint="use --force to replace it")
    fd, tmp = tempfile.mkstemp(prefix=".vault-get-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb", buffering=0) as f:
            syncer = BackgroundSync(f.fileno())
            try:
                decrypt_to(item, store, key, _SyncingWriter(f, syncer),  # type: ignore[arg-type]
                           progress=progress)
                syncer.finish()
            finally:
                syncer.close()
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def stream_out(item: EvidenceItem, store: ObjectStore, key: X25519Identity, out: BinaryIO,
               tmp_dir: Path, *, progress: Progress | None = None) -> None:
    """For stdout: decrypt into an anonymous (already unlinked) temporary file under `tmp_dir`,
    then copy it to `out` only after everything authenticated."""
    tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryFile(dir=tmp_dir) as f:
        decrypt_to(item, store, key, f, progress=progress)  # type: ignore[arg-type]
        f.seek(0)
        shutil.copyfileobj(f, out, 1 << 20)
        out.flush()
