"""X25519 identities and recipients of age v1, and their bech32 string encodings.

Recipients are ``age1...`` (HRP ``age``); identities are ``AGE-SECRET-KEY-1...`` (HRP
``age-secret-key-``, printed in upper case). Bech32 (BIP 173 checksum, no length limit, as age
uses it) is an encoding, not a cryptographic primitive; the X25519 arithmetic is delegated to
``cryptography``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)

__all__ = ["X25519Identity", "X25519Recipient"]

_RECIPIENT_HRP = "age"
_IDENTITY_HRP = "age-secret-key-"
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_REV = {c: i for i, c in enumerate(_CHARSET)}
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GEN[i]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], frombits: int, tobits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or (acc << (tobits - bits)) & maxv:
        raise ValueError("invalid bech32 padding")
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under ``hrp`` (lower case result)."""
    values = _convert_bits(data, 8, 5, True)
    polymod = _polymod(_hrp_expand(hrp) + values + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[v] for v in values + checksum)


def bech32_decode(s: str) -> tuple[str, bytes]:
    """Decode a bech32 string into (lower-case HRP, data). ValueError on any defect.

    The error messages never quote the input (it may be a secret key).
    """
    if not isinstance(s, str):
        raise ValueError("bech32 string expected")
    if s.lower() != s and s.upper() != s:
        raise ValueError("mixed-case bech32 string")
    s = s.lower()
    pos = s.rfind("1")
    if pos < 1 or pos + 7 > len(s):
        raise ValueError("malformed bech32 string")
    hrp = s[:pos]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        raise ValueError("invalid bech32 human-readable part")
    try:
        values = [_CHARSET_REV[c] for c in s[pos + 1 :]]
    except KeyError:
        raise ValueError("invalid bech32 character") from None
    if _polymod(_hrp_expand(hrp) + values) != 1:
        raise ValueError("invalid bech32 checksum")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, False))


@dataclass(frozen=True, slots=True)
class X25519Recipient:
    """An age X25519 recipient (public key). Immutable; ``public`` is the 32-byte u-coordinate."""

    public: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.public, bytes) or len(self.public) != 32:
            raise ValueError("X25519 recipient must be 32 bytes")

    @classmethod
    def from_str(cls, s: str) -> X25519Recipient:
        """Parse an ``age1...`` recipient string. Raises ValueError on bad input."""
        hrp, data = bech32_decode(s)
        if hrp != _RECIPIENT_HRP:
            raise ValueError("not an age X25519 recipient (wrong bech32 prefix)")
        if len(data) != 32:
            raise ValueError("age X25519 recipient has the wrong length")
        return cls(data)

    def __str__(self) -> str:
        return bech32_encode(_RECIPIENT_HRP, self.public)


class X25519Identity:
    """An age X25519 identity (secret key). Immutable; its repr never reveals the secret."""

    __slots__ = ("_key", "_recipient", "_secret")
    _key: X25519PrivateKey
    _recipient: X25519Recipient
    _secret: bytes

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or len(secret) != 32:
            raise ValueError("X25519 identity must be 32 bytes")
        key = X25519PrivateKey.from_private_bytes(secret)
        object.__setattr__(self, "_secret", secret)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_recipient", X25519Recipient(key.public_key().public_bytes_raw()))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("X25519Identity is immutable")

    @classmethod
    def generate(cls, rng: Callable[[int], bytes] = os.urandom) -> X25519Identity:
        """A new random identity, its 32 secret bytes drawn from ``rng``."""
        return cls(bytes(rng(32)))

    @classmethod
    def from_str(cls, s: str) -> X25519Identity:
        """Parse an ``AGE-SECRET-KEY-1...`` string. Raises ValueError (never quoting the input)."""
        hrp, data = bech32_decode(s)
        if hrp != _IDENTITY_HRP:
            raise ValueError("not an age X25519 identity (wrong bech32 prefix)")
        if len(data) != 32:
            raise ValueError("age X25519 identity has the wrong length")
        return cls(data)

    @property
    def secret(self) -> bytes:
        """The 32 secret scalar bytes (unclamped, as encoded in the identity string)."""
        return self._secret

    @property
    def recipient(self) -> X25519Recipient:
        """The matching public recipient."""
        return self._recipient

    def exchange(self, share: bytes) -> bytes:
        """Raw X25519 with a peer's 32-byte share; ValueError if the result is all-zero."""
        return self._key.exchange(X25519PublicKey.from_public_bytes(share))

    def __str__(self) -> str:
        return bech32_encode(_IDENTITY_HRP, self._secret).upper()

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={str(self._recipient)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, X25519Identity):
            return NotImplemented
        return self._recipient == other._recipient

    def __hash__(self) -> int:
        return hash(self._recipient)

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("X25519Identity cannot be pickled")
