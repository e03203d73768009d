"""The age v1 header: strict parsing, writing, X25519 stanzas and the header MAC."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .errors import HeaderError, HMACError, NoIdentityMatch
from .keys import X25519Identity, X25519Recipient

__all__ = ["new_file_key", "read_header", "unwrap_file_key", "unwrap_file_key_scrypt",
           "write_header"]

FILE_KEY_SIZE = 16
_INTRO = b"age-encryption.org/v1\n"
_FOOTER = b"---"
_X25519_INFO = b"age-encryption.org/v1/X25519"
_SCRYPT_SALT_LABEL = b"age-encryption.org/v1/scrypt"
MAX_WORK_FACTOR = 22  # as age and rage: log2 of scrypt's N (2^22: 4 GiB, tens of seconds)
_WORK_FACTOR_RE = re.compile(r"[1-9][0-9]*")
_COLUMNS = 64
_BYTES_PER_LINE = _COLUMNS // 4 * 3
_ZERO_NONCE = bytes(12)
_B64_RE = re.compile(rb"[A-Za-z0-9+/]*")


@dataclass(frozen=True, slots=True)
class Stanza:
    type: str
    args: tuple[str, ...]
    body: bytes


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def b64encode(data: bytes) -> bytes:
    """Standard-alphabet base64 without padding."""
    return base64.b64encode(data).rstrip(b"=")


def b64decode(data: bytes) -> bytes:
    """Strict, canonical unpadded base64; ValueError otherwise (padding, CR/LF, stray bits)."""
    if not _B64_RE.fullmatch(data) or len(data) % 4 == 1:
        raise ValueError("invalid base64")
    raw = base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
    if b64encode(raw) != data:
        raise ValueError("non-canonical base64")
    return raw


def new_file_key(rng: Callable[[int], bytes] = os.urandom) -> bytes:
    """A fresh 16-byte file key drawn from ``rng``."""
    key = bytes(rng(FILE_KEY_SIZE))
    if len(key) != FILE_KEY_SIZE:
        raise ValueError("rng returned the wrong number of bytes")
    return key


def _header_mac(file_key: bytes, text: bytes) -> bytes:
    h = hmac.HMAC(_hkdf(file_key, b"", b"header"), hashes.SHA256())
    h.update(text)
    return h.finalize()


def _encode_stanza(stanza: Stanza) -> bytes:
    line = b" ".join([b"->", stanza.type.encode(), *(a.encode() for a in stanza.args)])
    body = b64encode(stanza.body)
    lines = [body[i : i + _COLUMNS] for i in range(0, len(body), _COLUMNS)]
    if not lines or len(lines[-1]) == _COLUMNS:
        lines.append(b"")
    return line + b"\n" + b"\n".join(lines) + b"\n"


def write_header(
    file_key: bytes,
    recipients: Sequence[X25519Recipient],
    rng: Callable[[int], bytes] = os.urandom,
    labels: Sequence[Stanza] = (),
) -> bytes:
    """The complete header (intro, one X25519 stanza per recipient, then `labels`,
    ``--- <mac>\\n``) that wraps ``file_key`` to every recipient. ValueError on a bad file key,
    no recipient, a low-order recipient, or a label that is not a valid stanza of a type other
    than X25519 or scrypt.

    Labels are stanzas of types no age implementation knows: readers ignore them (the spec's
    rule for unknown stanzas), and the header MAC covers them, so a label cannot be changed
    or moved to another file without the file key."""
    if not isinstance(file_key, bytes) or len(file_key) != FILE_KEY_SIZE:
        raise ValueError("file key must be 16 bytes")
    if not recipients:
        raise ValueError("at least one recipient is required")
    parts = [_INTRO]
    for recipient in recipients:
        if not isinstance(recipient, X25519Recipient):
            raise TypeError("recipients must be X25519Recipient instances")
        ephemeral = X25519Identity(bytes(rng(32)))
        share = ephemeral.recipient.public
        try:
            shared = ephemeral.exchange(recipient.public)
        except ValueError:
            raise ValueError("recipient is a low-order point") from None
        wrap_key = _hkdf(shared, share + recipient.public, _X25519_INFO)
        body = ChaCha20Poly1305(wrap_key).encrypt(_ZERO_NONCE, file_key, None)
        parts.append(_encode_stanza(Stanza("X25519", (b64encode(share).decode(),), body)))
    for label in labels:
        if label.type in ("X25519", "scrypt") or not all(
                _valid_arg(a.encode("ascii")) for a in (label.type, *label.args)):
            raise ValueError(f"not a valid label stanza: {label.type!r}")
        parts.append(_encode_stanza(label))
    parts.append(_FOOTER)
    text = b"".join(parts)
    return text + b" " + b64encode(_header_mac(file_key, text)) + b"\n"


def _valid_arg(arg: bytes) -> bool:
    return bool(arg) and all(33 <= c <= 126 for c in arg)


def _parse(data: bytes) -> tuple[list[Stanza], bytes, int, int]:
    """Parse a header at the start of ``data``: (stanzas, mac, mac_text_end, header_len)."""
    if not data.startswith(_INTRO):
        nl = data.find(b"\n")
        if nl < 0 and _INTRO.startswith(data):
            raise HeaderError("incomplete header")
        if data.startswith(b"age-encryption.org/"):
            raise HeaderError("unsupported age version")
        raise HeaderError("not an age v1 header")
    pos = len(_INTRO)
    stanzas: list[Stanza] = []
    current: tuple[str, tuple[str, ...], list[bytes]] | None = None
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            raise HeaderError("incomplete header")
        line = data[pos:nl]
        start, pos = pos, nl + 1
        if current is not None:
            try:
                chunk = b64decode(line)
            except ValueError:
                raise HeaderError(f"malformed stanza body line: {line[:80]!r}") from None
            if len(chunk) > _BYTES_PER_LINE:
                raise HeaderError("stanza body line longer than 64 columns")
            current[2].append(chunk)
            if len(chunk) < _BYTES_PER_LINE:
                stanzas.append(Stanza(current[0], current[1], b"".join(current[2])))
                current = None
        elif line.startswith(b"-> "):
            args = line.split(b" ")[1:]
            if not all(_valid_arg(a) for a in args):
                raise HeaderError(f"malformed stanza line: {line[:80]!r}")
            decoded = [a.decode("ascii") for a in args]
            current = (decoded[0], tuple(decoded[1:]), [])
        elif line.startswith(_FOOTER):
            parts = line.split(b" ")
            if parts[0] != _FOOTER or len(parts) != 2:
                raise HeaderError(f"malformed header closing line: {line[:80]!r}")
            try:
                mac = b64decode(parts[1])
            except ValueError:
                raise HeaderError("malformed header MAC encoding") from None
            if len(mac) != 32:
                raise HeaderError("header MAC has the wrong length")
            return stanzas, mac, start + len(_FOOTER), pos
        else:
            raise HeaderError(f"unexpected header line: {line[:80]!r}")


def read_header(data: bytes) -> tuple[bytes, int]:
    """Parse strictly the header at the start of ``data``; return (header_bytes, length), where
    ``length`` is the number of leading bytes of ``data`` that are header. The MAC is checked
    only by :func:`unwrap_file_key`. HeaderError if malformed, non-canonical or incomplete."""
    if not isinstance(data, bytes):
        data = bytes(data)
    _, _, _, length = _parse(data)
    return data[:length], length


def _unwrap_x25519(stanza: Stanza, identity: X25519Identity) -> bytes | None:
    if len(stanza.args) != 1:
        raise HeaderError("X25519 stanza must have exactly one argument")
    try:
        share = b64decode(stanza.args[0].encode())
    except ValueError:
        raise HeaderError("X25519 stanza share is not canonical base64") from None
    if len(share) != 32:
        raise HeaderError("X25519 stanza share must be 32 bytes")
    if len(stanza.body) != FILE_KEY_SIZE + 16:
        raise HeaderError("X25519 stanza body must be 32 bytes")
    try:
        shared = identity.exchange(share)
    except ValueError:
        raise HeaderError("X25519 stanza share is a low-order point") from None
    if shared == bytes(32):
        raise HeaderError("X25519 stanza share is a low-order point")
    wrap_key = _hkdf(shared, share + identity.recipient.public, _X25519_INFO)
    try:
        return ChaCha20Poly1305(wrap_key).decrypt(_ZERO_NONCE, stanza.body, None)
    except InvalidTag:
        return None


def _unwrap_scrypt(stanza: Stanza, passphrase: bytes) -> bytes | None:
    if len(stanza.args) != 2:
        raise HeaderError("scrypt stanza must have exactly two arguments")
    try:
        salt = b64decode(stanza.args[0].encode())
    except ValueError:
        raise HeaderError("scrypt stanza salt is not canonical base64") from None
    if len(salt) != 16:
        raise HeaderError("scrypt stanza salt must be 16 bytes")
    factor = stanza.args[1]
    if (not _WORK_FACTOR_RE.fullmatch(factor) or len(factor) > 2  # (int() refuses 4,300+ digits)
            or int(factor) > MAX_WORK_FACTOR):
        raise HeaderError(f"scrypt work factor must be a decimal 1-{MAX_WORK_FACTOR}")
    if len(stanza.body) != FILE_KEY_SIZE + 16:
        raise HeaderError("scrypt stanza body must be 32 bytes")
    # cryptography's scrypt (OpenSSL) releases the GIL: other threads run while it works
    wrap_key = Scrypt(salt=_SCRYPT_SALT_LABEL + salt, length=32, n=1 << int(factor), r=8,
                      p=1).derive(passphrase)
    try:
        return ChaCha20Poly1305(wrap_key).decrypt(_ZERO_NONCE, stanza.body, None)
    except InvalidTag:
        return None


def _check_mac(file_key: bytes, header: bytes, mac_end: int, mac: bytes) -> None:
    h = hmac.HMAC(_hkdf(file_key, b"", b"header"), hashes.SHA256())
    h.update(header[:mac_end])
    try:
        h.verify(mac)
    except InvalidSignature:
        raise HMACError("header MAC mismatch") from None


def _stanzas(header: bytes) -> tuple[list[Stanza], bytes, int]:
    stanzas, mac, mac_end, length = _parse(header)
    if length != len(header):
        raise HeaderError("trailing data after the header")
    if len(stanzas) > 1 and any(s.type == "scrypt" for s in stanzas):
        raise HeaderError("an scrypt stanza must be the only stanza in the header")
    return stanzas, mac, mac_end


def unwrap_file_key_scrypt(header: bytes, passphrase: str) -> bytes:
    """:func:`unwrap_file_key` for a passphrase-encrypted file (its one scrypt stanza).

    Raises HeaderError (malformed header or scrypt stanza, work factor over
    :data:`MAX_WORK_FACTOR`), NoIdentityMatch (no scrypt stanza, or the wrong passphrase),
    HMACError (MAC mismatch).
    """
    header = bytes(header)
    stanzas, mac, mac_end = _stanzas(header)
    if not stanzas or stanzas[0].type != "scrypt":
        raise NoIdentityMatch("not a passphrase-encrypted file")
    file_key = _unwrap_scrypt(stanzas[0], passphrase.encode("utf-8"))
    if file_key is None:
        raise NoIdentityMatch("wrong passphrase")
    _check_mac(file_key, header, mac_end, mac)
    return file_key


def unwrap_file_key(header: bytes, identities: Sequence[X25519Identity]) -> bytes:
    """Parse ``header`` (exactly one complete header), unwrap the file key with the first
    matching identity and verify the header MAC. Stanzas of unknown types are ignored.

    Raises HeaderError (malformed header or X25519 stanza, low-order share, trailing bytes, an
    scrypt stanza that is not alone),
    NoIdentityMatch (no stanza opens with any identity), HMACError (MAC mismatch).
    """
    header = bytes(header)
    stanzas, mac, mac_end = _stanzas(header)
    if not identities:
        raise NoIdentityMatch("no identities given")
    file_key = None
    for identity in identities:
        for stanza in stanzas:
            if stanza.type == "X25519":
                file_key = _unwrap_x25519(stanza, identity)
                if file_key is not None:
                    break
        if file_key is not None:
            break
    if file_key is None:
        raise NoIdentityMatch("no identity matched any recipient stanza")
    _check_mac(file_key, header, mac_end, mac)
    return file_key


def header_stanzas(header: bytes) -> list[Stanza]:
    """The stanzas of one complete header, parsed strictly (HeaderError otherwise). Their
    content is authentic only once :func:`unwrap_file_key` has checked the MAC."""
    return _stanzas(bytes(header))[0]
