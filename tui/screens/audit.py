"""An engagement's audit log (the latest events), filtered by actor and action."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Static

from tui.base import VaultScreen, cell
from tui.messages import Loaded

LIMIT = 1000


class AuditScreen(VaultScreen):
    PALETTE_NAME = "audit log"
    BINDINGS = [Binding("escape", "back", "Back"),
                Binding("slash", "focus_filter", "Filter",
                        tooltip="filter by actor or action (Enter applies)"),
                Binding("r", "refresh", "Reload")]
    AUTO_FOCUS = "#audit"  # the log, not the actor box: keys are commands until `/`

    def __init__(self, engagement: str) -> None:
        super().__init__()
        self.engagement = engagement

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"Audit log of {self.engagement} (latest {LIMIT})"),
                     classes="screen-title")
        with Horizontal(id="audit-filters"):
            yield Input(placeholder="actor (exact name)", id="actor")
            yield Input(placeholder="action prefix, e.g. item. or member.add", id="action")
        yield DataTable(id="audit", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "When", "Actor", "Action", "Object", "Outcome", "Detail")
        table.focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load(self.query_one("#actor", Input).value.strip() or None,
                  self.query_one("#action", Input).value.strip() or None)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self, actor: str | None, action: str | None) -> None:
        events = self.vault.audit_events(self.engagement, limit=LIMIT, actor=actor,
                                         action=action)
        self.post_message(Loaded("audit", events))

    def on_loaded(self, message: Loaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for e in reversed(message.data):  # newest first
            table.add_row(cell(e.seq), cell(f"{e.at:%Y-%m-%d %H:%M:%S}"), cell(e.actor),
                          cell(e.action), cell(e.object[:16]), cell(e.outcome),
                          cell(e.detail or ""))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_refresh()
        self.query_one(DataTable).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#actor", Input).focus()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one(DataTable).focus()
        else:
            self.app.pop_screen()
