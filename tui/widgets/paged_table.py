"""A DataTable that holds one page of a longer list: PageDown on the last row or PageUp on the
first asks the screen for the next or previous page.

Its rows are drawn by a fast path. A page of 100 rows replaces every cell at once, and
DataTable measures each new cell and draws each visible one through Rich (~0.25 ms a cell), so
showing a page on a 160x50 terminal held the event loop ~140 ms after every filter keystroke
(and a keystroke typed meanwhile waited). Rows of `Cell`s (plain text, columns of fixed width)
are drawn here instead, with the same segments and styles DataTable would give them
(tests/tui/test_paged_table.py compares the two), and never measured: ~15 ms. Anything else
(the header, other cells) is drawn by DataTable itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

Lines = list[list[Segment]]  # one list of segments a line (DataTable's SegmentLines)


class Cell(Text):
    """Plain text in a column of fixed width (no markup, no style, no spans). The table never
    measures it (its width is the column's), and draws it on the fast path."""

    __rich_measure__ = None  # type: ignore[assignment]  # DataTable measures nothing then

    def __init__(self, value: object = None, *, right: bool = False) -> None:
        super().__init__("" if value is None else str(value).replace("\n", " "),
                         justify="right" if right else None)


def _fit(cell: Cell, width: int) -> str | None:
    """The cell's text cropped or padded to `width` cells as Rich would lay it out in a line of
    that width, or None when it is not a plain one-line text."""
    text = cell.plain
    if cell.spans or cell.style or "\t" in text or "\n" in text or cell.overflow not in (
            None, "fold", "crop") or cell.justify not in (None, "default", "left", "right"):
        return None
    if cell.justify == "right":
        text = text.rstrip()
        if cell_len(text) > width:
            text = set_cell_size(text, width)
        return " " * (width - cell_len(text)) + text
    return set_cell_size(text, width)


@lru_cache(maxsize=4096)
def _meta(row: int, column: int, out_of_bounds: bool = False) -> Style:
    """The mouse metadata DataTable puts on a cell (which row and column a click is in)."""
    if out_of_bounds:
        return Style.from_meta({"row": row, "column": column, "out_of_bounds": True})
    return Style.from_meta({"row": row, "column": column})


class PagedTable(DataTable[Any]):
    class PageRequest(Message):
        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

    _drawing: dict[Any, Any] | None = None  # what one drawing of the table looks up once

    def action_page_down(self) -> None:
        if self.row_count == 0 or self.cursor_row >= self.row_count - 1:
            self.post_message(self.PageRequest(+1))
        else:
            super().action_page_down()

    def action_page_up(self) -> None:
        if self.cursor_row <= 0:
            self.post_message(self.PageRequest(-1))
        else:
            super().action_page_up()

    # -- drawing ---------------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._drawing = {}
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = None

    @property
    def rich_style(self) -> Style:
        # DataTable asks for it once per line; it cannot change during one drawing.
        return self._memo("rich_style", lambda: super(PagedTable, self).rich_style)  # type: ignore[no-any-return]

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        """DataTable's method of the same name: it measures every cell of the new rows for
        the widths of the columns, which columns of fixed width and one-line rows without a
        label never need (~10 ms a page); only the table's virtual size changes then."""
        rows = [self.rows.get(key) for key in new_rows]
        if any(column.auto_width for column in self.columns.values()) or any(
                row is not None and (row.label is not None or row.auto_height) for row in rows):
            super()._update_dimensions(new_rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width + self._row_label_column_width,
                                 self._total_row_height + header)

    def _memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """compute(), once per drawing (every call when not drawing)."""
        memo = self._drawing
        if memo is None:
            return compute()
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def _render_line_in_row(self, row_key: RowKey, line_no: int, base_style: Style,
                            cursor_location: Coordinate,
                            hover_location: Coordinate) -> tuple[Lines, Lines]:
        """DataTable's method of the same name, for a one-line row of Cells (else DataTable's
        own): one segment per cell, styled as DataTable's Styled(Padding(cell)) would be."""
        row = self.rows.get(row_key)
        row_index = self._row_locations.get(row_key)
        if (row is None or row_index is None or row.height != 1 or line_no != 0
                or self.cursor_type != "row" or self.fixed_columns or self.fixed_rows
                or (self._labelled_row_exists and self.show_row_labels)):
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location,
                                               hover_location)
        show_hover = self._show_hover_cursor
        cache_key = (row_key, line_no, base_style, cursor_location, hover_location,
                     self.cursor_type, self.show_cursor, show_hover, self._update_count,
                     self._pseudo_class_state)
        if cache_key in self._row_render_cache:
            return self._row_render_cache[cache_key]
        data = self._data[row_key]
        columns = self._memo("columns", lambda: [
            (column.key, column.get_render_width(self)) for column in self.ordered_columns])
        pad = self.cell_padding
        spaces = " " * pad
        texts = []
        for key, width in columns:
            cell = data.get(key)
            fitted = _fit(cell, width - 2 * pad) if type(cell) is Cell else None
            if fitted is None:
                return super()._render_line_in_row(row_key, line_no, base_style,
                                                   cursor_location, hover_location)
            texts.append(spaces + fitted + spaces)
        zebra = row_index % 2 if self.zebra_stripes else 0
        row_style = self._memo(("row", zebra, base_style),
                               lambda: self._get_row_style(row_index, base_style))
        # A row cursor: every cell of the row is under it, or under the hover, or neither.
        cursor = row_index == cursor_location.row
        hover = row_index == hover_location.row
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, show_hover,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        style = row_style + component_style + post_style
        scrollable = [[Segment(text, style + _meta(row_index, column_index))]
                      for column_index, text in enumerate(texts)]
        # The row's style extended out to the widget's width, as DataTable does.
        extend_style, _ = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, show_hover, False, False)
        remaining = max(0, self.size.width - sum(w for _, w in columns)
                        - self._row_label_column_width)
        scrollable.append([Segment(" " * remaining, row_style + extend_style
                                   + _meta(row_index, 0, out_of_bounds=True))])
        rendered: tuple[Lines, Lines] = ([], scrollable)
        self._row_render_cache[cache_key] = rendered
        return rendered
