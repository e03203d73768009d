"""The age v1 payload: a 16-byte nonce, then STREAM-chunked ChaCha20-Poly1305, in parallel.

Chunks are processed in batches of ``BATCH_CHUNKS`` chunks (1 MiB of plaintext) per thread-pool
task; at most ``2 * workers`` batches are in flight, so memory stays bounded whatever the input
size. ``cryptography`` releases the GIL while sealing/opening, so the batches really run in
parallel. Input is re-chunked without copying (memoryviews over the caller's bytes; only
chunks straddling two input pieces are copied), and output is yielded a batch at a time (one
buffer, written in place with ``encrypt_into``/``decrypt_into`` where ``cryptography`` has
them), so a consumer makes one write, one hash update per batch rather than per chunk.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import PayloadError

__all__ = ["CHUNK_SIZE", "decrypt_payload", "encrypt_payload"]

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
NONCE_SIZE = 16
ENC_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
BATCH_CHUNKS = 16
_MAX_COUNTER = 1 << 88
_T = TypeVar("_T")


def _payload_key(file_key: bytes, nonce: bytes) -> bytes:
    if not isinstance(file_key, bytes) or len(file_key) != 16:
        raise ValueError("file key must be 16 bytes")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=b"payload")
    return hkdf.derive(file_key)


def _nonce(counter: int, last: bool) -> bytes:
    if counter >= _MAX_COUNTER:
        raise PayloadError("STREAM counter overflow")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


Rope = list[memoryview]


class _Batch(bytearray):
    """A batch's output, written in place here and never changed once handed out: it may come
    back as input (an export re-encrypting decrypted evidence) and is then taken without the
    copy a caller's mutable buffer gets. Typed as bytes for the consumers: they only read it
    (a store's put, a file's write, a hash, ``len``, ``b"".join``)."""


def _segments(pieces: Iterable[bytes | memoryview], size: int) -> Iterator[tuple[Rope, bool]]:
    """Re-chunk ``pieces`` lazily into (segment, is_last), a segment being a list of memoryviews
    over the input (no copy). Every segment but the last holds exactly ``size`` bytes; the last
    holds 1..size bytes, or none if the input is empty. A segment is only released once a
    following byte proves it is not the last."""
    parts: deque[memoryview] = deque()
    have = 0
    for piece in pieces:
        if not piece:
            continue
        view = memoryview(piece)
        if not isinstance(view.obj, bytes | _Batch):  # a caller's buffer could be reused
            view = memoryview(bytes(view))
        parts.append(view)
        have += len(piece)
        while have > size:
            segment: Rope = []
            need = size
            while need:
                part = parts[0]
                if len(part) <= need:
                    segment.append(parts.popleft())
                    need -= len(part)
                else:
                    segment.append(part[:need])
                    parts[0] = part[need:]
                    need = 0
            have -= size
            yield segment, False
    yield list(parts), True


def _chunks(rope: Rope, size: int) -> Iterator[memoryview | bytes]:
    """Cut a rope into ``size``-byte chunks (the last may be shorter); copies only the chunks
    that straddle two parts."""
    pending: list[memoryview] = []
    filled = 0
    for part in rope:
        off, n = 0, len(part)
        if pending:
            off = min(size - filled, n)
            pending.append(part[:off])
            filled += off
            if filled < size:
                continue
            yield b"".join(pending)
            pending, filled = [], 0
        while n - off >= size:
            yield part[off : off + size]
            off += size
        if off < n:
            pending, filled = [part[off:]], n - off
    if pending:
        yield b"".join(pending)


def _pipeline(
    tasks: Iterator[tuple[Callable[..., list[bytes]], tuple]], workers: int
) -> Iterator[bytes]:
    """Run the tasks on a pool of ``workers`` threads, at most ``2 * workers`` in flight, and
    yield the items of their results in order. Pulls ``tasks`` only when a slot is free; cancels
    and joins the pool on error or when the consumer stops early."""
    if workers == 1:  # one worker: no pool to start and join (small payloads, many of them)
        for fn, args in tasks:
            yield from fn(*args)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="age-stream")
    pending: deque[Future[list[bytes]]] = deque()
    try:
        for fn, args in tasks:
            pending.append(pool.submit(fn, *args))
            while len(pending) >= 2 * workers or (pending and pending[0].done()):
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def _sealed_size(rope: Rope) -> int:
    n = sum(map(len, rope))
    return n + TAG_SIZE * max(1, -(-n // CHUNK_SIZE))


def _seal_batch(key: bytes, rope: Rope, counter: int, final: bool) -> list[bytes]:
    """The batch's chunks sealed into one buffer (one write for the consumer, not one per
    chunk)."""
    aead = ChaCha20Poly1305(key)
    chunks = list(_chunks(rope, CHUNK_SIZE)) or [b""]
    last = len(chunks) - 1
    out = _Batch(_sealed_size(rope))
    view = memoryview(out)
    into = getattr(aead, "encrypt_into", None)  # cryptography >= 45
    off = 0
    for i, chunk in enumerate(chunks):
        end = off + len(chunk) + TAG_SIZE
        nonce = _nonce(counter + i, final and i == last)
        if into is not None:
            into(nonce, chunk, None, view[off:end])
        else:  # pragma: no cover - older cryptography
            view[off:end] = aead.encrypt(nonce, chunk, None)
        off = end
    return [cast(bytes, out)]


def encrypt_payload(
    file_key: bytes,
    blocks: Iterable[bytes],
    *,
    rng: Callable[[int], bytes] = os.urandom,
    workers: int = 2,
) -> Iterator[bytes]:
    """Encrypt the plaintext given as ``blocks`` (bytes objects of any sizes, possibly none or
    empty) and yield the age payload in order: the 16-byte nonce, then the STREAM ciphertext
    (64 KiB chunks, the last one flagged, a single empty last chunk for empty plaintext).

    ``blocks`` is consumed lazily, only as output is pulled, and memory stays bounded.
    Exceptions raised by ``blocks`` propagate unchanged. ValueError on a bad file key/workers.
    """
    nonce = bytes(rng(NONCE_SIZE))
    if len(nonce) != NONCE_SIZE:
        raise ValueError("rng returned the wrong number of bytes")
    key = _payload_key(file_key, nonce)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError("workers must be a positive integer")
    return _encrypt(key, nonce, blocks, workers)


def _encrypt(key: bytes, nonce: bytes, blocks: Iterable[bytes], workers: int) -> Iterator[bytes]:
    yield nonce

    def tasks() -> Iterator[tuple[Callable[..., list[bytes]], tuple]]:
        counter = 0
        for segment, last in _segments(blocks, BATCH_CHUNKS * CHUNK_SIZE):
            yield _seal_batch, (key, segment, counter, last)
            counter += BATCH_CHUNKS

    todo = tasks()
    first = next(todo, None)
    if first is not None and first[1][3]:  # one batch (a small file): no threads to start
        yield from first[0](*first[1])
        return
    rest = _prepend(first, todo)
    del first  # not held while the rest streams
    yield from _pipeline(rest, workers)


def _prepend(head: _T | None, rest: Iterator[_T]) -> Iterator[_T]:
    """`head` (unless None), then `rest`; `head` is let go once it was taken."""
    if head is not None:
        yield head
        del head
    yield from rest


def _opens(aead: ChaCha20Poly1305, counter: int, last: bool, chunk: memoryview | bytes) -> bool:
    try:
        aead.decrypt(_nonce(counter, last), chunk, None)
    except InvalidTag:
        return False
    return True


def _open_batch(key: bytes, rope: Rope, counter: int, final: bool) -> list[bytes]:
    """The batch's chunks opened into one buffer, returned only once every chunk authenticated
    (nothing of a batch with a bad chunk is handed out)."""
    chunks = list(_chunks(rope, ENC_CHUNK_SIZE))
    if not chunks:
        raise PayloadError("payload has no chunks")
    if len(chunks[-1]) < TAG_SIZE:
        raise PayloadError("payload chunk is shorter than the authentication tag")
    aead = ChaCha20Poly1305(key)
    out = _Batch(sum(map(len, chunks)) - TAG_SIZE * len(chunks))
    view = memoryview(out)
    into = getattr(aead, "decrypt_into", None)  # cryptography >= 45
    off = 0
    for i, chunk in enumerate(chunks):
        c = counter + i
        last = final and i == len(chunks) - 1
        end = off + len(chunk) - TAG_SIZE
        try:
            if into is not None:
                into(_nonce(c, last), chunk, None, view[off:end])
            else:  # pragma: no cover - older cryptography
                view[off:end] = aead.decrypt(_nonce(c, last), chunk, None)
        except InvalidTag:
            if not last and _opens(aead, c, True, chunk):
                raise PayloadError("data after the final payload chunk") from None
            if last and len(chunk) == ENC_CHUNK_SIZE and _opens(aead, c, False, chunk):
                raise PayloadError("payload truncated: final chunk not marked last") from None
            raise PayloadError("payload chunk failed authentication") from None
        if last and len(chunk) == TAG_SIZE and c != 0:
            raise PayloadError("empty final chunk after other chunks")
        off = end
    return [cast(bytes, out)]


def decrypt_payload(
    file_key: bytes, chunks: Iterable[bytes], *, workers: int = 2
) -> Iterator[bytes]:
    """Decrypt an age payload given as ``chunks`` (bytes in arbitrary pieces, e.g. as read from a
    store) and yield the plaintext in order, with bounded memory.

    Raises PayloadError on fewer than 16 nonce bytes, no chunk at all, a chunk that does not
    authenticate, a final chunk not marked last, data after the final chunk, an empty last chunk
    that is not the only chunk, or a chunk shorter than the tag -- possibly after a prefix of
    the plaintext has been yielded, so callers must publish output only on success.
    ValueError on a bad file key or workers.
    """
    if not isinstance(file_key, bytes) or len(file_key) != 16:
        raise ValueError("file key must be 16 bytes")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError("workers must be a positive integer")
    return _decrypt(file_key, chunks, workers)


def _decrypt(file_key: bytes, chunks: Iterable[bytes], workers: int) -> Iterator[bytes]:
    it = iter(chunks)
    head: list[bytes] = []
    have = 0
    for piece in it:
        head.append(piece)
        have += len(piece)
        if have >= NONCE_SIZE:
            break
    if have < NONCE_SIZE:
        raise PayloadError("payload shorter than its 16-byte nonce")
    first = memoryview(head[0] if len(head) == 1 else b"".join(head))
    key = _payload_key(file_key, bytes(first[:NONCE_SIZE]))
    rest = first[NONCE_SIZE:]

    def pieces() -> Iterator[bytes | memoryview]:
        yield rest
        yield from it

    def tasks() -> Iterator[tuple[Callable[..., list[bytes]], tuple]]:
        counter = 0
        for segment, last in _segments(pieces(), BATCH_CHUNKS * ENC_CHUNK_SIZE):
            yield _open_batch, (key, segment, counter, last)
            counter += BATCH_CHUNKS

    for out in _pipeline(tasks(), workers):
        if out:  # the only chunk of an empty plaintext decrypts to b""
            yield out
