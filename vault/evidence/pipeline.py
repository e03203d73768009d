"""The streaming ingest pipeline: read -> SHA-256 -> type detection -> age encryption -> store.

Constant memory: the source is read in blocks; from the second block on, they are hashed on a
helper thread (hashlib releases the GIL) while this thread reads and writes and worker threads
encrypt earlier blocks, so SHA-256 (the slowest step, one core) overlaps the rest. The age
header is returned for the metadata DB; the payload goes to the object store under a
create-only key.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from storage_backends import ObjectStore
from vault.age import Stanza, X25519Recipient, encrypt_payload, new_file_key, write_header
from vault.crypto.feeder import Feeder, tune_malloc
from vault.errors import InvalidInput
from vault.evidence.sources import SourceChanged
from vault.pii.filetype import MAGIC_BYTES, detect_mime

BLOCK_SIZE = 1 << 20
"""Read size: small blocks keep what the hash, scan and encryption queues hold small (peak RSS)."""

Progress = Callable[[int], None]
"""Called with the number of plaintext bytes just read."""


@dataclass(frozen=True)
class Sealed:
    """What ingest learnt about one stored payload."""

    header: bytes
    sha256: str
    size: int
    detected_mime: str
    head: bytes = b""
    """The first bytes (type detection's), for guessing the kind of evidence."""


__all__ = ["BLOCK_SIZE", "Progress", "Sealed", "SourceChanged", "SourceUnreadable", "seal"]


class SourceUnreadable(InvalidInput):
    """Reading the source failed (an I/O error, input that would block): not the store's
    fault."""


def _fingerprint(fd: int) -> tuple[int, int, int, int] | None:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def seal(src: BinaryIO, store: ObjectStore, object_key: str, recipient: X25519Recipient, *,
         name: str, rng: Callable[[int], bytes] = os.urandom,
         progress: Progress | None = None,
         tap: Callable[[bytes], None] | None = None, labels: Sequence[Stanza] = ()
         ) -> Sealed:
    """Encrypt `src` to `recipient`, storing the payload at `object_key`; `tap` sees every
    plaintext block as it is read (the scanner); `labels` go into the header, under its MAC
    (:mod:`vault.evidence.binding`).

    Raises SourceChanged (after deleting the payload) when `src` is a regular file that was
    modified while it was read, SourceUnreadable when reading `src` fails; storage failures
    propagate from the store unchanged, with nothing left under `object_key`.

    `src` is trusted to be what the user meant: :mod:`vault.evidence.sources` opened it
    (``O_NOFOLLOW``, ``O_NONBLOCK``) and checked it is the file it listed. This function checks
    that it does not change while it is read.
    """
    try:
        fd: int | None = src.fileno()
        before = _fingerprint(fd)  # type: ignore[arg-type]
    except (OSError, ValueError):  # not backed by a file descriptor (BytesIO, ...)
        fd, before = None, None
    digest = hashlib.sha256()
    state = {"size": 0, "head": b""}
    # the first block is hashed here (a small file starts no thread); from the second on, on a
    # helper thread, in order
    hashing: Feeder | None = None

    # A regular file is read up to one byte past its size at the start: a file that keeps
    # growing (a live log) is detected as changed instead of being read forever.
    remaining = before[2] + 1 if before is not None else None

    def blocks() -> Iterator[bytes]:
        nonlocal remaining, hashing
        while remaining is None or remaining > 0:
            want = BLOCK_SIZE if remaining is None else min(BLOCK_SIZE, remaining)
            try:
                block = src.read(want)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise SourceUnreadable(f"cannot read {name}: {reason[:1].lower()}{reason[1:]}"
                                       ) from None
            if block is None:  # a non-blocking descriptor with nothing to read yet
                raise SourceUnreadable(f"cannot read {name}: the input is non-blocking and "
                                       "has no data ready", hint="give it as a regular file "
                                       "or a blocking pipe")
            if not block:
                return
            if remaining is not None:
                remaining -= len(block)
            if not state["head"]:
                state["head"] = block[:MAGIC_BYTES]
                digest.update(block)
            else:
                if hashing is None:  # a file of several blocks: a stream worth tuning for
                    tune_malloc()
                    hashing = Feeder([digest.update], depth=4, name="seal-hash")
                hashing.update(block)
            state["size"] += len(block)  # type: ignore[operator]
            if tap is not None:
                tap(block)
            if progress is not None:
                progress(len(block))
            yield block

    file_key = new_file_key(rng)
    header = write_header(file_key, [recipient], rng, labels)
    try:
        store.put(object_key, encrypt_payload(file_key, blocks(), rng=rng))
        if hashing is not None:
            hashing.close()
    finally:
        if hashing is not None:
            hashing.abort()
    size = int(state["size"])  # type: ignore[call-overload]
    if before is not None and fd is not None:
        after = _fingerprint(fd)
        if after != before or size != before[2]:
            store.delete(object_key)
            raise SourceChanged(f"file changed while it was ingested: {name}",
                                hint="ingest it again once it is no longer being written")
    head = state["head"]
    assert isinstance(head, bytes)
    return Sealed(header=header, sha256=digest.hexdigest(), size=size,
                  detected_mime=detect_mime(head), head=head)
