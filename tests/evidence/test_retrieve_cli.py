"""`vault get` when the output cannot take the item: a missing directory, a directory (even
with --force), a full disk, a closed pipe — one line, exit 2, nothing written or removed, no
plaintext left in a temporary file."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_cli import one_line_error
from tests.conftest import Result, ingest_one
from vault.config import Settings
from vault.evidence import retrieve
from vault.service import Vault

Run = Callable[..., Result]
DATA = b"permit tcp any host 10.0.0.1 eq 443\n" * 20_000  # 720 KB of plain text


@pytest.fixture
def item(initialised: Run) -> str:
    r = initialised("engagement", "create", "acme", "--client", "Acme Payments",
                    "--standard", "pci-dss-4.0.1")
    assert r.code == 0, r.err
    r = initialised("ingest", "acme", "-", "--name", "rules.txt", "--json", stdin=DATA)
    assert r.code == 0, r.err
    records = r.json()
    assert isinstance(records, list) and len(records) == 1
    return str(records[0]["id"])


def leftovers(*dirs: Path) -> list[str]:
    return [p.name for d in dirs if d.exists() for p in d.iterdir()
            if p.name.startswith(retrieve.TEMP_PREFIX)]


def test_get_into_a_missing_directory(initialised: Run, item: str, tmp_path: Path) -> None:
    dest = tmp_path / "missing" / "out.txt"
    one_line_error(initialised("get", item, "-o", str(dest)),
                   f"no such directory: {tmp_path / 'missing'}")
    assert not (tmp_path / "missing").exists()
    one_line_error(initialised("get", item, "-o", str(dest), "--force"),
                   f"no such directory: {tmp_path / 'missing'}")
    (tmp_path / "file").write_bytes(b"keep")
    one_line_error(initialised("get", item, "-o", str(tmp_path / "file" / "out.txt")),
                   f"not a directory: {tmp_path / 'file'}")
    assert (tmp_path / "file").read_bytes() == b"keep"


@pytest.mark.parametrize("force", [False, True])
def test_get_onto_a_directory_leaves_it_alone(initialised: Run, item: str, tmp_path: Path,
                                              force: bool) -> None:
    somedir = tmp_path / "somedir"
    somedir.mkdir()
    (somedir / "inside.txt").write_bytes(b"keep")
    empty = tmp_path / "empty"
    empty.mkdir()
    for d in (somedir, empty):
        r = initialised("get", item, "-o", str(d), *(["--force"] if force else []))
        one_line_error(r, f"output is a directory: {d}")
    assert (somedir / "inside.txt").read_bytes() == b"keep" and empty.is_dir()
    assert list(empty.iterdir()) == [] and leftovers(tmp_path, somedir) == []
    link = tmp_path / "link"
    link.symlink_to(somedir, target_is_directory=True)
    one_line_error(initialised("get", item, "-o", str(link), "--force"),
                   f"output is a directory: {link}")
    assert link.is_symlink() and (somedir / "inside.txt").read_bytes() == b"keep"


def test_get_refuses_a_fifo_as_output_file(initialised: Run, item: str,
                                           tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    one_line_error(initialised("get", item, "-o", str(fifo), "--force"),
                   f"output is not a regular file: {fifo}")
    assert fifo.is_fifo()


def test_get_works_and_replaces_only_with_force(initialised: Run, item: str,
                                                tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    assert initialised("get", item, "-o", str(dest)).code == 0
    assert dest.read_bytes() == DATA
    dest.write_bytes(b"old")
    one_line_error(initialised("get", item, "-o", str(dest)), f"output file exists: {dest}")
    assert dest.read_bytes() == b"old"
    assert initialised("get", item, "-o", str(dest), "--force").code == 0
    assert dest.read_bytes() == DATA and leftovers(tmp_path) == []


def test_a_full_disk_under_the_output_file(initialised: Run, item: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: object, b: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(retrieve._SyncingWriter, "write", full)
    dest = tmp_path / "out.txt"
    one_line_error(initialised("get", item, "-o", str(dest)),
                   f"cannot write {dest}: no space left on device")
    assert leftovers(tmp_path) == [] and not dest.exists()


def run_with_stdout(stdout: io.TextIOWrapper, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from vault.cli.main import main

    monkeypatch.setattr(sys, "stdout", stdout)
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().err


def test_get_to_a_full_stdout(initialised: Run, item: str, cli_env: Settings,
                              monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    with open("/dev/full", "w") as full:  # noqa: PTH123
        code, err = run_with_stdout(full, monkeypatch, capsys, "get", item)
        assert (code, err.splitlines()) == (
            2, ["vault: error: cannot write to /dev/full: no space left on device"])
    assert leftovers(cli_env.home / "tmp") == []
    assert list((cli_env.home / "tmp").iterdir()) == []


def test_get_to_a_closed_pipe(initialised: Run, item: str, cli_env: Settings,
                              monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    r, w = os.pipe()
    os.close(r)
    with os.fdopen(w, "w") as pipe:
        code, err = run_with_stdout(pipe, monkeypatch, capsys, "get", item)
        assert (code, err.splitlines()) == (
            2, ["vault: error: cannot write to the output: broken pipe"])
    assert list((cli_env.home / "tmp").iterdir()) == []


@pytest.mark.parametrize("where", ["/dev/full", "closed pipe"])
def test_get_to_a_failing_stdout_in_a_real_process(initialised: Run, item: str,
                                                   cli_env: Settings, where: str) -> None:
    """The real program: one error line, and no second complaint when Python flushes stdout
    at exit."""
    vault = Path(sys.executable).with_name("vault")
    code_root = Path(retrieve.__file__).parents[2]  # this tree's `vault`, whatever is installed
    if where == "/dev/full":
        out = os.open("/dev/full", os.O_WRONLY)
        reason = "no space left on device"
    else:
        r, out = os.pipe()
        os.close(r)
        reason = "broken pipe"
    try:
        done = subprocess.run([str(vault), "get", item], stdout=out, stderr=subprocess.PIPE,
                              env=os.environ | {"PYTHONPATH": str(code_root)}, timeout=120,
                              check=False)
    finally:
        os.close(out)
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        f"vault: error: cannot write to standard output: {reason}"]
    assert list((cli_env.home / "tmp").iterdir()) == []


def test_temporary_files_beside_the_destination_have_the_stable_prefix(
        vault: Vault, engagement: str, tmp_path: Path) -> None:
    """What `vault doctor` looks for after a killed `get -o`: `.vault-get-*`, 0600, beside the
    destination, and gone once the item is published."""
    r = ingest_one(vault, engagement, "a.txt", DATA)
    dest = tmp_path / "out" / "a.txt"
    dest.parent.mkdir()
    seen: list[tuple[str, int]] = []

    def look(_n: int) -> None:
        seen.extend((p.name, p.stat().st_mode & 0o777) for p in dest.parent.iterdir())
    vault.read_item(r.view.item.id, dest=dest, progress=look)
    assert seen and all(n.startswith(".vault-get-") and mode == 0o600 for n, mode in seen)
    assert retrieve.TEMP_PREFIX == ".vault-get-"
    assert [p.name for p in dest.parent.iterdir()] == ["a.txt"]
