"""LocalStore: the shared contract, plus filesystem-specific promises."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage_backends import LocalStore, ObjectStore, check_key, check_prefix, open_store

from .contract import (
    HOSTILE_KEYS,
    VALID_ODD_KEYS,
    Boom,
    DeleteContract,
    FakeClock,
    GetContract,
    HeadContract,
    ListContract,
    PutContract,
    RetentionContract,
    failing_chunks,
    later,
    read,
    requires,
)


class LocalStoreFixtures:
    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    @pytest.fixture
    def store(self, tmp_path: Path, clock: FakeClock) -> LocalStore:
        return LocalStore(tmp_path / "store", clock=clock)


class TestLocalPut(PutContract, LocalStoreFixtures):
    pass


class TestLocalGet(GetContract, LocalStoreFixtures):
    pass


class TestLocalHead(HeadContract, LocalStoreFixtures):
    pass


class TestLocalDelete(DeleteContract, LocalStoreFixtures):
    pass


class TestLocalList(ListContract, LocalStoreFixtures):
    pass


class TestLocalRetention(RetentionContract, LocalStoreFixtures):
    pass


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> LocalStore:
    return LocalStore(tmp_path / "store", clock=clock)


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if not p.is_dir())


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith("~tmp-")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------------------------- local-only promises


def test_satisfies_protocol(store: LocalStore) -> None:
    typed: ObjectStore = store
    assert isinstance(typed, ObjectStore)
    assert store.capabilities == frozenset({"retention"})
    requires_skip = pytest.skip.Exception
    with pytest.raises(requires_skip):
        requires(store, "object_lock")


def test_url_is_file_url_of_absolute_root(store: LocalStore) -> None:
    assert store.url == "file://" + str(store.root)
    assert store.root.is_absolute()


def test_root_created_private(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "store"
    LocalStore(root)
    assert root.is_dir()
    assert mode(root) == 0o700


def test_existing_root_is_reused(tmp_path: Path, clock: FakeClock) -> None:
    LocalStore(tmp_path / "s", clock=clock).put("k", [b"kept"])
    again = LocalStore(tmp_path / "s", clock=clock)
    assert read(again, "k") == b"kept"


def test_root_must_be_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        LocalStore(tmp_path / "file")


def test_files_0600_and_dirs_0700(store: LocalStore, clock: FakeClock) -> None:
    store.put("a/b/c", [b"x"], retain_until=later(clock, 5))
    store.put("top", [b"y"], legal_hold=True)
    files = all_files(store.root)
    assert files, "expected object and sidecar files"
    for path in files:
        assert mode(path) == 0o600, path
    for path in (store.root / "a", store.root / "a" / "b", store.root / "~meta"):
        assert mode(path) == 0o700, path
    for path in (store.root / "~meta").iterdir():
        assert mode(path) == 0o700, path


def test_object_stored_at_key_path(store: LocalStore) -> None:
    store.put("a/b/c", [b"payload"])
    assert (store.root / "a" / "b" / "c").read_bytes() == b"payload"


def test_no_temp_files_after_failed_put(store: LocalStore, clock: FakeClock) -> None:
    with pytest.raises(Boom):
        store.put("a/b", failing_chunks(Boom()))
    with pytest.raises(Boom):
        store.put("top", failing_chunks(Boom()), retain_until=later(clock, 5))
    assert temp_files(store.root) == []
    assert [p for p in all_files(store.root) if p.name != "~lock"] == []


def test_no_temp_files_after_success_or_conflict(store: LocalStore) -> None:
    store.put("k", [b"x"], legal_hold=True)
    with pytest.raises(FileExistsError):
        store.put("k", [b"y"])
    assert temp_files(store.root) == []


def test_non_bytes_chunks_rejected_and_cleaned(store: LocalStore) -> None:
    with pytest.raises(TypeError):
        store.put("k", b"not wrapped in a list")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.put("k", ["text"])  # type: ignore[list-item]
    assert not store.exists("k")
    assert temp_files(store.root) == []


def test_existing_key_rejected_before_consuming_chunks(store: LocalStore) -> None:
    store.put("k", [b"x"])
    consumed: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        consumed.append(b"!")
        yield b"y"

    with pytest.raises(FileExistsError):
        store.put("k", chunks())
    assert consumed == []


def test_stray_temp_and_foreign_files_invisible(store: LocalStore) -> None:
    store.put("a/real", [b"x"])
    (store.root / "~tmp-crashed").write_bytes(b"junk")
    (store.root / "a" / "~tmp-crashed").write_bytes(b"junk")
    (store.root / "has space").write_bytes(b"junk")
    os.symlink(store.root / "a" / "real", store.root / "a" / "link")
    assert list(store.list()) == ["a/real"]
    assert not store.exists("a/link")
    with pytest.raises(FileNotFoundError):
        store.get("a/link")


def test_internal_names_are_not_keys(store: LocalStore) -> None:
    store.put("k", [b"x"], legal_hold=True)
    for name in ("~meta", "~lock", "~tmp-x"):
        with pytest.raises(ValueError):
            store.exists(name)


def test_retention_persists_across_instances(tmp_path: Path, clock: FakeClock) -> None:
    until = later(clock, 60)
    LocalStore(tmp_path / "s", clock=clock).put("k", [b"x"], retain_until=until)
    reopened = LocalStore(tmp_path / "s", clock=clock)
    assert reopened.head("k").retain_until == until
    with pytest.raises(PermissionError):
        reopened.delete("k")


def test_delete_removes_sidecar_and_empty_dirs(store: LocalStore, clock: FakeClock) -> None:
    store.put("a/b/c", [b"x"], retain_until=later(clock, 1))
    store.put("a/keep", [b"y"])
    clock.advance(timedelta(seconds=2))
    assert store.delete("a/b/c") == 1
    assert not (store.root / "a" / "b").exists()
    assert (store.root / "a" / "keep").exists()
    assert [p for p in (store.root / "~meta").rglob("*") if p.is_file()] == []


def test_reput_after_delete_has_no_stale_protection(store: LocalStore, clock: FakeClock) -> None:
    store.put("k", [b"x"], retain_until=later(clock, 1))
    clock.advance(timedelta(seconds=2))
    store.delete("k")
    store.put("k", [b"y"])
    assert store.head("k").retain_until is None
    assert store.delete("k") == 1


def test_orphan_sidecar_is_ignored_and_replaced(store: LocalStore, clock: FakeClock) -> None:
    # A crash between writing protection and linking the object leaves an orphan sidecar.
    store.put("k", [b"x"], legal_hold=True)
    (store.root / "k").unlink()
    assert not store.exists("k")
    store.put("k", [b"y"])
    assert store.head("k").legal_hold is False
    assert store.delete("k") == 1


def test_corrupt_sidecar_fails_closed(store: LocalStore) -> None:
    store.put("k", [b"x"], legal_hold=True)
    (sidecar,) = [p for p in (store.root / "~meta").rglob("*.json")]
    sidecar.write_text("{not json")
    with pytest.raises(OSError):
        store.delete("k")
    with pytest.raises(OSError):
        store.head("k")
    assert store.exists("k")
    sidecar.write_text(json.dumps({"key": "other", "retain_until": None, "legal_hold": False}))
    with pytest.raises(OSError):
        store.delete("k")
    assert store.exists("k")


def test_key_and_directory_cannot_coexist(store: LocalStore) -> None:
    store.put("a", [b"x"])
    with pytest.raises(FileExistsError):
        store.put("a/b", [b"y"])
    store.put("d/e", [b"z"])
    with pytest.raises(FileExistsError):
        store.put("d", [b"w"])
    assert list(store.list()) == ["a", "d/e"]
    assert temp_files(store.root) == []
    store.delete("d/e")
    store.put("d", [b"w"])  # emptied directories were pruned
    assert read(store, "d") == b"w"


def test_concurrent_puts_one_winner(store: LocalStore) -> None:
    n = 8
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        payload = f"writer-{i}".encode()

        def chunks() -> Iterator[bytes]:
            barrier.wait()  # all writers hold a temp file before any commits
            yield payload

        try:
            store.put("race/key", chunks())
            result = payload.decode()
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
    assert len(outcomes) == n
    assert len(winners) == 1
    assert read(store, "race/key") == winners[0].encode()
    assert temp_files(store.root) == []


def test_concurrent_retention_never_shrinks(store: LocalStore, clock: FakeClock) -> None:
    store.put("k", [b"x"])
    targets = [later(clock, s) for s in range(10, 90, 10)]
    barrier = threading.Barrier(len(targets))

    def worker(until_index: int) -> None:
        barrier.wait()
        try:
            store.set_retention("k", targets[until_index])
        except PermissionError:
            pass

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.head("k").retain_until == max(targets)


def test_get_keeps_reading_after_delete(store: LocalStore) -> None:
    store.put("k", [b"abcdef"])
    it = store.get("k", chunk_size=2)
    assert store.delete("k") == 1
    assert b"".join(it) == b"abcdef"


def test_get_rejects_bad_chunk_size(store: LocalStore) -> None:
    store.put("k", [b"x"])
    with pytest.raises(ValueError):
        store.get("k", chunk_size=0)


# --------------------------------------------------------------------------- open_store


def test_open_store_file_url(tmp_path: Path) -> None:
    s = open_store(f"file://{tmp_path}/v")
    assert isinstance(s, LocalStore)
    assert s.root == (tmp_path / "v").resolve()
    assert s.url == f"file://{(tmp_path / 'v').resolve()}"


def test_open_store_file_url_localhost_and_escapes(tmp_path: Path) -> None:
    s = open_store(f"file://localhost{tmp_path}/with%20space")
    assert isinstance(s, LocalStore)
    assert s.root == (tmp_path / "with space").resolve()
    again = open_store(s.url)
    assert isinstance(again, LocalStore)
    assert again.root == s.root


def test_open_store_plain_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = open_store(str(tmp_path / "abs"))
    assert isinstance(absolute, LocalStore)
    assert absolute.root == (tmp_path / "abs").resolve()
    monkeypatch.chdir(tmp_path)
    relative = open_store("rel/store")
    assert isinstance(relative, LocalStore)
    assert relative.root == (tmp_path / "rel" / "store").resolve()
    assert relative.url.startswith("file:///")


def test_open_store_passes_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    s = open_store(str(tmp_path / "s"), clock=clock)
    s.put("k", [b"x"], retain_until=later(clock, 5))
    with pytest.raises(PermissionError):
        s.delete("k")
    clock.advance(timedelta(seconds=6))
    assert s.delete("k") == 1


@pytest.mark.parametrize("url", ["gs://b", "http://example.com/x"])
def test_open_store_unsupported_scheme(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported store URL scheme"):
        open_store(url)


@pytest.mark.parametrize(
    "url", ["", "file://otherhost/srv/v", "file:relative/path", "file:///srv/v?x=1"]
)
def test_open_store_malformed(url: str) -> None:
    with pytest.raises(ValueError):
        open_store(url)


# --------------------------------------------------------------------------- base helpers


@pytest.mark.parametrize("key", VALID_ODD_KEYS)
def test_check_key_accepts(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_check_key_rejects(key: str) -> None:
    with pytest.raises(ValueError):
        check_key(key)


def test_check_key_type() -> None:
    with pytest.raises(TypeError):
        check_key(b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["", "a", "a/", "a/b", "a/.", "a/..", "a/.h", "x" * 512])
def test_check_prefix_accepts(prefix: str) -> None:
    assert check_prefix(prefix) == prefix


class TestDeferredSync:
    """Many small writes made durable together: no fsync per object inside the block, one
    syncfs of the store's file system when it ends (before the caller commits records)."""

    def _count(self, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
        import storage_backends.local as local
        calls = {"fsync": 0, "syncfs": 0}
        real_fsync, real_syncfs = os.fsync, local._syncfs

        def fsync(fd: int) -> None:
            calls["fsync"] += 1
            real_fsync(fd)

        def syncfs(path: Path) -> bool:
            calls["syncfs"] += 1
            return real_syncfs(path)

        monkeypatch.setattr(local.os, "fsync", fsync)
        monkeypatch.setattr(local, "_syncfs", syncfs)
        return calls

    def test_writes_in_the_block_are_synced_once_at_its_end(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        store = LocalStore(tmp_path / "s")
        store.put("payload/first", [b"x"])  # makes the directory
        until = datetime.now(UTC) + timedelta(days=1)
        calls = self._count(monkeypatch)
        with store.deferred_sync():
            for i in range(20):
                store.put(f"payload/{i}", [b"data %d" % i])
                store.set_retention(f"payload/{i}", until)
            assert calls == {"fsync": 0, "syncfs": 0}
            with store.deferred_sync():  # nested: the outer block syncs
                store.put("payload/nested", [b"n"])
            assert calls["syncfs"] == 0
        assert calls["syncfs"] == 1
        assert [read(store, f"payload/{i}") for i in (0, 19)] == [b"data 0", b"data 19"]
        assert store.head("payload/3").retain_until is not None
        store.put("payload/after", [b"a"])  # outside the block: durable on return again
        assert calls["fsync"] >= 2

    def test_a_failed_block_syncs_nothing_and_other_threads_stay_durable(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        store = LocalStore(tmp_path / "s")
        calls = self._count(monkeypatch)
        with pytest.raises(Boom), store.deferred_sync():
            t = threading.Thread(target=store.put, args=("other/thread", [b"t"]))
            t.start()
            t.join()
            assert calls["fsync"] >= 1  # the other thread's put fsynced its file
            raise Boom()
        assert calls["syncfs"] == 0

    def test_without_syncfs_each_file_and_directory_is_fsynced(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        import storage_backends.local as local
        store = LocalStore(tmp_path / "s")
        monkeypatch.setattr(local, "_syncfs", lambda path: False)
        synced: list[int] = []
        real = os.fsync
        monkeypatch.setattr(local.os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
        with store.deferred_sync():
            store.put("payload/a", [b"a"])
            store.put("payload/b", [b"b"])
            store.put("payload/c", [b"c"])
            store.delete("payload/c")  # gone before the sync: skipped
            synced.clear()
        assert len(synced) == 4  # a, b, payload/ and the root (payload/ was made in the block)


def test_deferred_sync_is_a_no_op_for_stores_without_it() -> None:
    from storage_backends import deferred_sync

    class Plain:
        pass

    with deferred_sync(Plain()):  # type: ignore[arg-type]
        pass
