"""The unlock agent (vault.agent): one passphrase per session, the identity never handed out."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, Result
from vault.age import X25519Identity
from vault.config import Settings
from vault.crypto import agent, keys
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
    p, own = agent.default_socket_path({"XDG_RUNTIME_DIR": str(runtime)})
    assert p.parent == runtime / "evidence-vault" and p.parent.stat().st_mode & 0o777 == 0o700
    assert not own  # shared by the user's agents: never removed
    q, own = agent.default_socket_path({})
    try:
        assert own and q.parent.name.startswith("vault-agent-")
        assert q.parent.stat().st_mode & 0o777 == 0o700
    finally:
        q.parent.rmdir()
    (runtime / "evidence-vault").rmdir()
    (runtime / "evidence-vault").write_text("not a directory")
    with pytest.raises(InvalidInput, match="cannot make a directory for the agent's socket"):
        agent.default_socket_path({"XDG_RUNTIME_DIR": str(runtime)})


def test_its_own_directory_goes_with_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path, own = agent.default_socket_path({})
    a = agent.Agent(X25519Identity.generate(), path, lifetime=60, own_dir=own)
    a.bind()
    t = threading.Thread(target=a.serve)
    t.start()
    agent.stop(path)
    t.join(5)
    assert not path.parent.exists()


def test_a_stale_socket_is_replaced_and_a_live_one_is_not(serving: Any, sock_dir: Path) -> None:
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock_dir / "a0.sock"))  # an agent killed with SIGKILL leaves its socket
    dead.close()
    a, ident = serving()
    assert str(agent.AgentKey(a.path).recipient) == str(ident.recipient)
    second = agent.Agent(X25519Identity.generate(), a.path, lifetime=5)
    with pytest.raises(InvalidInput, match="there is something at .* already"):
        second.bind()
    assert str(agent.AgentKey(a.path).recipient) == str(ident.recipient)
    (sock_dir / "plain").write_text("a file, not a socket")
    third = agent.Agent(X25519Identity.generate(), sock_dir / "plain", lifetime=5)
    with pytest.raises(InvalidInput, match="there is something at"):
        third.bind()
    assert (sock_dir / "plain").read_text() == "a file, not a socket"


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    a = agent.Agent(X25519Identity.generate(), tmp_path / "no" / "a.sock", lifetime=5)
    with pytest.raises(InvalidInput, match="cannot use .* for the agent's socket: No such file"):
        a.bind()


def test_the_lifetime_counts_time_asleep() -> None:
    a = agent.Agent(X25519Identity.generate(), Path("/nonexistent/a.sock"), lifetime=5)
    assert a._clock is agent.boot_clock
    assert abs(agent.boot_clock() - time.clock_gettime(time.CLOCK_BOOTTIME)) < 1


def test_nothing_a_client_sends_ends_the_agent(serving: Any) -> None:
    a, ident = serving()
    assert raw(a.path, b"[" * 60000 + b"\n") == {"ok": False, "error": "not a JSON message"}

    def broken(request: Any) -> dict[str, Any]:
        raise RuntimeError("a bug")
    a.answer = broken  # type: ignore[method-assign]
    assert raw(a.path, b'{"op": "recipient"}\n') == {"ok": False, "error": "internal error"}
    del a.answer
    assert str(agent.AgentKey(a.path).recipient) == str(ident.recipient)


def test_a_slow_client_neither_blocks_the_agent_nor_outlives_its_budget(
        serving: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent, "REQUEST_BUDGET", 0.5)
    a, ident = serving()
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.connect(str(a.path))
    t0 = time.monotonic()
    with slow:
        for _ in range(20):  # a byte every 0.1 s, never a whole line
            try:
                slow.sendall(b" ")
            except OSError:
                break
            time.sleep(0.1)
        assert str(agent.AgentKey(a.path).recipient) == str(ident.recipient)
        assert time.monotonic() - t0 < 3  # served once the slow one's budget was spent


def connected(path: Path) -> socket.socket:
    """A client that connects and sends nothing (yet)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(path))
    return s


def test_idle_clients_do_not_hold_up_a_request(serving: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent, "CLIENT_TIMEOUT", 3.0)  # a request that waits fails fast
    a, ident = serving()
    idle = [connected(a.path) for _ in range(15)]  # connected, sending nothing
    try:
        t0 = time.monotonic()
        assert str(agent.AgentKey(a.path).recipient) == str(ident.recipient)
        assert time.monotonic() - t0 < 1  # not after their budgets (2 s each)
    finally:
        for s in idle:
            s.close()


def test_a_stalled_half_request_is_dropped_after_its_budget_and_blocks_no_one(
        serving: Any) -> None:
    a, ident = serving()
    with connected(a.path) as slow:
        slow.sendall(b'{"op": "recip')  # half a line, then nothing
        t0 = time.monotonic()
        assert str(agent.AgentKey(a.path).recipient) == str(ident.recipient)
        assert time.monotonic() - t0 < 1  # served while the slow one still has its budget
        slow.settimeout(5)
        try:
            rest = slow.recv(1000)
        except ConnectionResetError:
            rest = b""
        dropped = time.monotonic() - t0
    assert rest == b""  # dropped, nothing answered
    assert agent.REQUEST_BUDGET - 0.5 < dropped < agent.REQUEST_BUDGET + 1


def test_a_burst_of_clients_is_answered_or_told_the_agent_is_busy(
        serving: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from collections import Counter

    monkeypatch.setattr(agent, "CLIENT_TIMEOUT", 5.0)
    a, ident = serving()
    n = 200
    start = threading.Barrier(n)
    outcomes: list[str] = []

    def client() -> None:
        try:
            start.wait(5)
            answer = agent.request(a.path, {"op": "recipient"})
            outcome = "answered" if answer["recipient"] == str(ident.recipient) else "wrong"
        except agent.AgentBusy as exc:
            outcome = "busy" if str(exc) == agent.BUSY else repr(exc)
        except Exception as exc:  # noqa: BLE001 - what went wrong is the test's failure
            outcome = f"{type(exc).__name__}: {exc}"
        outcomes.append(outcome)

    threads = [threading.Thread(target=client) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert len(outcomes) == n
    counts = Counter(outcomes)
    assert set(counts) <= {"answered", "busy"}, counts  # never "gone"
    assert counts["answered"] > 0
    t0 = time.monotonic()
    assert str(agent.AgentKey(a.path).recipient) == str(ident.recipient)
    assert time.monotonic() - t0 < 1


def test_a_saturated_agent_says_it_is_busy_and_serves_again_once_freed(
        serving: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent, "MAX_CLIENTS", 4)
    a, ident = serving()
    held = [connected(a.path) for _ in range(4)]  # accepted before the ones below (in order)
    try:
        with pytest.raises(agent.AgentBusy, match="^the vault agent is busy: try again$") as exc:
            agent.AgentKey(a.path)
        assert not isinstance(exc.value, agent.AgentUnavailable)  # alive: no passphrase asked
        with connected(a.path) as extra:  # answered at once, before it sends anything
            assert json.loads(extra.makefile("rb").readline()) == {
                "ok": False, "error": "the vault agent is busy: try again", "busy": True}
    finally:
        for s in held:
            s.close()
    t0 = time.monotonic()
    while True:  # the agent sees them gone at once, not when their budgets run out
        try:
            key = agent.AgentKey(a.path)
            break
        except agent.AgentBusy:
            assert time.monotonic() - t0 < 1, "still busy after its clients left"
            time.sleep(0.02)
    assert str(key.recipient) == str(ident.recipient)


def test_a_full_backlog_is_busy_not_gone(sock_dir: Path) -> None:
    hung = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # listens, never accepts
    hung.bind(str(sock_dir / "hung.sock"))
    hung.listen(0)
    queued: list[socket.socket] = []
    try:
        while True:  # fill its backlog
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(str(sock_dir / "hung.sock"))
            except BlockingIOError:
                s.close()
                break
            queued.append(s)
            assert len(queued) < 100
        with pytest.raises(agent.AgentBusy, match="^the vault agent is busy: try again$"):
            agent.request(sock_dir / "hung.sock", {"op": "recipient"})
    finally:
        for s in queued:
            s.close()
        hung.close()
    with pytest.raises(agent.AgentUnavailable, match="no vault agent answers"):
        agent.request(sock_dir / "hung.sock", {"op": "recipient"})  # nothing listens now


def test_stop_is_answered_at_once_with_idle_clients_connected(
        sock_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent, "CLIENT_TIMEOUT", 3.0)
    a = agent.Agent(X25519Identity.generate(), sock_dir / "s.sock", lifetime=60)
    a.bind()
    t = threading.Thread(target=a.serve, daemon=True)
    t.start()
    idle = [connected(a.path) for _ in range(5)]
    try:
        t0 = time.monotonic()
        agent.stop(a.path)  # answered {"ok": true}
        t.join(5)
        assert not t.is_alive() and time.monotonic() - t0 < 1.5
        assert not a.path.exists()
        for s in idle:  # their connections end with the agent
            s.settimeout(2)
            assert s.recv(100) == b""
    finally:
        a.stop()
        t.join(5)
        for s in idle:
            s.close()


def test_a_malformed_answer_is_an_authentication_error(sock_dir: Path) -> None:
    fake = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    fake.bind(str(sock_dir / "fake.sock"))
    fake.listen(1)

    def answer_once() -> None:
        conn, _ = fake.accept()
        with conn:
            conn.recv(1000)
            conn.sendall(b'{"ok": true}\n')
    t = threading.Thread(target=answer_once)
    t.start()
    with pytest.raises(AuthenticationError, match="malformed answer"):
        agent.AgentKey(sock_dir / "fake.sock")
    t.join(5)
    fake.close()


def test_the_client_checks_whose_agent_it_is(serving: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    a, _ = serving()
    monkeypatch.setattr(agent.os, "geteuid", lambda: 4242)  # as if we were someone else
    with pytest.raises(AuthenticationError, match="is not your vault agent"):
        agent.AgentKey(a.path)


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("30m", 1800),
                                           ("8h", 28800), ("2D", 172800), (" 7d ", 604800)])
def test_parse_lifetime(text: str, seconds: int) -> None:
    assert agent.parse_lifetime(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "-5m", "1.5h", "8w", "0", "8d", "9" * 40])
def test_parse_lifetime_rejects(text: str) -> None:
    with pytest.raises(InvalidInput):
        agent.parse_lifetime(text)


def test_the_agent_process_cannot_be_dumped(monkeypatch: pytest.MonkeyPatch,
                                            sock_dir: Path) -> None:
    seen: list[str] = []
    monkeypatch.setattr(agent, "harden_process", lambda: seen.append("hardened"))
    a = agent.Agent(X25519Identity.generate(), sock_dir / "h.sock", lifetime=1)
    a.bind()
    a.stop()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP,
                                                      signal.SIGINT)}
    try:
        agent.run_foreground(a)  # the daemon's body hardens before it serves
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    assert seen == ["hardened"]


def test_harden_process_makes_a_process_undumpable() -> None:
    code = ("import ctypes; from vault.crypto.agent import harden_process; harden_process(); "
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
        with open(f"/proc/{pid}/stat") as f:  # a zombie (not reaped yet) counts as gone
            return f.read().split(")")[-1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env.pop("XDG_RUNTIME_DIR", None)
    env.update(VAULT_HOME=str(settings.home), VAULT_IDENTITY=str(settings.identity_path),
               **extra)
    return env


def test_the_daemon_keeps_no_inherited_descriptor_and_cleans_up_on_sigterm(
        initialised: Callable[..., Result], cli_env: Settings, tmp_path: Path) -> None:
    import select
    r, w = os.pipe()
    env = _env(cli_env, VAULT_PASSPHRASE=PASSPHRASE, TMPDIR=str(tmp_path))
    started = subprocess.run([str(VAULT), "agent", "--json"], env=env, capture_output=True,
                             text=True, stdin=subprocess.DEVNULL, timeout=60, pass_fds=(w,))
    os.close(w)
    assert started.returncode == 0, started.stderr
    info = json.loads(started.stdout)
    sock, pid = Path(info["socket"]), info["pid"]
    try:
        assert sock.parent.parent == tmp_path and sock.parent.name.startswith("vault-agent-")
        ready, _, _ = select.select([r], [], [], 10)
        assert ready and os.read(r, 1) == b"", "the agent kept a caller's pipe open"
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while sock.parent.exists() or _alive(pid):
            assert time.monotonic() < deadline, "SIGTERM did not end the agent cleanly"
            time.sleep(0.05)
    finally:
        os.close(r)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_cli_agent_error_lines(initialised: Callable[..., Result], cli_env: Settings,
                               tmp_path: Path) -> None:
    env = _env(cli_env, VAULT_PASSPHRASE=PASSPHRASE)
    bad = subprocess.run([str(VAULT), "agent", "--socket", str(tmp_path / "no" / "a.sock")],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith(f"vault: error: cannot use {tmp_path / 'no'} for the agent's")
    assert "Traceback" not in bad.stderr
    gone = subprocess.run([str(VAULT), "agent", "--stop"], capture_output=True, text=True,
                          env=_env(cli_env, VAULT_AGENT_SOCK=str(tmp_path / "gone.sock")),
                          timeout=60)  # the shell forgets a vanished agent all the same
    assert gone.returncode == 0 and gone.stdout.startswith("unset VAULT_AGENT_SOCK;")
    assert "no agent answers at" in gone.stderr


def test_the_service_through_the_agent_works_as_with_the_identity(
        make_vault: Callable[..., Any], settings: Settings, clock: Any, serving: Any) -> None:
    """Ingest, flags (their keyed hashes come from the engagement key the agent opens), reading
    back and the signed audit checkpoint: the same through the agent as with the identity."""
    from storage_backends.local import LocalStore
    from tests.conftest import ingest_one
    from vault.service import Vault

    a, ident = serving()
    direct = make_vault(ident)
    direct.create_engagement("acme-2026", client="Acme", standard="pci-dss-4.0.1")
    held = Vault(direct.engine, LocalStore(settings.home / "objects", clock=clock),
                 agent.AgentKey(a.path), tmp_dir=settings.home / "tmp", clock=clock)
    assert held.user.id == direct.user.id
    card = b"auth card=4111111111111111 ok\n"
    one = ingest_one(direct, "acme-2026", "one.log", card)
    two = ingest_one(held, "acme-2026", "two.log", card + b"again\n")
    assert one.quarantined and two.quarantined
    hashes = {f.flag.item_id: f.flag.value_hash for f in held.flags("acme-2026")}
    assert hashes[one.view.item.id] == hashes[two.view.item.id]  # recognised across files
    assert held.preview(one.view.item.id) == direct.preview(one.view.item.id)
    cp = held.audit_checkpoint()  # signed with the firm key the agent opened
    report = held.audit_verify()
    assert report.ok and report.checkpoints == 1 and cp.size > 0


def test_without_peer_credentials_the_agent_is_not_supported(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import socket as socket_mod

    from vault.errors import NotSupported
    monkeypatch.delattr(socket_mod, "SO_PEERCRED")
    with pytest.raises(NotSupported, match="runs only on Linux") as exc:
        agent.check_platform()
    assert exc.value.hint and "VAULT_PASSPHRASE" in exc.value.hint
