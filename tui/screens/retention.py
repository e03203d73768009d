"""Retention in the terminal UI: an engagement's items with their destruction dates, days left
and legal holds (place a hold on an item or the whole engagement; administrators release one),
the firm-wide list of destructions coming up, and the destruction certificates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static

from tui.base import VaultScreen, cell
from tui.messages import Done, Loaded
from vault.errors import InvalidInput
from vault.people import access
from vault.retention.dates import NOT_DUE
from vault.service.retention import HoldView, RetentionRow

UPCOMING_DAYS = 90


def days_cell(row: RetentionRow) -> Text:
    if row.days_left is None:
        return Text("-", justify="right")
    if row.days_left <= 0:
        return Text("due", style="bold", justify="right")
    return Text(f"{row.days_left:,}", justify="right")


def note_cell(row: RetentionRow) -> Text:
    return Text(row.note, style="bold" if row.holds else "")


def date_cell(row: RetentionRow) -> Text:
    return cell(row.due.date().isoformat() if row.due else "-")


class HoldForm(ModalScreen[str | None]):
    """The reason of a hold to place (or of a release); the result is the reason typed."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                Binding("ctrl+s", "save", "Save", tooltip="save the form")]

    def __init__(self, title: str, button: str = "Place hold") -> None:
        super().__init__()
        self.title_text, self.button = title, button

    def compose(self) -> ComposeResult:
        with Vertical(id="hold-form", classes="modal-box"):
            yield Label(Text(self.title_text), classes="modal-title")
            yield Input(placeholder="reason (e.g. the matter's name)", id="hold-reason")
            with Horizontal(classes="buttons"):
                yield Button(self.button, variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#hold-reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "save" else self.action_cancel()

    def action_save(self) -> None:
        self.dismiss(self.query_one("#hold-reason", Input).value)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class RetentionData:
    title: str
    rows: list[RetentionRow]
    holds: list[HoldView]


class RetentionScreen(VaultScreen):
    """One engagement's retention: each item's destruction date, days left and holds."""

    PALETTE_NAME = "retention"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("h", "hold_item", "Hold item", tooltip="place a legal hold on the item"),
        Binding("e", "hold_engagement", "Hold engagement",
                tooltip="place a legal hold on every item of the engagement"),
        Binding("l", "release", "Release hold", tooltip="release the highlighted hold"),
        Binding("c", "certificates", "Certificates", tooltip="destruction certificates"),
        Binding("r", "refresh", "Reload"),
    ]
    AUTO_FOCUS = "#retention"

    def __init__(self, engagement: str, roles: frozenset[str]) -> None:
        super().__init__()
        self.engagement = engagement
        self.roles = roles

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"Retention of {self.engagement}"), id="retention-title",
                     classes="screen-title")
        yield DataTable(id="retention", cursor_type="row", zebra_stripes=True)
        yield Static("Legal holds", classes="screen-title")
        yield DataTable(id="holds", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#retention", DataTable).add_columns(
            "Item", "Name", "State", "Destroy on", "Days left", "Holds", "Note")
        self.query_one("#holds", DataTable).add_columns(
            "Hold", "Covers", "Placed", "By", "Reason")
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("hold_item", "hold_engagement"):
            return access.allowed("hold.place", self.roles)
        if action == "release":
            return access.allowed("hold.release", self.roles)
        if action == "certificates":
            return access.allowed("certificate.list", self.roles)
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self) -> None:
        rows = self.vault.retention_status(self.engagement)
        holds = self.vault.holds(self.engagement)
        years = rows[0].years if rows else None
        completed = rows[0].completed_on if rows else None
        title = f"Retention of {self.engagement}"
        if years is not None:
            title += f" · kept {years} years after " + (
                f"completion ({completed})" if completed else "completion")
            if completed is None:
                title += f" · {NOT_DUE}"
        title += f" · {len(rows):,} items · {len(holds)} active hold{'s' * (len(holds) != 1)}"
        self.post_message(Loaded("retention", RetentionData(title, rows, holds)))

    def on_loaded(self, message: Loaded) -> None:
        data: RetentionData = message.data
        self.query_one("#retention-title", Static).update(Text(data.title))
        table = self.query_one("#retention", DataTable)
        keep = table.cursor_row
        table.clear()
        for r in data.rows:
            table.add_row(cell(r.item_id[:8]), cell(r.name or ""), cell(r.state), date_cell(r),
                          days_cell(r), cell(" ".join(h[:8] for h in r.holds)), note_cell(r),
                          key=r.item_id)
        if data.rows:
            table.move_cursor(row=min(keep, len(data.rows) - 1))
        holds = self.query_one("#holds", DataTable)
        holds.clear()
        for h in data.holds:
            holds.add_row(cell(h.hold.id[:8]),
                          cell(h.hold.item_id[:8] if h.hold.item_id else "every item"),
                          cell(f"{h.hold.placed_at:%Y-%m-%d}"), cell(h.placed_by),
                          cell(h.hold.reason), key=h.hold.id)

    def _key(self, selector: str) -> str | None:
        table = self.query_one(selector, DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _ask(self, title: str, run: Any, button: str = "Place hold") -> None:
        def chosen(reason: str | None) -> None:
            if reason is not None:
                run(reason)
        self.app.push_screen(HoldForm(title, button), chosen)

    def action_hold_item(self) -> None:
        item = self._key("#retention")
        if item is not None:
            self._ask(f"Legal hold on item {item[:12]}", lambda why: self.place(item, why))

    def action_hold_engagement(self) -> None:
        self._ask(f"Legal hold on every item of {self.engagement}",
                  lambda why: self.place(self.engagement, why))

    def action_release(self) -> None:
        hold = self._key("#holds")
        if hold is not None:
            self._ask(f"Release hold {hold[:12]}", lambda why: self.release(hold, why),
                      button="Release")

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def place(self, target: str, reason: str) -> None:
        h = self.vault.place_hold(target, reason)
        self.post_message(Done(f"hold {h.hold.id[:8]} placed"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def release(self, hold: str, reason: str) -> None:
        self.vault.release_hold(hold, reason)
        self.post_message(Done(f"hold {hold[:8]} released"))

    def on_done(self, message: Done) -> None:
        self.notify(message.what)
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_certificates(self) -> None:
        self.app.push_screen(CertificatesScreen(self.engagement))

    def action_back(self) -> None:
        self.app.pop_screen()


class UpcomingScreen(VaultScreen):
    """What is due for destruction within N days (or overdue), across the engagements the user
    may see (every engagement for an administrator, without file names)."""

    PALETTE_NAME = "upcoming destructions"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "focus_days", "Days", tooltip="how many days ahead (Enter applies)"),
        Binding("r", "refresh", "Reload"),
    ]
    AUTO_FOCUS = "#upcoming"

    def __init__(self, days: int = UPCOMING_DAYS) -> None:
        super().__init__()
        self.days = days

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Upcoming destructions"), id="upcoming-title",
                     classes="screen-title")
        with Horizontal(id="upcoming-filters"):
            yield Label("within days: ")
            yield Input(str(self.days), id="days", type="integer")
        yield DataTable(id="upcoming", cursor_type="row", zebra_stripes=True)
        yield Static("Enter opens the engagement's retention", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#upcoming", DataTable).add_columns(
            "Engagement", "Item", "Name", "Destroy on", "Days left", "Holds", "Note")
        self.load(self.days)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, days: int) -> None:
        self.post_message(Loaded("upcoming", (days, self.vault.retention_status(upcoming=days))))

    def on_loaded(self, message: Loaded) -> None:
        if message.what == "open":
            engagement, roles = message.data
            self.app.push_screen(RetentionScreen(engagement, roles))
            return
        days, rows = message.data
        held = sum(1 for r in rows if r.holds)
        due = sum(1 for r in rows if (r.days_left or 0) <= 0 and not r.holds)
        self.query_one("#upcoming-title", Static).update(Text(
            f"Upcoming destructions · within {days} days: {len(rows):,} items"
            f" · {due:,} due now · {held:,} held"))
        table = self.query_one("#upcoming", DataTable)
        table.clear()
        for r in rows:
            table.add_row(cell(r.engagement), cell(r.item_id[:8]), cell(r.name or ""),
                          date_cell(r), days_cell(r), cell(" ".join(h[:8] for h in r.holds)),
                          note_cell(r), key=f"{r.engagement}\0{r.item_id}")
        table.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            days = int(event.value)
        except ValueError:
            days = -1
        if days < 0:
            self.vault_app.show_error(InvalidInput("days ahead: a whole number, 0 or more"))
            return
        self.days = days
        self.load(days)

    def action_focus_days(self) -> None:
        self.query_one("#days", Input).focus()

    def action_refresh(self) -> None:
        self.load(self.days)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        engagement = str(event.row_key.value).split("\0", 1)[0]
        self.open(engagement)

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def open(self, engagement: str) -> None:
        roles = frozenset(self.vault.roles_in(engagement))
        self.post_message(Loaded("open", (engagement, roles)))

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#upcoming", DataTable).focus()
        else:
            self.app.pop_screen()


class CertificatesScreen(VaultScreen):
    """Destruction certificates: all of them for an administrator, or those covering one
    engagement's items (its leads and QA)."""

    PALETTE_NAME = "certificates"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("r", "refresh", "Reload")]
    AUTO_FOCUS = "#certificates"

    def __init__(self, engagement: str | None = None) -> None:
        super().__init__()
        self.engagement = engagement

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Destruction certificates" + (
            f" covering {self.engagement}" if self.engagement else "")), classes="screen-title")
        yield DataTable(id="certificates", cursor_type="row", zebra_stripes=True)
        yield Static("`vault certificate export ID -o DIR` hands one to an outsider",
                     classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Certificate", "Issued", "Items", "Engagements",
                                              "Signing key")
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self) -> None:
        self.post_message(Loaded("certificates", self.vault.certificates(self.engagement)))

    def on_loaded(self, message: Loaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for c in reversed(message.data):  # newest first
            table.add_row(cell(c.id[:12]), cell(f"{c.created_at:%Y-%m-%d %H:%M}"),
                          Text(f"{c.items:,}", justify="right"),
                          cell(" ".join(e[:8] for e in c.engagements)), cell(c.key_id[:16]),
                          key=c.id)

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()
