"""The unlock agent (vault.agent): one passphrase per session, the identity never handed out."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, Result
from vault import agent, keys
from vault.age import X25519Identity
from vault.config import Settings
from vault.errors import AuthenticationError, InvalidInput

VAULT = Path(sys.executable).with_name("vault")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sock_dir(tmp_path: Path) -> Path:
    d = tmp_path / "agent"
    d.mkdir(mode=0o700)
    return d


@pytest.fixture
def serving(sock_dir: Path) -> Iterator[Callable[..., tuple[agent.Agent, X25519Identity]]]:
    """Start an Agent on a thread; every one started is stopped and joined at the end."""
    started: list[tuple[agent.Agent, threading.Thread]] = []

    def start(lifetime: float = 60, **kw: Any) -> tuple[agent.Agent, X25519Identity]:
        ident = X25519Identity.generate()
        a = agent.Agent(ident, sock_dir / f"a{len(started)}.sock", lifetime=lifetime, **kw)
        a.bind()
        t = threading.Thread(target=a.serve, daemon=True)
        t.start()
        started.append((a, t))
        return a, ident

    yield start
    for a, t in started:
        a.stop()
        t.join(5)
        assert not t.is_alive()


def raw(path: Path, data: bytes) -> Any:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(path))
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return json.loads(s.makefile("rb").readline())


def test_client_learns_the_recipient_and_opens_grants(serving: Any) -> None:
    a, ident = serving()
    key = agent.AgentKey(a.path)
    assert str(key.recipient) == str(ident.recipient)
    grant = keys.wrap_identity(X25519Identity.generate(), ident.recipient)
    engagement = keys.unwrap_identity(grant, key)  # the service's path, through the agent
    assert str(engagement) == str(keys.unwrap_identity(grant, ident))
    assert keys.unwrap_bytes(keys.wrap_bytes(b"signing key", [str(ident.recipient)]),
                             key) == b"signing key"


def test_a_grant_for_someone_else_is_refused(serving: Any) -> None:
    a, _ = serving()
    other = X25519Identity.generate()
    with pytest.raises(AuthenticationError, match="^vault agent: the agent's identity cannot "
                                                  "open this$"):
        keys.unwrap_bytes(keys.wrap_bytes(b"x", [str(other.recipient)]), agent.AgentKey(a.path))


def test_the_identity_itself_is_never_answered(serving: Any) -> None:
    a, ident = serving()
    for op in ("identity", "secret", "export", None):
        answer = raw(a.path, json.dumps({"op": op}).encode() + b"\n")
        assert answer == {"ok": False, "error": "unknown request"}
        assert str(ident) not in json.dumps(answer)


@pytest.mark.parametrize("data, error", [
    (b"x" * (agent.MAX_MESSAGE + 10) + b"\n", "message too long"),
    (b"{not json\n", "not a JSON message"),
    (b"\xff\xfe\n", "not a JSON message"),
    (b'{"op": "recipient"}', "incomplete message"),
    (b'{"op": "unwrap", "blob": "***"}\n', "unwrap needs an age file (base64)"),
    (b'{"op": "unwrap", "blob": 5}\n', "unwrap needs an age file (base64)"),
    (b'{"op": "unwrap", "blob": "aGVsbG8="}\n', "the agent's identity cannot open this"),
    (b'[1, 2]\n', "unknown request"),
])
def test_bad_requests_get_an_error_and_the_agent_goes_on(serving: Any, data: bytes,
                                                        error: str) -> None:
    a, ident = serving()
    assert raw(a.path, data) == {"ok": False, "error": error}
    assert str(agent.AgentKey(a.path).recipient) == str(ident.recipient)


def test_other_users_are_refused(serving: Any) -> None:
    a, _ = serving(uid=os.getuid() + 1)  # as if the agent belonged to someone else
    with pytest.raises(AuthenticationError, match="serves its own user only"):
        agent.AgentKey(a.path)


def test_it_forgets_the_key_at_its_deadline(serving: Any) -> None:
    clock = Clock()
    a, _ = serving(lifetime=30, clock=clock)
    agent.AgentKey(a.path)
    clock.now += 31
    deadline = time.monotonic() + 5
    while a.path.exists():
        assert time.monotonic() < deadline, "the agent outlived its deadline"
        time.sleep(0.05)
    with pytest.raises(agent.AgentUnavailable, match="no vault agent answers at"):
        agent.AgentKey(a.path)


def test_stop_removes_the_socket(serving: Any) -> None:
    a, _ = serving()
    agent.stop(a.path)
    deadline = time.monotonic() + 5
    while a.path.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_socket_is_private_and_its_directory_must_be(sock_dir: Path, serving: Any) -> None:
    a, _ = serving()
    assert a.path.stat().st_mode & 0o777 == 0o600
    open_dir = sock_dir / "shared"
    open_dir.mkdir(mode=0o755)
    open_dir.chmod(0o755)
    b = agent.Agent(X25519Identity.generate(), open_dir / "a.sock", lifetime=5)
    with pytest.raises(InvalidInput, match="must be yours and private"):
        b.bind()
    assert not (open_dir / "a.sock").exists()


def test_default_socket_path(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    p = agent.default_socket_path({"XDG_RUNTIME_DIR": str(runtime)})
    assert p.parent == runtime / "evidence-vault" and p.parent.stat().st_mode & 0o777 == 0o700
    q = agent.default_socket_path({})
    try:
        assert q.parent.name.startswith("vault-agent-")
        assert q.parent.stat().st_mode & 0o777 == 0o700
    finally:
        q.parent.rmdir()


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("30m", 1800),
                                           ("8h", 28800), ("2D", 172800), (" 7d ", 604800)])
def test_parse_lifetime(text: str, seconds: int) -> None:
    assert agent.parse_lifetime(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "-5m", "1.5h", "8w", "0", "8d", "9" * 40])
def test_parse_lifetime_rejects(text: str) -> None:
    with pytest.raises(InvalidInput):
        agent.parse_lifetime(text)


def test_the_agent_process_cannot_be_dumped() -> None:
    code = ("import ctypes; from vault.agent import harden_process; harden_process(); "
            "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))")  # PR_GET_DUMPABLE
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "0"


# -- through the command line ----------------------------------------------------------------


def test_cli_uses_the_agent_and_no_passphrase(initialised: Callable[..., Result],
                                              cli_env: Settings, sock_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env.update(VAULT_HOME=str(cli_env.home), VAULT_IDENTITY=str(cli_env.identity_path))
    sock = sock_dir / "agent.sock"

    def vault(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(VAULT), *args], env={**env, **extra}, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=60)

    started = vault("agent", "--socket", str(sock), "--timeout", "10m",
                    VAULT_PASSPHRASE=PASSPHRASE)
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith(f"VAULT_AGENT_SOCK='{sock}'; export VAULT_AGENT_SOCK;\n")
    pid = int(started.stdout.split("VAULT_AGENT_PID=")[1].split(";")[0])
    try:
        assert sock.exists()
        no_agent = vault("whoami")
        assert no_agent.returncode == 2 and "no passphrase" in no_agent.stderr
        who = vault("whoami", "--json", VAULT_AGENT_SOCK=str(sock))  # no passphrase at all
        assert who.returncode == 0, who.stderr
        assert json.loads(who.stdout)["name"] == "alice"
        stopped = vault("agent", "--stop", VAULT_AGENT_SOCK=str(sock))
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout.startswith("unset VAULT_AGENT_SOCK;")
        deadline = time.monotonic() + 10
        while sock.exists() or _alive(pid):
            assert time.monotonic() < deadline, "the agent did not stop"
            time.sleep(0.05)
        gone = vault("whoami", VAULT_AGENT_SOCK=str(sock))
        assert gone.returncode == 2 and gone.stderr.startswith(
            f"vault: error: no vault agent answers at {sock}\n")
        assert "Traceback" not in gone.stderr
    finally:
        if _alive(pid):
            os.kill(pid, 15)


def test_cli_agent_errors(initialised: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
                          sock_dir: Path) -> None:
    monkeypatch.delenv("VAULT_AGENT_SOCK", raising=False)
    r = initialised("agent", "--stop")
    assert r.code == 2 and "no agent to stop: VAULT_AGENT_SOCK is not set" in r.err
    r = initialised("agent", "--timeout", "forever", "--socket", str(sock_dir / "a.sock"))
    assert r.code == 2 and "not a duration: 'forever'" in r.err
    monkeypatch.setenv("VAULT_PASSPHRASE", "not the passphrase")
    r = initialised("agent", "--socket", str(sock_dir / "a.sock"))
    assert r.code == 2 and "wrong passphrase" in r.err
    assert not (sock_dir / "a.sock").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (not reaped by its parent) counts as gone
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"
