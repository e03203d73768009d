"""`vault scan`: findings as JSON lines or a table, exit 0/1/2, never a full PAN on output."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

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
