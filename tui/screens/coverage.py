"""Requirement coverage: every requirement of the catalogue, with and without evidence.
Enter returns the requirement to the evidence screen as a filter."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from tui.base import VaultScreen, cell
from tui.messages import Loaded


class CoverageScreen(VaultScreen):
    PALETTE_NAME = "coverage"
    BINDINGS = [Binding("escape", "back", "Back"),
                Binding("w", "toggle_missing", "Only without evidence",
                        tooltip="only the requirements without evidence / all")]
    AUTO_FOCUS = "#coverage"

    def __init__(self, engagement: str) -> None:
        super().__init__()
        self.engagement = engagement
        self.rows: list[tuple[str, str, int]] = []
        self.only_missing = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="coverage-summary", classes="screen-title")
        yield DataTable(id="coverage", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        # the count before the title: a long title never pushes it out of sight
        self.query_one(DataTable).add_columns("Requirement", "Items", "Title")
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        self.post_message(Loaded("coverage", self.vault.coverage(self.engagement)))

    def on_loaded(self, message: Loaded) -> None:
        self.rows = message.data
        self.show()

    def show(self) -> None:
        testable = [(rid, n) for rid, title, n in self.rows if not title.startswith("§")]
        covered = sum(1 for _, n in testable if n)
        self.query_one("#coverage-summary", Static).update(Text(
            f"{self.engagement}: {covered} of {len(testable)} requirements have evidence, "
            f"{len(testable) - covered} have none" + (" (showing those)"
                                                      if self.only_missing else "")))
        table = self.query_one(DataTable)
        table.clear()
        for rid, title, n in self.rows:
            if self.only_missing and (n or title.startswith("§")):
                continue
            heading = title.startswith("§")  # a roll-up row: its own count is not the point
            table.add_row(cell(rid),
                          Text(f"{n:,}" if n else "-" if heading else "none", justify="right",
                               style="" if n or heading else "bold red"),
                          cell(title), key=rid)
        table.focus()

    def action_toggle_missing(self) -> None:
        self.only_missing = not self.only_missing
        self.show()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(str(event.row_key.value))

    def action_back(self) -> None:
        self.dismiss(None)
