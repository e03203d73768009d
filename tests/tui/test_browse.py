"""The facade's browsing additions that the terminal UI relies on (vault/service/browse.py,
vault/evidence/preview.py)."""

from __future__ import annotations

import io
from datetime import date

import pytest

from vault.age import X25519Identity
from vault.errors import InvalidInput, PermissionDenied
from vault.evidence import preview
from vault.evidence.sources import Source
from vault.service import IngestOptions, ItemFilter, Vault

PAN = "4111 1111 1111 1111"


def mem(name: str, data: bytes) -> Source:
    return Source(name=name, size=len(data), open=lambda: io.BytesIO(data))


def ingest(vault: Vault, eng: str, *sources: Source, **opts: object) -> list[str]:
    res = vault.ingest(eng, list(sources), IngestOptions(**opts))  # type: ignore[arg-type]
    return [r.view.item.id for r in res if not isinstance(r, Exception)]


def test_count_items_matches_filters(vault: Vault, engagement: str) -> None:
    ingest(vault, engagement, *(mem(f"f{i}.txt", f"log {i}\n".encode()) for i in range(7)),
           kind="log_export", requirements=("10.2.1",))
    ingest(vault, engagement, mem("fw.conf", b"permit any\n"), kind="config_export",
           disclosure="client")
    assert vault.count_items(engagement) == 8
    assert vault.count_items(engagement, ItemFilter(kind="log_export")) == 7
    assert vault.count_items(engagement, ItemFilter(requirement="10.2.1")) == 7
    assert vault.count_items(engagement, ItemFilter(disclosure="client")) == 1
    assert vault.count_items(engagement, ItemFilter(text="fw")) == 1
    assert vault.count_items(engagement, ItemFilter(limit=2, offset=3)) == 8


def test_coverage_lists_every_requirement(vault: Vault, engagement: str) -> None:
    ingest(vault, engagement, mem("a.txt", b"a"), requirements=("1.2.1", "10.2.1"))
    ingest(vault, engagement, mem("b.txt", b"b"), requirements=("1.2.1",))
    cov = {rid: n for rid, _title, n in vault.coverage(engagement)}
    assert cov["1.2.1"] == 2 and cov["10.2.1"] == 1
    assert len(cov) > 50 and sum(1 for n in cov.values() if n == 0) == len(cov) - 2


def test_preview_masks_card_numbers_in_memory_and_is_audited(vault: Vault,
                                                             engagement: str) -> None:
    [iid] = ingest(vault, engagement, mem("pay.log", f"card={PAN} ok\nid 1234\n".encode()))
    text = vault.preview(iid)
    assert "411111******1111" in text and PAN not in text and "4111111111111111" not in text
    assert "id 1234" in text
    actions = [e.action for e in vault.custody(iid)]
    assert actions == ["item.ingest", "item.read"]


def test_preview_truncates_and_refuses_binary(vault: Vault, engagement: str) -> None:
    [big] = ingest(vault, engagement, mem("big.txt", b"x" * 5000))
    text = vault.preview(big, max_bytes=100)
    assert text.startswith("x" * 100) and "first 100 of 5000 bytes" in text
    [binary] = ingest(vault, engagement, mem("b.bin", b"\x00\x01\x02" * 10))
    assert vault.preview(binary).startswith("no text preview")


def test_preview_strips_terminal_escapes(vault: Vault, engagement: str) -> None:
    [iid] = ingest(vault, engagement, mem("esc.txt", b"a\x1b[31mred\x07\n"))
    assert "\x1b" not in vault.preview(iid) and "\x07" not in vault.preview(iid)


@pytest.mark.parametrize("text,masked", [
    ("4111111111111111", "411111******1111"),
    ("x 5500-0000-0000-0004 y", "x 550000******0004 y"),
    ("4111111111111112", "4111111111111112"),  # fails Luhn
    ("123456789012", "123456789012"),  # too short
])
def test_luhn_fallback(text: str, masked: str) -> None:
    assert preview.mask_cards_fallback(text) == masked


def test_custody_needs_membership(vault: Vault, engagement: str, make_vault) -> None:  # type: ignore[no-untyped-def]
    [iid] = ingest(vault, engagement, mem("a.txt", b"a"))
    bob_id = X25519Identity.generate()
    vault.add_user("bob", str(bob_id.recipient))
    bob = make_vault(bob_id, "bob")
    with pytest.raises(PermissionDenied):
        bob.custody(iid)
    with pytest.raises(PermissionDenied):
        bob.preview(iid)
    vault.add_member(engagement, "bob", "viewer")
    assert bob.roles_in(engagement) == {"person", "viewer"}
    assert bob.preview(iid) == "a"


def test_interview_note(vault: Vault, engagement: str) -> None:
    r = vault.add_interview_note(engagement, "Network admin", date(2026, 3, 2),
                                 ["1.2.1", "1.2.7"], "Rules are reviewed twice a year.")
    assert not r.duplicate
    assert r.view.item.kind == "interview_note" and r.view.requirements == ("1.2.1", "1.2.7")
    text = vault.preview(r.view.item.id)
    assert "Interviewee role: Network admin" in text and "2026-03-02" in text
    assert "twice a year" in text
    with pytest.raises(InvalidInput):
        vault.add_interview_note(engagement, "x", date(2026, 3, 2), ["99.9"], "t")
    with pytest.raises(InvalidInput):
        vault.add_interview_note(engagement, "x", date(2026, 3, 2), [], "  ")
