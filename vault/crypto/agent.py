"""The unlock agent: one passphrase per working session instead of one per command.

Like ssh-agent. ``vault agent`` unlocks the personal identity once and keeps it in the memory of
a small background process that answers on a Unix socket; commands find the socket through
``VAULT_AGENT_SOCK`` and ask the agent to open the engagement-key grants they need. The personal
identity itself never leaves the agent: a client can learn its recipient and have a small age
file (at most ~48 KiB) that is encrypted to it opened - a key grant, the signing key. What it
opens is handed to the client, as to any vault command: an engagement key obtained so stays
valid after the agent has gone (until the engagement's key is rotated).

Who may ask: the socket is 0600 in a 0700 directory, and the agent also checks the peer's user
id (``SO_PEERCRED``, Linux) and refuses anyone but its own user; clients check the agent's too.
The agent is not dumpable (no ptrace, core file or /proc environment of it by the same user).
It exits, forgetting the identity, after its lifetime (``--timeout``, 8 hours by default,
counted on the boot clock: time asleep counts), on ``vault agent --stop`` or on SIGTERM. One
loop serves up to MAX_CLIENTS connections at once (a selector: no connection waits for another),
each request with at most two seconds to arrive, so clients that connect and send nothing hold
up no one; one more connection is answered that the agent is busy (AgentBusy, never "gone").
Anyone running as the same user can use it meanwhile, as with ssh-agent; that is no more than
they can do with ``VAULT_PASSPHRASE`` in a script's environment.

Protocol: one request per connection, a JSON object on one line (at most 64 KiB), answered by one
JSON line: ``{"op": "recipient"}``, ``{"op": "unwrap", "blob": <base64 age file>}``,
``{"op": "stop"}``; answers ``{"ok": true, ...}`` or ``{"ok": false, "error": TEXT}`` (with
``"busy": true`` when the agent holds as many connections as it serves).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ctypes
import errno
import json
import os
import selectors
import signal
import socket
import stat
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyrage

from vault.age import X25519Identity, X25519Recipient
from vault.errors import AuthenticationError, InvalidInput, NotSupported

ENV_SOCK = "VAULT_AGENT_SOCK"
DEFAULT_LIFETIME = 8 * 3600
MAX_LIFETIME = 7 * 24 * 3600
MAX_MESSAGE = 64 << 10
"""Bytes in one request or answer: grants are a few hundred bytes."""
CLIENT_TIMEOUT = 10.0
"""Seconds a command waits for the agent's answer."""
REQUEST_BUDGET = 2.0
"""Seconds a client has to send its whole request (and then to take its answer)."""
MAX_CLIENTS = 64
"""Connections the agent holds at once; one more is answered that it is busy."""
BACKLOG = 128
"""Connections the kernel queues for the agent to accept; beyond, clients hear it is busy."""
BUSY = "the vault agent is busy: try again"
BUSY_RETRIES = (0.05, 0.15, 0.4)
"""Seconds a client pauses before asking a busy agent again (a burst passes); then AgentBusy."""

_PR_SET_DUMPABLE = 4


class AgentUnavailable(AuthenticationError):
    """No agent answers at the socket (it expired, was stopped, or never ran)."""


class AgentBusy(AuthenticationError):
    """An agent is there but holds as many connections as it serves: trying again will do."""


# -- the agent -------------------------------------------------------------------------------


def boot_clock() -> float:
    """Seconds on a clock that goes on while the machine sleeps (Linux CLOCK_BOOTTIME), so a
    lifetime is wall time, as ssh-agent counts it; the monotonic clock elsewhere."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boottime) if boottime is not None else time.monotonic()


def default_socket_path(env: dict[str, str] | None = None) -> tuple[Path, bool]:
    """``$XDG_RUNTIME_DIR/evidence-vault/agent.<pid>.sock`` where that is set, else a socket in
    a new private directory under the temporary directory (as ssh-agent does), and whether
    that directory was made for it; InvalidInput when neither can be made."""
    env = dict(os.environ) if env is None else env
    runtime = env.get("XDG_RUNTIME_DIR")
    try:
        if runtime and Path(runtime).is_dir():
            base, made = Path(runtime) / "evidence-vault", False
            base.mkdir(mode=0o700, exist_ok=True)
        else:
            base, made = Path(tempfile.mkdtemp(prefix="vault-agent-")), True
    except OSError as exc:
        raise InvalidInput(f"cannot make a directory for the agent's socket: "
                           f"{exc.strerror or exc}", hint="name one with --socket PATH") from None
    return base / f"agent.{os.getpid()}.sock", made


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
    """Answers requests for one identity until its deadline; see the module's docstring.
    ``own_dir``: the socket's directory was made for it (removed with the socket)."""

    def __init__(self, identity: X25519Identity, path: Path, *, lifetime: float,
                 clock: Callable[[], float] = boot_clock, uid: int | None = None,
                 own_dir: bool = False) -> None:
        self._identity = identity
        self._pyrage_identity = pyrage.x25519.Identity.from_str(str(identity))
        self.path = path
        self._clock = clock
        self.deadline = clock() + lifetime
        self._uid = os.getuid() if uid is None else uid
        self._own_dir = own_dir
        self._stopping = False
        self._sock: socket.socket | None = None
        self._inode: int | None = None

    def bind(self) -> None:
        """Create the socket (0600; its directory must be the user's own, 0700). A socket file
        left there by an agent that died is replaced; a live agent's is not (InvalidInput)."""
        parent = self.path.parent
        try:
            st = parent.stat()
        except OSError as exc:
            self._remove_dir()
            raise InvalidInput(f"cannot use {parent} for the agent's socket: "
                               f"{exc.strerror or exc}") from None
        if st.st_uid != os.geteuid() or st.st_mode & 0o077:
            raise InvalidInput(f"the agent's directory {parent} must be yours and private (0700)")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            try:
                sock.bind(str(self.path))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or not self._stale():
                    raise
                self.path.unlink()
                sock.bind(str(self.path))
        except OSError as exc:
            sock.close()
            self._remove_dir()
            if exc.errno == errno.EADDRINUSE:
                raise InvalidInput(f"there is something at {self.path} already",
                                   hint="stop that agent first, or choose another --socket"
                                   ) from None
            raise InvalidInput(f"cannot create the agent socket {self.path}: "
                               f"{exc.strerror or exc}") from None
        finally:
            os.umask(old)
        sock.listen(BACKLOG)
        self._sock = sock
        self._inode = self.path.stat().st_ino

    def _stale(self) -> bool:
        """Whether the file at our path is a socket of ours that nothing listens on."""
        try:
            st = self.path.lstat()
        except OSError:
            return False
        if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.geteuid():
            return False
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(self.path))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        finally:
            probe.close()
        return False

    def fileno(self) -> int:
        assert self._sock is not None, "bind() first"
        return self._sock.fileno()

    def serve(self) -> None:
        """Answer until the deadline or a stop; then remove the socket and forget the key.

        One loop over a selector: every connection is read as its bytes come and answered as
        soon as its request is whole, so no client waits for another (an idle one is dropped
        once its REQUEST_BUDGET is spent)."""
        assert self._sock is not None, "bind() first"
        self._sock.setblocking(False)
        sel = selectors.DefaultSelector()
        clients: dict[socket.socket, _Client] = {}
        try:
            sel.register(self._sock, selectors.EVENT_READ)
            while not self._stopping:
                left = self.deadline - self._clock()
                if left <= 0:
                    break
                now = time.monotonic()
                for late in [c for c in clients.values() if c.deadline <= now]:
                    self._drop(sel, clients, late)  # too slow: nothing to answer
                wait = min([left, 0.25, *(c.deadline - now for c in clients.values())])
                for key, _events in sel.select(max(wait, 0.0)):
                    if key.data is None:
                        self._accept(sel, clients)
                    else:
                        self._step(sel, clients, key.data)
        finally:
            for c in list(clients.values()):
                if c.outbox:  # an answer not out yet (e.g. to "stop"): one last try
                    with contextlib.suppress(OSError):
                        c.conn.send(c.outbox)
                self._drop(sel, clients, c)
            sel.close()
            self.close()

    def _accept(self, sel: selectors.BaseSelector, clients: dict[socket.socket, _Client]
                ) -> None:
        """Take the connections waiting; past MAX_CLIENTS, tell each that the agent is busy."""
        assert self._sock is not None
        for _ in range(BACKLOG):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):  # none left
                return
            except OSError:  # none can be taken now (out of descriptors): they wait, and the
                time.sleep(0.05)  # loop does not spin on a listening socket it cannot empty
                return
            conn.setblocking(False)
            if len(clients) >= MAX_CLIENTS:
                with conn, contextlib.suppress(OSError):
                    conn.send(_encode({"ok": False, "error": BUSY, "busy": True}))
                continue
            budget = min(REQUEST_BUDGET, max(0.0, self.deadline - self._clock()))
            client = _Client(conn, time.monotonic() + budget)
            clients[conn] = client
            sel.register(conn, selectors.EVENT_READ, client)

    def _step(self, sel: selectors.BaseSelector, clients: dict[socket.socket, _Client],
              client: _Client) -> None:
        """Read what `client` sent; once its request is whole (or it stopped sending), answer
        it; drop it once answered. Nothing a client sends can end the agent."""
        try:
            if client.outbox is None:
                part = client.conn.recv(65536)
                client.inbox += part
                if part and b"\n" not in part and len(client.inbox) <= MAX_MESSAGE:
                    return  # more to come
                client.outbox = bytearray(self._reply(client.conn, bytes(client.inbox)))
                client.inbox = bytearray()
                client.deadline = time.monotonic() + REQUEST_BUDGET
                sel.modify(client.conn, selectors.EVENT_WRITE, client)
            del client.outbox[:client.conn.send(client.outbox)]
            if client.outbox:
                return  # the rest when the client takes it
        except (BlockingIOError, InterruptedError):
            return
        except Exception:  # noqa: BLE001 - gone, or a bug: drop this client, never the agent
            pass
        self._drop(sel, clients, client)

    def _reply(self, conn: socket.socket, data: bytes) -> bytes:
        """The answer line to request `data` from the peer of `conn`."""
        try:
            request: Any = _decode(data)
        except InvalidInput as exc:
            request = exc
        uid = _peer_uid(conn)
        if uid is None or not self.peer_allowed(uid):
            return _encode({"ok": False, "error": "this agent serves its own user only"})
        if isinstance(request, InvalidInput):
            return _encode({"ok": False, "error": request.message})
        try:
            return _encode(self.answer(request))
        except Exception:  # noqa: BLE001 - a bug must not end the agent; never echo the cause
            return _encode({"ok": False, "error": "internal error"})

    @staticmethod
    def _drop(sel: selectors.BaseSelector, clients: dict[socket.socket, _Client],
              client: _Client) -> None:
        clients.pop(client.conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            sel.unregister(client.conn)
        client.conn.close()

    def stop(self) -> None:
        self._stopping = True

    def close(self) -> None:
        """Stop listening, remove the socket (if it is still ours) and forget the key."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            with contextlib.suppress(OSError):
                if self.path.lstat().st_ino == self._inode:  # not a newer agent's socket
                    self.path.unlink()
            self._remove_dir()
        self._forget()

    def _forget(self) -> None:
        self._identity = None  # type: ignore[assignment]
        self._pyrage_identity = None

    def _remove_dir(self) -> None:
        if self._own_dir:
            with contextlib.suppress(OSError):
                self.path.parent.rmdir()

    def detach(self) -> None:
        """Forget the socket and the key in this process without removing the socket file (the
        forked agent serves it)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._forget()

    def peer_allowed(self, uid: int) -> bool:
        return uid == self._uid

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
            except BaseException as exc:  # a Rust panic (pyo3's PanicException)
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                return {"ok": False, "error": "the agent's identity cannot open this"}
            return {"ok": True, "data": base64.b64encode(plain).decode("ascii")}
        return {"ok": False, "error": "unknown request"}


class _Client:
    """One connection being served: its request as it arrives, then its answer as it leaves,
    each by `deadline` (time.monotonic)."""

    __slots__ = ("conn", "deadline", "inbox", "outbox")

    def __init__(self, conn: socket.socket, deadline: float) -> None:
        self.conn = conn
        self.deadline = deadline
        self.inbox = bytearray()
        self.outbox: bytearray | None = None  # the answer, once the request is whole


def harden_process() -> None:
    """Make this process non-dumpable (Linux): no core file, no ptrace and no /proc environment
    or memory of it by the same user. InvalidInput where prctl refuses."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:  # pragma: no cover
        raise InvalidInput("cannot protect the agent's memory (prctl PR_SET_DUMPABLE)")


def check_platform() -> None:
    """NotSupported where the agent could not tell who connects (no SO_PEERCRED: not
    Linux)."""
    if getattr(socket, "SO_PEERCRED", None) is None:  # pragma: no cover - not Linux
        raise NotSupported("the vault agent runs only on Linux: elsewhere it could not tell "
                           "who connects to it",
                           hint="set VAULT_PASSPHRASE for scripts, or type the passphrase")


def handle_signals(agent: Agent) -> dict[int, Any]:
    """SIGTERM, SIGHUP and SIGINT stop `agent` (its loop then removes the socket); returns
    the handlers they had."""

    def on_signal(signum: int, frame: Any) -> None:
        agent.stop()

    return {sig: signal.signal(sig, on_signal)
            for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}


def run_foreground(agent: Agent) -> None:
    """Serve in this process until the deadline, a stop request, SIGTERM, SIGHUP or SIGINT."""
    harden_process()
    handle_signals(agent)
    agent.serve()


def daemonize(keep_fd: int) -> int | None:
    """Fork into the background (double fork, new session); returns the daemon's pid in the
    parent and None in the daemon, whose standard streams go to /dev/null and which keeps no
    other inherited file descriptor but `keep_fd` (a caller's pipe would otherwise stay open:
    ``$(vault agent)`` or a job runner would wait for the agent to exit). InvalidInput when the
    daemon did not start."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        with os.fdopen(read_end, "rb") as r:
            data = r.read()
        os.waitpid(pid, 0)
        if not data.isdigit():
            raise InvalidInput("the vault agent did not start")
        return int(data)
    try:  # the first child: never returns into the caller's code
        os.close(read_end)
        os.setsid()
        if os.fork():
            os._exit(0)
        os.chdir("/")
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        keep = sorted({keep_fd, write_end})
        os.closerange(3, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, os.sysconf("SC_OPEN_MAX"))
        os.write(write_end, str(os.getpid()).encode())
        os.close(write_end)
    except BaseException:  # noqa: BLE001
        os._exit(1)
    return None


def start(identity: X25519Identity, path: Path, *, own_dir: bool, lifetime: float,
          foreground: bool, announce: Callable[[int], None]) -> None:
    """Serve `identity` at `path` for `lifetime` seconds: in this process (`foreground`), or in
    a daemon forked from it. ``announce(pid)`` tells the user where the agent runs, once the
    socket is bound (and, in the background, once the daemon started); `own_dir`: see Agent.

    Call :func:`harden_process` before loading `identity`, and take the passphrase out of the
    environment (the daemon inherits it). In the background, this process gets back the signal
    handlers it had, keeps neither the socket nor the key, and returns after the announcement;
    the daemon never returns (``os._exit``). InvalidInput when the socket cannot be bound or
    the daemon did not start (the socket is removed then)."""
    server = Agent(identity, path, lifetime=lifetime, own_dir=own_dir)
    server.bind()
    if foreground:
        announce(os.getpid())
        run_foreground(server)
        return
    sys.stdout.flush()  # what was printed so far goes out once, before the fork
    sys.stderr.flush()
    # handlers from before the fork: the daemon is never without them
    before = handle_signals(server)
    try:
        pid = daemonize(server.fileno())
    except BaseException:
        server.close()
        raise
    if pid is None:  # the background agent
        try:
            run_foreground(server)
        finally:
            os._exit(0)
    for sig, handler in before.items():
        signal.signal(sig, handler)
    server.detach()  # the daemon has the socket now
    announce(pid)


def shell_lines(path: Path, pid: int) -> str:
    """What ``eval "$(vault agent)"`` runs (Bourne shell syntax, as ssh-agent prints)."""
    quoted = "'" + str(path).replace("'", "'\\''") + "'"
    return (f"{ENV_SOCK}={quoted}; export {ENV_SOCK};\n"
            f"VAULT_AGENT_PID={pid}; export VAULT_AGENT_PID;\n"
            f"echo 'vault agent pid {pid}' >&2;\n")


# -- the client ------------------------------------------------------------------------------


class AgentKey:
    """The personal identity as held by an agent: its recipient, and ``unwrap`` of the age
    files encrypted to it. Raises AgentUnavailable when no agent answers at ``path``, AgentBusy
    when one does but serves as many clients as it can."""

    def __init__(self, path: Path) -> None:
        self.path = path
        answer = request(path, {"op": "recipient"})
        try:
            self.recipient = X25519Recipient.from_str(str(answer.get("recipient", "")))
        except ValueError:
            raise AuthenticationError("the vault agent sent a malformed answer") from None

    def unwrap(self, blob: bytes) -> bytes:
        """The content of age file `blob`; AuthenticationError if the agent cannot open it."""
        answer = request(self.path, {"op": "unwrap", "blob": base64.b64encode(blob).decode()})
        try:
            return base64.b64decode(answer["data"], validate=True)
        except (KeyError, TypeError, binascii.Error, ValueError):
            raise AuthenticationError("the vault agent sent a malformed answer") from None


def request(path: Path, message: dict[str, Any]) -> dict[str, Any]:
    """Send one request to the agent at `path` and return its (ok) answer. AgentUnavailable
    when nothing answers there, AgentBusy when an agent does but stays saturated (asked again
    after each of BUSY_RETRIES: a busy agent has read nothing, and every request may be
    repeated)."""
    for pause in BUSY_RETRIES:
        try:
            return _ask(path, message)
        except AgentBusy:
            time.sleep(pause)
    return _ask(path, message)


def _ask(path: Path, message: dict[str, Any]) -> dict[str, Any]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CLIENT_TIMEOUT)
    with sock:
        try:
            sock.connect(str(path))
        except BlockingIOError:  # EAGAIN: it listens, but its backlog is full
            raise AgentBusy(BUSY) from None
        except OSError:
            raise AgentUnavailable(
                f"no vault agent answers at {path}",
                hint=f"start one with `eval \"$(vault agent)\"`, or unset {ENV_SOCK}") from None
        if _peer_uid(sock) != os.geteuid():
            raise AuthenticationError(f"the process at {path} is not your vault agent")
        with contextlib.suppress(OSError):  # a busy agent may have answered and closed already
            _send(sock, message)
        try:
            answer = _receive(sock, time.monotonic() + CLIENT_TIMEOUT)
        except (OSError, InvalidInput):
            raise AgentUnavailable(f"the vault agent at {path} did not answer") from None
    if not isinstance(answer, dict):
        raise AuthenticationError("the vault agent sent a malformed answer")
    if not answer.get("ok"):
        if answer.get("busy") is True:
            raise AgentBusy(BUSY)
        raise AuthenticationError(f"vault agent: {str(answer.get('error', 'refused'))[:200]}")
    return answer


# -- wire ------------------------------------------------------------------------------------


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode("ascii") + b"\n"


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(_encode(message))


def _receive(conn: socket.socket, deadline: float) -> Any:
    """One JSON line of at most MAX_MESSAGE bytes, whole by `deadline` (time.monotonic);
    InvalidInput when it is not that, TimeoutError when it is late."""
    buf = bytearray()
    while b"\n" not in buf:
        if len(buf) > MAX_MESSAGE:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request too slow")
        conn.settimeout(left)
        part = conn.recv(65536)
        if not part:
            break
        buf += part
    return _decode(bytes(buf))


def _decode(data: bytes) -> Any:
    """The JSON value on the first line of `data`; InvalidInput when there is no whole line of
    at most MAX_MESSAGE bytes, or it is not JSON."""
    line, sep, _ = data.partition(b"\n")
    if not sep or len(line) > MAX_MESSAGE:
        raise InvalidInput("message too long" if len(line) > MAX_MESSAGE else
                           "incomplete message")
    try:
        return json.loads(line)
    except (UnicodeDecodeError, ValueError, RecursionError):
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


__all__ = ["BUSY", "ENV_SOCK", "Agent", "AgentBusy", "AgentKey", "AgentUnavailable",
           "agent_from_env", "boot_clock", "check_platform", "daemonize", "default_socket_path",
           "handle_signals", "harden_process", "parse_lifetime", "request", "run_foreground",
           "shell_lines", "start", "stop"]
