"""The object-store protocol every storage backend implements, plus shared validation helpers.

Backends move opaque bytes by key and know nothing about evidence. They signal failures with
built-in exceptions, in the style of fsspec / s3fs / obstore:

* ``ValueError``        -- malformed key, prefix or timestamp (nothing was touched);
* ``FileNotFoundError`` -- the key does not name an object;
* ``FileExistsError``   -- ``put`` to a key that already exists (objects are write-once);
* ``PermissionError``   -- retention or a legal hold forbids the operation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = [
    "KNOWN_CAPABILITIES",
    "MAX_KEY_LENGTH",
    "MAX_SEGMENT_LENGTH",
    "Clock",
    "ObjectInfo",
    "ObjectStore",
    "check_key",
    "check_prefix",
    "check_retain_until",
    "is_valid_key",
    "system_clock",
]

MAX_KEY_LENGTH = 512
"""Longest accepted key, in characters (keys are ASCII, so also in bytes)."""

MAX_SEGMENT_LENGTH = 255
"""Longest accepted ``/``-separated key segment (NAME_MAX on common filesystems)."""

KNOWN_CAPABILITIES: frozenset[str] = frozenset({"versioning", "object_lock", "retention"})
"""Capability flags a backend may advertise in ``ObjectStore.capabilities``.

``retention``   -- ``set_retention`` keeps a retain-until date and ``delete`` refuses an object
                   before it (through this API; ``object_lock`` says whether also against
                   administrators).
``versioning``  -- the store keeps every version of an object (``delete`` may remove several).
``object_lock`` -- retention and legal holds are enforced by the storage service itself
                   (WORM, also against administrators), not merely by this API.
"""

_KEY_CHARS = re.compile(r"[A-Za-z0-9._/-]+")

Clock = Callable[[], datetime]
"""Returns the current time as a timezone-aware UTC datetime. Injected so tests can move time."""


def system_clock() -> datetime:
    """The default clock: the system's current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ObjectInfo:
    """Metadata about one stored object.

    ``retain_until`` is timezone-aware UTC (or ``None`` when no retention was ever set); it is the
    stored value and may lie in the past. ``version_id`` is ``None`` on unversioned backends.
    """

    key: str
    size: int
    version_id: str | None = None
    retain_until: datetime | None = None
    legal_hold: bool = False


def _key_problem(key: object) -> str | None:
    """Why ``key`` is not a valid object key, or ``None`` if it is."""
    if not isinstance(key, str):
        return f"key must be a str, not {type(key).__name__}"
    if not key:
        return "key must not be empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"key longer than {MAX_KEY_LENGTH} characters"
    if not _KEY_CHARS.fullmatch(key):
        return "key may only contain the characters A-Z a-z 0-9 . _ / -"
    if key.startswith("/"):
        return "key must not start with '/'"
    if key.endswith("/"):
        return "key must not end with '/'"
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            return "key must not contain empty, '.' or '..' segments"
        if len(segment) > MAX_SEGMENT_LENGTH:
            return f"key segment longer than {MAX_SEGMENT_LENGTH} characters"
    return None


def check_key(key: str) -> str:
    """Validate an object key and return it unchanged.

    A valid key is 1..512 characters drawn from ``[A-Za-z0-9._/-]``, does not start or end with
    ``/``, and consists of ``/``-separated segments that are each non-empty, at most 255 characters,
    and neither ``.`` nor ``..``. Such a key can never escape a filesystem root and means the same
    thing on every backend.

    Raises ``ValueError`` (``TypeError`` if ``key`` is not a ``str``) otherwise.
    """
    problem = _key_problem(key)
    if problem is not None:
        if not isinstance(key, str):
            raise TypeError(problem)
        raise ValueError(f"invalid object key {key!r}: {problem}")
    return key


def is_valid_key(key: str) -> bool:
    """``True`` if ``check_key(key)`` would accept ``key``; never raises."""
    return _key_problem(key) is None


def check_prefix(prefix: str) -> str:
    """Validate a listing prefix and return it unchanged.

    A prefix is a plain string prefix of keys (``"a"`` matches ``"a"``, ``"a.txt"`` and ``"a/b"``).
    It is either empty or made of key characters, does not start with ``/``, is at most 512
    characters, and every segment before the last ``/`` is a valid key segment. The last segment is
    partial and may be empty (``"evidence/"``).

    Raises ``ValueError`` (``TypeError`` if ``prefix`` is not a ``str``) otherwise.
    """
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
    if not prefix:
        return prefix
    if len(prefix) > MAX_KEY_LENGTH or not _KEY_CHARS.fullmatch(prefix) or prefix[0] == "/":
        raise ValueError(f"invalid key prefix {prefix!r}")
    directories = prefix.split("/")[:-1]
    for segment in directories:
        if segment in ("", ".", "..") or len(segment) > MAX_SEGMENT_LENGTH:
            raise ValueError(f"invalid key prefix {prefix!r}")
    return prefix


def check_retain_until(until: datetime) -> datetime:
    """Validate a retention timestamp and return it converted to UTC.

    Raises ``ValueError`` if ``until`` is naive (has no timezone) and ``TypeError`` if it is not a
    ``datetime``.
    """
    if not isinstance(until, datetime):
        raise TypeError(f"retention must be a datetime, not {type(until).__name__}")
    if until.tzinfo is None or until.tzinfo.utcoffset(until) is None:
        raise ValueError("retention timestamp must be timezone-aware")
    return until.astimezone(UTC)


@runtime_checkable
class ObjectStore(Protocol):
    """A store of opaque, write-once objects addressed by key.

    Every method validates its key with :func:`check_key` first and raises ``ValueError`` for an
    invalid one before touching anything.
    """

    @property
    def url(self) -> str:
        """How the store was opened (e.g. ``file:///srv/vault``); never contains credentials."""
        ...

    @property
    def capabilities(self) -> frozenset[str]:
        """Subset of :data:`KNOWN_CAPABILITIES` this backend provides."""
        ...

    def put(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        retain_until: datetime | None = None,
        legal_hold: bool = False,
    ) -> ObjectInfo:
        """Store the concatenation of ``chunks`` under ``key``, which must not exist yet.

        Streams with constant memory. Create-only: ``FileExistsError`` if ``key`` exists, and the
        existing object is left untouched (this holds under concurrent puts too). Atomic: if
        ``chunks`` raises, or anything else fails, nothing becomes visible under ``key`` and the
        exception propagates unchanged. Durable when it returns. ``retain_until`` (aware datetime,
        else ``ValueError``) and ``legal_hold`` protect the object from the moment it is visible.
        """
        ...

    def get(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream the object's bytes in chunks of at most ``chunk_size`` bytes.

        Raises ``FileNotFoundError`` at call time (not at the first ``next()``) if absent.
        Close or exhaust the iterator to release its resources.
        """
        ...

    def head(self, key: str) -> ObjectInfo:
        """Metadata of the object. ``FileNotFoundError`` if absent."""
        ...

    def exists(self, key: str) -> bool:
        """``True`` if ``key`` names an object."""
        ...

    def delete(self, key: str) -> int:
        """Remove the object and every version of it; return how many versions were removed.

        Idempotent: returns 0 if absent. ``PermissionError`` if an unexpired retention
        (``retain_until > clock()``) or a legal hold protects any version; nothing is removed then.
        """
        ...

    def versions(self, key: str) -> list[str]:
        """The ids of every stored version and delete marker of exactly ``key`` (``"null"``
        for an unversioned store's one copy, as S3 names it); ``[]`` when nothing is stored.
        What a destruction records before it deletes, and checks is empty afterwards."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix`` (see :func:`check_prefix`), sorted; never temp files."""
        ...

    def set_retention(self, key: str, until: datetime) -> None:
        """Set the retain-until date with COMPLIANCE semantics: it may be extended, never shortened.

        ``PermissionError`` if ``until`` is earlier than the current ``retain_until``;
        ``FileNotFoundError`` if absent; ``ValueError`` if ``until`` is naive.
        """
        ...

    def set_legal_hold(self, key: str, on: bool) -> None:
        """Place (``on=True``) or release a legal hold. ``FileNotFoundError`` if absent."""
        ...
