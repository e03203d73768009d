"""Smoke test: the real TUI in a real terminal (tmux), on a throwaway vault made with the CLI."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE

TMUX = shutil.which("tmux")
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed "
                                "(apt-get install tmux) so the TUI cannot run in a terminal")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[..., str]]:
    socket = f"vault-tui-test-{os.getpid()}"

    def run(*args: str) -> str:
        assert TMUX is not None
        return subprocess.run([TMUX, "-L", socket, *args], check=True, capture_output=True,
                              text=True, timeout=20).stdout
    yield run
    subprocess.run([TMUX or "tmux", "-L", socket, "kill-server"], capture_output=True,
                   timeout=20)


def wait_for(capture: Callable[[], str], text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        try:
            screen = capture()
        except subprocess.CalledProcessError:
            screen = "(no session)"
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear; the screen was:\n{screen}")


def test_tui_in_tmux(tmp_path: Path, identity_blob: bytes,
                     tmux: Callable[..., str]) -> None:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL")}
    env.update(VAULT_HOME=str(tmp_path / "home"), VAULT_IDENTITY=str(tmp_path / "id.age"),
               VAULT_PASSPHRASE=PASSPHRASE, TERM="xterm-256color")
    (tmp_path / "id.age").write_bytes(identity_blob)
    (tmp_path / "id.age").chmod(0o600)
    cli = str(Path(sys.executable).parent / "vault")
    for args in (["init", "--name", "alice"],
                 ["engagement", "create", "acme-2026", "--client", "Acme Payments",
                  "--standard", "pci-dss-4.0.1"]):
        r = subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    exports = " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()
                       if k.startswith("VAULT_") or k == "TERM")
    command = f"cd {shlex.quote(str(ROOT))} && env {exports} {sys.executable} -m tui"
    tmux("new-session", "-d", "-s", "tui", "-x", "120", "-y", "40", command)

    def capture() -> str:
        return tmux("capture-pane", "-p", "-t", "tui")

    screen = wait_for(capture, "acme-2026")
    assert "Engagements of alice" in screen and "Acme Payments" in screen
    tmux("send-keys", "-t", "tui", "Enter")
    wait_for(capture, "0 items")
    screen = wait_for(capture, "Ingest")  # the footer may be painted a frame later
    assert "acme-2026 · pci-dss-4.0.1" in screen and "0 items" in screen
    tmux("send-keys", "-t", "tui", "q")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if subprocess.run([TMUX or "tmux", "-L", f"vault-tui-test-{os.getpid()}",
                           "has-session", "-t", "tui"], capture_output=True).returncode:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("q did not quit the TUI:\n" + capture())


def test_first_run_asks_one_passphrase_and_lands_in_the_demo(tmp_path: Path,
                                                             tmux: Callable[..., str]) -> None:
    """`make run`'s command: a new identity's passphrase (typed, then repeated) and the TUI on
    the demo, with no second unlock; a later run asks once, naming what it unlocks."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL")}
    identity = tmp_path / "id.age"
    env.update(VAULT_HOME=str(tmp_path / "home"), VAULT_IDENTITY=str(identity),
               TERM="xterm-256color")
    exports = " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()
                       if k.startswith("VAULT_") or k == "TERM")
    cli = str(Path(sys.executable).parent / "vault")
    command = f"cd {shlex.quote(str(ROOT))} && env {exports} {cli} init --demo --tui"

    def capture() -> str:
        return tmux("capture-pane", "-p", "-t", "first")

    for run in ("first", "again"):
        tmux("new-session", "-d", "-s", "first", "-x", "120", "-y", "40", command)
        if run == "first":
            wait_for(capture, f"New passphrase for your identity {identity}:")
            tmux("send-keys", "-t", "first", PASSPHRASE, "Enter")
            wait_for(capture, "Repeat the passphrase:")
            tmux("send-keys", "-t", "first", PASSPHRASE, "Enter")
        else:
            wait_for(capture, f"Passphrase for your identity {identity}:")
            tmux("send-keys", "-t", "first", PASSPHRASE, "Enter")
        screen = wait_for(capture, "Engagements of", timeout=60)
        assert "demo" in screen and "Passphrase" not in screen and "Unlock" not in screen
        tmux("send-keys", "-t", "first", "q")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                capture()
            except subprocess.CalledProcessError:
                break  # the session ended with the TUI
            time.sleep(0.2)
