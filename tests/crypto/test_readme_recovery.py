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
    # `age -d -i identity.age grant.age` asks the passphrase on a terminal; pyrage does the same
    # standard decryption here.
    ident = pyrage.passphrase.decrypt(cli_env.identity_path.read_bytes(), PASSPHRASE).decode()
    eng_key = pyrage.decrypt((work / "grant.age").read_bytes(),
                             [pyrage.x25519.Identity.from_str(ident.strip())])
    (work / "engagement-key.txt").write_bytes(eng_key)
    payload = (cli_env.home / "objects" / "payload" / item).read_bytes()
    (work / "item.age").write_bytes((work / "item.hdr").read_bytes() + payload)
    out = subprocess.run(["age", "-d", "-i", "engagement-key.txt", "item.age"], cwd=work,
                         check=True, capture_output=True).stdout
    assert out == data
