"""Real bundles, checked with exactly the README's commands and standard tools (Debian age,
tar, bagit-python, OpenSSL 3, stock Python); tampering fails them; the disclosure rules hold
end to end; bad input leaves nothing behind; every export is audited."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import bagit  # noqa: F401  (the checks run `python3 -m bagit`: it must be installed)
import pytest
from sqlmodel import Session, col, func, select

from tests.export.conftest import Firm
from tests.export.pki import make_ca, make_signer
from vault.errors import AlreadyExists, InvalidInput, NotFound
from vault.export.auditor import TAG_FILES, VERIFY_PROOFS
from vault.metadata.models import AuditEvent, ExportRecord
from vault.service.exports import Scope

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme() -> tuple[list[str], str]:
    """The README's auditor commands (one per line) and its verify_proofs.py."""
    text = README.read_text()
    section = text[text.index("## For auditors: verifying an export bundle"):]
    block = re.search(r"```sh\n(KEY=.*?)\n```", section, re.S)
    script = re.search(r"<<'PROOFS'\n(.*?)\nPROOFS\n", section, re.S)
    assert block and script
    return block.group(1).splitlines(), script.group(1) + "\n"


def _env(tmp: Path) -> dict[str, str]:
    """`python3` is this interpreter (with bagit-python installed)."""
    bindir = tmp / "bin"
    bindir.mkdir(exist_ok=True)
    if not (bindir / "python3").exists():  # a wrapper, not a symlink: a venv's python only
        (bindir / "python3").write_text(  # finds its site-packages by its own path
            f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        (bindir / "python3").chmod(0o755)
    return os.environ | {"PATH": f"{bindir}:{os.environ['PATH']}"}


def _sh(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=cwd, env=env,
                          capture_output=True, text=True)


def _auditor(firm: Firm, bundle: Path, key: Path, bag_name: str, work: Path,
             ca_pem: str | None = None) -> dict[str, str]:
    """The auditor's desk: the bundle, the key, the CA received out of band, the script."""
    work.mkdir()
    shutil.copy(bundle, work / "bundle.age")
    shutil.copy(key, work / "council-key.txt")
    (work / "firm-ca.pem").write_text(ca_pem or firm.signer.ca_pem)
    lines, script = _readme()
    (work / "verify_proofs.py").write_text(script)
    env = _env(work)
    env |= {"KEY": "council-key.txt", "BUNDLE": "bundle.age", "BAG": bag_name}
    return env


def _checks() -> list[str]:
    lines, _ = _readme()
    assert lines[0].startswith("KEY=") and lines[1].startswith("age -d")
    return lines[2:]


def _first_failure(work: Path, env: dict[str, str]) -> str | None:
    for line in _checks():
        if _sh(line, work, env).returncode != 0:
            return line
    return None


def test_the_readme_and_verify_txt_carry_the_same_checks() -> None:
    lines, script = _readme()
    assert script == VERIFY_PROOFS
    assert all(t in lines[-1] for t in TAG_FILES)
    assert not any("--fast" in line for line in lines)


def test_a_council_bundle_verifies_with_the_readme_commands(firm: Firm, tmp_path: Path) -> None:
    r = firm.v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1",
                      output=tmp_path / "bundle.age")
    work = tmp_path / "auditor"
    env = _auditor(firm, tmp_path / "bundle.age", firm.council_key, r.bag_name, work)
    lines, _ = _readme()
    decrypt = _sh(lines[1], work, env)
    assert decrypt.returncode == 0, decrypt.stderr
    for line in _checks():
        done = _sh(line, work, env)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
    bag = work / r.bag_name
    assert _sh('python3 verify_proofs.py "$BAG"', work, env).stdout.strip() == "audit proofs: OK"
    # what went: the team, client and council-only files and the redacted version
    its = firm.items
    assert {i.item_id for i in r.included} == {its["team"], its["client"], its["council"],
                                               its["redacted"]}
    assert {w.item_id: w.reason.split(":")[0] for w in r.withheld} == {
        its["held"]: "quarantined", its["original"]: "redacted"}
    sent = {i.item_id: (bag / i.path).read_bytes() for i in r.included}
    assert sent[its["team"]] == b"permit tcp any any eq 443\n"
    assert sent[its["redacted"]].startswith(b"ok\nauth 411111") and b"4111111111111111" \
        not in b"".join(sent.values())
    assert sorted(p.name for p in (bag / "data").rglob("*") if p.is_file()) == sorted(
        Path(i.path).name for i in r.included)
    coverage = (bag / "coverage.tsv").read_text()
    assert "DOC-4\troc-ref\twithheld: quarantined" in coverage
    exclusions = (bag / "exclusions.tsv").read_text().splitlines()
    assert exclusions[0] == "item\treason" and len(exclusions) == 3
    assert "4111111111111111" not in (bag / "custody.csv").read_text()
    assert "card number in an authorisation log" in (bag / "custody.csv").read_text()
    info = (bag / "bag-info.txt").read_text()
    for field in ("Source-Organization: Test QSA Firm", "Engagement: acme-2026",
                  "Client: Acme Payments", "Request-Reference: QA-1", "Exporter: alice",
                  "Recipient: PCI SSC QA (council", "Bagging-Date: ", "Payload-Oxum: ",
                  "Bag-Software-Agent: "):
        assert field in info, field
    assert r.bag_name in (bag / "VERIFY.txt").read_text()


def _exported(firm: Firm, tmp_path: Path, name: str = "b") -> tuple[Path, dict[str, str], str]:
    r = firm.v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1",
                      output=tmp_path / f"{name}.age")
    work = tmp_path / f"desk-{name}"
    env = _auditor(firm, tmp_path / f"{name}.age", firm.council_key, r.bag_name, work)
    assert _sh(_readme()[0][1], work, env).returncode == 0
    return work, env, r.bag_name


def _flip(path: Path, at: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_one_changed_byte_anywhere_fails(firm: Firm, tmp_path: Path) -> None:
    work, env, name = _exported(firm, tmp_path)
    assert _first_failure(work, env) is None
    pristine = work / name
    cases = {}
    for case in ("payload", "tag file", "tag file re-hashed", "signature", "proof"):
        desk = tmp_path / f"case-{case.replace(' ', '-')}"
        shutil.copytree(work, desk, symlinks=True)
        bag = desk / name
        if case == "payload":
            _flip(next(p for p in sorted((bag / "data").rglob("*")) if p.is_file()), 3)
        elif case == "tag file":
            _flip(bag / "custody.csv", 10)
        elif case == "tag file re-hashed":  # a forger who also updates the tag manifests
            _flip(bag / "exclusions.tsv", 8)
            subprocess.run([sys.executable, "-c", (
                "import bagit,sys; b=bagit.Bag(sys.argv[1]); b.save(manifests=False)"),
                str(bag)], check=True, capture_output=True)
        elif case == "signature":
            _flip(bag / "tagmanifest-sha256.txt.sig", 5)
        elif case == "proof":
            lines = (bag / "audit/events.jsonl").read_text().splitlines()
            rec = json.loads(lines[0])
            rec["event"] = rec["event"].replace('"outcome":"ok"', '"outcome":"no"')
            (bag / "audit/events.jsonl").write_text(
                "\n".join([json.dumps(rec)] + lines[1:]) + "\n")
        cases[case] = _first_failure(desk, env)
    assert pristine.is_dir()
    assert "bagit --validate" in (cases["payload"] or "")
    assert "bagit --validate" in (cases["tag file"] or "")
    assert "tagmanifest-sha256.txt.sig" in (cases["tag file re-hashed"] or "")
    assert "tagmanifest-sha256.txt.sig" in (cases["signature"] or "")
    assert "bagit --validate" in (cases["proof"] or "")
    # the proofs themselves catch an edited event too (with the bag's hashes redone)
    desk = tmp_path / "case-proof"
    done = _sh('python3 verify_proofs.py "$BAG"', desk, env)
    assert done.returncode == 1 and "NOT PROVEN" in done.stdout


def test_a_certificate_from_another_ca_fails(firm: Firm, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.service import Vault
    rogue = make_signer("alice", make_ca("Test QSA Firm CA"))  # same name, another key
    monkeypatch.setattr(Vault, "signer", lambda self, s: rogue, raising=False)
    r = firm.v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1",
                      output=tmp_path / "rogue.age")
    work = tmp_path / "desk"
    env = _auditor(firm, tmp_path / "rogue.age", firm.council_key, r.bag_name, work)
    assert _sh(_readme()[0][1], work, env).returncode == 0
    assert "openssl verify -CAfile firm-ca.pem" in (_first_failure(work, env) or "")


def test_a_client_gets_only_its_client_items(firm: Firm, tmp_path: Path) -> None:
    council = firm.v.export("acme-2026", to="PCI SSC QA", request_ref="QA-0",
                            output=tmp_path / "council.age")  # an earlier export, to the Council
    assert council.included
    r = firm.v.export("acme-2026", to="Acme security", request_ref="ACME-7",
                      output=tmp_path / "client.age")
    its = firm.items
    assert {i.item_id for i in r.included} == {its["client"], its["redacted"]}
    reasons = {w.item_id: w.reason for w in r.withheld}
    assert reasons[its["team"]].startswith("disclosure team")
    assert reasons[its["council"]].startswith("disclosure council-only")
    work = tmp_path / "desk"
    env = _auditor(firm, tmp_path / "client.age", firm.client_key, r.bag_name, work)
    assert _sh(_readme()[0][1], work, env).returncode == 0
    assert _first_failure(work, env) is None
    excerpt = (work / r.bag_name / "audit/events.jsonl").read_text()
    assert "item.ingest" in excerpt and "item.export" not in excerpt  # no other recipients
    files = {p.read_bytes() for p in (work / r.bag_name / "data").rglob("*") if p.is_file()}
    assert b"for the council only\n" not in files and b"permit tcp any any eq 443\n" not in files
    # the council's key does not open it
    shutil.copy(firm.council_key, work / "other-key.txt")
    assert _sh('age -d -i other-key.txt bundle.age | tar -t', work, env).returncode != 0
    with pytest.raises(InvalidInput, match="bound to the client 'Acme Payments'"):
        firm.v.export("globex-2026", to="Acme security", request_ref="G-1",
                      output=tmp_path / "globex.age")
    assert not (tmp_path / "globex.age").exists()


def _state(firm: Firm) -> tuple[int, int]:
    with Session(firm.v.engine) as s:
        return (s.exec(select(func.count()).select_from(AuditEvent)).one(),
                s.exec(select(func.count()).select_from(ExportRecord)).one())


def test_bad_input_is_refused_and_writes_nothing(firm: Firm, tmp_path: Path) -> None:
    v, out = firm.v, tmp_path / "x.age"

    def refused(exc: type[Exception], match: str, **kw: object) -> None:
        args: dict[str, object] = {"to": "PCI SSC QA", "request_ref": "QA-1", "output": out}
        args.update(kw)
        with pytest.raises(exc, match=match):
            v.export(str(args.pop("eng", "acme-2026")), **args)  # type: ignore[arg-type]
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("x.age")) == []

    refused(NotFound, "no export recipient 'Nobody'", to="Nobody")
    refused(InvalidInput, "nothing to export", scope=Scope(kinds=("screenshot",)))
    refused(InvalidInput, "nothing to export: 1 item", scope=Scope(roc_refs=("DOC-4",)))
    refused(InvalidInput, "requirement '99.9' is not in", scope=Scope(requirements=("99.9",)))
    refused(NotFound, "carries the ROC reference DOC-404", scope=Scope(roc_refs=("DOC-404",)))
    refused(InvalidInput, "belongs to another engagement",
            scope=Scope(items=(firm.items["globex"],)))
    refused(InvalidInput, "request reference", request_ref="")
    refused(InvalidInput, "card data", request_ref="QA 4111111111111111")
    out.write_bytes(b"keep me")
    with pytest.raises(AlreadyExists, match="output file exists"):
        v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=out)
    assert out.read_bytes() == b"keep me"
    before = _state(firm)
    r = v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=out, dry_run=True)
    assert r.dry_run and r.included and r.withheld and out.read_bytes() == b"keep me"
    assert _state(firm) == before  # a dry run leaves no event and no record
    r = v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=out, force=True)
    assert out.read_bytes() != b"keep me"


def test_every_export_is_audited_and_listed(firm: Firm, tmp_path: Path) -> None:
    r = firm.v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1",
                      output=tmp_path / "b.age", scope=Scope(roc_refs=("DOC-1", "DOC-5")))
    bundle_sha = hashlib.sha256((tmp_path / "b.age").read_bytes()).hexdigest()
    assert r.bundle_sha256 == bundle_sha
    assert {i.item_id for i in r.included} == {firm.items["team"], firm.items["redacted"]}
    with Session(firm.v.engine) as s:
        [ev] = s.exec(select(AuditEvent).where(AuditEvent.action == "export.create")).all()
        per_item = s.exec(select(AuditEvent).where(AuditEvent.action == "item.export")
                          .order_by(col(AuditEvent.seq))).all()
    d = json.loads(ev.detail or "")
    assert (d["recipient"], d["request_ref"], d["bundle_sha256"], d["items"]) == (
        "PCI SSC QA", "QA-1", bundle_sha, 2)
    assert {(e.object, json.loads(e.detail or "")["sha256"]) for e in per_item} == {
        (i.item_id, i.sha256) for i in r.included}
    [rec] = firm.v.exports("acme-2026")
    assert (rec.recipient, rec.request_ref, rec.bundle_sha256, rec.items) == (
        "PCI SSC QA", "QA-1", bundle_sha, 2)


KILLER = """
import os, signal, sys
from pathlib import Path
from storage_backends import LocalStore
from tests.export.pki import make_signer
from vault.age import X25519Identity
from vault.metadata.db import open_database
from vault.service import Vault
home, ident, out = Path(sys.argv[1]), X25519Identity.from_str(os.environ["ID"]), Path(sys.argv[2])
Vault.signer = lambda self, s: make_signer()
v = Vault(open_database(f"sqlite:///{home / 'vault.db'}"), LocalStore(home / "objects"),
          ident, tmp_dir=home / "tmp")
seen = [0]
def progress(n):
    seen[0] += n
    if seen[0] > 3 << 20:
        os.kill(os.getpid(), signal.SIGKILL)
v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=out, progress=progress)
"""


def test_sigkill_during_an_export_leaves_no_bundle_and_a_retry_works(
        firm: Firm, tmp_path: Path, alice_id: object, settings: object) -> None:
    from tests.conftest import ingest_one
    ingest_one(firm.v, "acme-2026", "big.bin", os.urandom(8 << 20), roc_refs=("DOC-9",))
    before = _state(firm)
    out = tmp_path / "out" / "bundle.age"
    out.parent.mkdir()
    root = Path(__file__).resolve().parents[2]
    path = f"{root}:{os.environ.get('PYTHONPATH', '')}"
    home = str(settings.home)  # type: ignore[attr-defined]
    done = subprocess.run([sys.executable, "-c", KILLER, home, str(out)],
                          env=os.environ | {"ID": str(alice_id), "PYTHONPATH": path},
                          capture_output=True, text=True, cwd=root)
    assert done.returncode == -9, done.stderr
    left = [p.name for p in out.parent.iterdir()]
    assert not out.exists() and all(".partial-" in n for n in left), left
    assert _state(firm) == before
    r = firm.v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=out)
    assert out.exists() and r.bundle_sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert _state(firm)[1] == before[1] + 1


def test_scope_by_item_kind_dates_and_coverage(firm: Firm, tmp_path: Path,
                                               clock: object) -> None:
    from datetime import date, timedelta

    from tests.conftest import ingest_one
    v, its = firm.v, firm.items
    clock.advance(timedelta(days=10))  # type: ignore[attr-defined]
    late = ingest_one(v, "acme-2026", "late.txt", b"later evidence\n", kind="document",
                      roc_refs=("DOC-7",)).view.item.id

    def included(**kw: object) -> set[str]:
        r = v.export("acme-2026", to="PCI SSC QA", request_ref="Q", output=None,
                     dry_run=True, scope=Scope(**kw))  # type: ignore[arg-type]
        return {i.item_id for i in r.included}

    assert included(items=(its["team"][:8],)) == {its["team"]}
    # a shredded original named by id brings its redacted version
    assert included(items=(its["original"],)) == {its["redacted"]}
    assert included(kinds=("document",)) == {its["client"], late}
    assert included(since=date(2026, 3, 5)) == {late}
    assert its["team"] in included(until=date(2026, 3, 1)) and late not in included(
        until=date(2026, 3, 1))
    assert included(roc_refs=("DOC-1",), requirements=("1.2",)) == {its["team"],
                                                                    its["client"]}
    r = v.export("acme-2026", to="PCI SSC QA", request_ref="Q", output=None, dry_run=True,
                 scope=Scope(roc_refs=("DOC-1", "DOC-4"), requirements=("8.3.6",)))
    assert r.coverage == [("DOC-1", "roc-ref", r.included[0].path),
                          ("DOC-4", "roc-ref", "withheld: " + rules_quarantined()),
                          ("8.3.6", "requirement", "none held")]


def rules_quarantined() -> str:
    from vault.export import rules
    return rules.QUARANTINED


def test_a_full_disk_leaves_nothing_and_a_retry_works(firm: Firm, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from vault.errors import StorageError
    from vault.export import bag
    out = tmp_path / "out" / "bundle.age"
    out.parent.mkdir()
    before = _state(firm)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")
    with monkeypatch.context() as m:
        m.setattr(bag.os, "fsync", full)
        with pytest.raises(StorageError, match="No space left on device"):
            firm.v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=out)
    assert list(out.parent.iterdir()) == []
    assert _state(firm)[1] == before[1]  # no export recorded (the failure itself is audited)
    firm.v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=out)
    assert out.exists() and _state(firm)[1] == before[1] + 1


def test_the_plan_is_seen_before_anything_is_written(firm: Firm, tmp_path: Path) -> None:
    out = tmp_path / "b.age"
    seen: list[tuple[int, bool]] = []
    done: list[int] = []
    r = firm.v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=out,
                      on_plan=lambda p: seen.append((len(p.included), out.exists())),
                      progress=done.append)
    assert seen == [(len(r.included), False)]
    assert sum(done) == sum(i.size for i in r.included)
