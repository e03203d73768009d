"""Backend-independent contract tests for :class:`storage_backends.ObjectStore`, as pytest mixins.

A backend plugs in by providing two fixtures and mixing in the behaviours::

    class LocalStoreFixtures:
        @pytest.fixture
        def clock(self) -> FakeClock: ...
        @pytest.fixture
        def store(self, tmp_path, clock) -> ObjectStore: ...   # empty, built with ``clock``

    class TestLocalPut(PutContract, LocalStoreFixtures):
        pass

Fixture contract:

* ``store`` -- an empty store whose retention checks use ``clock``.
* ``clock`` -- a :class:`SteerableClock`: calling it returns aware-UTC "now" and ``advance(delta)``
  moves that "now" forward *as the store sees it*. :class:`FakeClock` does this for backends that
  take an injected clock; a backend enforcing retention against real time (S3 Object Lock) can
  provide a clock whose ``advance`` sleeps. Hence every retention here lasts only seconds, and
  retain-until values are whole seconds (S3 keeps no sub-second precision).

Tests must hold on every backend, including S3 with Object Lock and versioning; a test needing an
optional feature calls :func:`requires` first, which skips it with a reason when absent.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

import pytest

from storage_backends import ObjectStore

MiB = 1 << 20

HOSTILE_KEYS = [
    "",
    "../x",
    "a/../../x",
    "..",
    ".",
    "/etc/passwd",
    "a//b",
    "a/./b",
    "a/../b",
    "a/",
    "a\nb",
    "a\\b",
    "a b",
    "a\x00b",
    "a:b",
    "~tmp-x",
    "caf\u00e9",
    "\u043a\u043b\u044e\u0447",
    "x" * 513,
    "x" * 256,
]

VALID_ODD_KEYS = [
    "a",
    "A-Z_0.9",
    ".hidden",
    "dir/.hidden/x",
    "...",
    "-leading-dash",
    "trailing.",
    "evidence/2024/06/0f8e2a.age",
    "/".join(["x" * 200, "y" * 200, "z" * 110]),  # 512 characters, the maximum
]


class SteerableClock(Protocol):
    """What the ``clock`` fixture must offer."""

    def __call__(self) -> datetime: ...

    def advance(self, delta: timedelta) -> None: ...


class FakeClock:
    """Manually driven clock: ``now`` is the current time; the store is built with it."""

    def __init__(self, now: datetime = datetime(2030, 1, 1, tzinfo=UTC)) -> None:
        if now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def requires(store: ObjectStore, capability: str) -> None:
    """Skip the calling test unless ``store`` advertises ``capability``."""
    if capability not in store.capabilities:
        pytest.skip(f"{type(store).__name__} lacks capability {capability!r}")


def later(clock: SteerableClock, seconds: int) -> datetime:
    """``clock() + seconds``, truncated to whole seconds."""
    return (clock() + timedelta(seconds=seconds)).replace(microsecond=0)


def read(store: ObjectStore, key: str, **kwargs: int) -> bytes:
    return b"".join(store.get(key, **kwargs))


class Boom(Exception):
    """Raised by a test's chunk iterator."""


def failing_chunks(exc: BaseException, before: int = 3) -> Iterator[bytes]:
    for _ in range(before):
        yield b"x" * 1000
    raise exc


def odd_chunks(data: bytes) -> Iterator[bytes]:
    """``data`` cut into chunks of awkward, varying sizes (including empty ones)."""
    sizes = [1, 0, 7, 4093, 65537, MiB + 3, 3, 999_983, 12_345]
    pos = i = 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        yield data[pos : pos + size]
        pos += size
        i += 1


class PutContract:
    def test_round_trip_empty(self, store: ObjectStore) -> None:
        info = store.put("empty", [])
        assert (info.key, info.size) == ("empty", 0)
        assert read(store, "empty") == b""
        assert store.head("empty").size == 0

    def test_round_trip_empty_chunks(self, store: ObjectStore) -> None:
        store.put("empty", [b"", b""])
        assert read(store, "empty") == b""

    def test_round_trip_one_byte(self, store: ObjectStore) -> None:
        info = store.put("one", [b"\x00"])
        assert info.size == 1
        assert read(store, "one") == b"\x00"
        assert store.head("one").size == 1

    def test_round_trip_many_odd_chunks(self, store: ObjectStore) -> None:
        data = random.Random(1234).randbytes(5 * MiB + 17)
        info = store.put("big/object.bin", odd_chunks(data))  # a lazy generator
        assert info.size == len(data)
        assert store.head("big/object.bin").size == len(data)
        assert read(store, "big/object.bin") == data
        chunks = list(store.get("big/object.bin", chunk_size=MiB - 1))
        assert all(len(c) <= MiB - 1 for c in chunks)
        assert b"".join(chunks) == data

    def test_put_returns_info(self, store: ObjectStore) -> None:
        info = store.put("k", [b"abc", b"de"])
        assert info.key == "k"
        assert info.size == 5
        assert info.retain_until is None
        assert info.legal_hold is False

    @pytest.mark.parametrize("key", VALID_ODD_KEYS)
    def test_valid_odd_keys_round_trip(self, store: ObjectStore, key: str) -> None:
        store.put(key, [key.encode()])
        assert store.exists(key)
        assert read(store, key) == key.encode()
        assert list(store.list()) == [key]

    def test_put_existing_key_raises_and_keeps_original(self, store: ObjectStore) -> None:
        store.put("k", [b"original"])
        with pytest.raises(FileExistsError):
            store.put("k", [b"replacement"])
        assert read(store, "k") == b"original"
        assert store.head("k").size == len(b"original")
        assert list(store.list()) == ["k"]

    def test_put_existing_key_does_not_shed_protection(
        self, store: ObjectStore, clock: SteerableClock
    ) -> None:
        until = later(clock, 5)
        store.put("k", [b"original"], retain_until=until, legal_hold=True)
        with pytest.raises(FileExistsError):
            store.put("k", [b"replacement"])
        info = store.head("k")
        assert info.legal_hold is True
        assert info.retain_until == until

    def test_failed_put_leaves_nothing(self, store: ObjectStore) -> None:
        boom = Boom("midway")
        with pytest.raises(Boom) as excinfo:
            store.put("k", failing_chunks(boom))
        assert excinfo.value is boom  # propagated unchanged
        assert not store.exists("k")
        assert list(store.list()) == []
        with pytest.raises(FileNotFoundError):
            store.head("k")
        store.put("k", [b"second try"])
        assert read(store, "k") == b"second try"

    def test_failed_put_in_subdirectory_leaves_nothing(self, store: ObjectStore) -> None:
        with pytest.raises(Boom):
            store.put("a/b/c", failing_chunks(Boom()))
        assert list(store.list()) == []
        assert list(store.list("a/")) == []

    def test_failed_put_does_not_disturb_others(self, store: ObjectStore) -> None:
        store.put("keep", [b"kept"])
        with pytest.raises(Boom):
            store.put("lost", failing_chunks(Boom()))
        assert list(store.list()) == ["keep"]
        assert read(store, "keep") == b"kept"

    def test_put_naive_retention_rejected(self, store: ObjectStore) -> None:
        with pytest.raises(ValueError):
            store.put("k", [b"x"], retain_until=datetime(2099, 1, 1))
        assert not store.exists("k")

    @pytest.mark.parametrize("key", HOSTILE_KEYS)
    def test_put_hostile_key(self, store: ObjectStore, key: str) -> None:
        with pytest.raises(ValueError):
            store.put(key, [b"x"])
        assert list(store.list()) == []


class GetContract:
    def test_get_missing_raises_at_call_time(self, store: ObjectStore) -> None:
        with pytest.raises(FileNotFoundError):
            store.get("missing")  # no next(): must raise before iteration

    def test_get_deleted_raises(self, store: ObjectStore) -> None:
        store.put("k", [b"x"])
        store.delete("k")
        with pytest.raises(FileNotFoundError):
            store.get("k")

    def test_get_prefix_of_existing_key_is_missing(self, store: ObjectStore) -> None:
        store.put("a/b", [b"x"])
        with pytest.raises(FileNotFoundError):
            store.get("a")

    def test_get_respects_chunk_size(self, store: ObjectStore) -> None:
        data = bytes(range(256)) * 40
        store.put("k", [data])
        chunks = list(store.get("k", chunk_size=1000))
        assert all(0 < len(c) <= 1000 for c in chunks)
        assert b"".join(chunks) == data

    def test_get_returns_iterator(self, store: ObjectStore) -> None:
        store.put("k", [b"abc"])
        it = store.get("k")
        assert iter(it) is it
        assert b"".join(it) == b"abc"

    def test_get_twice(self, store: ObjectStore) -> None:
        store.put("k", [b"abc"])
        assert read(store, "k") == read(store, "k") == b"abc"

    @pytest.mark.parametrize("key", HOSTILE_KEYS)
    def test_get_hostile_key(self, store: ObjectStore, key: str) -> None:
        with pytest.raises(ValueError):
            store.get(key)


class HeadContract:
    def test_head_plain_object(self, store: ObjectStore) -> None:
        store.put("dir/k", [b"12345"])
        info = store.head("dir/k")
        assert info.key == "dir/k"
        assert info.size == 5
        assert info.retain_until is None
        assert info.legal_hold is False

    def test_head_missing(self, store: ObjectStore) -> None:
        with pytest.raises(FileNotFoundError):
            store.head("missing")

    def test_head_prefix_of_existing_key_is_missing(self, store: ObjectStore) -> None:
        store.put("a/b", [b"x"])
        with pytest.raises(FileNotFoundError):
            store.head("a")
        assert not store.exists("a")

    def test_exists(self, store: ObjectStore) -> None:
        assert not store.exists("k")
        store.put("k", [b""])
        assert store.exists("k")
        assert not store.exists("k2")

    @pytest.mark.parametrize("key", HOSTILE_KEYS)
    def test_head_hostile_key(self, store: ObjectStore, key: str) -> None:
        with pytest.raises(ValueError):
            store.head(key)

    @pytest.mark.parametrize("key", HOSTILE_KEYS)
    def test_exists_hostile_key(self, store: ObjectStore, key: str) -> None:
        with pytest.raises(ValueError):
            store.exists(key)


class DeleteContract:
    def test_delete_returns_count_and_removes(self, store: ObjectStore) -> None:
        store.put("k", [b"x"])
        assert store.delete("k") == 1
        assert not store.exists("k")
        assert list(store.list()) == []
        with pytest.raises(FileNotFoundError):
            store.head("k")

    def test_delete_missing_returns_zero(self, store: ObjectStore) -> None:
        assert store.delete("missing") == 0

    def test_delete_is_idempotent(self, store: ObjectStore) -> None:
        store.put("k", [b"x"])
        assert store.delete("k") == 1
        assert store.delete("k") == 0

    def test_put_after_delete(self, store: ObjectStore) -> None:
        store.put("k", [b"old"])
        store.delete("k")
        store.put("k", [b"new"])
        assert read(store, "k") == b"new"

    def test_delete_leaves_siblings(self, store: ObjectStore) -> None:
        for key in ("a/b", "a/c", "a/b2", "ab"):
            store.put(key, [key.encode()])
        assert store.delete("a/b") == 1
        assert list(store.list()) == ["a/b2", "a/c", "ab"]
        assert read(store, "a/c") == b"a/c"

    def test_versions_lists_what_delete_removes(self, store: ObjectStore) -> None:
        assert store.versions("k") == []
        store.put("k", [b"x"])
        store.put("k2", [b"y"])
        ids = store.versions("k")
        assert len(ids) == 1 and all(isinstance(i, str) and i for i in ids)
        assert store.delete("k") == 1
        assert store.versions("k") == []
        assert len(store.versions("k2")) == 1   # exactly the key, not its prefix matches

    @pytest.mark.parametrize("key", HOSTILE_KEYS[:6])
    def test_versions_hostile_key(self, store: ObjectStore, key: str) -> None:
        with pytest.raises(ValueError):
            store.versions(key)

    def test_delete_prefix_of_key_is_noop(self, store: ObjectStore) -> None:
        store.put("a/b", [b"x"])
        assert store.delete("a") == 0
        assert store.exists("a/b")

    @pytest.mark.parametrize("key", HOSTILE_KEYS)
    def test_delete_hostile_key(self, store: ObjectStore, key: str) -> None:
        with pytest.raises(ValueError):
            store.delete(key)


class ListContract:
    KEYS = ["b", "a/z", "a.txt", "a/b/c", "A", "a-", "a/b/d", "ab", "a/bc"]

    def _fill(self, store: ObjectStore) -> None:
        for key in self.KEYS:
            store.put(key, [b"."])

    def test_list_empty(self, store: ObjectStore) -> None:
        assert list(store.list()) == []
        assert list(store.list("a/")) == []

    def test_list_all_sorted(self, store: ObjectStore) -> None:
        self._fill(store)
        assert list(store.list()) == sorted(self.KEYS)

    @pytest.mark.parametrize("prefix", ["a", "a/", "a/b", "a/b/", "a/b/c", "ab", "A", "b", "c"])
    def test_list_prefix_is_string_prefix(self, store: ObjectStore, prefix: str) -> None:
        self._fill(store)
        expected = sorted(k for k in self.KEYS if k.startswith(prefix))
        assert list(store.list(prefix)) == expected

    def test_list_missing_prefix(self, store: ObjectStore) -> None:
        self._fill(store)
        assert list(store.list("nope/")) == []
        assert list(store.list("a/b/c/")) == []

    def test_list_after_delete(self, store: ObjectStore) -> None:
        self._fill(store)
        store.delete("a/b/c")
        store.delete("a/b/d")
        assert list(store.list("a/b")) == ["a/bc"]

    @pytest.mark.parametrize("prefix", ["../", "/etc", "a//", "a/../", "a b", "caf\u00e9"])
    def test_list_hostile_prefix(self, store: ObjectStore, prefix: str) -> None:
        with pytest.raises(ValueError):
            store.list(prefix)


class RetentionContract:
    def test_put_with_retention_reported_by_head(
        self, store: ObjectStore, clock: SteerableClock
    ) -> None:
        until = later(clock, 5)
        info = store.put("k", [b"x"], retain_until=until)
        assert info.retain_until == until
        head = store.head("k")
        assert head.retain_until == until
        assert head.retain_until is not None and head.retain_until.utcoffset() == timedelta(0)
        assert head.legal_hold is False

    def test_retention_given_in_other_timezone(
        self, store: ObjectStore, clock: SteerableClock
    ) -> None:
        until = later(clock, 5).astimezone(timezone(timedelta(hours=2)))
        store.put("k", [b"x"], retain_until=until)
        assert store.head("k").retain_until == until  # same instant

    def test_delete_blocked_until_retention_expires(
        self, store: ObjectStore, clock: SteerableClock
    ) -> None:
        store.put("k", [b"evidence"], retain_until=later(clock, 3))
        with pytest.raises(PermissionError):
            store.delete("k")
        assert store.exists("k")
        assert read(store, "k") == b"evidence"
        assert list(store.list()) == ["k"]
        clock.advance(timedelta(seconds=4))
        assert store.delete("k") == 1
        assert not store.exists("k")

    def test_set_retention_extends(self, store: ObjectStore, clock: SteerableClock) -> None:
        store.put("k", [b"x"], retain_until=later(clock, 2))
        extended = later(clock, 4)
        store.set_retention("k", extended)
        assert store.head("k").retain_until == extended
        clock.advance(timedelta(seconds=3))
        with pytest.raises(PermissionError):
            store.delete("k")
        clock.advance(timedelta(seconds=2))
        assert store.delete("k") == 1

    def test_set_retention_cannot_shorten(self, store: ObjectStore, clock: SteerableClock) -> None:
        until = later(clock, 4)
        store.put("k", [b"x"], retain_until=until)
        with pytest.raises(PermissionError):
            store.set_retention("k", later(clock, 2))
        assert store.head("k").retain_until == until
        with pytest.raises(PermissionError):
            store.delete("k")

    def test_set_retention_on_unprotected_object(
        self, store: ObjectStore, clock: SteerableClock
    ) -> None:
        store.put("k", [b"x"])
        until = later(clock, 3)
        store.set_retention("k", until)
        assert store.head("k").retain_until == until
        with pytest.raises(PermissionError):
            store.delete("k")
        clock.advance(timedelta(seconds=4))
        assert store.delete("k") == 1

    def test_set_retention_naive_rejected(self, store: ObjectStore) -> None:
        store.put("k", [b"x"])
        with pytest.raises(ValueError):
            store.set_retention("k", datetime(2099, 1, 1))
        assert store.head("k").retain_until is None

    def test_legal_hold_blocks_delete_until_released(self, store: ObjectStore) -> None:
        store.put("k", [b"x"])
        store.set_legal_hold("k", True)
        assert store.head("k").legal_hold is True
        with pytest.raises(PermissionError):
            store.delete("k")
        assert read(store, "k") == b"x"
        store.set_legal_hold("k", False)
        assert store.head("k").legal_hold is False
        assert store.delete("k") == 1

    def test_put_with_legal_hold(self, store: ObjectStore) -> None:
        info = store.put("k", [b"x"], legal_hold=True)
        assert info.legal_hold is True
        assert store.head("k").legal_hold is True
        with pytest.raises(PermissionError):
            store.delete("k")
        store.set_legal_hold("k", False)
        assert store.delete("k") == 1

    def test_legal_hold_outlives_retention(self, store: ObjectStore, clock: SteerableClock) -> None:
        store.put("k", [b"x"], retain_until=later(clock, 2), legal_hold=True)
        clock.advance(timedelta(seconds=3))
        with pytest.raises(PermissionError):
            store.delete("k")
        store.set_legal_hold("k", False)
        assert store.delete("k") == 1

    def test_legal_hold_keeps_retention(self, store: ObjectStore, clock: SteerableClock) -> None:
        until = later(clock, 3)
        store.put("k", [b"x"], retain_until=until)
        store.set_legal_hold("k", True)
        store.set_legal_hold("k", False)
        assert store.head("k").retain_until == until
        with pytest.raises(PermissionError):
            store.delete("k")
        clock.advance(timedelta(seconds=4))
        assert store.delete("k") == 1

    def test_protection_does_not_spread(self, store: ObjectStore, clock: SteerableClock) -> None:
        store.put("a/locked", [b"x"], retain_until=later(clock, 3), legal_hold=True)
        store.put("a/free", [b"y"])
        assert store.delete("a/free") == 1
        store.set_legal_hold("a/locked", False)
        clock.advance(timedelta(seconds=4))
        assert store.delete("a/locked") == 1

    def test_set_on_missing_key(self, store: ObjectStore, clock: SteerableClock) -> None:
        with pytest.raises(FileNotFoundError):
            store.set_retention("missing", later(clock, 3))
        with pytest.raises(FileNotFoundError):
            store.set_legal_hold("missing", True)
        assert not store.exists("missing")

    @pytest.mark.parametrize("key", HOSTILE_KEYS)
    def test_set_hostile_key(self, store: ObjectStore, clock: SteerableClock, key: str) -> None:
        with pytest.raises(ValueError):
            store.set_retention(key, later(clock, 3))
        with pytest.raises(ValueError):
            store.set_legal_hold(key, True)
