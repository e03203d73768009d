"""The disclosure rules cell by cell, written out here independently of vault/export/rules.py."""

from __future__ import annotations

import itertools

import pytest

from vault.export import rules
from vault.metadata.models import EvidenceItem

IN, R = "include", "replace"
Q, D, P = "quarantined", "destroyed", "pending"

# recipient type -> situation -> (team, client, council-only): include, replace, or the start
# of the reason withheld
EXPECTED: dict[str, dict[str, tuple[str, str, str]]] = {
    "council": {
        "active": (IN, IN, IN),
        "quarantined": (Q, Q, Q),
        "redacted": (R, R, R),
        "destroyed": (D, D, D),
        "pending": (P, P, P),
    },
    "client": {
        "active": ("disclosure team", IN, "disclosure council-only"),
        "quarantined": (Q, Q, Q),
        "redacted": (R, R, R),
        "destroyed": (D, D, D),
        "pending": (P, P, P),
    },
}
LEVELS = ("team", "client", "council-only")


def _item(situation: str, level: str) -> tuple[EvidenceItem, str | None]:
    state = {"active": "active", "quarantined": "quarantined", "redacted": "shredded",
             "destroyed": "shredded", "pending": "pending"}[situation]
    header = b"age-header" if state in ("active", "quarantined") else None
    it = EvidenceItem(id="a" * 32, engagement_id="e" * 32, key_id="k", kind="other",
                      original_name="x", disclosure=level, state=state, object_key="p",
                      age_header=header)
    return it, ("b" * 32 if situation == "redacted" else None)


def _matches(outcome: str, expected: str) -> bool:
    return outcome == expected if expected in (IN, R) else outcome.startswith(expected)


@pytest.mark.parametrize("rtype,situation,level", list(itertools.product(
    EXPECTED, EXPECTED["council"], LEVELS)))
def test_cell(rtype: str, situation: str, level: str) -> None:
    it, newer = _item(situation, level)
    d = rules.decide(rtype, "Acme" if rtype == "client" else None, "Acme", it, newer)
    expected = EXPECTED[rtype][situation][LEVELS.index(level)]
    assert _matches(d.outcome, expected), (rtype, situation, level, d.outcome)
    assert d.included == (expected == IN)


def test_the_table_covers_every_cell_and_nothing_else() -> None:
    assert set(rules.RULES) == {(t, rules.Situation(s)) for t in EXPECTED
                                for s in EXPECTED[t]}


@pytest.mark.parametrize("situation,level", list(itertools.product(EXPECTED["client"],
                                                                    LEVELS)))
def test_a_client_never_gets_another_clients_evidence(situation: str, level: str) -> None:
    it, newer = _item(situation, level)
    d = rules.decide("client", "Acme", "Globex", it, newer)
    assert not d.included and d.outcome == rules.OTHER_CLIENT


def test_a_client_never_gets_team_or_council_only_items() -> None:
    for situation, level in itertools.product(EXPECTED["client"], ("team", "council-only")):
        it, newer = _item(situation, level)
        assert not rules.decide("client", "Acme", "Acme", it, newer).included


def test_quarantined_never_and_unknown_fails_closed() -> None:
    for rtype, level in itertools.product(EXPECTED, LEVELS):
        it, _ = _item("quarantined", level)
        assert not rules.decide(rtype, "Acme", "Acme", it, None).included
    odd, _ = _item("active", "team")
    odd.state = "destroyed-by-someone-else"
    assert rules.decide("council", None, "Acme", odd, None).outcome == rules.UNKNOWN
    odd, _ = _item("active", "public")
    assert rules.decide("council", None, "Acme", odd, None).outcome == rules.UNKNOWN
    # active without a header (cannot happen through the lifecycle): not exportable
    gone, _ = _item("active", "team")
    gone.age_header = None
    assert rules.decide("council", None, "Acme", gone, None).outcome == rules.UNAVAILABLE
    assert rules.decide("nobody", None, "Acme", _item("active", "team")[0], None
                        ).outcome == rules.UNKNOWN


def test_an_item_destroyed_at_the_end_of_its_retention_is_never_sent() -> None:
    for rtype, level in itertools.product(EXPECTED, LEVELS):
        tomb, _ = _item("active", level)
        tomb.state, tomb.age_header = "destroyed", None
        d = rules.decide(rtype, "Acme" if rtype == "client" else None, "Acme", tomb, None)
        assert not d.included and d.outcome == rules.DESTROYED
