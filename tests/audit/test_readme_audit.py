"""The README's stock-tool checks of an exported audit log and of an inclusion proof work as
written, with the real openssl — and fail on a tampered export."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result

README = Path(__file__).resolve().parents[2] / "README.md"


def _scripts() -> list[str]:
    return re.findall(r"<<'PY'\n(.*?)\nPY\n", README.read_text(), re.S)


def _openssl_ok(work: Path, head: str) -> bool:
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey",
                        "firm.pem", "-in", f"{head}.txt", "-sigfile", f"{head}.sig"],
                       cwd=work, capture_output=True, text=True)
    return r.returncode == 0 and "Signature Verified Successfully" in r.stdout


def test_export_and_proof_checks(initialised: Callable[..., Result], tmp_path: Path) -> None:
    run = initialised
    _, export_py, proof_py = _scripts()
    work = tmp_path / "auditor"
    work.mkdir()
    assert run("engagement", "create", "e", "--client", "c", "--standard",
               "pci-dss-4.0.1").code == 0
    for i in range(5):
        assert run("ingest", "e", "-", "--name", f"f{i}", stdin=str(i).encode()).code == 0
    assert run("audit", "checkpoint").code == 0
    assert run("ingest", "e", "-", "--name", "late", stdin=b"late").code == 0
    assert run("audit", "checkpoint").code == 0
    assert run("signing-key", "export", "-o", str(work / "firm.pem")).code == 0
    assert run("audit", "export", "-o", str(work / "audit.jsonl")).code == 0
    r = run("audit", "proof", "3", "--json")
    assert r.code == 0, r.err
    (work / "proof.json").write_bytes(r.out)

    out = subprocess.run([sys.executable, "-", "audit.jsonl"], input=export_py, text=True,
                         cwd=work, capture_output=True, check=True).stdout
    assert out.splitlines() == ["tree head 6: root matches", "tree head 8: root matches",
                                "log intact"]
    assert _openssl_ok(work, "head-6") and _openssl_ok(work, "head-8")
    out = subprocess.run([sys.executable, "-", "proof.json"], input=proof_py, text=True,
                         cwd=work, capture_output=True, check=True).stdout
    assert out.strip() == "included"
    assert _openssl_ok(work, "head")

    # tampering: an edited event breaks the roots; a forged proof is not included
    lines = (work / "audit.jsonl").read_text().splitlines()
    i = next(n for n, x in enumerate(lines) if json.loads(x)["type"] == "event")
    rec = json.loads(lines[i + 1])
    rec["event"] = rec["event"].replace('"outcome":"ok"', '"outcome":"denied"')
    lines[i + 1] = json.dumps(rec)
    (work / "audit.jsonl").write_text("\n".join(lines) + "\n")
    out = subprocess.run([sys.executable, "-", "audit.jsonl"], input=export_py, text=True,
                         cwd=work, capture_output=True, check=True).stdout
    assert "DOES NOT MATCH" in out and out.strip().endswith("LOG BROKEN")
    proof = json.loads((work / "proof.json").read_text())
    proof["event"] = proof["event"].replace("alice", "mallory")
    (work / "proof.json").write_text(json.dumps(proof))
    out = subprocess.run([sys.executable, "-", "proof.json"], input=proof_py, text=True,
                         cwd=work, capture_output=True, check=True).stdout
    assert out.strip() == "NOT INCLUDED"
    (work / "head.txt").write_text((work / "head.txt").read_text().replace("size", "SIZE"))
    assert not _openssl_ok(work, "head")
