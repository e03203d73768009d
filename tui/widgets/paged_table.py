"""A DataTable that holds one page of a longer list: PageDown on the last row or PageUp on the
first asks the screen for the next or previous page."""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.widgets import DataTable


class PagedTable(DataTable[Any]):
    class PageRequest(Message):
        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

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
