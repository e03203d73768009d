"""The command palette (Ctrl+P) offers the current screen's vault actions that the user may
take, and runs the one chosen."""

from __future__ import annotations

from typing import Any

from textual.command import CommandInput, CommandList, CommandPalette
from textual.pilot import Pilot

from tests.tui.test_flows import drive, open_engagement, settle
from tui.app import make_app
from tui.screens.audit import AuditScreen
from tui.screens.engagements import EngagementsScreen
from tui.screens.evidence import EvidenceScreen
from tui.screens.help import HelpScreen
from vault.age import X25519Identity
from vault.service import Vault

WRITE = {"Ingest", "Interview note", "Audit log"}


async def palette(pilot: Pilot[Any], query: str = "") -> list[str]:
    """Open the palette, type `query`, return the titles it offers (first line of each)."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CommandPalette)
    if query:
        await pilot.press(*query)
    await settle(pilot)
    await pilot.pause(0.3)  # the palette shows hits after a short delay of its own
    await settle(pilot)
    options = pilot.app.screen.query_one(CommandList)
    return [str(getattr(options.get_option_at_index(i).prompt, "plain",
                        options.get_option_at_index(i).prompt)).splitlines()[0]
            for i in range(options.option_count)]


def test_palette_lists_the_evidence_screens_actions_and_runs_one(vault: Vault,
                                                                 engagement: str) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        screen = await open_engagement(pilot)
        offered = await palette(pilot)
        assert WRITE | {"Coverage", "Members", "Search", "Reload", "Help", "Quit"} <= set(offered)
        assert len(offered) == len(set(offered))  # no duplicates (q is bound twice)
        await pilot.press("escape")
        assert pilot.app.screen is screen
        assert await palette(pilot, "audit") == ["Audit log"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AuditScreen)
        await pilot.press("escape")
        assert "Help" in await palette(pilot, "hel")
        pilot.app.screen.query_one(CommandInput).value = "Help"
        await settle(pilot)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, HelpScreen)
    drive(make_app(vault), script)


def test_palette_opens_and_creates_engagements(vault: Vault, engagement: str) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        offered = await palette(pilot)
        assert {f"Open engagement {engagement}", "New engagement", "Complete"} <= set(offered)
        await pilot.press("escape")
        assert await palette(pilot, "open acme") == [f"Open engagement {engagement}"]
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, EvidenceScreen) and screen.engagement == engagement
    drive(make_app(vault), script)


def test_palette_hides_what_the_role_forbids(vault: Vault, engagement: str,
                                             make_vault: Any) -> None:
    bob_id = X25519Identity.generate()
    vault.add_user("bob", str(bob_id.recipient))
    vault.add_member(engagement, "bob", "viewer")
    bob = make_vault(bob_id, "bob")

    async def script(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, EngagementsScreen)
        offered = await palette(pilot)
        assert f"Open engagement {engagement}" in offered
        assert "Complete" not in offered  # a viewer may not set the completion date
        await pilot.press("escape")
        await open_engagement(pilot)
        offered = await palette(pilot)
        assert not WRITE & set(offered)
        assert {"Coverage", "Members", "Search", "Help", "Quit"} <= set(offered)
        await pilot.press("escape")
        assert await palette(pilot, "ingest") == []
    drive(make_app(bob), script)
