"""vault.catalogue: the alias table (both directions), headings, and the checks a firm's
catalogue file must pass (each refusal a one-line message naming what is wrong)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vault import catalogue
from vault.catalogue import CatalogueError

DSS = catalogue.builtin("pci-dss-4.0.1")
TDS = catalogue.builtin("pci-3ds-1.0")


def test_the_old_a3_3_1_2_means_a3_3_1_1_with_a_message_naming_it() -> None:
    assert "A3.3.1.2" not in DSS
    found = DSS.resolve("A3.3.1.2")
    assert found is not None
    req, note = found
    assert req.id == "A3.3.1.1"
    assert note == "A3.3.1.2 is the PCI DSS v4.0 number of A3.3.1.1: using A3.3.1.1"


def test_the_new_id_knows_its_old_number() -> None:
    assert [(a.old, a.version) for a in DSS.formerly("A3.3.1.1")] == [("A3.3.1.2",
                                                                       "PCI DSS v4.0")]
    assert DSS.resolve("A3.3.1.1") == (DSS.get("A3.3.1.1"), None)  # itself: no note
    assert DSS.formerly("A3.3.1") == ()


def test_the_alias_table_is_sound() -> None:
    for standard, aliases in catalogue.RENUMBERED.items():
        cat = catalogue.builtin(standard)
        for a in aliases:
            assert a.old not in cat and a.new in cat, a


def test_unknown_ids_resolve_to_nothing() -> None:
    assert DSS.resolve("99.1") is None and DSS.resolve("A3.3.1.3") is None
    assert TDS.resolve("A3.3.1.2") is None  # an alias belongs to its standard


@pytest.mark.parametrize("req_id, heading", [
    ("8", True), ("8.3", True), ("A1", True), ("A1.1", True),
    ("8.3.6", False), ("3.5.1", False), ("3.5.1.1", False), ("9.5.1.2.1", False),
    ("P2-1", False),  # the built-in 3DS sections have nothing under them
])
def test_headings_are_principal_requirements_and_sections(req_id: str, heading: bool) -> None:
    cat = TDS if req_id.startswith("P") else DSS
    assert cat.is_heading(req_id) is heading


def test_testable_requirements_under_a_heading() -> None:
    assert DSS.testable_under("1.2") == [f"1.2.{n}" for n in range(1, 9)]
    under = DSS.testable_under("3")
    assert under[0] == "3.1.1" and under[-1] == "3.7.9" and "3.3.1.2" in under
    assert not any(DSS.is_heading(i) for i in under)


def test_heading_warning_only_when_every_id_is_a_heading() -> None:
    w = DSS.heading_warning(["8.3"])
    assert w is not None
    assert w.startswith("mapped only to the heading 8.3, which assessors do not report on")
    assert "(8.3.1 … 8.3.11)" in w
    assert DSS.heading_warning(["8.3", "8.3.6"]) is None
    assert DSS.heading_warning(["8.3.6"]) is None
    assert DSS.heading_warning([]) is None
    both = DSS.heading_warning(["1", "A3.2"])
    assert both is not None and "the headings 1, A3.2" in both


def test_sort_key_orders_as_the_standards_do() -> None:
    ids = ["A1", "10.1", "2.1", "12.10.7", "P1-10", "P1-2", "P2-1.10", "P2-1.9", "3.5.1.1"]
    assert sorted(ids, key=catalogue.sort_key) == [
        "2.1", "3.5.1.1", "10.1", "12.10.7", "A1", "P1-2", "P1-10", "P2-1.9", "P2-1.10"]


# -- a firm's catalogue file -------------------------------------------------------------------

FIRM_3DS: dict[str, Any] = {
    "standard": "pci-3ds-1.0",
    "title": "PCI 3DS Core Security Standard v1.0",
    "requirements": [
        {"id": "P2-1.1", "title": "Firm: 3DS environment boundaries documented"},
        {"id": "P2-1.1.1", "title": "Firm: 3DS data flows diagrammed"},
        {"id": "P2-1.2", "title": "Firm: connected systems identified"},
        {"id": "P1-5", "title": "Baseline: access management"},  # a built-in id, retitled
    ],
}


def firm(**changes: Any) -> dict[str, Any]:
    return json.loads(json.dumps(FIRM_3DS)) | changes


def test_a_loaded_file_extends_the_builtin_catalogue() -> None:
    cat = catalogue.extend(TDS, catalogue.parse(json.dumps(FIRM_3DS)))
    ids = [r.id for r in cat.requirements]
    assert len(ids) == 14 + 3
    assert ids[ids.index("P2-1"):ids.index("P2-2")] == ["P2-1", "P2-1.1", "P2-1.1.1",
                                                         "P2-1.2"]
    assert cat.get("P1-5") == catalogue.Requirement("P1-5", "Baseline: access management")
    assert cat.title == TDS.title and cat.is_heading("P2-1") and cat.is_heading("P2-1.1")


def test_install_makes_load_answer_with_the_firms_catalogue() -> None:
    loaded = catalogue.parse(json.dumps(FIRM_3DS))
    catalogue.install({"pci-3ds-1.0": loaded})
    assert "P2-1.1.1" in catalogue.load("pci-3ds-1.0")
    assert catalogue.installed("pci-3ds-1.0") == loaded
    assert "P2-1.1.1" not in catalogue.builtin("pci-3ds-1.0")
    assert catalogue.load("pci-dss-4.0.1") is DSS
    catalogue.install({})
    assert catalogue.load("pci-3ds-1.0") is TDS


LONG = "x" * (catalogue.MAX_TITLE + 1)
ENTRY = {"id": "P2-1.1", "title": "Firm: scope"}
BAD: list[tuple[str, Any, str]] = [
    ("not json", b"{", "not JSON: Expecting property name enclosed in double quotes "
                      "(line 1, column 2)"),
    ("not utf-8", json.dumps(FIRM_3DS).encode("utf-16"), "not UTF-8 text"),
    ("not an object", [], "not a catalogue: expected a JSON object with standard, title "
                          "and requirements"),
    ("no requirements", {"standard": "pci-3ds-1.0", "title": "t"},
     "no 'requirements': a catalogue has standard, title and requirements"),
    ("unknown key", firm(version="1"),
     "unknown key 'version': a catalogue has standard, title and requirements"),
    ("standard not a name", firm(standard="PCI 3DS"),
     "standard 'PCI 3DS' is not a standard's name (such as pci-3ds-1.0)"),
    ("standard not known", firm(standard="pci-dss-3.2.1"),
     "standard 'pci-dss-3.2.1' is not one this vault knows: a loaded catalogue extends one "
     "of pci-dss-4.0.1, pci-3ds-1.0"),
    ("empty title", firm(title=" "), "the catalogue's title is empty"),
    ("no requirement", firm(requirements=[]), "requirements must be a non-empty list"),
    ("entry not an object", firm(requirements=["P2-1.1"]),
     "requirement 1 is not an object with id and title"),
    ("malformed id", firm(requirements=[ENTRY, {"id": "P2 1.2", "title": "t"}]),
     "requirement 2: id 'P2 1.2' is not a requirement id (letters, digits, '-' and '.', at "
     "most 20 characters)"),
    ("id too long", firm(requirements=[{"id": "P2-1." + "1" * 20, "title": "t"}]),
     "requirement 1: id 'P2-1.11111111111111111111' is not a requirement id (letters, "
     "digits, '-' and '.', at most 20 characters)"),
    ("id missing", firm(requirements=[{"title": "t"}]),
     "requirement 1: id None is not a requirement id (letters, digits, '-' and '.', at most "
     "20 characters)"),
    ("entry unknown key", firm(requirements=[ENTRY | {"text": "the standard's words"}]),
     "P2-1.1: unknown key 'text' (a requirement has id and title)"),
    ("entry empty title", firm(requirements=[{"id": "P2-1.1", "title": ""}]),
     "P2-1.1: the title is empty"),
    ("entry title two lines", firm(requirements=[{"id": "P2-1.1", "title": "a\nb"}]),
     "P2-1.1: the title must be one line without leading or trailing spaces"),
    ("entry title too long", firm(requirements=[{"id": "P2-1.1", "title": LONG}]),
     f"P2-1.1: the title is {len(LONG)} characters (at most {catalogue.MAX_TITLE})"),
    ("duplicate id", firm(requirements=[ENTRY, {"id": "P2-1.2", "title": "b"},
                                        ENTRY | {"title": "c"}]),
     "id P2-1.1 appears twice (requirements 1 and 3)"),
    ("parent missing", firm(requirements=[ENTRY, {"id": "P2-9.1", "title": "b"}]),
     "P2-9.1: its parent P2-9 is neither in the file nor in the built-in catalogue"),
    ("titles equal", firm(requirements=[ENTRY, {"id": "P2-1.2", "title": "firm:  SCOPE"}]),
     "P2-1.1 and P2-1.2 have the same title 'firm:  SCOPE': titles must tell requirements "
     "apart"),
    ("title equal to a built-in one", firm(requirements=[
        {"id": "P2-1.1", "title": "3DS: security governance"}]),
     "P2-1.1 and P2-2 have the same title '3DS: security governance': titles must tell "
     "requirements apart"),
    ("old number", {"standard": "pci-dss-4.0.1", "title": "PCI DSS v4.0.1",
                    "requirements": [{"id": "A3.3.1.2", "title": "DESV: old"}]},
     "A3.3.1.2 is the PCI DSS v4.0 number of A3.3.1.1: use A3.3.1.1"),
]


def _bytes(doc: Any) -> bytes:
    return doc if isinstance(doc, bytes) else json.dumps(doc).encode()


@pytest.mark.parametrize("doc, message", [(d, m) for _, d, m in BAD],
                         ids=[name for name, _, _ in BAD])
def test_each_malformed_file_is_refused_naming_what_is_wrong(doc: Any, message: str) -> None:
    with pytest.raises(CatalogueError) as exc:
        cat = catalogue.parse(_bytes(doc))
        catalogue.extend(catalogue.builtin(cat.standard), cat)
    assert str(exc.value) == message
    assert "\n" not in str(exc.value)
