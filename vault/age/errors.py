"""Exception hierarchy of the age layer.

Every error raised while parsing or decrypting age data is an :class:`AgeError`. Messages never
contain key material, file keys or plaintext; at most they quote a (public) header line.
"""

from __future__ import annotations

__all__ = ["AgeError", "HMACError", "HeaderError", "NoIdentityMatch", "PayloadError"]


class AgeError(Exception):
    """Base class of all age errors. Messages never contain key material or plaintext."""


class HeaderError(AgeError):
    """The header is malformed, non-canonical or incomplete, has an unsupported version, or
    carries an invalid X25519 stanza (bad arguments, bad share, wrong body size, low-order
    share)."""


class NoIdentityMatch(AgeError):
    """No stanza of the header could be unwrapped by any of the given identities."""


class HMACError(AgeError):
    """The header MAC does not match: the header was modified or the file key is wrong."""


class PayloadError(AgeError):
    """The payload is corrupted, truncated, has trailing data or is badly chunked.

    May be raised after part of the plaintext has already been yielded: callers must not
    publish plaintext before decryption completed successfully.
    """
