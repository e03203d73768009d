"""`vault catalogue list|show|load`, and the catalogue's warnings on the command line:
`vault: warning: …` on stderr for an old requirement number or a mapping to headings only."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.catalogue.test_api import BAD, FIRM_3DS, _bytes
from tests.conftest import Result

Run = Callable[..., Result]
CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "vault" / "catalogue"


@pytest.fixture
def eng(initialised: Run) -> Run:
    r = initialised("engagement", "create", "acme", "--client", "Acme", "--standard",
                    "pci-dss-4.0.1")
    assert r.code == 0, r.err
    return initialised


def test_list_and_show_the_builtin_catalogues(initialised: Run) -> None:
    r = initialised("catalogue", "list")
    assert r.code == 0, r.err
    lines = r.text.splitlines()
    assert lines[0].split() == ["STANDARD", "TITLE", "REQUIREMENTS", "SOURCE"]
    assert lines[1].split() == ["pci-dss-4.0.1", "PCI", "DSS", "v4.0.1", "366", "built-in"]
    assert lines[2].split()[0] == "pci-3ds-1.0" and lines[2].split()[-2:] == ["14",
                                                                               "built-in"]
    listed = initialised("catalogue", "list", "--json").json()
    assert [c["standard"] for c in listed] == ["pci-dss-4.0.1", "pci-3ds-1.0"]  # type: ignore[attr-defined,index]
    shown = initialised("catalogue", "show", "pci-dss-4.0.1")
    assert shown.code == 0, shown.err
    out = shown.text.splitlines()
    assert out[0] == "PCI DSS v4.0.1"
    rows = {line.split(maxsplit=1)[0]: line.split(maxsplit=1)[1] for line in out[1:]}
    assert rows["8.3"] == "§ Authentication factors and password rules"  # a heading
    assert rows["8.3.6"].startswith("Password factors")
    assert rows["A3.3.1.1"] == ("DESV: response to critical control failures: restore, "
                                "analyse, record (was PCI DSS v4.0: A3.3.1.2)")


@pytest.mark.parametrize("standard", ["pci-dss-4.0.1", "pci-3ds-1.0"])
def test_show_json_is_the_catalogue_file_format(initialised: Run, standard: str) -> None:
    r = initialised("catalogue", "show", standard, "--json")
    assert r.code == 0, r.err
    shipped = json.loads((CATALOGUE_DIR / f"{standard}.json").read_text(encoding="utf-8"))
    assert r.json() == shipped


def test_show_an_unknown_standard(initialised: Run) -> None:
    r = initialised("catalogue", "show", "pci-pin-3.1")
    assert r.code == 2
    assert r.err.splitlines() == ["vault: error: no catalogue 'pci-pin-3.1'",
                                  "vault: hint: one of: pci-dss-4.0.1, pci-3ds-1.0"]


def test_load_a_firms_3ds_catalogue(initialised: Run, tmp_path: Path) -> None:
    path = tmp_path / "firm-3ds.json"
    path.write_text(json.dumps(FIRM_3DS, indent=2), encoding="utf-8")
    r = initialised("catalogue", "load", str(path))
    assert r.code == 0, r.err
    assert r.text == (f"loaded {path} into the pci-3ds-1.0 catalogue: 3 requirements added "
                      "to the built-in 14, 1 retitled\n")
    listed = initialised("catalogue", "list").text.splitlines()
    assert re.search(r"  17 +built-in \+ firm file \(3 added\), loaded \d{4}-\d\d-\d\d by "
                     r"alice$", listed[2]), listed[2]
    shown = initialised("catalogue", "show", "pci-3ds-1.0", "--json").json()
    ids = [e["id"] for e in shown["requirements"]]  # type: ignore[index]
    assert ids[7:11] == ["P2-1", "P2-1.1", "P2-1.1.1", "P2-1.2"]
    # the edited file loads back, and says it replaced the previous one
    back = tmp_path / "back.json"
    back.write_text(json.dumps(shown), encoding="utf-8")
    again = initialised("catalogue", "load", str(back), "--json")
    assert again.code == 0, again.err
    assert again.json()["replaced"] and again.json()["added"] == 3  # type: ignore[index]
    assert initialised("engagement", "create", "acs", "--client", "Acme ACS", "--standard",
                       "pci-3ds-1.0").code == 0
    ing = initialised("ingest", "acs", "-", "--name", "scope.md", "--req", "P2-1.1.1",
                      "--json", stdin=b"scope")
    assert ing.code == 0, ing.err
    assert ing.json()[0]["requirements"] == ["P2-1.1.1"]  # type: ignore[index]


def test_every_malformed_file_is_one_line_naming_the_file(initialised: Run,
                                                          tmp_path: Path) -> None:
    for n, (name, doc, message) in enumerate(BAD):
        path = tmp_path / f"bad-{n}.json"
        path.write_bytes(_bytes(doc))
        r = initialised("catalogue", "load", str(path))
        assert r.code == 2, (name, r.err)
        assert r.err.splitlines() == [f"vault: error: {path}: {message}"], name
    assert initialised("catalogue", "list", "--json").json()[1]["source"] == "built-in"  # type: ignore[index]


def test_a_file_that_cannot_be_read(initialised: Run, tmp_path: Path) -> None:
    r = initialised("catalogue", "load", str(tmp_path / "none.json"))
    assert r.code == 2
    assert r.err.splitlines() == [f"vault: error: no file '{tmp_path / 'none.json'}'"]
    r = initialised("catalogue", "load", str(tmp_path))
    assert r.err.splitlines() == [f"vault: error: {tmp_path} is a directory, not a "
                                  "catalogue file"]
    big = tmp_path / "big.json"
    big.write_bytes(b" " * ((2 << 20) + 1))
    r = initialised("catalogue", "load", str(big))
    assert r.err.splitlines() == [f"vault: error: {big}: the file is larger than 2 MiB"]


def test_ingest_warns_about_a_heading_on_stderr(eng: Run) -> None:
    r = eng("ingest", "acme", "-", "--name", "mfa.txt", "--req", "8.4", stdin=b"mfa")
    assert r.code == 0, r.err
    assert ("vault: warning: mapped only to the heading 8.4, which assessors do not report "
            "on: map the evidence to the requirements under it too (8.4.1 … 8.4.3)"
            ) in r.err.splitlines()
    j = eng("ingest", "acme", "-", "--name", "mfa2.txt", "--req", "8.4", "--json",
            stdin=b"mfa2")
    assert j.code == 0 and j.json()[0]["warnings"][0].startswith(  # type: ignore[index]
        "mapped only to the heading 8.4")
    assert "vault: warning: mapped only to the heading 8.4" in j.err
    quiet = eng("ingest", "acme", "-", "--name", "m3.txt", "--req", "8.4", "--req", "8.4.1",
                stdin=b"m3")
    assert "warning" not in quiet.err
    listed = eng("ls", "acme", "--req", "8.4")
    assert "mfa.txt" in listed.text
    assert ("vault: warning: 8.4 is a heading: listed is the evidence mapped to it, not to "
            "the requirements under it") in listed.err


def test_an_old_number_is_accepted_with_a_message_both_ways(eng: Run, tmp_path: Path) -> None:
    note = "vault: warning: A3.3.1.2 is the PCI DSS v4.0 number of A3.3.1.1: using A3.3.1.1"
    files = tmp_path / "many"
    files.mkdir()
    for n in range(3):
        (files / f"bau-{n}.txt").write_text(f"bau {n}")
    r = eng("ingest", "acme", str(files), "--req", "A3.3.1.2", "--json")
    assert r.code == 0, r.err
    assert [i["requirements"] for i in r.json()] == [["A3.3.1.1"]] * 3  # type: ignore[attr-defined,index]
    assert r.err.splitlines().count(note) == 1  # said once for the command
    listed = eng("ls", "acme", "--req", "A3.3.1.2", "--json")
    assert listed.code == 0, listed.err
    assert len(listed.json()) == 3 and note in listed.err.splitlines()  # type: ignore[arg-type]
    unknown = eng("ls", "acme", "--req", "A3.3.1.3")
    assert unknown.err.splitlines()[0] == ("vault: error: requirement 'A3.3.1.3' is not in "
                                           "the PCI DSS v4.0.1 catalogue")
