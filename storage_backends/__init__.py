"""Storage backends: move opaque bytes by key. They know nothing about evidence.

Open a store with :func:`open_store`; every backend implements :class:`ObjectStore`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .base import (
    KNOWN_CAPABILITIES,
    Clock,
    ObjectInfo,
    ObjectStore,
    check_key,
    check_prefix,
    check_retain_until,
    system_clock,
)
from .local import LocalStore

__all__ = [
    "KNOWN_CAPABILITIES",
    "Clock",
    "LocalStore",
    "ObjectInfo",
    "ObjectStore",
    "check_key",
    "check_prefix",
    "check_retain_until",
    "deferred_sync",
    "open_store",
    "system_clock",
]


def deferred_sync(store: ObjectStore) -> AbstractContextManager[None]:
    """A block whose writes become durable together when it ends normally, where the store
    can batch that (:meth:`LocalStore.deferred_sync`); elsewhere each write is durable on
    return already (S3) and the block changes nothing."""
    method = getattr(store, "deferred_sync", None)
    return method() if callable(method) else nullcontext()


def open_store(url: str, *, clock: Clock | None = None) -> ObjectStore:
    """Open the object store named by ``url``.

    * ``file:///abs/path`` (or ``file://localhost/abs/path``; percent-escapes decoded) or a plain
      filesystem path (relative paths are resolved against the current directory) ->
      :class:`LocalStore`, creating the root directory (mode 0700) if absent.
    * ``s3://BUCKET[/PREFIX][?endpoint=URL&region=R&path_style=1]`` ->
      :class:`storage_backends.s3.S3Store` (AWS defaults when a parameter is absent). Credentials
      come only from boto3's standard chain (``AWS_ACCESS_KEY_ID`` ..., profiles, roles): a URL
      with ``user:secret@`` raises ``ValueError``. Opening does not contact the server.

    ``clock`` (aware-UTC "now") is what retention is checked against; defaults to the system clock.
    Raises ``ValueError`` for an empty URL, a malformed ``file:`` URL, or any other scheme
    (``"unsupported store URL scheme: ..."``).
    """
    if not isinstance(url, str) or not url:
        raise ValueError("store URL must be a non-empty string")
    parts = urlsplit(url)
    if parts.scheme == "":
        return LocalStore(Path(url), clock=clock)
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file store URL must not name a host: {url!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"file store URL must not have a query or fragment: {url!r}")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ValueError(f"file store URL needs an absolute path (file:///abs/path): {url!r}")
        return LocalStore(Path(path), clock=clock)
    if parts.scheme.lower() == "s3":
        from .s3 import S3Store  # imported lazily: boto3 is slow to import

        return S3Store.from_url(url, clock=clock)
    raise ValueError(f"unsupported store URL scheme: {parts.scheme!r}")
