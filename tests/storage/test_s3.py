"""S3Store against a real SeaweedFS server: the shared contract, plus S3-only promises.

No mocks: the session's ``seaweed`` fixture (conftest.py) runs ``weed server`` on loopback.
Every test gets a fresh key prefix in one bucket created with Object Lock (hence versioning):
the first write to a new SeaweedFS bucket costs ~0.2 s of volume allocation, which over 200
tests would dominate the run. Tests about bucket-level settings make their own buckets.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from storage_backends import ObjectStore, open_store
from storage_backends import s3 as s3_module
from storage_backends.s3 import PART_SIZE, PARTS_IN_FLIGHT, S3Store

from .contract import (
    Boom,
    DeleteContract,
    GetContract,
    HeadContract,
    ListContract,
    MiB,
    PutContract,
    RetentionContract,
    failing_chunks,
    later,
    read,
)
from .seaweed import Server, free_ports


class RealClock:
    """Real time, rounded *up* to the next whole second; ``advance`` sleeps.

    S3 Object Lock enforces retention against the server's clock, so time cannot be faked.
    Rounding up makes ``later(clock, n)`` (which truncates to whole seconds) always lie at
    least ``n`` real seconds ahead, so "still protected after advance(n - 1)" holds.
    """

    def __call__(self) -> datetime:
        now = datetime.now(UTC)
        return now.replace(microsecond=0) + timedelta(seconds=1 if now.microsecond else 0)

    def advance(self, delta: timedelta) -> None:
        time.sleep(delta.total_seconds())


def new_bucket(server: Server, *, lock: bool = True) -> str:
    name = f"t-{uuid.uuid4().hex[:20]}"
    server.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
    return name


_sessions: dict[tuple[str, str], boto3.session.Session] = {}


def session_for(server: Server, secret: str | None = None) -> boto3.session.Session:
    """A cached boto3 session (a new one costs ~0.15 s of model loading per store)."""
    creds = (server.access_key, secret or server.secret_key)
    if creds not in _sessions:
        _sessions[creds] = boto3.session.Session(
            aws_access_key_id=creds[0], aws_secret_access_key=creds[1]
        )
    return _sessions[creds]


def fresh_prefix() -> str:
    return f"t-{uuid.uuid4().hex[:16]}/evidence"


def make_store(server: Server, bucket: str, prefix: str | None = None, **kw: Any) -> S3Store:
    return S3Store(
        bucket,
        fresh_prefix() if prefix is None else prefix,
        endpoint_url=server.endpoint,
        region="us-east-1",
        path_style=True,
        session=kw.pop("session", None) or session_for(server),
        **kw,
    )


@pytest.fixture(scope="module")
def locked_bucket(seaweed: Server) -> str:
    """The module's bucket, with Object Lock and versioning; tests use fresh prefixes in it."""
    return new_bucket(seaweed)


class S3Fixtures:
    @pytest.fixture
    def clock(self) -> RealClock:
        return RealClock()

    @pytest.fixture
    def store(self, seaweed: Server, locked_bucket: str) -> S3Store:
        return make_store(seaweed, locked_bucket)


class TestS3Put(PutContract, S3Fixtures):
    pass


class TestS3Get(GetContract, S3Fixtures):
    pass


class TestS3Head(HeadContract, S3Fixtures):
    pass


class TestS3Delete(DeleteContract, S3Fixtures):
    pass


class TestS3List(ListContract, S3Fixtures):
    pass


class TestS3Retention(RetentionContract, S3Fixtures):
    pass


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def clock() -> RealClock:
    return RealClock()


@pytest.fixture
def bucket(locked_bucket: str) -> str:
    return locked_bucket


@pytest.fixture
def store(seaweed: Server, bucket: str) -> S3Store:
    return make_store(seaweed, bucket)


@pytest.fixture
def s3(seaweed: Server) -> Any:
    """A raw boto3 client with the admin credentials, to look behind the store's back."""
    return seaweed.client()


def versions_of(s3: Any, bucket: str, key: str) -> tuple[list[str], list[str]]:
    page = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return (
        [v["VersionId"] for v in page.get("Versions", []) if v["Key"] == key],
        [m["VersionId"] for m in page.get("DeleteMarkers", []) if m["Key"] == key],
    )


def open_uploads(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    return list(s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []))


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# --------------------------------------------------------------------------- Object Lock


def test_capabilities(store: S3Store) -> None:
    assert store.capabilities == frozenset({"versioning", "object_lock", "retention"})
    assert isinstance(store, ObjectStore)


def test_put_writes_compliance_mode(store: S3Store, s3: Any, bucket: str, clock: RealClock) -> None:
    until = later(clock, 60)
    store.put("k", [b"x"], retain_until=until, legal_hold=True)
    head = s3.head_object(Bucket=bucket, Key=f"{store.prefix}k")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == until
    assert head["ObjectLockLegalHoldStatus"] == "ON"


def test_compliance_version_survives_bypass(
    store: S3Store, s3: Any, bucket: str, clock: RealClock
) -> None:
    store.put("k", [b"evidence"], retain_until=later(clock, 60))
    (version,), _ = versions_of(s3, bucket, f"{store.prefix}k")
    with pytest.raises(ClientError) as raw:
        s3.delete_object(
            Bucket=bucket, Key=f"{store.prefix}k", VersionId=version, BypassGovernanceRetention=True
        )
    assert code_of(raw) == "AccessDenied"
    with pytest.raises(PermissionError) as exc:
        store.delete("k")
    message = str(exc.value)
    assert "AccessDenied" in message and "request id" in message and "\n" not in message
    with pytest.raises(PermissionError):
        store.set_retention("k", later(clock, 5))
    assert read(store, "k") == b"evidence"
    assert versions_of(s3, bucket, f"{store.prefix}k") == ([version], [])


def test_shortening_refused_by_s3_itself(
    store: S3Store, s3: Any, bucket: str, clock: RealClock
) -> None:
    until = later(clock, 60)
    store.put("k", [b"x"], retain_until=until)
    with pytest.raises(ClientError) as raw:
        s3.put_object_retention(
            Bucket=bucket, Key=f"{store.prefix}k",
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later(clock, 5)},
        )
    assert code_of(raw) == "AccessDenied"
    assert store.head("k").retain_until == until


def test_legal_hold_blocks_raw_delete(store: S3Store, s3: Any, bucket: str) -> None:
    store.put("k", [b"x"], legal_hold=True)
    (version,), _ = versions_of(s3, bucket, f"{store.prefix}k")
    with pytest.raises(ClientError) as raw:
        s3.delete_object(Bucket=bucket, Key=f"{store.prefix}k", VersionId=version)
    assert code_of(raw) == "AccessDenied"
    with pytest.raises(PermissionError, match="legal hold"):
        store.delete("k")
    store.set_legal_hold("k", False)
    assert store.delete("k") == 1
    assert versions_of(s3, bucket, f"{store.prefix}k") == ([], [])


def test_legal_hold_covers_every_version(store: S3Store, s3: Any, bucket: str) -> None:
    """A hold on the current version alone would leave older versions (and one behind a
    delete marker) deletable: the store holds and releases every version."""
    full = f"{store.prefix}kv"
    store.put("kv", [b"v1"])
    s3.put_object(Bucket=bucket, Key=full, Body=b"v2")
    s3.delete_object(Bucket=bucket, Key=full)  # the current "version" is a delete marker
    objects, markers = versions_of(s3, bucket, full)
    assert (len(objects), len(markers)) == (2, 1)

    def holds() -> list[str]:
        return [s3.get_object_legal_hold(Bucket=bucket, Key=full, VersionId=v)
                ["LegalHold"]["Status"] for v in objects]
    store.set_legal_hold("kv", True)
    assert holds() == ["ON", "ON"]
    for version in objects:
        with pytest.raises(ClientError) as raw:
            s3.delete_object(Bucket=bucket, Key=full, VersionId=version)
        assert code_of(raw) == "AccessDenied"
    store.set_legal_hold("kv", False)
    assert holds() == ["OFF", "OFF"]
    assert store.delete("kv") == 2
    with pytest.raises(FileNotFoundError):
        store.set_legal_hold("kv", True)


def test_delete_removes_every_version_and_marker(store: S3Store, s3: Any, bucket: str) -> None:
    full = f"{store.prefix}k"
    store.put("k", [b"v1"])
    s3.delete_object(Bucket=bucket, Key=full)  # a delete marker
    s3.put_object(Bucket=bucket, Key=full, Body=b"v2")
    s3.delete_object(Bucket=bucket, Key=full)  # another marker
    store.put("k2", [b"sibling"])
    objects, markers = versions_of(s3, bucket, full)
    assert (len(objects), len(markers)) == (2, 2)
    assert not store.exists("k")
    assert store.delete("k") == 2
    assert versions_of(s3, bucket, full) == ([], [])
    assert store.delete("k") == 0
    assert read(store, "k2") == b"sibling"


def test_refused_delete_removes_nothing(
    store: S3Store, s3: Any, bucket: str, clock: RealClock
) -> None:
    full = f"{store.prefix}k"
    s3.put_object(Bucket=bucket, Key=full, Body=b"old, unprotected")
    s3.delete_object(Bucket=bucket, Key=full)
    store.put("k", [b"new, protected"], retain_until=later(clock, 60))
    before = versions_of(s3, bucket, full)
    with pytest.raises(PermissionError, match="COMPLIANCE retention"):
        store.delete("k")
    assert versions_of(s3, bucket, full) == before
    assert read(store, "k") == b"new, protected"


def test_protection_needs_object_lock(seaweed: Server, s3: Any, clock: RealClock) -> None:
    plain = new_bucket(seaweed, lock=False)
    store = make_store(seaweed, plain)
    assert "object_lock" not in store.capabilities
    with pytest.raises(ValueError, match="bucket has no Object Lock"):
        store.put("k", [b"x"], retain_until=later(clock, 60))
    with pytest.raises(ValueError, match="bucket has no Object Lock"):
        store.put("k", [b"x"], legal_hold=True)
    assert s3.list_objects_v2(Bucket=plain).get("KeyCount", 0) == 0
    store.put("k", [b"x"])
    with pytest.raises(ValueError, match="bucket has no Object Lock"):
        store.set_retention("k", later(clock, 60))


def test_bucket_status(seaweed: Server, store: S3Store) -> None:
    locked = store.bucket_status()
    assert locked["versioning_enabled"] is True
    assert locked["object_lock_enabled"] is True
    assert locked["default_retention"] is None
    plain = make_store(seaweed, new_bucket(seaweed, lock=False)).bucket_status()
    assert plain["versioning_enabled"] is False
    assert plain["object_lock_enabled"] is False
    assert make_store(seaweed, new_bucket(seaweed, lock=False)).capabilities == frozenset()


# --------------------------------------------------------------------------- put mechanics


def test_failed_multipart_put_leaves_no_upload(store: S3Store, s3: Any, bucket: str) -> None:
    boom = Boom("after two parts")

    def chunks() -> Iterator[bytes]:
        yield b"a" * (2 * PART_SIZE + 1)  # two parts sent, multipart upload open
        raise boom

    with pytest.raises(Boom) as exc:
        store.put("big", chunks())
    assert exc.value is boom
    assert open_uploads(s3, bucket, store.prefix) == []
    assert versions_of(s3, bucket, f"{store.prefix}big") == ([], [])
    assert store.abandoned_uploads(timedelta(0)) == []


def test_failed_small_put_leaves_nothing(store: S3Store, s3: Any, bucket: str) -> None:
    with pytest.raises(Boom):
        store.put("small", failing_chunks(Boom()))
    assert open_uploads(s3, bucket, store.prefix) == []
    assert s3.list_object_versions(Bucket=bucket, Prefix=store.prefix).get("Versions", []) == []


def test_large_put_streams_in_parts(store: S3Store, s3: Any, bucket: str) -> None:
    size = 40 * MiB + 5
    digest = hashlib.sha256()

    def chunks() -> Iterator[bytes]:
        block = bytes(range(256)) * 4096  # 1 MiB
        for i in range(40):
            piece = block[:-1] + bytes([i])
            digest.update(piece)
            yield piece
        digest.update(b"tail!")
        yield b"tail!"

    info = store.put("big", chunks())
    assert info.size == size
    head = s3.head_object(Bucket=bucket, Key=f"{store.prefix}big", PartNumber=1)
    assert head["PartsCount"] == math.ceil(size / PART_SIZE) == 6
    assert head["ContentLength"] == PART_SIZE
    back = hashlib.sha256()
    for chunk in store.get("big", chunk_size=4 * MiB):
        back.update(chunk)
    assert back.digest() == digest.digest()
    assert open_uploads(s3, bucket, store.prefix) == []


def test_exact_part_multiple(store: S3Store) -> None:
    data = b"z" * PART_SIZE
    assert store.put("exact", [data[:1000], data[1000:]]).size == PART_SIZE
    assert read(store, "exact") == data


def test_small_put_has_sha256_checksum(store: S3Store, s3: Any, bucket: str) -> None:
    store.put("k", [b"abc"])
    head = s3.head_object(Bucket=bucket, Key=f"{store.prefix}k", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="


def test_existing_key_is_checked_before_reading(store: S3Store) -> None:
    store.put("k", [b"x"])

    def never() -> Iterator[bytes]:
        raise AssertionError("chunks must not be read for an existing key")
        yield b""

    with pytest.raises(FileExistsError):
        store.put("k", never())


def test_concurrent_puts_one_winner(store: S3Store) -> None:
    n = 6
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        def chunks() -> Iterator[bytes]:
            barrier.wait()  # every writer passed the HEAD check before any commits
            yield f"writer-{i}".encode()

        try:
            store.put("race", chunks())
            result = f"writer-{i}"
        except FileExistsError:
            result = "lost"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o != "lost"]
    assert len(outcomes) == n and len(winners) == 1
    assert read(store, "race") == winners[0].encode()


def test_keys_are_relative_to_prefix(seaweed: Server, s3: Any, bucket: str) -> None:
    base = fresh_prefix()
    a = make_store(seaweed, bucket, f"{base}/tenant-a")
    b = make_store(seaweed, bucket, f"{base}/tenant-a2")
    root = make_store(seaweed, bucket, base)
    a.put("x/1", [b"a"])
    b.put("x/1", [b"b"])
    s3.put_object(Bucket=bucket, Key=f"{base}/tenant-a/not a valid key", Body=b"?")
    assert list(a.list()) == ["x/1"]
    assert list(b.list("x/")) == ["x/1"]
    assert list(root.list()) == ["tenant-a/x/1", "tenant-a2/x/1"]
    assert read(root, "tenant-a2/x/1") == b"b"
    assert a.delete("x/1") == 1
    assert read(b, "x/1") == b"b"


# --------------------------------------------------------------------------- errors


def test_wrong_credentials(seaweed: Server, bucket: str) -> None:
    secret = "not-the-secret-" + uuid.uuid4().hex
    store = make_store(seaweed, bucket, session=session_for(seaweed, secret=secret))
    with pytest.raises(PermissionError) as exc:
        store.put("k", [b"x"])
    message = str(exc.value)
    assert "SignatureDoesNotMatch" in message and "request id" in message
    assert "\n" not in message and secret not in message
    unknown = boto3.session.Session(aws_access_key_id="AKIAUNKNOWN", aws_secret_access_key=secret)
    with pytest.raises(PermissionError, match="InvalidAccessKeyId"):
        list(make_store(seaweed, bucket, session=unknown).list())


def test_missing_bucket(seaweed: Server) -> None:
    store = make_store(seaweed, "no-such-bucket-" + uuid.uuid4().hex[:8])
    with pytest.raises(FileNotFoundError, match="no-such-bucket-.* does not exist"):
        store.put("k", [b"x"])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(store.list())
    with pytest.raises(FileNotFoundError):
        store.bucket_status()
    with pytest.raises(FileNotFoundError):
        store.get("k")


def test_unreachable_endpoint_fails_fast() -> None:
    (port,) = free_ports(1)  # nothing listens there
    store = S3Store(
        "some-bucket",
        endpoint_url=f"http://127.0.0.1:{port}",
        region="us-east-1",
        path_style=True,
        session=boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b"),
        max_attempts=1,
        connect_timeout=1,
        read_timeout=1,
    )
    start = time.monotonic()
    with pytest.raises(ConnectionError) as exc:
        store.exists("k")
    assert time.monotonic() - start < 5
    message = str(exc.value)
    assert f"127.0.0.1:{port}" in message and "\n" not in message


# --------------------------------------------------------------------------- abandoned uploads


def test_abandoned_uploads(store: S3Store, s3: Any, bucket: str) -> None:
    started = s3.create_multipart_upload(Bucket=bucket, Key=f"{store.prefix}half")["UploadId"]
    outside = store.prefix.rstrip("/") + "-sibling/x"  # a string prefix, not under the store
    s3.create_multipart_upload(Bucket=bucket, Key=outside)
    (upload,) = store.abandoned_uploads(timedelta(0))
    assert (upload.key, upload.upload_id) == ("half", started)
    assert upload.initiated.tzinfo is not None
    assert store.abandoned_uploads(timedelta(hours=1)) == []
    assert store.abort_abandoned_uploads(timedelta(hours=1)) == []
    assert store.abort_abandoned_uploads(timedelta(0)) == [upload]
    assert store.abandoned_uploads(timedelta(0)) == []
    base = store.prefix.split("/")[0]
    assert [u["Key"] for u in open_uploads(s3, bucket, base)] == [outside]


# --------------------------------------------------------------------------- open_store


def test_open_store_s3_url(seaweed: Server, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweed.secret_key)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    url = f"s3://{bucket}/vault/objects?endpoint={seaweed.endpoint}&region=us-east-1&path_style=1"
    store = open_store(url)
    assert isinstance(store, S3Store)
    assert store.prefix == "vault/objects/"
    store.put("k", [b"via url"])
    assert read(open_store(store.url), "k") == b"via url"
    assert seaweed.secret_key not in store.url and seaweed.access_key not in store.url


@pytest.mark.parametrize(
    "url",
    [
        "s3://AKIA:secret@bucket/prefix",
        "s3://user@bucket/prefix",
        "s3://bucket/prefix?endpoint=http://AKIA:secret@127.0.0.1:1",
    ],
)
def test_open_store_rejects_credentials(url: str) -> None:
    with pytest.raises(ValueError) as exc:
        open_store(url)
    assert "secret" not in str(exc.value)


@pytest.mark.parametrize(
    "url",
    [
        "s3://",
        "s3://B/upper-case-bucket",
        "s3://bucket/../up",
        "s3://bucket/a//b",
        "s3://bucket/p?color=blue",
        "s3://bucket/p?endpoint=ftp://host",
        "s3://bucket/p?path_style=maybe",
    ],
)
def test_open_store_rejects_malformed(url: str) -> None:
    with pytest.raises(ValueError):
        open_store(url)


def test_open_store_defaults_do_not_connect() -> None:
    store = open_store("s3://my-bucket")
    assert isinstance(store, S3Store)
    assert (store.endpoint_url, store.region, store.path_style, store.prefix) == (
        None, None, False, ""
    )
    assert store.url == "s3://my-bucket/"


# --------------------------------------------------------------------------- faults


def test_server_killed_during_put(seaweed: Server, bucket: str, s3: Any) -> None:
    store = make_store(seaweed, bucket, max_attempts=1, connect_timeout=1, read_timeout=5)

    def chunks() -> Iterator[bytes]:
        yield b"p" * PART_SIZE  # part 1 is uploaded before the next chunk is asked for
        yield b"q"
        seaweed.kill()
        yield b"r" * PART_SIZE

    try:
        with pytest.raises(OSError) as exc:
            store.put("interrupted", chunks())
        assert isinstance(exc.value, ConnectionError | TimeoutError)
    finally:
        seaweed.start()
    (upload,) = store.abandoned_uploads(timedelta(0))
    assert upload.key == "interrupted"
    assert store.abort_abandoned_uploads(timedelta(0)) == [upload]
    assert store.abandoned_uploads(timedelta(0)) == []
    assert not store.exists("interrupted")
    store.put("interrupted", [b"second try"])
    assert read(store, "interrupted") == b"second try"


# --------------------------------------------------------------------------- parts on threads
# A multipart put sends its parts on threads, PARTS_IN_FLIGHT at once, and commits them in
# order; a part's body is bound by its signed SHA-256 checksum header (checked by the server),
# not hashed again for the signature; a part that fails stops the put with nothing left.


def _text(headers: Any) -> dict[str, str]:
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items()}


def _parts(n: int) -> list[bytes]:
    return [bytes([i]) * PART_SIZE for i in range(n)]


def test_parts_go_out_on_threads_a_few_at_once_and_are_committed_in_order(
        store: S3Store, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.Lock()
    busy, most, threads = 0, 0, set()
    real = s3_module._Upload._upload_part

    def counted(self: Any, client: Any, number: int, data: bytes) -> dict[str, Any]:
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
            threads.add(threading.current_thread().name)
        try:
            return real(self, client, number, data)
        finally:
            with lock:
                busy -= 1

    monkeypatch.setattr(s3_module._Upload, "_upload_part", counted)
    data = _parts(5)
    assert store.put("many", iter([*data, b"end"])).size == 5 * PART_SIZE + 3
    assert read(store, "many") == b"".join(data) + b"end"
    assert 1 < most <= PARTS_IN_FLIGHT and all(t.startswith("s3-part") for t in threads)
    head = s3.head_object(Bucket=bucket, Key=f"{store.prefix}many", PartNumber=6)
    assert head["PartsCount"] == 6 and head["ContentLength"] == 3
    assert open_uploads(s3, bucket, store.prefix) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("s3-part")]


def test_a_part_is_bound_by_its_signed_checksum_not_a_second_hash(store: S3Store, s3: Any,
                                                                  bucket: str) -> None:
    seen: list[dict[str, str]] = []
    client = store._part_uploader()
    client.meta.events.register("before-send.s3.UploadPart",
                                lambda request, **_: seen.append(_text(request.headers)))
    store.put("bound", iter(_parts(2)))
    assert len(seen) == 2
    for headers in seen:
        signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        assert "x-amz-checksum-sha256" in signed
        assert headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    # the server checks the body against that checksum: a body that does not match is refused
    upload = s3.create_multipart_upload(Bucket=bucket, Key=f"{store.prefix}x",
                                        ChecksumAlgorithm="SHA256")
    wrong = s3_module._b64_sha256(b"something else")
    with pytest.raises(Exception, match="(?i)checksum|digest|BadDigest|InvalidRequest"):
        client.upload_part(Bucket=bucket, Key=f"{store.prefix}x", UploadId=upload["UploadId"],
                           PartNumber=1, Body=b"a" * MiB, ChecksumSHA256=wrong)
    s3.abort_multipart_upload(Bucket=bucket, Key=f"{store.prefix}x",
                              UploadId=upload["UploadId"])
    # every other request is signed with its body's hash as before
    other: list[str] = []
    store._client.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **_: other.append(_text(request.headers)["X-Amz-Content-SHA256"]))
    store.put("small", [b"small"])
    assert other == [hashlib.sha256(b"small").hexdigest()]


def test_a_failing_part_stops_the_put_and_leaves_no_upload(
        store: S3Store, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = s3_module._Upload._upload_part

    def third_fails(self: Any, client: Any, number: int, data: bytes) -> dict[str, Any]:
        if number == 3:
            raise ConnectionError("link down")
        return real(self, client, number, data)

    monkeypatch.setattr(s3_module._Upload, "_upload_part", third_fails)
    pulled = 0

    def chunks() -> Iterator[bytes]:
        nonlocal pulled
        for part in _parts(8):
            pulled += 1
            yield part

    with pytest.raises(ConnectionError, match="link down"):
        store.put("failed", chunks())
    assert pulled < 8  # stopped at the failure, not after reading everything
    assert open_uploads(s3, bucket, store.prefix) == []
    assert not store.exists("failed")
    assert not [t for t in threading.enumerate() if t.name.startswith("s3-part")]
