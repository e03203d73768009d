"""Modal forms for membership: add a member with a role, confirm a removal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from vault.people.access import ENGAGEMENT_ROLES


class MemberForm(ModalScreen[tuple[str, str] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                Binding("ctrl+s", "save", "Add", tooltip="save the form")]

    def compose(self) -> ComposeResult:
        with Vertical(id="member-form", classes="modal-box"):
            yield Label("Add a member", classes="modal-title")
            yield Input(placeholder="user name (as registered)", id="user")
            yield Select([(r, r) for r in ENGAGEMENT_ROLES], value="assessor",
                         allow_blank=False, id="role")
            with Horizontal(classes="buttons"):
                yield Button("Add", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#user", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "save" else self.action_cancel()

    def action_save(self) -> None:
        self.dismiss((self.query_one("#user", Input).value.strip(),
                      str(self.query_one("#role", Select).value)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class RemoveForm(ModalScreen[bool | None]):
    """Confirm removing `user`; the result says whether to rotate the engagement key."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, user: str, engagement: str) -> None:
        super().__init__()
        self.user, self.engagement = user, engagement

    def compose(self) -> ComposeResult:
        with Vertical(id="remove-form", classes="modal-box"):
            yield Label(f"Remove {self.user} from {self.engagement}?", classes="modal-title")
            yield Checkbox("rotate the engagement key (new items unreadable to them)",
                           value=True, id="rotate")
            with Horizontal(classes="buttons"):
                yield Button("Remove", variant="error", id="remove")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "remove":
            self.dismiss(self.query_one("#rotate", Checkbox).value)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
