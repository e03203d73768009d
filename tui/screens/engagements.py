"""The engagements the user is a member of (all of them for an administrator)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from tui.base import VaultScreen, cell
from tui.commands import PaletteCommand
from tui.dates import parse_date
from tui.messages import Done, Loaded
from tui.screens.engagement_form import CompleteForm, EngagementForm
from vault.metadata.models import Engagement
from vault.people import access


@dataclass(frozen=True)
class Row:
    engagement: Engagement
    items: int
    roles: frozenset[str]
    open_flags: int = 0


class EngagementsScreen(VaultScreen):
    PALETTE_NAME = "engagements"
    BINDINGS = [
        Binding("n", "create", "New engagement"),
        Binding("d", "complete", "Complete", tooltip="set the completion date"),
        Binding("u", "upcoming", "Upcoming destructions",
                tooltip="what is due for destruction soon, in every engagement you see"),
        Binding("z", "certificates", "Certificates", tooltip="destruction certificates"),
        Binding("r", "refresh", "Reload"),
    ]
    AUTO_FOCUS = "#engagements"

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Row] = {}
        self.firm_roles: frozenset[str] = frozenset()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="whoami", classes="screen-title")
        yield DataTable(id="engagements", cursor_type="row", zebra_stripes=True)
        yield Static("Enter opens an engagement", id="engagements-hint", classes="hint")
        yield Footer()

    COLUMNS = ("Name", "Standard", "Client", "Completed", "Items", "Open flags", "My role")

    def on_mount(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        if self.rows:
            self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self) -> None:
        firm = frozenset(self.vault.roles_in(None))
        flags = self.vault.open_flag_counts()
        rows = [Row(e, n, frozenset(self.vault.roles_in(e.name)), flags.get(e.id, 0))
                for e, n in self.vault.list_engagements()]
        self.post_message(Loaded("engagements", (firm, rows)))

    def on_loaded(self, message: Loaded) -> None:
        firm, rows = message.data
        self.firm_roles = firm
        table = self.query_one(DataTable)
        keep = table.cursor_row
        self.rows = {r.engagement.name: r for r in rows}
        cells = []
        for r in rows:
            e = r.engagement
            role = ", ".join(sorted(r.roles - {"person", "admin"})) or "-"
            cells.append((e.name, (cell(e.name), cell(e.standard), cell(e.client),
                                   cell(e.completed_on.isoformat() if e.completed_on else ""),
                                   Text(f"{r.items:,}", justify="right"),
                                   Text(f"{r.open_flags:,}" if r.open_flags else "",
                                        justify="right"), cell(role))))
        # Columns sized from the content here: DataTable's own auto-width was seen to lag
        # behind rows added from a worker under load, truncating names.
        table.clear(columns=True)
        for i, label in enumerate(self.COLUMNS):
            width = max([len(label)] + [c[1][i].cell_len for c in cells])
            table.add_column(label, width=min(width, 48))
        for key, row in cells:
            table.add_row(*row, key=key)
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        table.focus()
        user = self.vault.user
        self.query_one("#whoami", Static).update(Text(
            f"Engagements of {user.name}" + (f" ({user.firm_role})" if user.firm_role else "")
            + f" — {len(rows)}"))
        self.refresh_bindings()

    def _current(self) -> Row | None:
        table = self.query_one(DataTable)
        if not self.rows or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(str(key))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "create":
            return access.allowed("engagement.create", self.firm_roles)
        if action == "complete":
            row = self._current() if self.is_mounted else None
            return row is not None and access.allowed("engagement.complete", row.roles)
        if action == "upcoming":
            return access.allowed("retention.overview", self.firm_roles)
        if action == "certificates":
            return access.allowed("certificate.list", self.firm_roles)
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.open(str(event.row_key.value))

    def open(self, name: str) -> None:
        row = self.rows.get(name)
        if row is not None:
            from tui.screens.evidence import EvidenceScreen
            self.app.push_screen(EvidenceScreen(row.engagement.name, row.engagement.standard,
                                                row.roles))

    def palette_commands(self) -> Iterator[PaletteCommand]:
        for name, row in self.rows.items():
            yield PaletteCommand(f"Open engagement {name}",
                                 f"{row.engagement.client} · {row.engagement.standard}",
                                 partial(self.open, name))
        yield from super().palette_commands()

    def action_refresh(self) -> None:
        self.load()

    def action_upcoming(self) -> None:
        from tui.screens.retention import UpcomingScreen
        self.app.push_screen(UpcomingScreen())

    def action_certificates(self) -> None:
        from tui.screens.retention import CertificatesScreen
        self.app.push_screen(CertificatesScreen())

    def action_create(self) -> None:
        def created(form: dict[str, Any] | None) -> None:
            if form is not None:
                self.create(form)
        self.app.push_screen(EngagementForm(), created)

    def action_complete(self) -> None:
        row = self._current()
        if row is None:
            return
        name = row.engagement.name

        def chosen(value: str | None) -> None:
            if value is not None:
                self.complete(name, value)
        self.app.push_screen(CompleteForm(name, row.engagement.completed_on), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def create(self, form: dict[str, Any]) -> None:
        eng = self.vault.create_engagement(
            form["name"], client=form["client"], standard=form["standard"],
            period_start=parse_date(form["period_start"], "period start"),
            period_end=parse_date(form["period_end"], "period end"))
        self.post_message(Done("created", eng.name))

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def complete(self, name: str, value: str) -> None:
        on: date | None = parse_date(value, "completion date")
        if on is None:
            from vault.errors import InvalidInput
            raise InvalidInput("give the completion date")
        self.vault.complete_engagement(name, on)
        self.post_message(Done("completed", name))

    def on_done(self, message: Done) -> None:
        self.notify(f"engagement {message.data} {message.what}")
        self.load()
