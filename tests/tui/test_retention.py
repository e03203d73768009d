"""The TUI's retention views through Textual's Pilot: an engagement's retention (dates, days
left, holds; placing a hold with a reason, releasing one), the firm-wide upcoming destructions,
and what a role may not do left out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.conftest import StepClock, ingest_one
from tests.tui.test_flows import drive, open_engagement, settle, table_keys
from tui.app import make_app
from tui.screens.engagements import EngagementsScreen
from tui.screens.error import ErrorModal
from tui.screens.retention import CertificatesScreen, HoldForm, RetentionScreen, UpcomingScreen
from vault.age import X25519Identity
from vault.service import Vault


def _text(table: DataTable[Any], row: int, col: int) -> str:
    return str(table.get_row_at(row)[col])


def test_retention_view_shows_dates_and_places_and_releases_holds(
        vault: Vault, engagement: str) -> None:
    a = ingest_one(vault, engagement, "fw-rules.txt", b"rules").view.item
    ingest_one(vault, engagement, "auth.log", b"log")

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, RetentionScreen)
        title = str(screen.query_one("#retention-title", Static).render())
        assert "not due: no completion date" in title and "kept 3 years" in title
        table = screen.query_one("#retention", DataTable)
        assert table.row_count == 2
        assert {_text(table, i, 6) for i in range(2)} == {"not due: no completion date"}
        # a hold on the highlighted item, with a reason typed in the form
        table.move_cursor(row=table_keys(table).index(a.id))
        await pilot.press("h")
        form = pilot.app.screen
        assert isinstance(form, HoldForm)
        form.query_one("#hold-reason", Input).value = "Smith v. Acme"
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is screen
        [hold] = vault.holds(engagement)
        assert hold.hold.item_id == a.id and hold.hold.reason == "Smith v. Acme"
        row = table_keys(table).index(a.id)
        assert _text(table, row, 5) == hold.hold.id[:8]
        holds = screen.query_one("#holds", DataTable)
        assert table_keys(holds) == [hold.hold.id]
        assert _text(holds, 0, 4) == "Smith v. Acme"
        assert vault.store.head(a.object_key).legal_hold
        # card data in a reason is refused with the service's message, nothing placed
        await pilot.press("e")
        pilot.app.screen.query_one("#hold-reason", Input).value = "card 4111 1111 1111 1111"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ErrorModal)
        assert "4111 1111 1111 1111" not in pilot.app.screen.message
        await pilot.press("escape")
        assert len(vault.holds(engagement)) == 1
        # the administrator (alice created the vault) releases it from the holds table
        holds.focus()
        await pilot.press("l")
        pilot.app.screen.query_one("#hold-reason", Input).value = "settled"
        await pilot.press("enter")
        await settle(pilot)
        assert vault.holds(engagement) == [] and holds.row_count == 0
        assert not vault.store.head(a.object_key).legal_hold
    drive(make_app(vault), script)


def test_upcoming_destructions_across_engagements(vault: Vault, engagement: str,
                                                  clock: StepClock) -> None:
    a = ingest_one(vault, engagement, "fw-rules.txt", b"rules").view.item
    vault.create_engagement("globex-3ds", client="Globex", standard="pci-3ds-1.0")
    ingest_one(vault, "globex-3ds", "notes.md", b"notes")        # never due: not completed
    vault.complete_engagement(engagement, date(2026, 6, 30))
    clock.advance(datetime(2029, 5, 2, tzinfo=UTC) - clock.now)   # 60 days before the date
    vault.place_hold(a.id, "matter")

    async def script(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, EngagementsScreen)
        await pilot.press("u")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, UpcomingScreen)
        table = screen.query_one("#upcoming", DataTable)
        assert table.row_count == 1
        assert [_text(table, 0, c) for c in (0, 2, 3, 4, 6)] == [
            engagement, "fw-rules.txt", "2029-07-01", "60", "held"]
        title = str(screen.query_one("#upcoming-title", Static).render())
        assert "within 90 days: 1 items" in title and "1 held" in title
        await pilot.press("slash")
        days = screen.query_one("#days", Input)
        days.value = "30"
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 0 and screen.focused is table
        await pilot.press("slash")
        days.value = "60"
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 1
        table.focus()
        await pilot.press("enter")                              # opens that engagement
        await settle(pilot)
        assert isinstance(pilot.app.screen, RetentionScreen)
        assert pilot.app.screen.engagement == engagement
    drive(make_app(vault), script)


def test_a_viewer_sees_retention_but_places_no_hold(vault: Vault, engagement: str,
                                                   make_vault: Any) -> None:
    ingest_one(vault, engagement, "fw-rules.txt", b"rules")
    bob = X25519Identity.generate()
    vault.add_user("bob", str(bob.recipient))
    vault.add_member(engagement, "bob", "viewer")
    viewer = make_vault(bob, "bob")

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, RetentionScreen)
        assert screen.query_one("#retention", DataTable).row_count == 1
        for action in ("hold_item", "hold_engagement", "release", "certificates"):
            assert screen.check_action(action, ()) is False, action
        await pilot.press("h")
        await settle(pilot)
        assert pilot.app.screen is screen                       # no form opened
    drive(make_app(viewer), script)
    assert vault.holds(engagement) == []


def test_certificates_firm_wide_for_the_administrator(vault: Vault, engagement: str,
                                                      alice_id: X25519Identity) -> None:
    from tests.retention.test_certificate import issue, report
    a = ingest_one(vault, engagement, "fw-rules.txt", b"rules").view.item
    cert = issue(vault.engine, alice_id, report([(a.id, a.engagement_id)]))

    async def script(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, EngagementsScreen)
        await pilot.press("z")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, CertificatesScreen)
        table = screen.query_one("#certificates", DataTable)
        assert table_keys(table) == [cert.id]
        assert [_text(table, 0, c) for c in (2, 3)] == ["1", a.engagement_id[:8]]
    drive(make_app(vault), script)
