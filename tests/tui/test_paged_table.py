"""PagedTable draws rows of Cells on its own fast path: the lines must be exactly (text,
styles, mouse metadata) those DataTable draws itself, whatever the cursor, hover, focus, zebra
stripe or scroll position."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widgets import DataTable, Input

from tui.widgets.paged_table import Cell, PagedTable

COLUMNS = (("Id", 8), ("Name", 20), ("Kind", 10), ("Size", 9))
NAMES = ["fw-rules.txt", "a name far too long for its column.log", "証跡ファイル一覧.txt",
         "emoji-📄-notes.md", "  spaced  ", "", "tab\tand\x1b[31mescape", "Ärende-Übersicht.pdf",
         "x" * 20, "日本語" * 5]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Input(id="other")
        yield PagedTable(id="t", cursor_type="row", zebra_stripes=True)


def fill(table: PagedTable, cells: Callable[[int, str], list[Any]]) -> None:
    for label, width in COLUMNS:
        table.add_column(label, width=width)
    for i, name in enumerate(NAMES * 3):
        table.add_row(*cells(i, name), key=f"r{i}")


def cell_row(i: int, name: str) -> list[Any]:
    return [Cell(f"{i:08x}"), Cell(name), Cell("log_export"), Cell(f"{i * 37} B", right=True)]


def lines(table: PagedTable, through_render_lines: bool) -> list[list[Segment]]:
    table._clear_caches()
    if through_render_lines:
        return [list(s) for s in table.render_lines(Region(0, 0, *table.size))]
    return [list(table.render_line(y)) for y in range(table.size.height)]


def compare(monkeypatch: pytest.MonkeyPatch, cells: Callable[[int, str], list[Any]],
            size: tuple[int, int] = (70, 20)) -> float:
    """Draws the table in several states with the fast path and with DataTable's own (the
    lines must be equal); returns the share of lines DataTable drew during the fast pass."""
    own_method = DataTable._render_line_in_row
    drawn = {"own": 0, "all": 0}

    def counted(self: Any, *args: Any) -> Any:
        drawn["own"] += 1
        return own_method(self, *args)

    async def main() -> None:
        app = TableApp()
        async with app.run_test(size=size) as pilot:
            table = app.query_one(PagedTable)
            fill(table, cells)
            table.focus()
            await pilot.pause()
            states: list[Callable[[], Any]] = [
                lambda: None,
                lambda: table.move_cursor(row=3),
                lambda: setattr(table, "hover_coordinate", Coordinate(5, 1)),
                lambda: setattr(table, "_show_hover_cursor", True),
                lambda: app.query_one("#other", Input).focus(),
                lambda: table.scroll_to(x=7, y=4, animate=False, immediate=True),
                lambda: table.move_cursor(row=12),
            ]
            for change in states:
                change()
                await pilot.pause()
                for through_render_lines in (False, True):
                    with monkeypatch.context() as m:
                        m.setattr(DataTable, "_render_line_in_row", counted)
                        fast = lines(table, through_render_lines)
                    drawn["all"] += len(fast)
                    with monkeypatch.context() as m:
                        m.setattr(PagedTable, "_render_line_in_row", own_method)
                        own = lines(table, through_render_lines)
                    assert fast == own, change

    asyncio.run(main())
    return drawn["own"] / drawn["all"]


def test_fast_rows_are_drawn_exactly_as_datatable_draws_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # DataTable drew the header lines (1 in 20) and the rows of the name with a tab (1 in 10).
    assert compare(monkeypatch, cell_row) < 0.2


def test_a_table_wider_than_the_screen_is_cropped_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert compare(monkeypatch, cell_row, size=(40, 12)) < 0.25


def test_rows_of_other_renderables_are_drawn_by_datatable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def mixed(i: int, name: str) -> list[Any]:
        row = cell_row(i, name)
        if i % 3 == 0:
            row[1] = Text(name, style="bold")
        return row
    assert compare(monkeypatch, mixed) > 0.3


def test_a_cell_is_never_measured() -> None:
    from rich.console import Console
    from textual.render import measure

    assert measure(Console(), Cell("a long name indeed"), 1) == 1
    assert str(Cell("two\nlines")) == "two lines"
    assert Cell("7 B", right=True).justify == "right"
