"""The error modal: a VaultError's message and hint, never a traceback."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ErrorModal(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close"),
                Binding("enter", "dismiss", "Close", tooltip="close an error message")]

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__()
        self.message = message
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box", classes="modal-box"):
            yield Label("Error", classes="modal-title")
            yield Static(Text(self.message), id="error-message")
            if self.hint:
                yield Static(Text(f"hint: {self.hint}"), id="error-hint")
            yield Button("OK", variant="error", id="error-ok")

    def on_mount(self) -> None:
        self.query_one("#error-ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
