"""The installed `vault` command in a real process: no monkeypatching, real scrypt unlock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from vault.cli.termout import safe, wants_progress

VAULT = Path(sys.executable).with_name("vault")


def test_real_process_round_trip_and_clean_errors(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env |= {"VAULT_HOME": str(tmp_path / "home"), "VAULT_IDENTITY": str(tmp_path / "id.age"),
            "VAULT_PASSPHRASE": "a long enough passphrase"}

    def vault(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([str(VAULT), *args], env=env, input=stdin, capture_output=True,
                              timeout=120)
    assert vault("init", "--name", "carol").returncode == 0
    assert vault("engagement", "create", "e1", "--client", "c", "--standard",
                 "pci-3ds-1.0").returncode == 0
    data = os.urandom(200_000)
    r = vault("ingest", "e1", "-", "--name", "x.bin", stdin=data)
    assert r.returncode == 0, r.stderr
    item = r.stdout.split()[0].decode()
    got = vault("get", item)
    assert got.returncode == 0 and got.stdout == data
    bad = vault("ingest", "e1", str(tmp_path / "nope"))
    assert bad.returncode == 2
    assert bad.stderr.decode().startswith("vault: error: no such file or directory")
    assert b"Traceback" not in bad.stderr
    usage = vault("engagement", "create", "e2", "--client", "c", "--standard", "pci-dss-3")
    assert usage.returncode == 2 and b"invalid choice" in usage.stderr


def test_progress_only_on_a_terminal_for_large_work() -> None:
    big = 64 << 20
    assert wants_progress(big, 1, enabled=True, tty=True)
    assert wants_progress(10, 50, enabled=True, tty=True)
    assert not wants_progress(big, 1, enabled=True, tty=False)   # piped
    assert not wants_progress(big, 1, enabled=False, tty=True)   # --json
    assert not wants_progress(1000, 2, enabled=True, tty=True)   # small


def test_safe_escapes_control_characters() -> None:
    assert safe("plain name.txt") == "plain name.txt"
    assert safe("a\nb\x1b[31m") == "a\\nb\\x1b[31m"


def _luhn(body: str) -> str:
    total = 0
    for k, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if k % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str(-total % 10)


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path: Path) -> None:
    """`vault scan ... | head -c 1`: the pipe closes while vault still writes (far more than
    a pipe's buffer); it exits quietly."""
    log = tmp_path / "gw.log"
    log.write_text("".join(f"txn {i} card {_luhn(f'4111{i * 37:011d}')} ok\n"
                           for i in range(60000)))
    r = subprocess.run(["bash", "-c", f"'{VAULT}' scan '{log}' | head -c 1 >/dev/null"],
                       capture_output=True, timeout=300)
    assert b"Traceback" not in r.stderr and b"BrokenPipe" not in r.stderr, r.stderr
