"""The flag review queue in the terminal UI: next/previous, decisions with a reason, the
quarantine lifting, and a viewer who sees no decision actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.tui.test_flows import drive, mem, open_engagement, settle
from tui.app import make_app
from tui.screens.flags import FlagsScreen, ReasonForm
from vault.age import X25519Identity
from vault.service import IngestOptions, Vault

PANS = ("4111 1111 1111 1111", "5500 0055 5555 5559")


def _flagged(vault: Vault, engagement: str) -> str:
    data = "".join(f"auth card={p} ok\n" for p in PANS).encode()
    [r] = vault.ingest(engagement, [mem("gw.log", data)], IngestOptions(kind="log_export"))
    return r.view.item.id  # type: ignore[union-attr]


async def _decide(pilot: Pilot[Any], key: str, reason: str) -> None:
    await pilot.press(key)
    form = pilot.app.screen
    assert isinstance(form, ReasonForm)
    form.query_one("#reason", Input).value = reason
    await pilot.press("enter")
    await settle(pilot)


def test_review_queue_resolves_flags_and_lifts_the_quarantine(vault: Vault,
                                                              engagement: str) -> None:
    item = _flagged(vault, engagement)
    assert vault.item(item).item.state == "quarantined"

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("f")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, FlagsScreen)
        table = screen.query_one("#flags", DataTable)
        assert table.row_count == 2
        first = str(table.get_row_at(0)[3])
        assert first.endswith("1111") and "*" in first
        await pilot.press("j")
        assert table.cursor_row == 1
        detail = str(screen.query_one("#flag-detail", Static).render())
        assert "550000******5559" in detail and "gw.log" in detail
        await pilot.press("k")
        assert table.cursor_row == 0
        await pilot.press("f")  # an empty reason is not accepted
        await pilot.press("enter")
        assert isinstance(pilot.app.screen, ReasonForm)
        await pilot.press("escape")
        assert pilot.app.screen is screen
        await _decide(pilot, "f", "vendor test card in the docs")
        assert table.row_count == 1
        assert vault.item(item).item.state == "quarantined"
        await _decide(pilot, "t", "shows the PAN is logged in clear (finding 3.4)")
        assert table.row_count == 0
        assert "no flags to review" in str(screen.query_one("#flag-detail", Static).render())
        await pilot.press("o")  # all flags, with their decisions
        await settle(pilot)
        assert sorted(str(table.get_row_at(i)[1]) for i in range(2)) == [
            "false_positive", "retained"]
    drive(make_app(vault), script)
    assert vault.item(item).item.state == "active"


def test_viewer_sees_flags_but_no_decisions(vault: Vault, engagement: str,
                                           make_vault: Callable[..., Vault]) -> None:
    _flagged(vault, engagement)
    bob_id = X25519Identity.generate()
    vault.add_user("bob", str(bob_id.recipient))
    vault.add_member(engagement, "bob", "viewer")
    bob = make_vault(bob_id, "bob")

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("f")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, FlagsScreen)
        assert screen.query_one("#flags", DataTable).row_count == 2
        await pilot.press("t")
        assert pilot.app.screen is screen  # no reason form: the action is not offered
        assert screen.check_action("decide", ("redact",)) is False
    drive(make_app(bob), script)
    assert {f.flag.state for f in vault.flags(engagement)} == {"open"}


def test_flags_show_on_engagements_ingest_results_and_item_detail(
        vault: Vault, engagement: str, tmp_path: Any) -> None:
    from textual.widgets import Select

    from tui.screens.engagements import EngagementsScreen
    from tui.screens.ingest import IngestScreen
    from tui.screens.item import ItemScreen
    log = tmp_path / "gw.log"
    log.write_text("".join(f"auth card={p} ok\n" for p in PANS))

    async def script(pilot: Pilot[Any]) -> None:
        evidence = await open_engagement(pilot)
        await pilot.press("i")
        screen = pilot.app.screen
        assert isinstance(screen, IngestScreen)
        screen.query_one("#paths", Input).value = str(log)
        await pilot.press("ctrl+s")
        await settle(pilot)
        status = str(screen.query_one("#results", DataTable).get_row_at(0)[1])
        assert status == "QUARANTINED: pan x2"
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is evidence
        evidence.query_one("#state", Select).value = "quarantined"
        await settle(pilot)
        items = evidence.query_one("#items", DataTable)
        assert items.row_count == 1 and str(items.get_row_at(0)[2]) == "quarantined"
        evidence.query_one("#state", Select).value = "active"
        await settle(pilot)
        assert items.row_count == 0
        evidence.query_one("#state", Select).value = "quarantined"
        await settle(pilot)
        items.focus()
        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen
        assert isinstance(detail, ItemScreen)
        ft = detail.query_one("#item-flags", DataTable)
        assert ft.row_count == 2 and {str(ft.get_row_at(i)[1]) for i in range(2)} == {"open"}
        await pilot.press("escape")
        await pilot.press("escape")
        await settle(pilot)
        engs = pilot.app.screen
        assert isinstance(engs, EngagementsScreen)
        table = engs.query_one(DataTable)
        assert str(table.get_row_at(0)[5]) == "2"  # open flags
    drive(make_app(vault), script)
