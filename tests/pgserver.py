"""Start and stop a real, throw-away PostgreSQL server for tests (Debian's binaries).

    with postgres_server(tmp_path) as pg:
        url = pg.create_database("t1")   # postgresql+psycopg://vault_test:...@127.0.0.1:PORT/t1
        engine = vault.db.open_database(url)

Nothing is assumed to be running: ``initdb`` makes a fresh cluster, ``pg_ctl -w start`` starts it,
``pg_ctl -m immediate stop`` stops it (in a ``finally``) and the cluster is deleted.

* Binaries: the highest version under ``/usr/lib/postgresql/*/bin`` (``$PATH`` is not used;
  ``$VAULT_PG_BINDIR`` overrides). None there -> :class:`PgServerError` saying to
  ``apt-get install postgresql`` (``make test`` installs it).
* ``initdb`` refuses to run as root, so as root every server command runs as the ``postgres`` OS
  user (``runuser -u postgres --``); as anyone else it runs directly. The cluster, its unix
  socket and its log live in a fresh ``tempfile.mkdtemp()`` owned by that user (pytest's tmp dirs
  are 0700 root, which it could not enter); it is removed at the end, and the server log is
  copied to ``base_dir/postgresql.log`` first.
* Network: ``listen_addresses='127.0.0.1'`` only, on a free port (bind port 0; retried on a
  clash); the unix socket is in the private temp dir.
* Auth: one superuser ``vault_test`` with a random password; TCP from 127.0.0.1 uses
  ``scram-sha-256`` (so the URL carries a password, as in production) and nothing else is
  accepted over TCP; the unix socket (reachable only by root and ``postgres``) is ``trust``.
* Speed over durability: ``fsync=off``, ``synchronous_commit=off``, ``full_page_writes=off``.
* The server's ``TimeZone`` is deliberately not UTC (``Asia/Kolkata``, +05:30) so that code
  that relies on the session time zone shows up in tests.

The pytest fixtures live here too (``from tests.pgserver import pg_server, pg_url  # noqa``):
``pg_server`` (session) starts one server; ``pg_url`` (function) is the SQLAlchemy URL of a
fresh, empty database for one test, dropped afterwards. The driver is psycopg 3
(``pip install "psycopg[binary]"``), imported only when a database is created.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["PgServer", "PgServerError", "find_pg_bindir", "pg_server", "pg_url",
           "postgres_server"]

PG_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "vault_test"
OS_USER = "postgres"
START_TIMEOUT = 60  # seconds, for pg_ctl -w
SERVER_TIMEZONE = "Asia/Kolkata"
_NEEDED = ("initdb", "pg_ctl", "postgres")


class PgServerError(RuntimeError):
    """PostgreSQL could not be found or started (the message says why, with the log tail)."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path.parent.name)) or (0,)


def find_pg_bindir() -> Path:
    """Debian's PostgreSQL ``bin`` directory, highest version first; PgServerError if none."""
    explicit = os.environ.get("VAULT_PG_BINDIR")
    candidates = [Path(explicit)] if explicit else sorted(
        PG_ROOT.glob("*/bin"), key=_version_key, reverse=True)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in _NEEDED):
            return bindir
    where = explicit or f"{PG_ROOT}/*/bin"
    raise PgServerError(
        f"PostgreSQL server binaries ({', '.join(_NEEDED)}) not found under {where}: "
        "install them with `apt-get install postgresql` (`make test` does)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_server_user() -> tuple[list[str], tuple[int, int] | None]:
    """(command prefix, (uid, gid) to chown to) for running the server's commands."""
    if os.geteuid() != 0:
        return [], None
    import pwd

    try:
        pw = pwd.getpwnam(OS_USER)
    except KeyError:
        raise PgServerError(
            f"running as root, but there is no {OS_USER!r} OS user to run PostgreSQL as "
            "(initdb refuses root): `apt-get install postgresql` creates it") from None
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", OS_USER, "--"], (pw.pw_uid, pw.pw_gid)


@dataclass
class PgServer:
    """A running server: where it listens and how to log in."""

    host: str
    port: int
    user: str
    password: str
    data_dir: Path
    socket_dir: Path
    log_path: Path
    bindir: Path

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of database `dbname` on this server."""
        return (f"postgresql+psycopg://{self.user}:{self.password}@{self.host}:{self.port}/"
                f"{dbname}")

    @property
    def admin_url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` maintenance database, as the superuser."""
        return self.url("postgres")

    def connect(self, dbname: str = "postgres", **kw: Any) -> Any:
        """A plain psycopg connection (autocommit) as the superuser."""
        psycopg = _psycopg()
        return psycopg.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, dbname=dbname, autocommit=True,
                               connect_timeout=10, **kw)

    def create_database(self, name: str) -> str:
        """Create an empty database `name` and return its SQLAlchemy URL."""
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name`, disconnecting whoever is still in it (a no-op if absent)."""
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                         .format(sql.Identifier(name)))


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise PgServerError('the PostgreSQL driver is missing: pip install "psycopg[binary]"'
                            ) from None
    return psycopg


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _run(cmd: list[str], what: str, *, cwd: Path, log: Path | None = None,
         timeout: float = START_TIMEOUT + 30) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise PgServerError(f"{what} timed out after {timeout:.0f}s: {' '.join(cmd)}") from None
    if proc.returncode != 0:
        tail = f"\n--- server log ---\n{_log_tail(log)}" if log is not None else ""
        raise PgServerError(f"{what} failed ({proc.returncode}): {' '.join(cmd)}\n"
                            f"{proc.stdout}{proc.stderr}{tail}")


def _config(port: int, socket_dir: Path) -> str:
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{socket_dir}'",
        "unix_socket_permissions": "0700",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "100",
        "timezone": f"'{SERVER_TIMEZONE}'",
        "log_timezone": "'UTC'",
        "logging_collector": "off",
    }
    return "\n# tests/pgserver.py\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())


_HBA = """\
# tests/pgserver.py: the private unix socket is trusted; TCP only from 127.0.0.1, by password.
local   all   all                  trust
host    all   all   127.0.0.1/32   scram-sha-256
"""


def _write(path: Path, text: str, owner: tuple[int, int] | None, *, append: bool = False) -> None:
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        f.write(text)
    if owner is not None:
        os.chown(path, *owner)


def _kill_leftover(data_dir: Path) -> None:
    """SIGKILL the postmaster we started if `pg_ctl stop` left it running."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return
    with suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


@contextmanager
def postgres_server(base_dir: Path, *, attempts: int = 3) -> Iterator[PgServer]:
    """Run a fresh PostgreSQL cluster on 127.0.0.1 for the duration of the block.

    `base_dir` receives a copy of the server log (``postgresql.log``) when the server stops.
    """
    bindir = find_pg_bindir()
    _psycopg()  # fail early, and clearly, without the driver
    prefix, owner = _as_server_user()
    base_dir = Path(base_dir)
    base_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="vault-pg-"))
    data_dir, socket_dir, log_path = work / "data", work / "sock", work / "postgresql.log"
    started = False
    try:
        socket_dir.mkdir(mode=0o700)
        password = secrets.token_hex(16)
        _write(work / "pwfile", password + "\n", owner)
        if owner is not None:
            os.chown(work, *owner)
            os.chown(socket_dir, *owner)
        _run([*prefix, str(bindir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER,
              f"--pwfile={work / 'pwfile'}", "--auth-local=trust",
              "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
              "--no-instructions"], "initdb", cwd=work)
        (work / "pwfile").unlink()
        _write(data_dir / "pg_hba.conf", _HBA, owner)
        for attempt in range(1, attempts + 1):
            port = free_port()
            _write(data_dir / "postgresql.auto.conf", _config(port, socket_dir), owner)
            try:
                _run([*prefix, str(bindir / "pg_ctl"), "-D", str(data_dir), "-l",
                      str(log_path), "-w", "-t", str(START_TIMEOUT), "start"],
                     "pg_ctl start", cwd=work, log=log_path)
                started = True
                break
            except PgServerError:
                _kill_leftover(data_dir)
                in_use = "could not bind" in _log_tail(log_path, 200).lower()
                if attempt == attempts or not in_use:
                    raise
                time.sleep(0.2)
        server = PgServer(host="127.0.0.1", port=port, user=SUPERUSER, password=password,
                          data_dir=data_dir, socket_dir=socket_dir, log_path=log_path,
                          bindir=bindir)
        with server.connect() as conn:  # the real login path answers
            conn.execute("SELECT 1")
        yield server
    finally:
        try:
            if started:
                with suppress(PgServerError):
                    _run([*prefix, str(bindir / "pg_ctl"), "-D", str(data_dir), "-m",
                          "immediate", "-w", "-t", "30", "stop"], "pg_ctl stop", cwd=work,
                         timeout=60)
                _kill_leftover(data_dir)
        finally:
            with suppress(OSError):
                shutil.copyfile(log_path, base_dir / "postgresql.log")
            shutil.rmtree(work, ignore_errors=True)


# -- pytest fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """One PostgreSQL server for the whole test session (started on first use)."""
    with postgres_server(tmp_path_factory.mktemp("postgres")) as server:
        yield server


_db_counter = 0


@pytest.fixture
def pg_url(pg_server: PgServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database for this test (dropped afterwards)."""
    global _db_counter
    _db_counter += 1
    stem = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    name = f"t{_db_counter:04d}_{stem}"
    url = pg_server.create_database(name)
    yield url
    with suppress(Exception):
        pg_server.drop_database(name)
