"""Shared fixtures: a temporary embedded vault, acting identities without scrypt cost, and an
in-process CLI runner."""

from __future__ import annotations

import io
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage_backends import LocalStore
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)
from vault.age import X25519Identity
from vault.config import Settings
from vault.crypto import keys
from vault.evidence.sources import Source
from vault.metadata.db import open_database
from vault.service import IngestOptions, IngestResult, Vault, bootstrap

PASSPHRASE = "correct horse battery staple"


class StepClock:
    """A clock the tests move: every call returns the current time; advance() moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    home = tmp_path / "home"
    return Settings(home=home, db_url=f"sqlite:///{home / 'vault.db'}",
                    store_url=f"file://{home / 'objects'}",
                    identity_path=tmp_path / "identity.age")


@pytest.fixture
def make_vault(settings: Settings, clock: StepClock) -> Callable[..., Vault]:
    """Open `settings`' vault as `identity` (registering the first one as admin), no scrypt."""
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = open_database(settings.db_url)
    store = LocalStore(settings.home / "objects", clock=clock)

    def make(identity: X25519Identity, name: str = "alice") -> Vault:
        bootstrap._register_first(engine, identity, name, clock, os.urandom)
        return Vault(engine, store, identity, tmp_dir=settings.home / "tmp", clock=clock)
    return make


@pytest.fixture
def alice_id() -> X25519Identity:
    return X25519Identity.generate()


@pytest.fixture
def vault(make_vault: Callable[..., Vault], alice_id: X25519Identity) -> Vault:
    return make_vault(alice_id)


@pytest.fixture
def engagement(vault: Vault) -> str:
    vault.create_engagement("acme-2026", client="Acme Payments", standard="pci-dss-4.0.1")
    return "acme-2026"


def src(name: str, data: bytes) -> Source:
    """An in-memory evidence source."""
    return Source(name=name, size=len(data), open=lambda: io.BytesIO(data))


def ingest_one(vault: Vault, eng: str, name: str, data: bytes, **opts: object) -> IngestResult:
    """Ingest one in-memory file; fails the test on an error result."""
    [r] = vault.ingest(eng, [src(name, data)], IngestOptions(**opts))  # type: ignore[arg-type]
    assert isinstance(r, IngestResult), r
    return r


# -- CLI ---------------------------------------------------------------------------------------

@dataclass
class Result:
    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode("utf-8")

    def json(self) -> object:
        return json.loads(self.out)


_unlocked: dict[tuple[str, bytes], X25519Identity] = {}


def _cached_load(path: Path, passphrase: str, blob: bytes) -> X25519Identity:
    if (passphrase, blob) not in _unlocked:
        _unlocked[(passphrase, blob)] = _real_load(path, passphrase)
    return _unlocked[(passphrase, blob)]


_real_load = keys.load_identity


def _fast_load(path: Path, passphrase: str) -> X25519Identity:
    try:
        blob = path.read_bytes()
    except OSError:
        return _real_load(path, passphrase)
    return _cached_load(path, passphrase, blob)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("VAULT_HOME", str(settings.home))
    monkeypatch.delenv("VAULT_DB_URL", raising=False)
    monkeypatch.delenv("VAULT_STORE_URL", raising=False)
    monkeypatch.setenv("VAULT_IDENTITY", str(settings.identity_path))
    monkeypatch.setenv("VAULT_PASSPHRASE", PASSPHRASE)
    # Unlocking is real (scrypt) the first time per file content, then memoised for speed.
    monkeypatch.setattr(keys, "load_identity", _fast_load)
    return settings


@pytest.fixture
def run(cli_env: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `vault ARGS...` in-process; stdin may be given as bytes."""
    from vault.cli.main import main

    def runner(*args: str, stdin: bytes = b"") -> Result:
        out = io.BytesIO()

        wrapper = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        monkeypatch.setattr(sys, "stdout", wrapper)
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        capsys.readouterr()
        code = main(list(args))
        wrapper.flush()
        err = capsys.readouterr().err
        return Result(code, out.getvalue(), err)
    return runner


@pytest.fixture(scope="session")
def identity_blob(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One passphrase-protected identity file for the session (scrypt is slow by design)."""
    path = tmp_path_factory.mktemp("identity") / "identity.age"
    keys.create_identity(path, PASSPHRASE)
    return path.read_bytes()


@pytest.fixture
def initialised(run: Callable[..., Result], cli_env: Settings,
                identity_blob: bytes) -> Callable[..., Result]:
    """A vault whose first user, alice, uses a copy of the session's identity file."""
    cli_env.identity_path.write_bytes(identity_blob)
    cli_env.identity_path.chmod(0o600)
    r = run("init", "--name", "alice")
    assert r.code == 0, r.err
    return run


@pytest.fixture
def files(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "evidence"
    (d / "fw").mkdir(parents=True)
    (d / "fw" / "rules.txt").write_text("permit tcp any host 10.0.0.1 eq 443\n")
    (d / "notes.md").write_text("# interview\nthe admin reviews rules twice a year\n")
    (d / "empty.log").write_bytes(b"")
    yield d


def serve_agent(ident: X25519Identity, tmp_path: Path) -> tuple[Any, threading.Thread]:
    """An unlock agent for `ident` serving on a thread (stop it with ``server.stop()``)."""
    from vault.crypto import agent

    d = tmp_path / "agent"
    d.mkdir(mode=0o700)
    server = agent.Agent(ident, d / "a.sock", lifetime=60)
    server.bind()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    return server, thread
