"""age v1 file format (https://age-encryption.org/v1): X25519 recipients, and scrypt
(passphrase) files for reading only.

Built on ``cryptography`` (X25519, HKDF-SHA256, HMAC-SHA256, ChaCha20-Poly1305); no home-made
primitives. Header and payload are handled separately, because the vault stores the header
(everything up to and including the ``--- <mac>\\n`` line) in its database and the payload
(16-byte nonce + STREAM ciphertext) in an object store:

- :func:`write_header` / :func:`read_header` / :func:`unwrap_file_key` for the header;
- :func:`encrypt_payload` / :func:`decrypt_payload` for the payload, in parallel over a thread
  pool with bounded memory;
- :func:`encrypt_file` / :func:`decrypt_file` as whole-file conveniences;
- :func:`decrypt_with_passphrase` for a small passphrase-encrypted file (a personal identity).

Error contract: every failure while reading age data raises an :class:`AgeError` subclass --
:class:`HeaderError`, :class:`NoIdentityMatch`, :class:`HMACError` or :class:`PayloadError`.
Misuse of the API (wrong key sizes, no recipients) raises ValueError/TypeError. No message ever
contains key material or plaintext.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

from .errors import AgeError, HeaderError, HMACError, NoIdentityMatch, PayloadError
from .header import (
    Stanza,
    header_stanzas,
    new_file_key,
    read_header,
    unwrap_file_key,
    unwrap_file_key_scrypt,
    write_header,
)
from .keys import X25519Identity, X25519Recipient
from .stream import CHUNK_SIZE, decrypt_payload, encrypt_payload

__all__ = [
    "CHUNK_SIZE",
    "AgeError",
    "HMACError",
    "HeaderError",
    "NoIdentityMatch",
    "PayloadError",
    "Stanza",
    "X25519Identity",
    "X25519Recipient",
    "decrypt_file",
    "decrypt_with_passphrase",
    "decrypt_payload",
    "encrypt_file",
    "encrypt_payload",
    "header_stanzas",
    "new_file_key",
    "read_header",
    "unwrap_file_key",
    "unwrap_file_key_scrypt",
    "write_header",
]

_READ_SIZE = 1 << 20
_MAX_HEADER = 1 << 20


def _reader(src: BinaryIO) -> Iterator[bytes]:
    while block := src.read(_READ_SIZE):
        yield block


def encrypt_file(
    src: BinaryIO,
    dst: BinaryIO,
    recipients: Sequence[X25519Recipient],
    rng: Callable[[int], bytes] = os.urandom,
) -> None:
    """Encrypt all of ``src`` to ``recipients`` and write the age file (header + payload) to
    ``dst``. ValueError on no/bad recipients."""
    file_key = new_file_key(rng)
    dst.write(write_header(file_key, recipients, rng))
    for piece in encrypt_payload(file_key, _reader(src), rng=rng):
        dst.write(piece)


def _read_header_bytes(src: BinaryIO) -> bytes:
    """Read the header from ``src`` line by line, leaving ``src`` at the start of the payload."""
    lines: list[bytes] = []
    total = 0
    while True:
        line = src.readline(_MAX_HEADER - total + 1)
        lines.append(line)
        total += len(line)
        if not line.endswith(b"\n") or line.startswith(b"---"):
            break
        if total > _MAX_HEADER:
            raise HeaderError("header too large")
    data = b"".join(lines)
    header, length = read_header(data)
    if length != len(data):
        raise HeaderError("malformed header")
    return header


def decrypt_file(src: BinaryIO, dst: BinaryIO, identities: Sequence[X25519Identity]) -> None:
    """Decrypt the age file in ``src`` with ``identities`` and write the plaintext to ``dst``.

    Raises HeaderError, NoIdentityMatch, HMACError or PayloadError like :func:`read_header`,
    :func:`unwrap_file_key` and :func:`decrypt_payload`; on PayloadError a prefix of the plaintext
    may already have been written to ``dst``.
    """
    file_key = unwrap_file_key(_read_header_bytes(src), identities)
    for piece in decrypt_payload(file_key, _reader(src)):
        dst.write(piece)


def decrypt_with_passphrase(data: bytes, passphrase: str) -> bytes:
    """The plaintext of the passphrase-encrypted age file ``data`` (held in memory: for small
    files). Raises like :func:`unwrap_file_key_scrypt` and :func:`decrypt_payload`."""
    header, length = read_header(data)
    file_key = unwrap_file_key_scrypt(header, passphrase)
    return b"".join(decrypt_payload(file_key, [data[length:]]))
