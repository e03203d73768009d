"""The payload streams hand out one buffer per batch of chunks (one write, one hash update per
batch for the consumer), in parallel on two threads: the output is the same age payload, and a
bad chunk still fails closed -- nothing of its batch is handed out."""

from __future__ import annotations

import os

import pytest

from vault.age import (
    CHUNK_SIZE,
    PayloadError,
    decrypt_payload,
    encrypt_payload,
    new_file_key,
    stream,
)

BATCH = stream.BATCH_CHUNKS * CHUNK_SIZE
ENC_BATCH = stream.BATCH_CHUNKS * stream.ENC_CHUNK_SIZE


def _seal(data: bytes, key: bytes, workers: int = 2) -> bytes:
    rng = b"n" * 16
    return b"".join(encrypt_payload(key, [data], rng=lambda n: rng[:n], workers=workers))


def test_one_piece_per_batch_and_the_same_payload_on_any_number_of_threads() -> None:
    key = new_file_key()
    data = os.urandom(3 * BATCH + CHUNK_SIZE + 5)
    pieces = list(encrypt_payload(key, [data], workers=2))
    assert [len(p) for p in pieces[1:]] == [ENC_BATCH] * 3 + [CHUNK_SIZE + 5 + 2 * 16]
    assert _seal(data, key, workers=2) == _seal(data, key, workers=1)
    payload = b"".join(pieces)
    out = list(decrypt_payload(key, [payload[i:i + 100_000]
                                     for i in range(0, len(payload), 100_000)], workers=2))
    assert [len(p) for p in out] == [BATCH] * 3 + [CHUNK_SIZE + 5]
    assert b"".join(out) == data


@pytest.mark.parametrize("where", ["first chunk", "middle chunk", "last chunk of a batch"])
def test_a_bad_chunk_fails_closed_with_nothing_of_its_batch_handed_out(where: str) -> None:
    key = new_file_key()
    data = os.urandom(4 * BATCH)
    payload = bytearray(_seal(data, key))
    chunk = {"first chunk": 0, "middle chunk": 5,
             "last chunk of a batch": stream.BATCH_CHUNKS - 1}[where]
    at = 16 + 2 * ENC_BATCH + chunk * stream.ENC_CHUNK_SIZE + 100  # in the third batch
    payload[at] ^= 1
    got: list[bytes] = []
    with pytest.raises(PayloadError, match="failed authentication"):
        for piece in decrypt_payload(key, [bytes(payload)], workers=2):
            got.append(bytes(piece))
    assert b"".join(got) == data[:2 * BATCH]  # the two batches before it, authenticated


def test_decrypted_batches_re_encrypt_without_a_copy_a_callers_buffer_is_copied() -> None:
    """An export re-encrypts decrypted evidence: the batches are taken as they are (they are
    never changed); a caller's own bytearray is copied, so changing it later changes nothing."""
    key = new_file_key()
    data = os.urandom(2 * BATCH + 3)
    plain = list(decrypt_payload(key, [_seal(data, key)]))
    views = [v for seg, _ in stream._segments(plain, BATCH) for v in seg]
    assert all(v.obj is p for v, p in zip(views, plain, strict=True))
    theirs = bytearray(data)
    out = encrypt_payload(key, [theirs], rng=lambda n: b"n" * n, workers=1)
    first = next(out) + next(out)
    theirs[:] = bytes(len(theirs))  # the caller reuses its buffer
    assert first + b"".join(out) == _seal(data, key)
