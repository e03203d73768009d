"""What a killed process leaves is found by `vault doctor`; the vault's files are private."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import Result
from vault.config import Settings
from vault.evidence import retrieve
from vault.service import Vault


def test_doctor_finds_and_repairs_unfinished_writes_and_plaintext_leftovers(
        vault: Vault, engagement: str) -> None:
    root = Path(vault.store.url.removeprefix("file://"))
    (root / "payload").mkdir(parents=True, exist_ok=True)
    unfinished = root / "payload" / "~tmp-killed"
    unfinished.write_bytes(b"\x00" * 1024)
    vault.tmp_dir.mkdir(parents=True, exist_ok=True)
    plain = vault.tmp_dir / (retrieve.TEMP_PREFIX + "killed")
    plain.write_bytes(b"plaintext prefix")
    young = vault.doctor()  # an in-flight write is younger than the default hour
    assert young["unfinished_writes"] == [] and young["plaintext_leftovers"] == []
    rep = vault.doctor(older_than=timedelta(0))
    assert rep["unfinished_writes"] == [str(unfinished)]
    assert rep["plaintext_leftovers"] == [str(plain)]
    assert unfinished.exists() and plain.exists()  # found, not touched without --repair
    rep = vault.doctor(repair=True, older_than=timedelta(0))
    assert not unfinished.exists() and not plain.exists()
    assert f"unfinished write {unfinished}" in rep["repaired"]
    assert vault.doctor(older_than=timedelta(0))["unfinished_writes"] == []


def test_the_database_and_its_wal_are_private(initialised, cli_env: Settings) -> None:  # type: ignore[no-untyped-def]
    assert initialised("engagement", "create", "acme-2026", "--client", "c",
                       "--standard", "pci-dss-4.0.1").code == 0
    files = [p for p in cli_env.home.iterdir() if p.name.startswith("vault.db")]
    assert {p.name for p in files} >= {"vault.db"}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_init_tightens_an_existing_open_home(run, cli_env: Settings, identity_blob: bytes  # type: ignore[no-untyped-def]
                                             ) -> None:
    cli_env.home.mkdir(parents=True, mode=0o755)
    cli_env.home.chmod(0o755)
    cli_env.identity_path.write_bytes(identity_blob)
    r: Result = run("init", "--name", "alice")
    assert r.code == 0, r.err
    assert stat.S_IMODE(cli_env.home.stat().st_mode) == 0o700
    assert stat.S_IMODE((cli_env.home / "vault.db").stat().st_mode) == 0o600


def test_opening_a_home_others_can_read_is_refused(initialised, cli_env: Settings) -> None:  # type: ignore[no-untyped-def]
    cli_env.home.chmod(0o750)
    r = initialised("status")
    assert r.code == 2
    assert r.err.splitlines() == [
        f"vault: error: the vault home {cli_env.home} is open to other users (mode 750)",
        f"vault: hint: chmod 700 '{cli_env.home}'"]
    cli_env.home.chmod(0o700)
    assert initialised("status").code == 0


def test_an_existing_open_database_file_is_made_private(vault: Vault, settings: Settings) -> None:
    from vault.metadata.db import open_database
    db = settings.home / "vault.db"
    os.chmod(db, 0o644)
    open_database(settings.db_url)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", [b"", b"SQLite format 3\x00" + b"\x00" * 50,
                                     os.urandom(8192)])
def test_a_damaged_database_is_one_line(initialised, cli_env: Settings, content: bytes) -> None:  # type: ignore[no-untyped-def]
    db = cli_env.home / "vault.db"
    for side in ("vault.db-wal", "vault.db-shm"):
        (cli_env.home / side).unlink(missing_ok=True)
    db.write_bytes(content)
    r = initialised("ls", "acme")
    assert r.code == 2, r.err
    lines = r.err.splitlines()
    assert lines[0].startswith("vault: error: ") and "Traceback" not in r.err
    assert len(lines) <= 2


def test_an_item_left_unprotected_is_found_and_protected_by_doctor(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import src
    from vault.errors import StorageError
    from vault.service import IngestOptions

    def unreachable(*args: object) -> None:
        raise StorageError("could not protect the item with retention: timed out")
    monkeypatch.setattr("vault.service.evidence.protect", unreachable)
    [r] = vault.ingest(engagement, [src("a.txt", b"alpha")], IngestOptions())
    assert isinstance(r, StorageError)
    assert r.message.startswith("'a.txt' is stored as item ")
    assert r.hint == "`vault doctor --repair` sets it once the store answers"
    [item] = vault.list_items(engagement)
    assert vault.store.head(item.item.object_key).retain_until is None
    assert vault.doctor()["unprotected_items"] == [item.item.id]
    rep = vault.doctor(repair=True)
    assert f"retention of item {item.item.id}" in rep["repaired"]
    assert vault.store.head(item.item.object_key).retain_until is not None
    assert vault.doctor()["unprotected_items"] == []
