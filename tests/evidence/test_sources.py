"""Turning paths into sources: a directory ingest cannot be steered out of its tree (links,
files swapped between listing and reading), special files are reported, never read or waited
on, and names that are not UTF-8 are made displayable."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ingest_one
from vault.errors import InvalidInput, VaultError
from vault.evidence import sources
from vault.evidence.sources import Source, SourceChanged, collect
from vault.service import IngestOptions, IngestResult, Vault

SECRET = b"root:$6$outside-the-tree\n"


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    """tmp/d/{a.txt, b.txt, sub/x.txt}, and tmp/outside/ with files of the same sizes."""
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_bytes(b"a" * len(SECRET))
    (d / "b.txt").write_bytes(b"bravo\n")
    (d / "sub" / "x.txt").write_bytes(b"x" * len(SECRET))
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret").write_bytes(SECRET)
    (out / "x.txt").write_bytes(SECRET)
    yield d


def by_name(srcs: list[Source]) -> dict[str, Source]:
    return {s.name: s for s in srcs}


def read(src: Source) -> bytes:
    with src.open() as f:
        return f.read()


def test_walk_order_and_names(tree: Path) -> None:
    (tree / "sub" / "deeper").mkdir()
    (tree / "sub" / "deeper" / "y.txt").write_bytes(b"y")
    assert [s.name for s in collect([str(tree)])] == [
        "d/a.txt", "d/b.txt", "d/sub/x.txt", "d/sub/deeper/y.txt"]
    assert all(s.skipped is None for s in collect([str(tree)]))


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(tree: Path) -> None:
    srcs = by_name(collect([str(tree)]))
    (tree / "a.txt").unlink()
    (tree / "a.txt").symlink_to(tree.parent / "outside" / "secret")
    with pytest.raises(SourceChanged) as err:
        read(srcs["d/a.txt"])
    assert err.value.message == "d/a.txt changed or was replaced between listing and reading"
    assert read(srcs["d/b.txt"]) == b"bravo\n"  # the rest goes on


def test_a_file_swapped_for_another_file_is_refused(tree: Path) -> None:
    srcs = by_name(collect([str(tree)]))
    other = tree / "a.new"
    other.write_bytes(SECRET)  # same size, another inode
    os.replace(other, tree / "a.txt")
    with pytest.raises(SourceChanged, match="d/a.txt changed or was replaced"):
        read(srcs["d/a.txt"])


def test_a_directory_swapped_for_a_link_after_listing_is_not_followed(tree: Path) -> None:
    srcs = by_name(collect([str(tree)]))
    (tree / "sub").rename(tree / "sub.old")
    (tree / "sub").symlink_to(tree.parent / "outside", target_is_directory=True)
    with pytest.raises(SourceChanged, match="d/sub/x.txt changed or was replaced"):
        read(srcs["d/sub/x.txt"])


def read_without_blocking(src: Source, fifo: Path) -> BaseException | bytes:
    """What reading `src` gives (its bytes or the exception), failing the test instead of
    hanging when opening it blocks on the FIFO `fifo`."""
    outcome: list[BaseException | bytes] = []

    def attempt() -> None:
        try:
            outcome.append(read(src))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)
    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(10)
    if t.is_alive():  # unblock the stuck open() before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("opening a FIFO swapped in for a listed file blocked")
    return outcome[0]


def test_a_fifo_swapped_in_never_blocks(tree: Path) -> None:
    srcs = by_name(collect([str(tree)]))
    fifo = tree / "a.txt"
    fifo.unlink()
    os.mkfifo(fifo)
    exc = read_without_blocking(srcs["d/a.txt"], fifo)
    assert isinstance(exc, SourceChanged), exc


def test_special_entries_inside_a_directory_are_reported_not_read(tree: Path) -> None:
    outside = tree.parent / "outside"
    (tree / "link").symlink_to(outside / "secret")
    (tree / "dirlink").symlink_to(outside, target_is_directory=True)
    (tree / "dangling").symlink_to(tree / "nowhere")
    os.mkfifo(tree / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock_path = tree / "s"
    try:
        sock.bind(str(sock_path))
        if os.geteuid() == 0:
            os.mknod(tree / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        srcs = by_name(collect([str(tree)]))
    finally:
        sock.close()
    reasons = {n: s.skipped for n, s in srcs.items() if s.skipped is not None}
    want = {"d/link": "a symbolic link (not followed inside a directory)",
            "d/dirlink": "a symbolic link (not followed inside a directory)",
            "d/dangling": "a symbolic link (not followed inside a directory)",
            "d/pipe": "a named pipe (fifo)", "d/s": "a socket"}
    if os.geteuid() == 0:
        want["d/null"] = "a device file"
    assert reasons == want
    assert srcs["d/pipe"].path == tree / "pipe"
    with pytest.raises(InvalidInput) as err:
        srcs["d/link"].open()
    assert err.value.message == ("skipped d/link: a symbolic link (not followed inside a "
                                 "directory)")
    assert "d/secret" not in srcs and "d/dirlink/secret" not in srcs  # nothing walked through
    assert sorted(n for n, s in srcs.items() if s.skipped is None) == [
        "d/a.txt", "d/b.txt", "d/sub/x.txt"]


def test_a_link_named_on_the_command_line_is_followed(tree: Path) -> None:
    """The user named it: followed, under the name they gave (a decision, see sources)."""
    link = tree.parent / "named-link"
    link.symlink_to(tree.parent / "outside" / "secret")
    [src] = collect([str(link)])
    assert (src.name, read(src)) == ("named-link", SECRET)
    dirlink = tree.parent / "dirlink"
    dirlink.symlink_to(tree, target_is_directory=True)
    assert [s.name for s in collect([str(dirlink)])] == [
        "dirlink/a.txt", "dirlink/b.txt", "dirlink/sub/x.txt"]


def test_a_named_file_replaced_after_listing_is_refused(tree: Path) -> None:
    [src] = collect([str(tree / "b.txt")])
    (tree / "b.txt").unlink()
    os.mkfifo(tree / "b.txt")
    exc = read_without_blocking(src, tree / "b.txt")
    assert isinstance(exc, SourceChanged), exc
    assert exc.message == "b.txt changed or was replaced between listing and reading"


def test_names_that_are_not_utf8_are_made_displayable(tree: Path) -> None:
    raw = os.fsencode(tree) + b"/caf\xe9.txt"
    fd = os.open(raw, os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, b"latin-1 name\n")
    os.close(fd)
    srcs = by_name(collect([str(tree)]))
    src = srcs["d/caf\\xe9.txt"]
    src.name.encode("utf-8")  # valid Unicode
    assert read(src) == b"latin-1 name\n"
    [named] = collect([os.fsdecode(raw)])
    assert named.name == "caf\\xe9.txt"
    assert sources.display("ok \u00e9") == "ok \u00e9"
    assert sources.display("lone \ud800") == "lone \\ud800"
    assert sources.stdin_source(os.fsdecode(b"caf\xe9")).name == "caf\\xe9"


def test_directory_ingest_goes_on_past_a_swapped_file_and_a_bad_name(
        vault: Vault, engagement: str, tree: Path) -> None:
    fd = os.open(os.fsencode(tree) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, b"latin-1 name\n")
    os.close(fd)
    os.mkfifo(tree / "pipe")
    srcs = collect([str(tree)])
    (tree / "a.txt").unlink()
    (tree / "a.txt").symlink_to(tree.parent / "outside" / "secret")
    readable = [s for s in srcs if s.skipped is None]
    results = dict(zip([s.name for s in readable],
                       vault.ingest(engagement, readable, IngestOptions()), strict=True))
    err = results.pop("d/a.txt")
    assert isinstance(err, SourceChanged)
    assert all(isinstance(r, IngestResult) for r in results.values()), results
    names = sorted(i.item.original_name for i in vault.list_items(engagement))
    assert names == ["d/b.txt", "d/caf\\xe9.txt", "d/sub/x.txt"]
    secret = hashlib.sha256(SECRET).hexdigest()
    assert all(i.item.sha256 != secret for i in vault.list_items(engagement))


def test_a_skipped_source_given_to_the_service_is_a_per_file_error(
        vault: Vault, engagement: str, tree: Path) -> None:
    """A caller that does not look at `skipped` still never reads it, and hears of it."""
    os.mkfifo(tree / "pipe")
    results = vault.ingest(engagement, collect([str(tree)]), IngestOptions())
    errors = [r for r in results if isinstance(r, VaultError)]
    assert [e.message for e in errors] == ["skipped d/pipe: a named pipe (fifo)"]
    assert len(vault.list_items(engagement)) == 3
    ingest_one(vault, engagement, "after.txt", b"the vault goes on\n")
