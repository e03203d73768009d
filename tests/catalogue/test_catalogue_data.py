"""Integrity checks for the shipped requirement catalogues (vault/catalogue/*.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "vault" / "catalogue"

# Principal requirements 1-12 or appendices A1-A3, then up to four numbered levels.
DSS_ID_RE = re.compile(r"^(?:[1-9]|1[0-2]|A[1-3])(?:\.[1-9][0-9]*){0,4}$")
# Part 1 / Part 2 prefix, section 1-7, then numbered levels.
TDS_ID_RE = re.compile(r"^P[12]-[1-7](?:\.[1-9][0-9]*){0,4}$")

CATALOGUES: dict[str, dict[str, Any]] = {
    "pci-dss-4.0.1": {
        "file": "pci-dss-4.0.1.json",
        "title": "PCI DSS v4.0.1",
        "id_re": DSS_ID_RE,
        "top_level": {str(n) for n in range(1, 13)} | {"A1", "A2", "A3"},
    },
    "pci-3ds-1.0": {
        "file": "pci-3ds-1.0.json",
        "title": "PCI 3DS Core Security Standard v1.0",
        "id_re": TDS_ID_RE,
        "top_level": {f"P{part}-{n}" for part in (1, 2) for n in range(1, 8)},
    },
}


def _load(standard: str) -> dict[str, Any]:
    path = CATALOGUE_DIR / CATALOGUES[standard]["file"]
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _ids(standard: str) -> list[str]:
    return [r["id"] for r in _load(standard)["requirements"]]


def _parent(req_id: str) -> str | None:
    """Parent id: drop the last dotted segment ("1.2.8" -> "1.2", "A1.1" -> "A1")."""
    head, sep, _ = req_id.rpartition(".")
    return head if sep else None


def _depth(req_id: str) -> int:
    return req_id.count(".") + 1


@pytest.fixture(params=sorted(CATALOGUES))
def standard(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_header(standard: str) -> None:
    data = _load(standard)
    assert set(data) == {"standard", "title", "requirements"}
    assert data["standard"] == standard
    assert data["title"] == CATALOGUES[standard]["title"]
    assert isinstance(data["requirements"], list) and data["requirements"]


def test_entries_have_only_id_and_title(standard: str) -> None:
    for entry in _load(standard)["requirements"]:
        assert set(entry) == {"id", "title"}, entry
        assert isinstance(entry["id"], str) and isinstance(entry["title"], str), entry


def test_ids_unique(standard: str) -> None:
    ids = _ids(standard)
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate ids: {dupes}"


def test_ids_match_strict_pattern(standard: str) -> None:
    id_re: re.Pattern[str] = CATALOGUES[standard]["id_re"]
    bad = [i for i in _ids(standard) if not id_re.fullmatch(i)]
    assert not bad, f"malformed ids: {bad}"


def test_every_parent_exists(standard: str) -> None:
    ids = _ids(standard)
    known = set(ids)
    orphans = [i for i in ids if (p := _parent(i)) is not None and p not in known]
    assert not orphans, f"ids whose parent is missing: {orphans}"


def test_parent_precedes_child(standard: str) -> None:
    seen: set[str] = set()
    for i in _ids(standard):
        parent = _parent(i)
        assert parent is None or parent in seen, f"{i} appears before its parent {parent}"
        seen.add(i)


def test_top_level_set(standard: str) -> None:
    top = {i for i in _ids(standard) if _parent(i) is None}
    assert top == CATALOGUES[standard]["top_level"]


def test_titles_non_empty_and_short(standard: str) -> None:
    for entry in _load(standard)["requirements"]:
        title = entry["title"]
        assert title.strip() == title and title, entry
        assert len(title) <= 80, f"{entry['id']}: title is {len(title)} chars"
        assert "\n" not in title and "\u2022" not in title, entry


def test_siblings_in_numeric_order(standard: str) -> None:
    """Within each parent, children appear in ascending numeric order (standard's order)."""
    last_child: dict[str | None, int] = {}
    for i in _ids(standard):
        parent = _parent(i)
        if parent is None:
            continue
        n = int(i.rsplit(".", 1)[1])
        assert n > last_child.get(parent, 0), f"{i} out of order under {parent}"
        last_child[parent] = n


@pytest.mark.parametrize(
    "req_id",
    [
        "1",
        "1.2.8",
        "3.3.1",
        "3.3.1.2",
        "3.5.1.1",
        "4.2.1.1",
        "5.4.1",
        "6.4.3",
        "7.2.5.1",
        "8.3.6",
        "8.3.10.1",
        "8.4.2",
        "8.6.3",
        "9.5.1.2.1",
        "10.2.1.7",
        "10.7.3",
        "11.3.1.3",
        "11.6.1",
        "12.3.4",
        "12.5.2.1",
        "12.10.7",
        "A1.1",
        "A1.2.3",
        "A2.1.3",
        "A3.1.1",
        "A3.2.5.1",
        "A3.5.1",
    ],
)
def test_dss_spot_checks(req_id: str) -> None:
    assert req_id in set(_ids("pci-dss-4.0.1"))


@pytest.mark.parametrize("req_id", ["3.2.2", "6.5.7", "8.7", "12.11", "A4", "A3.3.1.2"])
def test_dss_ids_that_must_not_exist(req_id: str) -> None:
    assert req_id not in set(_ids("pci-dss-4.0.1"))


def test_dss_has_at_least_250_numbered_requirements() -> None:
    numbered = [i for i in _ids("pci-dss-4.0.1") if _depth(i) >= 3]
    assert len(numbered) >= 250, len(numbered)


def test_dss_section_counts() -> None:
    """Each principal requirement has the expected number of x.y sections."""
    ids = _ids("pci-dss-4.0.1")
    expected = {
        "1": 5, "2": 3, "3": 7, "4": 2, "5": 4, "6": 5,
        "7": 3, "8": 6, "9": 5, "10": 7, "11": 6, "12": 10,
        "A1": 2, "A2": 1, "A3": 5,
    }  # fmt: skip
    for top, count in expected.items():
        sections = [i for i in ids if _parent(i) == top]
        assert len(sections) == count, (top, sections)


@pytest.mark.parametrize("req_id", ["P1-1", "P1-7", "P2-1", "P2-6", "P2-7"])
def test_3ds_spot_checks(req_id: str) -> None:
    assert req_id in set(_ids("pci-3ds-1.0"))
