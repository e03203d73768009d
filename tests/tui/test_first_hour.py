"""What a new user met in their first hour: where the focus is when a screen opens or is
returned to, the row the evidence list comes back on, a help that lists every key, an 80x24
terminal, and a refused flag reason that is kept."""

from __future__ import annotations

import asyncio
import html
import importlib
import inspect
import pkgutil
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from textual.binding import Binding
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, DirectoryTree, Input, Select, Static, TabbedContent
from textual.widgets._markdown import MarkdownTableCellContents

import tui.screens
from tests.tui.test_flows import clone_items, drive, mem, open_engagement, settle
from tui.app import VaultApp, make_app
from tui.screens.audit import AuditScreen
from tui.screens.coverage import CoverageScreen
from tui.screens.engagements import EngagementsScreen
from tui.screens.error import ErrorModal
from tui.screens.evidence import PAGE, EvidenceScreen
from tui.screens.flags import FlagsScreen, ReasonForm
from tui.screens.help import GOING_BACK, SECTIONS, HelpScreen, help_markdown, key_label, what
from tui.screens.ingest import IngestScreen
from tui.screens.item import ItemScreen
from tui.screens.member_form import MemberForm
from tui.screens.members import MembersScreen
from vault.service import IngestOptions, Vault

PAN = "4111 1111 1111 1111"


def focused_id(pilot: Pilot[Any]) -> str | None:
    focused = pilot.app.screen.focused
    return focused.id if focused is not None else None


def screen_text(pilot: Pilot[Any]) -> str:
    """The terminal's text as drawn, a line per row (from the SVG screenshot)."""
    svg = pilot.app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>',
                         svg):
        text = html.unescape(m.group(3)).replace("\xa0", " ")
        rows.setdefault(float(m.group(2)), []).append((float(m.group(1)), text))
    return "\n".join("".join(t for _, t in sorted(parts)) for _, parts in sorted(rows.items()))


def drive_at(app: Any, size: tuple[int, int],
             script: Callable[[Pilot[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await script(pilot)
    asyncio.run(main())


def typing(text: str) -> list[str]:
    """The keys that type `text`."""
    return ["space" if c == " " else c for c in text]


def flagged(vault: Vault, engagement: str, name: str = "gw.log") -> str:
    [r] = vault.ingest(engagement, [mem(name, f"auth card={PAN} ok\n".encode())],
                       IngestOptions(kind="log_export"))
    return r.view.item.id  # type: ignore[union-attr]


# -- 1. the focus ----------------------------------------------------------------------------

def test_every_screen_opens_and_is_returned_to_with_its_list_focused(
        vault: Vault, engagement: str) -> None:
    flagged(vault, engagement)

    async def script(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, EngagementsScreen)
        assert focused_id(pilot) == "engagements"
        evidence = await open_engagement(pilot)
        assert focused_id(pilot) == "items"
        for key, screen_type, table in (("f", FlagsScreen, "flags"),
                                        ("c", CoverageScreen, "coverage"),
                                        ("m", MembersScreen, "members"),
                                        ("a", AuditScreen, "audit")):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(pilot.app.screen, screen_type)
            assert focused_id(pilot) == table, screen_type
            await pilot.press("escape")
            await settle(pilot)
            assert pilot.app.screen is evidence and focused_id(pilot) == "items", screen_type
        # the flags' item and back; the members' form and back
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ItemScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, FlagsScreen) and focused_id(pilot) == "flags"
        await pilot.press("escape")
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("a")
        assert isinstance(pilot.app.screen, MemberForm)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MembersScreen) and focused_id(pilot) == "members"
        await pilot.press("escape")
        await settle(pilot)
        # the item: its open tab's content; 1-4 switch tabs and focus theirs
        await pilot.press("enter")
        await settle(pilot)
        item = pilot.app.screen
        assert isinstance(item, ItemScreen) and focused_id(pilot) == "preview"
        await pilot.press("3")
        await settle(pilot)
        assert item.query_one(TabbedContent).active == "tab-versions"
        assert focused_id(pilot) == "versions"
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is evidence and focused_id(pilot) == "items"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EngagementsScreen)
        assert focused_id(pilot) == "engagements"
    drive(make_app(vault), script)


def test_the_audit_log_opens_on_the_log_so_q_quits(vault: Vault, engagement: str) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("a")
        await settle(pilot)
        audit = pilot.app.screen
        assert isinstance(audit, AuditScreen)
        assert focused_id(pilot) == "audit"
        await pilot.press("q")
        assert audit.query_one("#actor", Input).value == ""  # not typed into the filter
        assert pilot.app.return_code == 0  # the app quits
    drive(make_app(vault), script)


def test_ingest_opens_on_the_file_picker_and_escape_after_an_ingest_goes_back(
        vault: Vault, engagement: str, tmp_path: Any) -> None:
    f = tmp_path / "fw.txt"
    f.write_text("permit tcp any host 10.0.0.1 eq 443\n")

    async def script(pilot: Pilot[Any]) -> None:
        evidence = await open_engagement(pilot)
        await pilot.press("i")
        await settle(pilot)
        ingest = pilot.app.screen
        assert isinstance(ingest, IngestScreen)
        assert ingest.focused is ingest.query_one(DirectoryTree)
        await pilot.press("slash")  # the paths box, by key
        assert focused_id(pilot) == "paths"
        await pilot.press(*str(f))
        ingest.query_one("#requirements", Input).focus()  # the last box the user filled in
        await pilot.press(*"1.2.1")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert ingest.query_one("#results", DataTable).row_count == 1
        assert focused_id(pilot) == "results"
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is evidence and focused_id(pilot) == "items"
        assert evidence.query_one("#items", DataTable).row_count == 1
        # Escape in a text box goes to the list, the next one goes back
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("slash", "escape")
        assert isinstance(pilot.app.screen, IngestScreen) and focused_id(pilot) == "tree"
        await pilot.press("escape")
        assert pilot.app.screen is evidence
    drive(make_app(vault), script)
    assert [v.requirements for v in vault.list_items(engagement)] == [("1.2.1",)]


# -- 2. back on the same row -----------------------------------------------------------------

def test_escape_from_an_item_returns_to_the_same_row_paged_and_filtered(
        vault: Vault, engagement: str) -> None:
    clone_items(vault, engagement, 250)

    async def open_and_back(pilot: Pilot[Any], evidence: EvidenceScreen, row: int) -> None:
        table = evidence.query_one("#items", DataTable)
        table.move_cursor(row=row)
        await pilot.pause()
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        name = str(table.get_row_at(row)[1])
        await pilot.press("enter")
        await settle(pilot)
        if isinstance(pilot.app.screen, ErrorModal):  # a clone has no content to preview
            await pilot.press("escape")
        item = pilot.app.screen
        assert isinstance(item, ItemScreen) and item.item_id == key
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is evidence and focused_id(pilot) == "items"
        assert table.cursor_row == row
        assert str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value) == key
        assert name in screen_text(pilot)  # scrolled to it

    async def script(pilot: Pilot[Any]) -> None:
        evidence = await open_engagement(pilot)
        await open_and_back(pilot, evidence, 7)
        await pilot.press("slash", *"log-0", "enter")  # all 250 match: three pages
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert evidence.page_offset == PAGE
        await open_and_back(pilot, evidence, 62)
        assert evidence.page_offset == PAGE
        assert evidence.query_one("#search", Input).value == "log-0"
        assert "101–200" in str(evidence.query_one("#count", Static).render())
        await pilot.press("r")  # a reload keeps the row too
        await settle(pilot)
        assert evidence.query_one("#items", DataTable).cursor_row == 62
    drive(make_app(vault), script)


# -- 3. the help -----------------------------------------------------------------------------

def screen_classes() -> Iterator[type[Screen[Any]]]:
    """Every screen class defined in tui/screens/."""
    for info in pkgutil.iter_modules(tui.screens.__path__):
        module = importlib.import_module(f"tui.screens.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Screen) and obj.__module__ == module.__name__:
                yield obj


def test_the_help_lists_every_binding_of_every_screen() -> None:
    text = help_markdown(VaultApp.BINDINGS)
    rows = {line.split("|")[1].strip(" *"): line for line in text.splitlines()
            if line.startswith("| **")}
    where = {screen: section.where for section in SECTIONS for screen in section.screens}
    for screen in screen_classes():
        bindings = list(Binding.make_bindings(vars(screen).get("BINDINGS", [])))  # not Textual's
        if screen is HelpScreen or not bindings:
            continue
        assert screen in where, f"{screen.__name__} is missing from the help's SECTIONS"
        row = rows[where[screen]]
        for b in bindings:
            if b.key == "escape" and b.description in GOING_BACK:
                continue  # said once, in the first row
            assert f"`{key_label(b.key)}`" in row, (screen.__name__, b.key)
            assert what(b).lower() in row.lower(), (screen.__name__, b.description)
    for b in Binding.make_bindings(VaultApp.BINDINGS):
        assert f"`{key_label(b.key)}` {what(b)}" in rows["Everywhere"]
    # what the new user missed
    for key in "jkfxto":
        assert f"`{key}`" in rows["Flags"]
    assert "`w` only the requirements without evidence" in rows["Coverage"]
    assert ("`1` `2` `3` `4` `5` tabs: preview, chain of custody, versions, flags, members"
            in rows["Item"])
    assert "`Esc`" in rows["Everywhere"] and "`Ctrl+P`" in rows["Everywhere"]


def test_no_row_of_the_help_wraps_over_seven_lines(vault: Vault) -> None:
    for size in ((80, 24), (120, 36)):
        async def script(pilot: Pilot[Any], size: tuple[int, int] = size) -> None:
            await pilot.press("question_mark")
            await settle(pilot)
            await pilot.pause(0.5)  # the Markdown table lays out in steps
            help_screen = pilot.app.screen
            assert isinstance(help_screen, HelpScreen)
            box = help_screen.query_one("#help-box")
            assert box.region.right <= size[0]  # the help fits the terminal's width
            cells = list(help_screen.query(MarkdownTableCellContents))
            assert len(cells) == 2 * (len(SECTIONS) + 1)
            for cell in cells:
                assert 0 < cell.size.height <= 7, (size, cell.classes, cell.size)
        drive_at(make_app(vault), size, script)


# -- 4. an 80x24 terminal --------------------------------------------------------------------

def test_an_80x24_terminal_shows_the_state_and_usable_filters(vault: Vault,
                                                              engagement: str) -> None:
    item = flagged(vault, engagement, "a-rather-long-name-of-a-payment-gateway-log-file.log")
    vault.ingest(engagement, [mem("fw.txt", b"permit any\n")], IngestOptions(kind="log_export"))
    filters = {"search": "/ search name", "kind": "any kind", "requirement": "requirement",
               "disclosure": "any disclosure", "state": "any state"}

    async def script(pilot: Pilot[Any]) -> None:
        evidence = await open_engagement(pilot)
        shown = screen_text(pilot)
        assert "quarantined" in shown
        for name, label in filters.items():
            widget = evidence.query_one(f"#{name}")
            region = widget.region
            assert region.x >= 0 and region.right <= 80 and region.bottom <= 24, name
            assert region.width >= 20, (name, region)
            assert label in shown, name
        # every filter is reached from the keyboard, in order
        await pilot.press("slash")
        assert focused_id(pilot) == "search"
        for name in ("kind", "requirement", "disclosure", "state"):
            await pilot.press("tab")
            assert focused_id(pilot) == name
        await pilot.press("shift+tab", "shift+tab")
        await pilot.press(*"3.3")
        await settle(pilot)
        assert pilot.app.screen is evidence
        assert evidence.query_one("#requirement", Input).value == "3.3"
        await pilot.press("escape")
        assert focused_id(pilot) == "items"
        evidence.query_one("#requirement", Input).value = ""
        evidence.query_one("#state", Select).value = "quarantined"
        await settle(pilot)
        table = evidence.query_one("#items", DataTable)
        assert table.row_count == 1
        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen
        assert isinstance(detail, ItemScreen) and detail.item_id == item
        assert re.search(r"State\s+quarantined", screen_text(pilot))
    drive_at(make_app(vault), (80, 24), script)


def test_typing_a_requirement_filter_opens_no_modal_on_the_way(vault: Vault,
                                                               engagement: str) -> None:
    """'3.' is no requirement, but the user is typing '3.3.1': the count line says so, and no
    error modal takes the keys that follow."""
    vault.ingest(engagement, [mem("keys.txt", b"key inventory\n")],
                 IngestOptions(kind="config_export", requirements=("3.3.1",)))
    vault.ingest(engagement, [mem("fw.txt", b"permit any\n")], IngestOptions(kind="log_export"))

    async def script(pilot: Pilot[Any]) -> None:
        evidence = await open_engagement(pilot)
        await pilot.press("slash", "tab", "tab")
        assert focused_id(pilot) == "requirement"
        count = evidence.query_one("#count", Static)
        for typed in ("3", "3.", "3.3", "3.3.", "3.3.1"):
            await pilot.press(typed[-1])
            await settle(pilot)
            assert pilot.app.screen is evidence, typed
            assert evidence.query_one("#requirement", Input).value == typed
            if typed.endswith("."):
                assert "is not in the" in str(count.render())
        assert evidence.query_one("#items", DataTable).row_count == 1
        assert "1 item" in str(count.render())
    drive(make_app(vault), script)


# -- 5. a refused reason is kept -------------------------------------------------------------

def test_a_reason_refused_for_card_data_is_kept_and_the_error_shown(vault: Vault,
                                                                    engagement: str) -> None:
    flagged(vault, engagement)
    typed = f"the card {PAN.replace(' ', '')} is a vendor test card"

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("f")
        await settle(pilot)
        flags = pilot.app.screen
        assert isinstance(flags, FlagsScreen)
        await pilot.press("f")
        form = pilot.app.screen
        assert isinstance(form, ReasonForm)
        await pilot.press(*typing(typed))
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is form  # still open, on what was typed
        field = form.query_one("#reason", Input)
        assert field.value == typed and form.focused is field
        error = str(form.query_one("#reason-error", Static).render())
        assert "the reason contains card data or a secret: describe it instead" in error
        field.value = ""
        await pilot.press(*typing("vendor test card from the docs"))
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is flags
        assert flags.query_one("#flags", DataTable).row_count == 0
    drive(make_app(vault), script)
    [view] = vault.flags(engagement)
    assert view.flag.state == "false_positive"
    assert view.flag.reason == "vendor test card from the docs"
