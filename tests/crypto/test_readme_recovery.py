"""The README's "recovering an item without this software" recipe works as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyrage

from tests.conftest import PASSPHRASE, Result

README = Path(__file__).resolve().parents[2] / "README.md"


def test_recovery_recipe(initialised: Callable[..., Result], cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = initialised
    assert run("engagement", "create", "e", "--client", "c", "--standard",
               "pci-dss-4.0.1").code == 0
    data = os.urandom(150_000)
    r = run("ingest", "e", "-", "--name", "x.bin", "--json", stdin=data)
    item = r.json()[0]["id"]  # type: ignore[index]
    script = re.search(r"<<'PY'\n(.*?)\nPY\n", README.read_text(), re.S)
    assert script, "README recipe not found"
    work = tmp_path / "recover"
    work.mkdir()
    subprocess.run([sys.executable, "-", str(cli_env.home / "vault.db"), item, "alice"],
                   input=script.group(1).encode(), cwd=work, check=True)
    # The shell part as written, but for its first `age -d`, which asks the passphrase on a
    # terminal: pyrage does the same standard decryption into the same file.
    shell = re.search(r"\nPY\n(.*?)\n```", README.read_text(), re.S)
    assert shell, "README recipe's shell part not found"
    lines = shell.group(1).splitlines()
    assert lines[0].startswith("umask 077") and lines[-1].startswith("rm -f engagement-key.txt")
    ident = pyrage.passphrase.decrypt(cli_env.identity_path.read_bytes(), PASSPHRASE).decode()
    key_step = (f"{sys.executable} -c 'import pyrage,sys; open(\"engagement-key.txt\", \"wb\")"
                f".write(pyrage.decrypt(open(\"grant.age\", \"rb\").read(), "
                f"[pyrage.x25519.Identity.from_str(sys.argv[1])]))' {ident.strip()}")
    script_sh = "\n".join(key_step if line.startswith("age -d -i ~/") else line
                          for line in lines)
    subprocess.run(["bash", "-euo", "pipefail", "-c", script_sh], cwd=work, check=True,
                   env={**os.environ, "VAULT_HOME": str(cli_env.home), "ITEM": item},
                   capture_output=True)
    out = (work / "evidence.bin").read_bytes()
    assert out == data
    assert (work / "evidence.bin").stat().st_mode & 0o777 == 0o600
    assert not (work / "engagement-key.txt").exists() and not (work / "item.age").exists()
