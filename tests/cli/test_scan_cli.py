"""`vault scan`: findings as JSON lines or a table, exit 0/1/2, never a full PAN on output."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

PAN = "4111 1111 1111 1111"


def test_scan_json_lines_and_exit_codes(run: Callable[..., Result], tmp_path: Path) -> None:
    log = tmp_path / "gw.log"
    log.write_text(f"ok\npan={PAN} exp=12/29\nmasked 411111******1111\n")
    clean = tmp_path / "clean.txt"
    clean.write_text("nothing to see\n")
    r = run("scan", str(log), str(clean), "--json")
    assert r.code == 1
    rows = [json.loads(x) for x in r.text.splitlines()]
    assert rows == [{"path": str(log), "kind": "pan", "line": 2, "page": None,
                     "masked": "411111******1111", "detector": "pan.luhn_iin",
                     "confidence": rows[0]["confidence"]}]
    assert "4111111111111111" not in r.text and PAN not in r.text + r.err
    assert run("scan", str(clean)).code == 0
    assert run("scan", str(tmp_path / "missing")).code == 2


def test_scan_table_and_odd_files(run: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "latin1.csv").write_bytes("nimi;kortti\nJärvinen;4111111111111111\n"
                                          .encode("latin-1"))
    (tmp_path / "utf16.txt").write_bytes(f"card {PAN}\n".encode("utf-16"))
    shutil.copy("/bin/true", tmp_path / "screenshot.png")        # an executable named .png
    (tmp_path / "junk.bin").write_bytes(bytes(range(256)) * 40)  # undecodable bytes
    r = run("scan", str(tmp_path))
    assert r.code == 1, r.err
    lines = r.text.splitlines()
    assert lines[-1] == "5 files scanned, 3 findings"
    rows = {Path(x.split()[0]).name: x.split()[1:4] for x in lines[1:-1]}
    assert rows["latin1.csv"] == ["2", "pan", "411111******1111"]
    assert rows["utf16.txt"] == ["1", "pan", "411111******1111"]
    # the binary is scanned by its printable runs: coreutils' bug-report address, no line
    assert rows["screenshot.png"][:2] == ["-", "email"]

    assert "4111111111111111" not in r.text


@pytest.mark.parametrize("native", [True, False], ids=["C", "python"])
def test_json_lines_are_json_dumps_of_each_hit(native: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import io

    from vault.cli.scan import _ScanJson
    from vault.pii import Finding, scanjson
    from vault.pii.scan import ScanBatch, ScanHit

    hits = [
        ScanHit("/tmp/gw.log", Finding("pan", "pan.luhn_iin", 1, 17, 2, "411111******1111",
                                       0.99, "ab")),  # fmt: skip
        ScanHit('dir/"odd"\\ näme\t\x1b[31m.txt',
                Finding("secret", "secret.config_password", 0, 9, None,
                        'p"w\\\n\u2028ä\x00\x1f\x7f\b\f\r', 0.85, "cd"), page=3),  # fmt: skip
        ScanHit("x", Finding("ip_address", "ip_address.v4", 5, 12, 10**12, "10.1.*.*",
                             0.8000000001, "ef")),  # fmt: skip
        ScanHit("x", Finding("phone", "phone", 5, 12, 7, "パスワード***12", 0.6, "ef")),
        ScanHit("x", Finding("email", "email", 5, 12, 7, "\ud800 lone surrogate", 0.6, "ef")),
    ]
    if native:
        assert scanjson._native is not None, "native scanner core not built"
    else:
        monkeypatch.setattr(scanjson, "_native", None)
    out = io.StringIO()
    report = _ScanJson(out)
    for h in hits * 300:
        report.add(ScanBatch(h.path, h.page, [dataclasses.astuple(h.finding)] * 2))
    report.flush()
    # a batch UTF-8 cannot encode (the lone surrogate) is escaped, as JSON allows
    want = [json.dumps(h.as_dict(), ensure_ascii="\ud800" in h.finding.masked)
            for h in hits * 300 for _ in "ab"]  # fmt: skip
    assert out.getvalue().split("\n") == [*want, ""]
    assert [json.loads(line) for line in want[-2:]] == [hits[-1].as_dict()] * 2
    assert report.count == 3000
    raw = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # a real stdout: bytes to .buffer
    report = _ScanJson(raw)
    for h in hits:
        report.add(ScanBatch(h.path, h.page, [dataclasses.astuple(h.finding)]))
    report.flush()
    assert raw.buffer.getvalue().decode("utf-8").split("\n") == [*want[:10:2], ""]


def test_table_keeps_a_bounded_number_of_rows(run: Callable[..., Result], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.cli.scan import _ScanTable

    monkeypatch.setattr(_ScanTable, "ROWS", 3)
    log = tmp_path / "gw.log"
    log.write_text("".join(f"pan={PAN} ip=10.0.0.{i}\n" for i in range(4)))
    r = run("scan", str(log))
    assert r.code == 1
    lines = r.text.splitlines()
    assert len(lines) == 1 + 3 + 3
    assert lines[-3] == "... 5 more findings not shown (--json lists every one)"
    assert lines[-2] == "by kind: ip_address 4, pan 4"
    assert lines[-1] == "1 file scanned, 8 findings"
    assert len(run("scan", str(log), "--json").text.splitlines()) == 8


def test_big_file_json_rendered_by_the_workers_is_identical(tmp_path: Path) -> None:
    """Over 16 MiB `vault scan` moves to worker processes, which render the JSON lines: the
    output equals the lines of the unrendered rows, and the process exits without noise."""
    import os
    import subprocess
    import sys

    from tests.bench.bench_scan import generate as gateway_log
    from vault.evidence.sources import collect
    from vault.pii import Scanner
    from vault.pii.scan import scan_batches
    from vault.pii.scanjson import JsonLines, json_lines

    log = tmp_path / "gw.log"
    gateway_log(log, 20_000_000, seed=9)
    want = []
    with Scanner() as sc:
        for batch in scan_batches(collect([str(log)])[0], sc, values="none"):
            assert batch.rendered is None
            want.append(json_lines(batch.path, batch.page, batch.rows)[1])
        # as the CLI: the workers make the lines straight from their hits
        rendered = list(scan_batches(collect([str(log)])[0], sc, values="none",
                                     render=JsonLines()))  # fmt: skip
        assert sc._pool is not None  # the scan did move to worker processes
    assert all(b.rows == [] for b in rendered)
    assert b"".join(b.rendered[1] for b in rendered) == b"".join(want)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    r = subprocess.run([str(Path(sys.executable).with_name("vault")), "scan", str(log), "--json"],
                       env=env | {"VAULT_HOME": str(tmp_path / "home")}, capture_output=True,
                       timeout=300)  # fmt: skip
    assert r.returncode == 1 and r.stderr == b""
    assert r.stdout == b"".join(want)
    assert r.stdout.count(b"\n") > 50_000


# -- containers -------------------------------------------------------------------------------


def _zip(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_scan_names_the_member_in_json_and_table(run: Callable[..., Result],
                                                 tmp_path: Path) -> None:
    import gzip

    inner = _zip({"settle.csv": f"id;pan\n1;{PAN}\n".encode()})
    bundle = tmp_path / "archive.zip"
    bundle.write_bytes(_zip({"logs/gw.log": f"ok\npan={PAN}\n".encode(), "nested.zip": inner}))
    log_gz = tmp_path / "gw.log.gz"
    log_gz.write_bytes(gzip.compress(f"a\nb\npan={PAN}\n".encode()))
    r = run("scan", str(bundle), str(log_gz), "--json")
    assert r.code == 1, r.err
    rows = [json.loads(x) for x in r.text.splitlines()]
    assert [(d["path"], d.get("member"), d["line"], d["masked"]) for d in rows] == [
        (str(bundle), "logs/gw.log", 2, "411111******1111"),
        (str(bundle), "nested.zip/settle.csv", 2, "411111******1111"),
        (str(log_gz), None, 3, "411111******1111")]
    assert list(rows[0]) == ["path", "member", "kind", "line", "page", "masked", "detector",
                             "confidence"]
    assert "member" not in rows[2]  # a finding outside any container: the line as before
    t = run("scan", str(bundle))
    assert t.code == 1
    lines = t.text.splitlines()
    import re

    cells = [re.split(r"\s{2,}", line) for line in lines[1:3]]
    assert [c[:3] for c in cells] == [[f"{bundle} \u203a logs/gw.log", "2", "pan"],
                                      [f"{bundle} \u203a nested.zip/settle.csv", "2", "pan"]]
    assert lines[-1] == "1 file scanned, 2 findings"


def test_scan_says_what_it_could_not_read_and_exits_2(run: Callable[..., Result],
                                                      tmp_path: Path) -> None:
    import io
    import struct
    import zipfile

    data = bytearray(_zip({"secret.txt": b"x" * 50, "ok.txt": f"card {PAN}\n".encode()}))
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    struct.pack_into("<H", data, zf.getinfo("secret.txt").header_offset + 6, 1)
    struct.pack_into("<H", data, zf.start_dir + 8, 1)  # type: ignore[attr-defined]
    bundle = tmp_path / "enc.zip"
    bundle.write_bytes(bytes(data))
    r = run("scan", str(bundle), "--json")
    assert r.code == 2
    assert [json.loads(x)["member"] for x in r.text.splitlines()] == ["ok.txt"]
    assert r.err.splitlines() == [
        "vault: error: cannot scan enc.zip: scanned only in part: member secret.txt: encrypted"]
    t = run("scan", str(bundle))
    assert t.code == 2
    assert t.text.splitlines()[-1] == "1 file scanned, 1 finding, 1 could not be scanned (fully)"


def test_scan_notes_links_in_an_archive_and_counts_the_file_scanned(
        run: Callable[..., Result], tmp_path: Path) -> None:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        link = tarfile.TarInfo("etc/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
        data = f"card {PAN}\n".encode()
        ti = tarfile.TarInfo("a.log")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    bundle = tmp_path / "l.tar"
    bundle.write_bytes(buf.getvalue())
    r = run("scan", str(bundle))
    assert r.code == 1  # found, and scanned fully: a link holds no data
    assert r.err.splitlines() == [
        "vault: note: l.tar: member etc/passwd: symbolic link (not followed)"]
    assert r.text.splitlines()[-1] == "1 file scanned, 1 finding"


def test_big_member_json_rendered_by_the_workers_names_the_member(tmp_path: Path) -> None:
    """A big text member (and a big compressed log) moves to the worker processes, which
    render the JSON lines with the member: the same lines as the unrendered rows make."""
    import gzip

    from tests.bench.bench_scan import generate as gateway_log
    from vault.evidence.sources import collect
    from vault.pii import Scanner
    from vault.pii.scan import scan_batches
    from vault.pii.scanjson import JsonLines, json_lines

    log = tmp_path / "gw.log"
    gateway_log(log, 20_000_000, seed=9)
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(_zip({"logs/gw.log": log.read_bytes()}))
    log_gz = tmp_path / "gw.log.gz"
    log_gz.write_bytes(gzip.compress(log.read_bytes(), 1))
    for path, member in ((bundle, "logs/gw.log"), (log_gz, None)):
        want = []
        with Scanner() as sc:
            for batch in scan_batches(collect([str(path)])[0], sc, values="none"):
                assert batch.rendered is None and batch.member == member
                want.append(json_lines(batch.path, batch.page, batch.rows, batch.member)[1])
            rendered = list(scan_batches(collect([str(path)])[0], sc, values="none",
                                         render=JsonLines()))  # fmt: skip
            assert sc._pool is not None  # the scan did move to worker processes
        assert all(b.rows == [] and b.member == member for b in rendered)
        assert b"".join(b.rendered[1] for b in rendered) == b"".join(want)
        first = json.loads(b"".join(want).split(b"\n", 1)[0])
        assert first.get("member") == member and first["path"] == str(path)
