"""What a command loads before it does its work: every command pays for it.

`vault status`, `ls`, `show` and `get` need the ORM, the models, the store and age; not the
scanner (hyperscan, its compiled rules, the process pool), X.509, Pillow, the TUI, S3, Alembic,
nor the verbs they never reach (exports, destruction, retention, the audit log's). `ingest`
loads the scanner, not the rest. Read from a fresh interpreter's ``sys.modules`` after the
command ran (with the unlock agent, the daily way), so a start-up regression fails here without
timing anything. The parser builds only the command named; it must parse, print usage and
refuse exactly as the full one does.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, Result, serve_agent
from vault.config import Settings
from vault.crypto import keys

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parents[2]

NEVER = ("textual", "tui", "boto3", "botocore", "alembic", "PIL", "pypdfium2",
         "cryptography.x509", "vault.service.exports", "vault.service.destruction",
         "vault.service.certificates", "vault.service.retention", "vault.service.audit",
         "vault.export.bag", "vault.retention.certificate")
"""Loaded by no quick command and by no ingest of a text file."""
SCANNER = ("hyperscan", "magic", "vault.pii.scanner", "vault.pii.rules", "multiprocessing")
"""Loaded where content is typed and scanned: ingest, scan, a preview; not by status, ls,
show, get."""

_PROBE = """
import contextlib, io, json, sys
from vault.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "out": out.getvalue(), "loaded": sorted(sys.modules)}))
"""


@pytest.fixture
def agent_env(initialised: Run, cli_env: Settings, tmp_path: Path
              ) -> Iterator[dict[str, str]]:
    """The environment of a `vault` process using an unlock agent (served on a thread) that
    holds the initialised vault's identity: no passphrase, no scrypt per process."""
    ident = keys.load_identity(cli_env.identity_path, PASSPHRASE)
    server, thread = serve_agent(ident, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "VAULT_PASSPHRASE"}
    env["VAULT_AGENT_SOCK"] = str(tmp_path / "agent" / "a.sock")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    yield env
    server.stop()
    thread.join(5)


def _loaded(env: dict[str, str], *args: str) -> tuple[dict[str, Any], set[str]]:
    r = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(list(args))], env=env,
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    probe = json.loads(r.stdout.splitlines()[-1])
    assert probe["code"] == 0, r.stderr
    return probe, set(probe["loaded"])


def _under(mods: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in mods if any(m == n or m.startswith(n + ".") for n in names))


def test_quick_commands_load_neither_the_scanner_nor_what_they_never_use(
        initialised: Run, agent_env: dict[str, str], tmp_path: Path) -> None:
    assert initialised("engagement", "create", "acme", "--client", "Acme",
                       "--standard", "pci-3ds-1.0").code == 0
    src = tmp_path / "notes.txt"
    src.write_text("the admin reviews the rules twice a year\n")
    r = initialised("ingest", "acme", str(src), "--json")
    assert r.code == 0, r.err
    item = r.json()[0]["id"]  # type: ignore[index]
    dest = tmp_path / "out.txt"
    for args in (["status", "--json"], ["ls", "acme"], ["show", item],
                 ["get", item, "-o", str(dest)]):
        probe, mods = _loaded(agent_env, *args)
        assert "vault.service" in mods and "sqlalchemy" in mods  # it did open the vault
        assert _under(mods, NEVER + SCANNER) == [], args
    assert dest.read_text() == src.read_text()
    assert "notes.txt" in _loaded(agent_env, "ls", "acme")[0]["out"]


def test_ingest_loads_the_scanner_but_not_what_it_never_uses(
        initialised: Run, agent_env: dict[str, str], tmp_path: Path) -> None:
    assert initialised("engagement", "create", "acme", "--client", "Acme",
                       "--standard", "pci-3ds-1.0").code == 0
    src = tmp_path / "log.txt"
    src.write_text("card 4111 1111 1111 1111 seen at the gateway\n")
    probe, mods = _loaded(agent_env, "ingest", "acme", str(src), "--json")
    assert json.loads(probe["out"])[0]["state"] == "quarantined"  # it did scan
    assert "vault.pii.scanner" in mods
    assert _under(mods, NEVER) == []


def _choices(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            return dict(a.choices)
    return {}


def _helps(p: argparse.ArgumentParser, path: tuple[str, ...] = ()
           ) -> dict[tuple[str, ...], str]:
    out = {path: p.format_help()}
    for name, sub in _choices(p).items():
        out |= _helps(sub, path + (name,))
    return out


def test_the_parser_of_one_command_is_the_full_parser_s_part() -> None:
    from vault.cli.main import _parser

    full = _helps(_parser())
    for name in _choices(_parser()):
        one = _parser(["--json", name])
        assert list(_choices(one)) == [name]  # only the command named is built
        part = {k: v for k, v in _helps(one).items() if k}
        assert part == {k: v for k, v in full.items() if k[:1] == (name,)}


@pytest.mark.parametrize("argv", [
    ["status", "--json"], ["--json", "ls", "acme", "--state", "active"],
    ["user", "add", "bob", "--recipient", "age1x", "--role", "admin"],
    ["audit", "--limit", "3", "verify"], ["retention", "status", "acme"],
    # refusals and help: the same words, on the same stream, with the same exit code
    ["ls"], ["ls", "acme", "--state", "gone"], ["user", "add"], ["user"], ["status", "--bogus"],
    ["flag", "resolve", "F", "--redact", "--retain", "--reason", "r"], ["lss"], [], ["--json"],
    ["--", "status"], ["--help"], ["--help", "status"], ["status", "--help"], ["user", "-h"],
])
def test_the_parser_of_one_command_parses_and_refuses_as_the_full_one(argv: list[str]) -> None:
    from vault.cli.main import _parser

    def parse(p: argparse.ArgumentParser) -> tuple[Any, ...]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                ns: dict[str, Any] | None = vars(p.parse_args(argv))
                code = None
            except SystemExit as exc:
                ns, code = None, exc.code
        return ns, code, out.getvalue(), err.getvalue()

    assert parse(_parser(argv)) == parse(_parser())
