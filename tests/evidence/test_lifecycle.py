"""The item lifecycle: one vocabulary of states, the allowed moves, quarantine, the one shred."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from vault.evidence.lifecycle import (
    QUARANTINE_KINDS,
    TRANSITIONS,
    VISIBLE,
    ItemState,
    exportable,
    move,
    quarantines,
    shred,
)
from vault.metadata.models import EvidenceItem

ROOT = Path(__file__).resolve().parents[2]


def item(state: str, header: bytes | None = b"hdr") -> EvidenceItem:
    return EvidenceItem(id="a" * 32, engagement_id="e" * 32, key_id="k" * 32, kind="other",
                        original_name="x", ingested_by="u" * 32, state=state,
                        object_key="payload/x", age_header=header)


@pytest.mark.parametrize("start", list(ItemState))
@pytest.mark.parametrize("to", list(ItemState))
def test_only_the_allowed_moves(start: ItemState, to: ItemState) -> None:
    it = item(start)
    if to == start or to in TRANSITIONS[start]:
        move(it, to)
        assert it.state == to
    else:
        with pytest.raises(ValueError, match=f"cannot go from {start} to {to}"):
            move(it, to)
        assert it.state == start


def test_what_quarantines() -> None:
    assert QUARANTINE_KINDS == {"pan", "track_data", "cvv", "pin_block", "unscannable"}
    assert quarantines(["email", "pan"]) and quarantines(["unscannable"])
    assert not quarantines(["email", "ip_address", "secret", "iban"])


def test_only_an_active_readable_item_is_exportable() -> None:
    assert exportable(item(ItemState.ACTIVE))
    for state in (ItemState.QUARANTINED, ItemState.PENDING, ItemState.SHREDDED):
        assert not exportable(item(state))
    assert not exportable(item(ItemState.ACTIVE, header=None))
    assert ItemState.PENDING not in VISIBLE


def test_shred_erases_the_header_and_records_it() -> None:
    recorded: list[tuple[str, str, dict[str, str]]] = []
    it = item(ItemState.QUARANTINED)
    shred(it, lambda a, o, d: recorded.append((a, o, d)), why={"superseded_by": "b" * 32})
    assert it.age_header is None and it.state == ItemState.SHREDDED
    assert recorded == [("item.shred", it.id, {"superseded_by": "b" * 32})]
    with pytest.raises(ValueError):  # a pending item has nothing to shred yet
        shred(item(ItemState.PENDING), lambda a, o, d: None, why={})


def test_states_are_written_only_through_the_lifecycle() -> None:
    """No item state is assigned outside vault/evidence/lifecycle.py, and no header is erased
    (set to None) there either: the one shred."""
    offenders = []
    for path in (ROOT / "vault").rglob("*.py"):
        if "migrations" in path.parts or path.name == "lifecycle.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Assign):
                continue
            pairs: list[tuple[ast.expr, ast.expr | None]] = []
            for target in node.targets:
                if isinstance(target, ast.Tuple):
                    values = node.value.elts if isinstance(node.value, ast.Tuple) else []
                    pairs += list(zip(target.elts, values or [None] * len(target.elts),
                                      strict=False))
                else:
                    pairs.append((target, node.value))
            for target, value in pairs:
                if not isinstance(target, ast.Attribute):
                    continue
                owner = target.value.id if isinstance(target.value, ast.Name) else ""
                if target.attr == "state" and owner not in ("flag", "row", "f"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} state")
                if target.attr == "age_header" and isinstance(value, ast.Constant) \
                        and value.value is None:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} header erased")
    assert offenders == []
