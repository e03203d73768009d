"""Modal forms for engagements: create one, set its completion date. They only collect input;
the engagements screen calls the service."""

from __future__ import annotations

from datetime import date
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from vault.catalogue import STANDARDS


class EngagementForm(ModalScreen[dict[str, Any] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                Binding("ctrl+s", "save", "Create", tooltip="save the form")]

    def compose(self) -> ComposeResult:
        with Vertical(id="engagement-form", classes="modal-box"):
            yield Label("New engagement", classes="modal-title")
            yield Input(placeholder="name, e.g. acme-2026", id="name")
            yield Input(placeholder="client", id="client")
            yield Select([(s, s) for s in STANDARDS], value=STANDARDS[0], allow_blank=False,
                         id="standard")
            yield Input(placeholder="period start YYYY-MM-DD (optional)", id="period-start")
            yield Input(placeholder="period end YYYY-MM-DD (optional)", id="period-end")
            with Horizontal(classes="buttons"):
                yield Button("Create", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "save" else self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        self.dismiss({
            "name": self.query_one("#name", Input).value,
            "client": self.query_one("#client", Input).value,
            "standard": str(self.query_one("#standard", Select).value),
            "period_start": self.query_one("#period-start", Input).value.strip() or None,
            "period_end": self.query_one("#period-end", Input).value.strip() or None,
        })


class CompleteForm(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, engagement: str, current: date | None) -> None:
        super().__init__()
        self.engagement = engagement
        self.current_date = current

    def compose(self) -> ComposeResult:
        with Vertical(id="complete-form", classes="modal-box"):
            yield Label(f"Completion date of {self.engagement}", classes="modal-title")
            yield Input(value=(self.current_date or date.today()).isoformat(),
                        placeholder="YYYY-MM-DD", id="completed-on")
            with Horizontal(classes="buttons"):
                yield Button("Set", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.dismiss(self.query_one("#completed-on", Input).value.strip())
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
