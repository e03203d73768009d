"""The flag review queue: one engagement's PII and card-data flags, card data first; move with
next/previous, open the item, and decide: false positive, redact or retain (with a reason)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static
from textual.worker import Worker, WorkerState

from tui.base import VaultScreen, cell
from tui.messages import Loaded
from vault.errors import InvalidInput
from vault.people import access

if TYPE_CHECKING:
    from tui.app import VaultApp
    from vault.service import FlagView

DECISION_LABELS = {"false_positive": "false positive", "redact": "redact", "retain": "retain"}


class ReasonForm(ModalScreen[str | None]):
    """Ask the reason for a decision (required) and take the decision with it: `resolve(reason)`
    runs in a worker thread and returns what to tell the user, which the form is dismissed
    with. A reason the service refuses (card data in it) leaves the form open on what was
    typed, with the service's message under it, to be reworded."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, decision: str, summary: str, resolve: Callable[[str], str]) -> None:
        super().__init__()
        self.decision, self.summary = decision, summary
        self.resolve = resolve
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-form", classes="modal-box"):
            yield Label(f"Resolve as {DECISION_LABELS[self.decision]}", classes="modal-title")
            yield Static(Text(self.summary))
            if self.decision == "redact":
                yield Static("A masked version is stored and the original is crypto-shredded.")
            yield Input(placeholder="reason (required)", id="reason")
            yield Static("", id="reason-error")
            with Horizontal(classes="buttons"):
                yield Button("Resolve", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "save" else self.action_cancel()

    def action_save(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.notify("a reason is required", severity="warning")
            return
        if self.busy:
            return
        self.busy = True
        self.query_one("#save", Button).disabled = True
        self.query_one("#reason-error", Static).update("")
        self.run_worker(partial(self.resolve, reason), thread=True, exit_on_error=False,
                        group="write")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.SUCCESS:
            self.dismiss(cast("str", worker.result))
        elif event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.busy = False
            self.query_one("#save", Button).disabled = False
            error = worker.error
            if isinstance(error, InvalidInput):  # the reason itself: say so here, keep it
                self.query_one("#reason-error", Static).update(Text(
                    error.message + (f" ({error.hint})" if error.hint else "")))
                self.query_one("#reason", Input).focus()
            elif error is not None:
                cast("VaultApp", self.app).show_error(error)

    def action_cancel(self) -> None:
        if self.busy:  # the decision is on its way: the form closes when it is taken
            self.notify("the decision is being recorded", severity="warning")
            return
        self.dismiss(None)


class FlagsScreen(VaultScreen):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("j", "move(1)", "Next", tooltip="next flag"),
        Binding("k", "move(-1)", "Previous", tooltip="previous flag"),
        Binding("f", "decide('false_positive')", "False positive",
                tooltip="resolve as a false positive"),
        Binding("x", "decide('redact')", "Redact",
                tooltip="redact: a masked version replaces the item"),
        Binding("t", "decide('retain')", "Retain", tooltip="retain the item as it is"),
        Binding("o", "toggle_open", "Open/all", tooltip="open flags only / all flags"),
        Binding("r", "refresh", "Reload"),
    ]
    AUTO_FOCUS = "#flags"

    def __init__(self, engagement: str, roles: frozenset[str]) -> None:
        super().__init__()
        self.engagement = engagement
        self.roles = roles
        self.open_only = True
        self.views: dict[str, FlagView] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"Flags of {self.engagement}"), classes="screen-title", id="flags-title")
        yield DataTable(id="flags", cursor_type="row", zebra_stripes=True)
        yield Static("", id="flag-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "Flag", "State", "Kind", "Value", "Where", "Seen", "Item", "Item state")
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "decide":
            return access.allowed("flag.resolve", self.roles)
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self) -> None:
        self.post_message(Loaded("flags", self.vault.flags(self.engagement,
                                                           open_only=self.open_only)))

    def on_loaded(self, message: Loaded) -> None:
        table = self.query_one(DataTable)
        keep = self._current()
        table.clear()
        self.views = {v.flag.id: v for v in message.data}
        for v in message.data:
            f = v.flag
            table.add_row(cell(f.id[:12]), cell(f.state), cell(f.kind), cell(v.shown),
                          cell(v.where), cell(f.occurrences),
                          cell(v.item_name), cell(v.item_state), key=f.id)
        shown = "open flags" if self.open_only else "all flags"
        self.query_one("#flags-title", Static).update(
            Text(f"Flags of {self.engagement}: {len(self.views)} {shown}"))
        if keep in self.views:
            table.move_cursor(row=table.get_row_index(keep))
        table.focus()
        self._show_detail()

    def _current(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _show_detail(self) -> None:
        ref = self._current()
        detail = self.query_one("#flag-detail", Static)
        if ref is None:
            detail.update("no flags to review" if self.open_only else "no flags")
            return
        v = self.views[ref]
        f = v.flag
        lines = [f"{f.kind}  {v.shown}  ({f.detector}, confidence {f.confidence:.2f})",
                 f"in {v.item_name} [{f.item_id[:12]}], {v.where}, "
                 f"seen {f.occurrences} time(s); item is {v.item_state}"]
        if f.state != "open":
            lines.append(f"{f.state} by {v.resolved_by}: {f.reason}")
        detail.update(Text("\n".join(lines)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from tui.screens.item import ItemScreen
        v = self.views.get(str(event.row_key.value))
        if v is not None:
            self.app.push_screen(ItemScreen(v.flag.item_id, self.roles))

    def action_move(self, step: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def action_toggle_open(self) -> None:
        self.open_only = not self.open_only
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_decide(self, decision: str) -> None:
        ref = self._current()
        if ref is None:
            return
        f = self.views[ref].flag
        if f.state != "open":
            self.notify(f"flag {f.id[:12]} is already {f.state}", severity="warning")
            return

        def resolved(message: str | None) -> None:
            if message is not None:
                self.notify(message)
                self.load()
        self.app.push_screen(ReasonForm(decision, f"{f.kind} {self.views[ref].shown} in "
                                                  f"{self.views[ref].item_name}",
                                        partial(self.resolve, ref, decision)), resolved)

    def resolve(self, ref: str, decision: str, reason: str) -> str:
        """Runs in the reason form's worker thread; what to tell the user."""
        r = self.vault.resolve_flag(ref, decision, reason)
        if r.redacted_version:
            return f"redacted: new version {r.redacted_version[:12]}, original crypto-shredded"
        return f"flag {ref[:12]}: {DECISION_LABELS[decision]}; item is {r.item_state}"

    def action_back(self) -> None:
        self.app.pop_screen()
