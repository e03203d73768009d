"""The export verbs through the CLI, with the vault's own certificates (the first
administrator is certified at init) and a recipient key made by Debian's age-keygen."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, Result
from tests.export.test_export import _env, _readme, _sh
from vault.crypto import keys

Run = Callable[..., Result]


def _age_key(path: Path) -> str:
    subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    return next(line.split(": ")[1] for line in path.read_text().splitlines()
                if line.startswith("# public key: "))


@pytest.fixture
def eng(initialised: Run, tmp_path: Path) -> Run:
    run = initialised
    assert run("engagement", "create", "E", "--client", "Acme Payments", "--standard",
               "pci-dss-4.0.1").code == 0
    assert run("ingest", "E", "-", "--name", "rules.txt", "--roc-ref", "DOC-1", "--req",
               "1.2.1", stdin=b"permit tcp any any eq 443\n").code == 0
    assert run("ingest", "E", "-", "--name", "held.log", "--roc-ref", "DOC-2",
               stdin=b"card 4111111111111111\n").code == 0
    key = _age_key(tmp_path / "council-key.txt")
    assert run("recipient", "add", "PCI SSC QA", "--type", "council", "--age-recipient",
               key).code == 0
    return run


def test_export_through_the_cli_verifies_with_the_firm_ca(eng: Run, tmp_path: Path) -> None:
    run = eng
    out = tmp_path / "bundle.age"
    r = run("export", "E", "--to", "PCI SSC QA", "--request-ref", "QA-1", "-o", str(out),
            "--dry-run")
    assert r.code == 0, r.err
    assert "would include 1 file" in r.text and "would withhold 1 item" in r.text
    assert "quarantined" in r.text and "DOC-2" in r.text and not out.exists()
    r = run("export", "E", "--to", "PCI SSC QA", "--request-ref", "QA-1", "-o", str(out),
            "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert isinstance(doc, dict) and out.exists()
    work = tmp_path / "desk"
    work.mkdir()
    assert run("signing-key", "export", "--ca", "-o", str(work / "firm-ca.pem")).code == 0
    (tmp_path / "bundle.age").rename(work / "bundle.age")
    (tmp_path / "council-key.txt").rename(work / "council-key.txt")
    lines, script = _readme()
    (work / "verify_proofs.py").write_text(script)
    env = _env(work) | {"KEY": "council-key.txt", "BUNDLE": "bundle.age", "BAG": doc["bag"]}
    for line in lines[1:]:
        done = _sh(line, work, env)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
    r = run("exports", "E", "--json")
    assert [(e["recipient"], e["request_ref"], e["bundle_sha256"]) for e in r.json()] == [
        ("PCI SSC QA", "QA-1", doc["bundle_sha256"])]  # type: ignore[union-attr,index]


@pytest.mark.parametrize("args,message", [
    (["--to", "Nobody"], "no export recipient 'Nobody'"),
    (["--to", "PCI SSC QA", "--req", "99.9"], "requirement '99.9' is not in"),
    (["--to", "PCI SSC QA", "--roc-ref", "DOC-404"], "carries the ROC reference DOC-404"),
    (["--to", "PCI SSC QA", "--kind", "screenshot"], "nothing to export"),
])
def test_bad_input_is_one_line_and_exit_2(eng: Run, tmp_path: Path, args: list[str],
                                          message: str) -> None:
    out = tmp_path / "x.age"
    r = eng("export", "E", "--request-ref", "QA-1", "-o", str(out), *args)
    assert r.code == 2 and message in r.err and "Traceback" not in r.err
    assert r.err.startswith("vault: error: ") and len(r.err.splitlines()) <= 2
    assert list(tmp_path.glob("x.age*")) == []


def test_existing_output_needs_force(eng: Run, tmp_path: Path) -> None:
    out = tmp_path / "x.age"
    out.write_bytes(b"keep")
    r = eng("export", "E", "--to", "PCI SSC QA", "--request-ref", "QA-1", "-o", str(out))
    assert r.code == 2 and "--force" in r.err and out.read_bytes() == b"keep"
    r = eng("export", "E", "--to", "PCI SSC QA", "--request-ref", "QA-1", "-o", str(out),
            "--force")
    assert r.code == 0 and out.read_bytes().startswith(b"age-encryption.org/v1\n")


def test_a_person_without_a_certificate_is_told_who_certifies(
        eng: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_env: object) -> None:
    bob = tmp_path / "bob.age"
    keys.create_identity(bob, PASSPHRASE)
    monkeypatch.setenv("VAULT_IDENTITY", str(bob))
    rec = eng("init", "--join", "--json").json()["recipient"]  # type: ignore[index]
    monkeypatch.setenv("VAULT_IDENTITY", str(cli_env.identity_path))  # type: ignore[attr-defined]
    assert eng("user", "add", "bob", "--recipient", rec).code == 0
    assert eng("member", "add", "E", "bob", "--role", "qa").code == 0
    monkeypatch.setenv("VAULT_IDENTITY", str(bob))
    out = tmp_path / "bob-bundle.age"
    r = eng("export", "E", "--to", "PCI SSC QA", "--request-ref", "QA-1", "-o", str(out))
    assert r.code == 2 and "no valid signing certificate" in r.err
    assert "vault user certify bob" in r.err and "alice" in r.err
    assert list(tmp_path.glob("bob-bundle.age*")) == []
