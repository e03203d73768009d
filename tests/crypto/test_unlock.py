"""Opening a vault: where its database is, and the identity unlocked while the rest loads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pyrage
import pytest
from sqlalchemy.engine import make_url

from vault.age import X25519Identity
from vault.config import Settings
from vault.crypto import keys
from vault.errors import AuthenticationError, NotInitialised


def _settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(home=tmp_path, db_url=db_url, store_url=f"file://{tmp_path}/o",
                    identity_path=tmp_path / "id.age")


@pytest.mark.parametrize("url", [
    "sqlite:////abs/vault.db", "sqlite:///rel/vault.db", "sqlite:///", "sqlite://",
    "sqlite:///:memory:", "sqlite:///a%20b.db", "sqlite:///x.db?mode=ro",
    "sqlite+pysqlite:////abs/v.db", "postgresql+psycopg://u:p@127.0.0.1:5/v"])
def test_sqlite_path_reads_the_url_as_sqlalchemy_does(url: str, tmp_path: Path) -> None:
    u = make_url(url)
    want = (Path(u.database) if u.get_backend_name() == "sqlite" and u.database
            and u.database != ":memory:" else None)  # fmt: skip
    assert _settings(tmp_path, url).sqlite_path() == want


def test_require_vault(tmp_path: Path) -> None:
    s = _settings(tmp_path, f"sqlite:///{tmp_path}/vault.db")
    with pytest.raises(NotInitialised, match="no vault at"):
        s.require_vault()
    (tmp_path / "vault.db").touch()
    s.require_vault()
    _settings(tmp_path, "postgresql+psycopg://u@127.0.0.1/v").require_vault()  # assumed


def test_unlock_runs_beside_the_caller_and_hands_over_errors(tmp_path: Path) -> None:
    ident = X25519Identity.generate()
    path = tmp_path / "id.age"
    path.write_bytes(pyrage.passphrase.encrypt(str(ident).encode(), "passphrase-1"))
    spins = 0
    t0 = time.perf_counter()
    wait = keys.unlock_in_background(path, "passphrase-1")
    while time.perf_counter() - t0 < 0.3:  # this thread keeps the GIL busy meanwhile
        spins += 1
    assert str(wait()) == str(ident)
    assert spins > 500_000  # the scrypt did not hold the GIL (rage's does: ~60,000 in 2 s)
    assert not [t for t in threading.enumerate() if t.name == "vault-unlock"]
    with pytest.raises(AuthenticationError, match="wrong passphrase"):
        keys.unlock_in_background(path, "passphrase-2")()
    with pytest.raises(AuthenticationError, match="no identity file"):
        keys.unlock_in_background(tmp_path / "missing.age", "passphrase-1")()
    path.write_bytes(b"age-encryption.org/v1\nnot an age file")
    with pytest.raises(AuthenticationError, match="not a vault identity"):
        keys.unlock_in_background(path, "passphrase-1")()
