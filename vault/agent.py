"""The unlock agent: one passphrase per working session instead of one per command.

Like ssh-agent. ``vault agent`` unlocks the personal identity once and keeps it in the memory of
a small background process that answers on a Unix socket; commands find the socket through
``VAULT_AGENT_SOCK`` and ask the agent to open the engagement-key grants they need. The identity
itself never leaves the agent: a client can learn its recipient and have a small age file that is
encrypted to it opened (an engagement key grant, a signing key), nothing else.

Who may ask: the socket is 0600 in a 0700 directory, and the agent also checks the peer's user
id (``SO_PEERCRED``) and refuses anyone but its own user. The agent is not dumpable (no ptrace or
core file of its memory by the same user), and it exits, forgetting the identity, after its
lifetime (``--timeout``, 8 hours by default), on ``vault agent --stop`` or on SIGTERM/SIGHUP.
Anyone running as the same user can use it meanwhile, as with ssh-agent; that is no more than
they can do with ``VAULT_PASSPHRASE`` in a script's environment.

Protocol: one request per connection, a JSON object on one line (at most 64 KiB), answered by one
JSON line: ``{"op": "recipient"}``, ``{"op": "unwrap", "blob": <base64 age file>}``,
``{"op": "stop"}``; answers ``{"ok": true, ...}`` or ``{"ok": false, "error": TEXT}``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ctypes
import json
import os
import signal
import socket
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyrage

from vault.age import X25519Identity, X25519Recipient
from vault.errors import AuthenticationError, InvalidInput

ENV_SOCK = "VAULT_AGENT_SOCK"
DEFAULT_LIFETIME = 8 * 3600
MAX_LIFETIME = 7 * 24 * 3600
MAX_MESSAGE = 64 << 10
"""Bytes in one request or answer: grants are a few hundred bytes."""
CLIENT_TIMEOUT = 10.0

_PR_SET_DUMPABLE = 4
_TMP_PREFIX = "vault-agent-"


class AgentUnavailable(AuthenticationError):
    """No agent answers at the socket (it expired, was stopped, or never ran)."""


# -- the agent -------------------------------------------------------------------------------


def default_socket_path(env: dict[str, str] | None = None) -> Path:
    """``$XDG_RUNTIME_DIR/evidence-vault/agent.<pid>.sock`` where that is set, else a new
    private directory under the temporary directory (as ssh-agent does)."""
    env = dict(os.environ) if env is None else env
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        base = Path(runtime) / "evidence-vault"
        base.mkdir(mode=0o700, exist_ok=True)
    else:
        base = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX))
    return base / f"agent.{os.getpid()}.sock"


def parse_lifetime(text: str) -> int:
    """Seconds from ``90``, ``90s``, ``30m``, ``8h`` or ``2d``; InvalidInput otherwise."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    t = text.strip().lower()
    scale = units.get(t[-1:], None)
    digits = t[:-1] if scale is not None else t
    if not digits.isdigit() or len(digits) > 7:
        raise InvalidInput(f"not a duration: {text!r}", hint="e.g. 90s, 30m, 8h or 2d")
    seconds = int(digits) * (scale or 1)
    if not 1 <= seconds <= MAX_LIFETIME:
        raise InvalidInput("the agent's lifetime must be between 1 second and 7 days")
    return seconds


class Agent:
    """Answers requests for one identity until its deadline; see the module's docstring."""

    def __init__(self, identity: X25519Identity, path: Path, *, lifetime: float,
                 clock: Callable[[], float] = time.monotonic, uid: int | None = None) -> None:
        self._identity = identity
        self._pyrage_identity = pyrage.x25519.Identity.from_str(str(identity))
        self.path = path
        self._clock = clock
        self.deadline = clock() + lifetime
        self._uid = os.getuid() if uid is None else uid
        self._stopping = False
        self._sock: socket.socket | None = None

    def bind(self) -> None:
        """Create the socket (0600; its directory must be the user's own, 0700)."""
        parent = self.path.parent
        st = parent.stat()
        if st.st_uid != os.geteuid() or st.st_mode & 0o077:
            raise InvalidInput(f"the agent's directory {parent} must be yours and private (0700)")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            sock.bind(str(self.path))
        except OSError as exc:
            sock.close()
            raise InvalidInput(f"cannot create the agent socket {self.path}: "
                               f"{exc.strerror or exc}") from None
        finally:
            os.umask(old)
        sock.listen(16)
        self._sock = sock

    def serve(self) -> None:
        """Answer until the deadline or a stop; then remove the socket and forget the key."""
        assert self._sock is not None, "bind() first"
        try:
            while not self._stopping:
                left = self.deadline - self._clock()
                if left <= 0:
                    break
                self._sock.settimeout(min(left, 0.25))
                try:
                    conn, _ = self._sock.accept()
                except TimeoutError:
                    continue
                except InterruptedError:
                    continue
                with conn:
                    self._handle(conn)
        finally:
            self.close()

    def stop(self) -> None:
        self._stopping = True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            if self.path.parent.name.startswith(_TMP_PREFIX):  # made by default_socket_path
                with contextlib.suppress(OSError):
                    self.path.parent.rmdir()
        self._identity = None  # type: ignore[assignment]
        self._pyrage_identity = None

    def detach(self) -> None:
        """Forget the socket and the key in this process without removing the socket file (the
        forked agent serves it)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._identity = None  # type: ignore[assignment]
        self._pyrage_identity = None

    def peer_allowed(self, uid: int) -> bool:
        return uid == self._uid

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(CLIENT_TIMEOUT)
        try:
            try:  # read first (bounded), so the client always gets the answer
                request = _receive(conn)
            except InvalidInput as exc:
                request = exc
            uid = _peer_uid(conn)
            if uid is None or not self.peer_allowed(uid):
                _send(conn, {"ok": False, "error": "this agent serves its own user only"})
                return
            if isinstance(request, InvalidInput):
                _send(conn, {"ok": False, "error": request.message})
                return
            _send(conn, self.answer(request))
        except OSError:
            return  # the client went away: nothing to answer

    def answer(self, request: Any) -> dict[str, Any]:
        """The answer to one decoded request."""
        op = request.get("op") if isinstance(request, dict) else None
        if op == "recipient":
            return {"ok": True, "recipient": str(self._identity.recipient)}
        if op == "stop":
            self.stop()
            return {"ok": True}
        if op == "unwrap":
            blob = request.get("blob")
            try:
                data = base64.b64decode(blob, validate=True) if isinstance(blob, str) else None
            except (binascii.Error, ValueError):
                data = None
            if data is None:
                return {"ok": False, "error": "unwrap needs an age file (base64)"}
            try:
                plain = pyrage.decrypt(data, [self._pyrage_identity])
            except (pyrage.DecryptError, OSError, ValueError):
                return {"ok": False, "error": "the agent's identity cannot open this"}
            return {"ok": True, "data": base64.b64encode(plain).decode("ascii")}
        return {"ok": False, "error": "unknown request"}


def harden_process() -> None:
    """Make this process non-dumpable (Linux): no core file, no ptrace by the same user."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def run_foreground(agent: Agent) -> None:
    """Serve in this process until the deadline, a stop request, SIGTERM, SIGHUP or SIGINT."""
    harden_process()

    def on_signal(signum: int, frame: Any) -> None:
        agent.stop()

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    agent.serve()


def daemonize() -> int | None:
    """Fork into the background (double fork, new session); returns the daemon's pid in the
    parent and None in the daemon, whose standard streams go to /dev/null."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        with os.fdopen(read_end, "rb") as r:
            data = r.read()
        os.waitpid(pid, 0)
        return int(data) if data else None
    os.close(read_end)
    os.setsid()
    if os.fork():
        os._exit(0)
    os.chdir("/")
    with os.fdopen(write_end, "wb") as w:
        w.write(str(os.getpid()).encode())
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    return None


def shell_lines(path: Path, pid: int) -> str:
    """What ``eval "$(vault agent)"`` runs (Bourne shell syntax, as ssh-agent prints)."""
    quoted = "'" + str(path).replace("'", "'\\''") + "'"
    return (f"{ENV_SOCK}={quoted}; export {ENV_SOCK};\n"
            f"VAULT_AGENT_PID={pid}; export VAULT_AGENT_PID;\n"
            f"echo 'vault agent pid {pid}' >&2;\n")


# -- the client ------------------------------------------------------------------------------


class AgentKey:
    """The personal identity as held by an agent: its recipient, and ``unwrap`` of the age
    files encrypted to it. Raises AgentUnavailable when no agent answers at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        answer = request(path, {"op": "recipient"})
        self.recipient = X25519Recipient.from_str(str(answer.get("recipient", "")))

    def unwrap(self, blob: bytes) -> bytes:
        """The content of age file `blob`; AuthenticationError if the agent cannot open it."""
        answer = request(self.path, {"op": "unwrap", "blob": base64.b64encode(blob).decode()})
        try:
            return base64.b64decode(answer["data"], validate=True)
        except (KeyError, TypeError, binascii.Error, ValueError):
            raise AuthenticationError("the vault agent sent a malformed answer") from None


def request(path: Path, message: dict[str, Any]) -> dict[str, Any]:
    """Send one request to the agent at `path` and return its (ok) answer."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CLIENT_TIMEOUT)
    with sock:
        try:
            sock.connect(str(path))
        except OSError:
            raise AgentUnavailable(
                f"no vault agent answers at {path}",
                hint=f"start one with `eval \"$(vault agent)\"`, or unset {ENV_SOCK}") from None
        try:
            _send(sock, message)
            answer = _receive(sock)
        except (OSError, InvalidInput):
            raise AgentUnavailable(f"the vault agent at {path} did not answer") from None
    if not isinstance(answer, dict):
        raise AuthenticationError("the vault agent sent a malformed answer")
    if not answer.get("ok"):
        raise AuthenticationError(f"vault agent: {str(answer.get('error', 'refused'))[:200]}")
    return answer


# -- wire ------------------------------------------------------------------------------------


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode("ascii") + b"\n")


def _receive(conn: socket.socket) -> Any:
    """One JSON line of at most MAX_MESSAGE bytes; InvalidInput when it is not that."""
    buf = bytearray()
    while b"\n" not in buf:
        if len(buf) > MAX_MESSAGE:
            raise InvalidInput("message too long")
        part = conn.recv(65536)
        if not part:
            break
        buf += part
    line, sep, _ = bytes(buf).partition(b"\n")
    if not sep or len(line) > MAX_MESSAGE:
        raise InvalidInput("message too long" if len(line) > MAX_MESSAGE else
                           "incomplete message")
    try:
        return json.loads(line)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("not a JSON message") from None


def _peer_uid(conn: socket.socket) -> int | None:
    """The connecting process's user id (Linux SO_PEERCRED), None where it cannot be known."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:  # pragma: no cover - not Linux
        return None
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    except OSError:  # pragma: no cover
        return None
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def stop(path: Path) -> None:
    """Ask the agent at `path` to exit."""
    request(path, {"op": "stop"})


def agent_from_env(env: dict[str, str] | None = None) -> AgentKey | None:
    """The agent named by ``VAULT_AGENT_SOCK``, None when that is unset or empty."""
    env = dict(os.environ) if env is None else env
    value = env.get(ENV_SOCK)
    return AgentKey(Path(value)) if value else None


__all__ = ["ENV_SOCK", "Agent", "AgentKey", "AgentUnavailable", "agent_from_env", "daemonize",
           "default_socket_path", "parse_lifetime", "request", "run_foreground", "shell_lines",
           "stop"]
