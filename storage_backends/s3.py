"""S3 object store (AWS S3, SeaweedFS, MinIO) with Object Lock in COMPLIANCE mode.

Error contract (in the style of s3fs): every S3 error code is turned into a built-in exception by
the single table :data:`ERROR_TABLE`; the message is one line naming the operation, the S3 code,
the HTTP status and the request id, and never contains credentials. Transport failures become
``ConnectionError`` (endpoint unreachable) or ``TimeoutError`` (no answer in time), both
``OSError`` subclasses.
"""

from __future__ import annotations

import base64
import builtins
import errno
import hashlib
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from .base import (
    Clock,
    ObjectInfo,
    check_key,
    check_prefix,
    check_retain_until,
    is_valid_key,
    system_clock,
)

__all__ = ["ERROR_TABLE", "PART_SIZE", "MultipartUpload", "S3Store"]

PART_SIZE = 8 << 20
"""Multipart part size (8 MiB); ``put`` fills one part while PARTS_IN_FLIGHT are sent."""
PARTS_IN_FLIGHT = 2
"""Parts of one put uploaded at once (each on its own thread) while the next is filled."""

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

# --------------------------------------------------------------------------- the error table

ERROR_TABLE: dict[str, tuple[type[Exception], int]] = {
    # missing things
    "NoSuchKey": (FileNotFoundError, errno.ENOENT),
    "NoSuchVersion": (FileNotFoundError, errno.ENOENT),
    "NoSuchBucket": (FileNotFoundError, errno.ENOENT),
    "NoSuchUpload": (FileNotFoundError, errno.ENOENT),
    "NotFound": (FileNotFoundError, errno.ENOENT),
    "404": (FileNotFoundError, errno.ENOENT),  # HEAD answers carry no body, hence no code
    # refused: credentials, policy, Object Lock (retention, legal hold, shortening COMPLIANCE)
    "AccessDenied": (PermissionError, errno.EACCES),
    "AllAccessDisabled": (PermissionError, errno.EACCES),
    "AccountProblem": (PermissionError, errno.EACCES),
    "InvalidAccessKeyId": (PermissionError, errno.EACCES),
    "SignatureDoesNotMatch": (PermissionError, errno.EACCES),
    "ExpiredToken": (PermissionError, errno.EACCES),
    "InvalidToken": (PermissionError, errno.EACCES),
    "TokenRefreshRequired": (PermissionError, errno.EACCES),
    "RequestTimeTooSkewed": (PermissionError, errno.EACCES),
    "MethodNotAllowed": (PermissionError, errno.EPERM),
    "403": (PermissionError, errno.EACCES),
    # create-only writes (If-None-Match: *) that found an object
    "PreconditionFailed": (FileExistsError, errno.EEXIST),
    "ConditionalRequestConflict": (FileExistsError, errno.EEXIST),
    "412": (FileExistsError, errno.EEXIST),
    # requests the server finds malformed (nothing was written)
    "InvalidArgument": (ValueError, 0),
    "InvalidRequest": (ValueError, 0),
    "InvalidBucketName": (ValueError, 0),
    "KeyTooLongError": (ValueError, 0),
    "InvalidRetentionPeriod": (ValueError, 0),
    # integrity: bytes or checksums did not survive the trip
    "BadDigest": (OSError, errno.EIO),
    "InvalidDigest": (OSError, errno.EIO),
    "XAmzContentSHA256Mismatch": (OSError, errno.EIO),
    "InvalidPart": (OSError, errno.EIO),
    "InvalidPartOrder": (OSError, errno.EIO),
    "IncompleteBody": (OSError, errno.EIO),
    # the service is unwell (already retried by botocore)
    "InternalError": (OSError, errno.EIO),
    "ServiceUnavailable": (OSError, errno.EAGAIN),
    "SlowDown": (OSError, errno.EAGAIN),
    "NotImplemented": (OSError, errno.EOPNOTSUPP),
}
"""S3 error code (or bare HTTP status, for HEAD) -> (exception class, errno). Anything else
becomes ``OSError(EIO)``. The one place where S3 errors acquire a meaning."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _request_id(response: Any) -> str:
    meta = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
    rid = meta.get("RequestId") or meta.get("HTTPHeaders", {}).get("x-amz-request-id") or "-"
    host = meta.get("HostId")
    return f"{rid}, host id {host}" if host else str(rid)


def _client_error(exc: ClientError, op: str, where: str, bucket: str) -> Exception:
    """Translate one ``ClientError`` through :data:`ERROR_TABLE`."""
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
    code = str(error.get("Code") or status)
    cls, err = ERROR_TABLE.get(code, ERROR_TABLE.get(str(status), (OSError, errno.EIO)))
    text = _one_line(error.get("Message") or "")
    if code == "NoSuchBucket" or (op == "HeadBucket" and code == "404"):
        text = f"bucket {bucket!r} does not exist"
    message = f"{op}: {code} (HTTP {status}): {text} [request id {_request_id(exc.response)}]"
    if issubclass(cls, OSError):
        return cls(err, message, where)
    return cls(f"{message}: {where}")


def _transport_error(exc: BotoCoreError, op: str, endpoint: str) -> Exception:
    """Translate a botocore (non-HTTP-answer) failure; never echoes credentials or URLs+keys."""
    kind = type(exc).__name__
    if isinstance(exc, ConnectTimeoutError | EndpointConnectionError | ConnectionClosedError):
        return ConnectionError(
            errno.ECONNREFUSED, f"{op}: cannot reach S3 endpoint {endpoint} ({kind})"
        )
    if isinstance(exc, ReadTimeoutError):
        return TimeoutError(errno.ETIMEDOUT, f"{op}: S3 endpoint {endpoint} did not answer in time")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return PermissionError(
            errno.EACCES,
            f"{op}: no usable AWS credentials (environment, profile, instance role...) ({kind})",
        )
    if isinstance(exc, ParamValidationError):
        return ValueError(f"{op}: invalid request ({kind})")
    if isinstance(exc, ResponseStreamingError):
        return OSError(errno.EIO, f"{op}: connection to {endpoint} broke while reading ({kind})")
    return OSError(errno.EIO, f"{op}: S3 request to {endpoint} failed ({kind})")


def _b64_sha256(data: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _whole_seconds(until: datetime) -> datetime:
    """``until`` in UTC rounded *up* to a whole second: S3 keeps no fractions, and protection
    must never end earlier than asked."""
    until = check_retain_until(until)
    if until.microsecond:
        until = until.replace(microsecond=0) + timedelta(seconds=1)
    return until


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


@dataclass(frozen=True)
class MultipartUpload:
    """An incomplete multipart upload under the store prefix (``key`` relative to it)."""

    key: str
    upload_id: str
    initiated: datetime


@dataclass
class _Version:
    version_id: str
    is_marker: bool


# --------------------------------------------------------------------------- the store


class S3Store:
    """Object store in one S3 bucket, under an optional key prefix.

    Open it with ``open_store("s3://BUCKET/PREFIX?endpoint=URL&region=R&path_style=1")`` or
    directly. Credentials come only from boto3's standard chain (``AWS_ACCESS_KEY_ID`` /
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, instance roles...) or an explicit ``session``;
    never from the URL.

    Promises, on a bucket with Object Lock (which implies versioning):

    * ``put`` streams in constant memory (one 8 MiB part filled while up to
      :data:`PARTS_IN_FLIGHT` are sent, each on its own thread; a smaller object is one
      PutObject), sends a SHA-256 checksum with every part, is create-only through
      ``If-None-Match: *`` (race-free on AWS, SeaweedFS and MinIO) after a cheap HEAD check that
      avoids uploading a doomed object, and aborts its multipart upload on any failure, the
      caller's ``chunks`` exceptions propagating unchanged. ``retain_until`` writes the object in
      COMPLIANCE mode and ``legal_hold`` with a legal hold, atomically with its creation.
    * Retention and holds are enforced by the S3 service against its own clock, also against
      administrators (``capabilities`` has ``object_lock``). ``set_retention`` can only extend.
    * ``delete`` removes every version and delete marker of the key and returns how many object
      versions (not markers) it removed; S3 refuses to delete a protected version and ``delete``
      tries those first, so a refusal (``PermissionError``) leaves everything in place.

    Decisions and limits:

    * ``retain_until`` / ``legal_hold`` on a bucket without Object Lock raise ``ValueError``
      ("bucket has no Object Lock") before anything is read or written: writing evidence
      unprotected would be silent data-policy loss, and it is a configuration error, not a
      refusal by the store.
    * If a server rejects ``If-None-Match`` with ``NotImplemented``, ``put`` falls back to the HEAD
      check alone: two concurrent puts of one key may then both succeed (the later one becomes
      the current version; versioning keeps the earlier). A server that silently *ignores* the
      header cannot be detected; all three supported servers honour it.
    * If a retried create-only write got ``412`` because its own first attempt had succeeded
      (the answer was lost), ``put`` reports ``FileExistsError``; ``head`` shows the object.
    * Retain-until dates are rounded up to whole seconds (S3 stores no fractions).
    * The ``clock`` dates abandoned uploads, and stands in for the server's ``Date`` header
      when one is missing; retention itself is enforced by S3 against the server's clock.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        path_style: bool = False,
        clock: Clock | None = None,
        session: boto3.session.Session | None = None,
        max_attempts: int = 4,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
    ) -> None:
        if not isinstance(bucket, str) or not _BUCKET_NAME.fullmatch(bucket):
            raise ValueError(f"invalid S3 bucket name {bucket!r}")
        prefix = prefix.strip("/")
        if prefix:
            check_key(prefix)
        if endpoint_url is not None:
            parts = urlsplit(endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("S3 endpoint must be an http:// or https:// URL")
            if "@" in parts.netloc:
                raise ValueError("S3 endpoint must not contain credentials")
            if parts.path.strip("/") or parts.query or parts.fragment:
                raise ValueError("S3 endpoint must be scheme://host[:port] only")
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.endpoint_url = endpoint_url
        self.region = region
        self.path_style = path_style
        self.clock: Clock = clock if clock is not None else system_clock
        self._endpoint_name = endpoint_url or f"AWS S3 ({region or 'default region'})"
        config = Config(
            signature_version="s3v4",
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            s3={"addressing_style": "path" if path_style else "auto"},
            request_checksum_calculation="when_required",  # we send SHA-256 ourselves
        )
        self._session = session or boto3.session.Session()
        self._config = config
        self._client: Any = self._session.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )
        self._parts_client: Any = None
        self._capabilities: frozenset[str] | None = None
        self._conditional_writes = True

    def _part_uploader(self) -> Any:
        """The client for UploadPart (made on the first multipart upload): its requests carry
        the part's SHA-256 in the signed ``x-amz-checksum-sha256`` header, which the server
        checks the body against, so the body is not hashed a second time for the signature
        (botocore does that on plain http:// otherwise). Every other request is signed as
        usual."""
        if self._parts_client is None:
            s3 = {"addressing_style": "path" if self.path_style else "auto",
                  "payload_signing_enabled": False}
            self._parts_client = self._session.client(
                "s3", endpoint_url=self.endpoint_url, region_name=self.region,
                config=self._config.merge(Config(s3=s3)))
        return self._parts_client

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None) -> S3Store:
        """Parse ``s3://BUCKET[/PREFIX][?endpoint=URL&region=R&path_style=1]``.

        ``ValueError`` for credentials in the URL (``user:secret@``; the message does not repeat
        them), a bad bucket name or prefix, or an unknown query parameter.
        """
        parts = urlsplit(url)
        if parts.scheme.lower() != "s3":
            raise ValueError("not an s3:// URL")
        if "@" in parts.netloc:
            raise ValueError(
                "s3:// store URLs must not contain credentials; use AWS_ACCESS_KEY_ID / "
                "AWS_SECRET_ACCESS_KEY or an AWS profile"
            )
        if parts.fragment:
            raise ValueError("s3:// store URL must not have a fragment")
        query: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
            if name not in ("endpoint", "region", "path_style") or name in query:
                raise ValueError(f"unknown or repeated s3:// URL parameter {name!r}")
            query[name] = value
        flag = query.get("path_style", "0").lower()
        if flag not in ("0", "1", "true", "false", "yes", "no", ""):
            raise ValueError("path_style must be 1 or 0")
        return cls(
            parts.netloc,
            unquote(parts.path),
            endpoint_url=query.get("endpoint") or None,
            region=query.get("region") or None,
            path_style=flag in ("1", "true", "yes"),
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"S3Store({self.url!r})"

    @property
    def url(self) -> str:
        """``s3://BUCKET/PREFIX`` plus the non-default parameters; never credentials."""
        query = {
            name: value
            for name, value in (
                ("endpoint", self.endpoint_url),
                ("region", self.region),
                ("path_style", "1" if self.path_style else None),
            )
            if value
        }
        tail = f"?{urlencode(query, safe=':/')}" if query else ""
        return f"s3://{self.bucket}/{self.prefix.rstrip('/')}{tail}"

    @property
    def capabilities(self) -> frozenset[str]:
        """``versioning`` and ``object_lock`` (with ``retention``) as the bucket reports them
        (asked once)."""
        if self._capabilities is None:
            status = self.bucket_status()
            caps = set()
            if status["versioning_enabled"]:
                caps.add("versioning")
            if status["object_lock_enabled"]:
                caps.update(("object_lock", "retention"))
            self._capabilities = frozenset(caps)
        return self._capabilities

    # ------------------------------------------------------------------ plumbing

    def _full(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _where(self, full_key: str | None = None) -> str:
        return f"s3://{self.bucket}/{full_key or ''}"

    def _raise(self, exc: Exception, op: str, full_key: str | None) -> NoReturn:
        if isinstance(exc, ClientError):
            raise _client_error(exc, op, self._where(full_key), self.bucket) from None
        if isinstance(exc, BotoCoreError):
            raise _transport_error(exc, op, self._endpoint_name) from None
        raise exc

    @contextmanager
    def _errors(self, op: str, full_key: str | None = None) -> Iterator[None]:
        """Translate botocore failures raised inside the block (and only those)."""
        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            self._raise(exc, op, full_key)

    def _call(self, op: str, full_key: str | None, method: Callable[..., Any], **kw: Any) -> Any:
        with self._errors(op, full_key):
            return method(Bucket=self.bucket, **kw)

    @staticmethod
    def _code(exc: ClientError) -> str:
        return str(exc.response.get("Error", {}).get("Code", ""))

    def _server_now(self, response: Any) -> datetime:
        date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        if date:
            with suppress(TypeError, ValueError):
                return parsedate_to_datetime(date).astimezone(UTC)
        return self.clock()

    def _require_lock(self) -> None:
        if "object_lock" not in self.capabilities:
            raise ValueError(
                f"bucket has no Object Lock: s3://{self.bucket} cannot hold retention or "
                "legal holds (create it with Object Lock enabled)"
            )

    def _head(self, full: str, key: str, version_id: str | None = None) -> dict[str, Any]:
        kw: dict[str, Any] = {"Key": full}
        if version_id is not None:
            kw["VersionId"] = version_id
        return dict(self._call("HeadObject", full, self._client.head_object, **kw))

    # ------------------------------------------------------------------ bucket

    def bucket_status(self) -> dict[str, Any]:
        """What ``vault store check`` reports: versioning and Object Lock as the bucket has them.

        Keys: ``bucket``, ``versioning`` ("Enabled" / "Suspended" / "Disabled"),
        ``versioning_enabled``, ``object_lock_enabled`` and ``default_retention`` (``None`` or
        ``{"mode": ..., "days": n}`` / ``{"mode": ..., "years": n}``). ``FileNotFoundError`` if
        the bucket does not exist, ``PermissionError`` if the credentials may not read it.
        """
        versioning = self._call("GetBucketVersioning", None, self._client.get_bucket_versioning)
        state = str(versioning.get("Status") or "Disabled")
        lock_enabled = False
        default: dict[str, Any] | None = None
        try:
            lock = self._client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as exc:
            # "no configuration" is an answer, not an error; servers without the feature say
            # NotImplemented.
            if self._code(exc) not in ("ObjectLockConfigurationNotFoundError", "NotImplemented"):
                self._raise(exc, "GetObjectLockConfiguration", None)
        except BotoCoreError as exc:
            self._raise(exc, "GetObjectLockConfiguration", None)
        else:
            config = lock.get("ObjectLockConfiguration", {})
            lock_enabled = config.get("ObjectLockEnabled") == "Enabled"
            rule = config.get("Rule", {}).get("DefaultRetention")
            if rule:
                default = {k.lower(): v for k, v in rule.items()}
        return {
            "bucket": self.bucket,
            "versioning": state,
            "versioning_enabled": state == "Enabled",
            "object_lock_enabled": lock_enabled,
            "default_retention": default,
        }

    # ------------------------------------------------------------------ put

    def put(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        retain_until: datetime | None = None,
        legal_hold: bool = False,
    ) -> ObjectInfo:
        """Create-only streaming upload (see the class docstring).

        ``FileExistsError`` if ``key`` exists (HEAD before reading ``chunks``, ``If-None-Match``
        at commit); ``ValueError`` for protection on a bucket without Object Lock; ``TypeError``
        if ``chunks`` is bytes-like itself or yields non-bytes.
        """
        full = self._full(key)
        until = None if retain_until is None else _whole_seconds(retain_until)
        if isinstance(chunks, bytes | bytearray | memoryview | str):
            raise TypeError("chunks must be an iterable of bytes chunks, e.g. [data]")
        lock: dict[str, Any] = {}
        if until is not None or legal_hold:
            self._require_lock()
            if until is not None:
                lock["ObjectLockMode"] = "COMPLIANCE"
                lock["ObjectLockRetainUntilDate"] = until
            if legal_hold:
                lock["ObjectLockLegalHoldStatus"] = "ON"
        else:
            _ = self.capabilities  # names a missing bucket before anything is uploaded
        if self._exists_full(full):
            raise FileExistsError(errno.EEXIST, "object already exists", self._where(full))
        upload = _Upload(self, full, lock)
        try:
            size, version = upload.run(chunks)
        except BaseException:
            upload.abort()
            raise
        return ObjectInfo(
            key=key, size=size, version_id=version, retain_until=until, legal_hold=legal_hold
        )

    def _create_only(self, op: str, full: str, method: Callable[..., Any], **kw: Any) -> Any:
        """Call a committing request with ``If-None-Match: *`` (falls back if not implemented)."""
        if self._conditional_writes:
            try:
                return method(Bucket=self.bucket, IfNoneMatch="*", **kw)
            except ClientError as exc:
                if self._code(exc) != "NotImplemented":
                    self._raise(exc, op, full)
                self._conditional_writes = False  # racy fallback: see the class docstring
            except BotoCoreError as exc:
                self._raise(exc, op, full)
        if self._exists_full(full):
            raise FileExistsError(errno.EEXIST, "object already exists", self._where(full))
        return self._call(op, full, method, **kw)

    # ------------------------------------------------------------------ read side

    def get(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Open the object now (``FileNotFoundError`` if absent) and stream it in chunks."""
        full = self._full(key)
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        response = self._call("GetObject", full, self._client.get_object, Key=full)
        return self._stream(response["Body"], full, chunk_size)

    def _stream(self, body: Any, full: str, chunk_size: int) -> Iterator[bytes]:
        try:
            with self._errors("GetObject", full):
                for chunk in body.iter_chunks(chunk_size):
                    if chunk:
                        yield chunk
        finally:
            body.close()

    def head(self, key: str) -> ObjectInfo:
        """Size, version id, retain-until (UTC) and legal hold. ``FileNotFoundError`` if absent."""
        full = self._full(key)
        meta = self._head(full, key)
        return ObjectInfo(
            key=key,
            size=int(meta.get("ContentLength", 0)),
            version_id=meta.get("VersionId"),
            retain_until=_utc(meta.get("ObjectLockRetainUntilDate")),
            legal_hold=meta.get("ObjectLockLegalHoldStatus") == "ON",
        )

    def exists(self, key: str) -> bool:
        """``True`` if the current version of ``key`` is an object (not a delete marker)."""
        return self._exists_full(self._full(key))

    def _exists_full(self, full: str) -> bool:
        try:
            self._call("HeadObject", full, self._client.head_object, Key=full)
        except FileNotFoundError:
            return False
        return True

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys (relative to the store prefix) starting with ``prefix``, sorted, paginated.

        S3 lists in UTF-8 binary order, which for valid (ASCII) keys is ``sorted`` order; keys
        that are not valid store keys (placed by other tools) are skipped.
        """
        check_prefix(prefix)
        return self._list(self.prefix + prefix)

    def _list(self, full_prefix: str) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        strip = len(self.prefix)
        with self._errors("ListObjectsV2"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
                for item in page.get("Contents", []):
                    key = str(item["Key"])[strip:]
                    if is_valid_key(key):
                        yield key

    # ------------------------------------------------------------------ delete

    def _versions(self, full: str) -> tuple[builtins.list[_Version], datetime]:
        """Every version and delete marker of exactly ``full``, and the server's "now"."""
        found: builtins.list[_Version] = []
        now: datetime | None = None
        paginator = self._client.get_paginator("list_object_versions")
        with self._errors("ListObjectVersions", full):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                if now is None:
                    now = self._server_now(page)
                for item in page.get("Versions", []):
                    if item["Key"] == full:
                        found.append(_Version(str(item["VersionId"]), False))
                for item in page.get("DeleteMarkers", []):
                    if item["Key"] == full:
                        found.append(_Version(str(item["VersionId"]), True))
        return found, now or self.clock()

    def versions(self, key: str) -> builtins.list[str]:
        """Version ids of every version and delete marker of exactly ``key``, as listed by
        ListObjectVersions (``"null"`` for one written while versioning was off)."""
        found, _ = self._versions(self._full(key))
        return [v.version_id for v in found]

    def delete(self, key: str) -> int:
        """Remove every version and delete marker of ``key``; return the number of versions.

        ``PermissionError`` carrying S3's error code and request id when Object Lock refuses
        (unexpired COMPLIANCE retention or a legal hold). Versions that look protected (by
        their lock metadata and the server's ``Date``) are tried first, other versions next,
        delete markers last: so when S3 refuses, nothing has been removed and no older version
        was resurrected. (Only if the server's clock disagrees with its own ``Date`` header could
        an expired version go before the refusal.) ``0`` if absent.
        """
        full = self._full(key)
        versions, now = self._versions(full)
        objects = [v for v in versions if not v.is_marker]
        guarded: builtins.list[tuple[_Version, str]] = []
        free: builtins.list[_Version] = []
        for version in objects:
            meta = self._head(full, key, version.version_id)
            until = _utc(meta.get("ObjectLockRetainUntilDate"))
            if meta.get("ObjectLockLegalHoldStatus") == "ON":
                guarded.append((version, "a legal hold"))
            elif until is not None and until > now:
                guarded.append((version, f"COMPLIANCE retention until {until.isoformat()}"))
            else:
                free.append(version)
        for version, reason in guarded:
            try:
                self._delete_version(full, version)
            except PermissionError as exc:
                raise PermissionError(
                    exc.errno, f"object is under {reason}; {exc.strerror}", exc.filename
                ) from None
        for version in free + [v for v in versions if v.is_marker]:
            self._delete_version(full, version)
        return len(objects)

    def _delete_version(self, full: str, version: _Version) -> None:
        self._call(
            "DeleteObject", full, self._client.delete_object,
            Key=full, VersionId=version.version_id,
        )

    # ------------------------------------------------------------------ protection

    def set_retention(self, key: str, until: datetime) -> None:
        """Extend the current version's COMPLIANCE retain-until date.

        ``PermissionError`` if ``until`` is earlier than the current date (S3 itself refuses to
        shorten COMPLIANCE retention, also with ``AccessDenied``); ``FileNotFoundError`` if
        absent; ``ValueError`` if naive or the bucket has no Object Lock.
        """
        full = self._full(key)
        new = _whole_seconds(until)
        self._require_lock()
        meta = self._head(full, key)
        current = _utc(meta.get("ObjectLockRetainUntilDate"))
        if current is not None and new < current:
            raise PermissionError(
                errno.EPERM,
                f"retention may only be extended (currently {current.isoformat()})",
                self._where(full),
            )
        kw: dict[str, Any] = {
            "Key": full, "Retention": {"Mode": "COMPLIANCE", "RetainUntilDate": new}
        }
        if meta.get("VersionId"):
            kw["VersionId"] = meta["VersionId"]
        self._call("PutObjectRetention", full, self._client.put_object_retention, **kw)

    def set_legal_hold(self, key: str, on: bool) -> None:
        """Place or release the legal hold on every version of the key (a hold on the current
        version alone would leave older versions deletable). ``FileNotFoundError`` if no
        version exists; ``ValueError`` if the bucket has no Object Lock."""
        full = self._full(key)
        self._require_lock()
        versions, _ = self._versions(full)  # also those behind a delete marker
        objects = [v for v in versions if not v.is_marker]
        if not objects:  # (SeaweedFS answers a hold on a missing key with InternalError)
            raise FileNotFoundError(errno.ENOENT, "no such object", self._where(full))
        status = {"Status": "ON" if on else "OFF"}
        for version in objects:
            self._call("PutObjectLegalHold", full, self._client.put_object_legal_hold,
                       Key=full, VersionId=version.version_id, LegalHold=status)

    # ------------------------------------------------------------------ cleanup

    def abandoned_uploads(self, older_than: timedelta) -> builtins.list[MultipartUpload]:
        """Incomplete multipart uploads under the store prefix started more than
        ``older_than`` ago (by the store's clock), oldest first."""
        cutoff = self.clock() - older_than
        found: builtins.list[MultipartUpload] = []
        paginator = self._client.get_paginator("list_multipart_uploads")
        with self._errors("ListMultipartUploads"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Uploads", []):
                    initiated = _utc(item.get("Initiated")) or cutoff
                    if initiated <= cutoff:
                        found.append(
                            MultipartUpload(
                                key=str(item["Key"])[len(self.prefix):],
                                upload_id=str(item["UploadId"]),
                                initiated=initiated,
                            )
                        )
        found.sort(key=lambda u: (u.initiated, u.key))
        return found

    def abort_abandoned_uploads(self, older_than: timedelta) -> builtins.list[MultipartUpload]:
        """Abort what :meth:`abandoned_uploads` lists; return the uploads aborted (an upload
        finished or aborted meanwhile by someone else is skipped)."""
        aborted: builtins.list[MultipartUpload] = []
        for upload in self.abandoned_uploads(older_than):
            full = self.prefix + upload.key
            try:
                self._call(
                    "AbortMultipartUpload", full, self._client.abort_multipart_upload,
                    Key=full, UploadId=upload.upload_id,
                )
            except FileNotFoundError:
                continue
            aborted.append(upload)
        return aborted


class _Upload:
    """One put: a single PutObject when it fits in a part, else a multipart upload whose parts
    are sent on :data:`PARTS_IN_FLIGHT` threads (checksummed there too) while the next part is
    filled; the parts are committed in order."""

    def __init__(self, store: S3Store, full: str, lock: dict[str, Any]) -> None:
        self.store = store
        self.full = full
        self.lock = lock
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._sending: deque[Future[dict[str, Any]]] = deque()
        self._numbered = 0

    def run(self, chunks: Iterable[bytes]) -> tuple[int, str | None]:
        buffer = bytearray()
        size = 0
        try:
            for chunk in chunks:
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    raise TypeError(f"chunks must be bytes, not {type(chunk).__name__}")
                view = memoryview(chunk).cast("B")
                size += len(view)
                while view:
                    room = PART_SIZE - len(buffer)
                    buffer += view[:room]
                    view = view[room:]
                    if len(buffer) == PART_SIZE:
                        self._send_part(bytes(buffer))
                        buffer.clear()
            if self.upload_id is None:
                return size, self._put_single(bytes(buffer))
            if buffer:
                self._send_part(bytes(buffer))
            del buffer
            while self._sending:
                self.parts.append(self._sending.popleft().result())
            return size, self._complete()
        finally:
            self._stop()

    def _put_single(self, data: bytes) -> str | None:
        s = self.store
        response = s._create_only(
            "PutObject", self.full, s._client.put_object,
            Key=self.full, Body=data, ChecksumSHA256=_b64_sha256(data),
            ContentType="application/octet-stream", **self.lock,
        )
        return response.get("VersionId")

    def _send_part(self, data: bytes) -> None:
        """Start sending `data` as the next part; waits while PARTS_IN_FLIGHT are on their way
        and raises what a finished one raised."""
        s = self.store
        if self.upload_id is None:
            response = s._call(
                "CreateMultipartUpload", self.full, s._client.create_multipart_upload,
                Key=self.full, ChecksumAlgorithm="SHA256",
                ContentType="application/octet-stream", **self.lock,
            )
            self.upload_id = str(response["UploadId"])
            self._pool = ThreadPoolExecutor(max_workers=PARTS_IN_FLIGHT,
                                            thread_name_prefix="s3-part")
        assert self._pool is not None
        self._numbered += 1
        client = s._part_uploader()
        self._sending.append(self._pool.submit(self._upload_part, client, self._numbered, data))
        while self._sending and (len(self._sending) >= PARTS_IN_FLIGHT
                                 or self._sending[0].done()):
            self.parts.append(self._sending.popleft().result())

    def _upload_part(self, client: Any, number: int, data: bytes) -> dict[str, Any]:
        s = self.store
        checksum = _b64_sha256(data)
        response = s._call(
            "UploadPart", self.full, client.upload_part,
            Key=self.full, UploadId=self.upload_id, PartNumber=number,
            Body=data, ChecksumSHA256=checksum,
        )
        echoed = response.get("ChecksumSHA256")
        if echoed is not None and echoed != checksum:
            raise OSError(
                errno.EIO, f"UploadPart {number}: server stored a different SHA-256",
                s._where(self.full),
            )
        return {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum}

    def _stop(self) -> None:
        """Wait for the parts still on their way (after a failure: their outcome no longer
        matters, but an abort must not race an UploadPart) and stop the threads."""
        if self._pool is None:
            return
        for future in self._sending:
            future.cancel()
        self._pool.shutdown(wait=True)
        self._pool = None
        self._sending.clear()

    def _complete(self) -> str | None:
        s = self.store
        response = s._create_only(
            "CompleteMultipartUpload", self.full, s._client.complete_multipart_upload,
            Key=self.full, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts},
        )
        self.upload_id = None  # committed: nothing to abort any more
        return response.get("VersionId")

    def abort(self) -> None:
        """Abort the multipart upload, if one is open; never masks the original exception."""
        if self.upload_id is None:
            return
        upload_id, self.upload_id = self.upload_id, None
        s = self.store
        with suppress(Exception):
            s._client.abort_multipart_upload(Bucket=s.bucket, Key=self.full, UploadId=upload_id)
