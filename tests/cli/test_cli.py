"""The `vault` command line, end to end in-process: verbs, --json, errors and exit codes."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

Run = Callable[..., Result]


def one_line_error(r: Result, message: str) -> None:
    assert r.code == 2, (r.code, r.err)
    lines = r.err.strip().splitlines()
    assert lines[0] == f"vault: error: {message}", r.err
    assert all(line.startswith("vault: ") for line in lines), r.err
    assert "Traceback" not in r.err


def ingest_json(run: Run, *args: str, stdin: bytes = b"") -> list[dict]:  # type: ignore[type-arg]
    r = run("ingest", *args, "--json", stdin=stdin)
    assert r.code == 0, r.err
    return r.json()  # type: ignore[return-value]


@pytest.fixture
def eng(initialised: Run) -> Run:
    r = initialised("engagement", "create", "acme", "--client", "Acme Payments",
                    "--standard", "pci-dss-4.0.1", "--period-start", "2026-01-01",
                    "--period-end", "2026-03-31")
    assert r.code == 0, r.err
    return initialised


def test_init_creates_vault_identity_and_is_rerunnable(run: Run, cli_env) -> None:  # type: ignore[no-untyped-def]
    r = run("init", "--name", "alice", "--json")
    assert r.code == 0, r.err
    d = r.json()
    assert d["created_vault"] and d["created_identity"] and d["user"] == "alice"
    assert d["recipient"].startswith("age1")
    assert oct(cli_env.identity_path.stat().st_mode & 0o777) == "0o600"
    assert b"AGE-SECRET-KEY" not in cli_env.identity_path.read_bytes()
    again = run("init", "--json").json()
    assert not again["created_vault"] and not again["created_identity"]
    assert again["recipient"] == d["recipient"]


def test_init_demo_makes_a_demo_engagement_once(run: Run) -> None:
    r = run("init", "--demo")
    assert r.code == 0, r.err
    assert "added the demo engagement" in r.text
    items = run("ls", "demo", "--json").json()
    assert {i["kind"] for i in items} == {"config_export", "interview_note", "log_export",
                                          "screenshot"}
    assert "added the demo" not in run("init", "--demo").text
    assert len(run("ls", "demo", "--json").json()) == 4
    assert run("verify", "--all").code == 0


def test_whoami_and_status(initialised: Run) -> None:
    who = initialised("whoami", "--json").json()
    assert who["name"] == "alice" and who["firm_role"] == "admin"
    assert initialised("whoami").text.startswith("alice age1")
    st = initialised("status", "--json").json()
    assert (st["engagements"], st["items"]) == (0, 0)
    assert st["store"].startswith("file://")


def test_engagement_verbs(eng: Run) -> None:
    lst = eng("engagement", "list", "--json").json()
    assert [(e["name"], e["client"], e["items"]) for e in lst] == [("acme", "Acme Payments", 0)]
    shown = eng("engagement", "show", lst[0]["id"][:8], "--json").json()
    assert shown["period_start"] == "2026-01-01"
    done = eng("engagement", "complete", "acme", "--date", "2026-04-15", "--json").json()
    assert done["completed_on"] == "2026-04-15"
    one_line_error(eng("engagement", "complete", "acme", "--date", "2026-04-01"),
                   "engagement was completed on 2026-04-15: the date may only move later")
    assert "acme" in eng("engagement", "list").text


def test_ingest_ls_show_get_verify(eng: Run, files: Path, tmp_path: Path) -> None:
    out = ingest_json(eng, "acme", str(files), "--kind", "config_export", "--req", "1.2.1",
                      "--req", "1.2.7", "--disclosure", "client", "--system", "fw-01",
                      "--description", "firewall evidence")
    assert sorted(i["original_name"] for i in out) == [
        "evidence/empty.log", "evidence/fw/rules.txt", "evidence/notes.md"]
    assert all(not i["duplicate"] for i in out)
    listed = eng("ls", "acme", "--json").json()
    assert len(listed) == 3
    assert all(i["requirements"] == ["1.2.1", "1.2.7"] and i["disclosure"] == "client"
               for i in listed)
    empty = next(i for i in listed if i["original_name"] == "evidence/empty.log")
    assert empty["size"] == 0
    rules = next(i for i in listed if i["original_name"].endswith("rules.txt"))
    assert eng("show", rules["id"][:8], "--json").json()["sha256"] == hashlib.sha256(
        (files / "fw" / "rules.txt").read_bytes()).hexdigest()
    dest = tmp_path / "rules.out"
    r = eng("get", rules["id"], "-o", str(dest))
    assert r.code == 0, r.err
    assert dest.read_bytes() == (files / "fw" / "rules.txt").read_bytes()
    assert eng("get", rules["id"]).out == dest.read_bytes()  # stdout (not a terminal here)
    v = eng("verify", "--all", "--json").json()
    assert (v["checked"], v["damaged"]) == (3, 0)
    assert eng("verify", rules["id"]).text.strip() == "1 checked, 0 damaged"
    human = eng("ls", "acme").text
    assert human.splitlines()[0].split() == ["ID", "KIND", "SIZE", "DISCLOSURE", "STATE",
                                             "REQS", "NAME"]


def test_ls_filters(eng: Run, files: Path) -> None:
    ingest_json(eng, "acme", str(files / "notes.md"), "--kind", "interview_note",
                "--req", "12.10.1")
    ingest_json(eng, "acme", str(files / "fw" / "rules.txt"), "--kind", "config_export",
                "--system", "core-fw")

    def names(*flt: str) -> list[str]:
        return [i["original_name"] for i in eng("ls", "acme", *flt, "--json").json()]
    assert names("--kind", "interview_note") == ["notes.md"]
    assert names("--req", "12.10.1") == ["notes.md"]
    assert names("--search", "CORE-FW") == ["rules.txt"]
    assert names("--limit", "1") == ["notes.md"]


def test_ingest_stdin_needs_a_name(eng: Run) -> None:
    one_line_error(eng("ingest", "acme", "-", stdin=b"data"),
                   "reading from standard input needs --name")
    [item] = ingest_json(eng, "acme", "-", "--name", "pasted.txt", stdin=b"pasted evidence\n")
    assert item["original_name"] == "pasted.txt" and item["size"] == 16


def test_same_file_twice_says_so(eng: Run, files: Path) -> None:
    path = str(files / "notes.md")
    first = eng("ingest", "acme", path)
    again = eng("ingest", "acme", path)
    assert first.code == again.code == 0
    assert "already in the vault" in again.text and "already" not in first.text
    assert len(eng("ls", "acme", "--json").json()) == 1


def test_bad_input_errors(eng: Run, files: Path, tmp_path: Path) -> None:
    one_line_error(eng("ingest", "acme", str(tmp_path / "missing.txt")),
                   f"no such file or directory: {tmp_path / 'missing.txt'}")
    one_line_error(eng("ingest", "nope", str(files)), "no engagement 'nope'")
    one_line_error(eng("ingest", "acme", str(files), "--req", "99.1"),
                   "requirement '99.1' is not in the PCI DSS v4.0.1 catalogue")
    one_line_error(eng("show", "abcdef"), "no item abcdef")
    one_line_error(eng("get", "zz/../x", "-o", str(tmp_path / "o")), "not an item id: 'zz/../x'")
    one_line_error(eng("verify"), "name an item, --engagement E or --all")
    assert eng("ls", "acme", "--json").json() == []


def test_special_file_is_refused_before_anything_is_stored(eng: Run, files: Path) -> None:
    fifo = files / "pipe"
    os.mkfifo(fifo)
    one_line_error(eng("ingest", "acme", str(files / "notes.md"), str(fifo)),
                   f"not a regular file or directory: {fifo}")
    assert eng("ls", "acme", "--json").json() == []


def test_hostile_names_are_escaped_on_the_terminal(eng: Run) -> None:
    name = "evil\x1b[2J\nvault: error: fake.txt"
    [item] = ingest_json(eng, "acme", "-", "--name", name, stdin=b"x")
    assert item["original_name"] == name
    human = eng("ls", "acme").text
    assert "\x1b" not in human and "\\x1b[2J\\nvault: error: fake.txt" in human
    assert len(human.strip().splitlines()) == 2


def test_get_refuses_existing_output_and_tampered_payload(eng: Run, files: Path,
                                                          cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(300_000)
    [item] = ingest_json(eng, "acme", "-", "--name", "blob.bin", stdin=data)
    dest = tmp_path / "exists.bin"
    dest.write_bytes(b"keep")
    one_line_error(eng("get", item["id"], "-o", str(dest)), f"output file exists: {dest}")
    assert dest.read_bytes() == b"keep"
    payload = cli_env.home / "objects" / "payload" / item["id"]
    blob = bytearray(payload.read_bytes())
    blob[150_000] ^= 0x80
    payload.write_bytes(bytes(blob))
    fresh = tmp_path / "fresh.bin"
    one_line_error(eng("get", item["id"], "-o", str(fresh)),
                   f"item {item['id']} is corrupted or was tampered with")
    assert not fresh.exists() and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in tmp_path.iterdir() if not p.name.startswith(".vault-get-"))
    r = eng("get", item["id"])
    assert r.code == 2 and r.out == b""
    v = eng("verify", "--all")
    assert v.code == 1
    assert f"DAMAGED {item['id']} blob.bin: item {item['id']} is corrupted" in v.text


def test_wrong_passphrase_and_missing_identity(eng: Run, cli_env,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_PASSPHRASE", "not the passphrase")
    one_line_error(eng("ls", "acme"), f"wrong passphrase for identity {cli_env.identity_path}")
    monkeypatch.setenv("VAULT_IDENTITY", "/nonexistent/identity.age")
    one_line_error(eng("ls", "acme"), "no identity file at /nonexistent/identity.age")
    monkeypatch.delenv("VAULT_PASSPHRASE")
    monkeypatch.setenv("VAULT_IDENTITY", str(cli_env.identity_path))
    one_line_error(eng("ls", "acme"), "no passphrase: set VAULT_PASSPHRASE or run on a terminal")


def test_no_vault_yet(run: Run, cli_env) -> None:  # type: ignore[no-untyped-def]
    r = run("status")
    one_line_error(r, f"no vault at {cli_env.home}")
    assert "vault: hint: run `vault init`" in r.err


def test_every_verb_speaks_json(eng: Run, files: Path, tmp_path: Path) -> None:
    [item] = ingest_json(eng, "acme", str(files / "notes.md"))
    for args in (["whoami"], ["status"], ["engagement", "list"], ["engagement", "show", "acme"],
                 ["ls", "acme"], ["show", item["id"]], ["verify", "--all"],
                 ["get", item["id"], "-o", str(tmp_path / "n.md")]):
        r = eng(*args, "--json")
        assert r.code == 0, (args, r.err)
        json.loads(r.out)


def test_a_file_that_fails_reports_error_and_hint_and_the_others_go_on(
        eng: Run, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import io

    from vault.evidence import sources

    class Growing(io.FileIO):
        """A live log: every read appends to the file."""

        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            if data:
                with open(self.name, "ab") as w:
                    w.write(b"another line\n")
            return data

    real = sources._file_source

    def file_source(path: Path, name: str, size: int) -> sources.Source:
        src = real(path, name, size)
        if path.name != "live.log":
            return src
        return dataclasses.replace(src, open=lambda: Growing(path, "rb"))

    monkeypatch.setattr(sources, "_file_source", file_source)
    live = files / "live.log"
    live.write_bytes(b"first line\n")
    r = eng("ingest", "acme", str(live), str(files / "notes.md"))
    assert r.code == 2
    lines = r.err.splitlines()
    assert lines[:2] == [
        "vault: error: file changed while it was ingested: live.log",
        "vault: hint: ingest it again once it is no longer being written"]
    assert len(lines) == 3 and lines[2].startswith("into engagement acme (")
    assert r.text.strip().endswith("  notes.md")  # the next file was ingested all the same
    assert [i["original_name"] for i in eng("ls", "acme", "--json").json()] == ["notes.md"]


def test_report_error_prints_the_message_then_the_hint() -> None:
    from vault.cli.errors import report_error
    from vault.errors import InvalidInput

    lines: list[str] = []
    report_error(InvalidInput("bad\x1b[2J", hint="do\nthis"), out=lines.append)
    report_error(InvalidInput("no hint"), about="cannot scan x", out=lines.append)
    report_error("[Errno 5] I/O error", about="cannot scan y\n", out=lines.append)
    assert lines == ["vault: error: bad\\x1b[2J", "vault: hint: do\\nthis",
                     "vault: error: cannot scan x: no hint",
                     "vault: error: cannot scan y\\n: [Errno 5] I/O error"]


def test_every_command_has_its_verb() -> None:
    import argparse

    from vault.cli.main import VERBS, _parser

    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(VERBS)
    for cmd, group in VERBS.items():
        assert callable(getattr(group, cmd.replace("-", "_")))


def test_the_command_line_loads_no_database_layer_until_it_opens_the_vault() -> None:
    import subprocess
    import sys

    code = ("import sys; from vault.cli.main import _parser; "
            "_parser().parse_args(['ls', 'acme', '--state', 'active']); "
            "print(sorted(m for m in ('vault.service', 'sqlmodel', 'sqlalchemy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_ingest_reports_what_a_directory_holds_besides_files(eng: Run, files: Path,
                                                             tmp_path: Path) -> None:
    """Links, FIFOs and sockets inside a directory are not read and not skipped in silence; a
    name that is not UTF-8 is ingested under a displayable name; the rest goes on."""
    (tmp_path / "secret").write_bytes(b"outside the tree\n")
    (files / "link").symlink_to(tmp_path / "secret")
    os.mkfifo(files / "pipe")
    fd = os.open(os.fsencode(files) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, b"latin-1 name\n")
    os.close(fd)
    r = eng("ingest", "acme", str(files), "--json")
    assert r.code == 0, r.err
    records = r.json()
    assert isinstance(records, list)
    skipped = [d for d in records if "skipped" in d]
    assert skipped == [
        {"name": "evidence/link", "path": str(files / "link"),
         "skipped": "a symbolic link (not followed inside a directory)"},
        {"name": "evidence/pipe", "path": str(files / "pipe"), "skipped": "a named pipe (fifo)"}]
    assert sorted(d["original_name"] for d in records if "skipped" not in d) == [
        "evidence/caf\\xe9.txt", "evidence/empty.log", "evidence/fw/rules.txt",
        "evidence/notes.md"]
    assert r.err.splitlines() == [
        "vault: warning: skipped evidence/link: a symbolic link (not followed inside a "
        "directory)",
        "vault: warning: skipped evidence/pipe: a named pipe (fifo)"]
    human = eng("ingest", "acme", str(files))
    assert human.code == 0 and "Traceback" not in human.err
    assert "vault: warning: skipped evidence/pipe: a named pipe (fifo)" in human.err
    assert "evidence/caf\\xe9.txt (already in the vault)" in human.text
    listed = eng("ls", "acme", "--json").json()
    assert isinstance(listed, list)
    names = [i["original_name"] for i in listed]
    assert "evidence/link" not in names and len(names) == 4


def test_ingest_a_file_replaced_after_listing_fails_alone(
        eng: Run, files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.evidence import sources

    (tmp_path / "secret").write_bytes(b"# not evidence: outside the tree\n")
    real = sources.collect

    def collect_then_swap(*args, **kwargs):  # type: ignore[no-untyped-def]
        listed = real(*args, **kwargs)
        (files / "notes.md").unlink()
        (files / "notes.md").symlink_to(tmp_path / "secret")
        return listed
    monkeypatch.setattr(sources, "collect", collect_then_swap)
    r = eng("ingest", "acme", str(files), "--json")
    assert r.code == 2
    message = "evidence/notes.md changed or was replaced between listing and reading"
    assert {"name": "evidence/notes.md", "error": message} in r.json()  # type: ignore[operator]
    assert r.err.splitlines()[0] == f"vault: error: {message}"
    assert "Traceback" not in r.err
    listed = eng("ls", "acme", "--json").json()
    assert isinstance(listed, list)
    assert sorted(i["original_name"] for i in listed) == [
        "evidence/empty.log", "evidence/fw/rules.txt"]
