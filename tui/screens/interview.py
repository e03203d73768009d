"""An interview note: role, date, requirements and the note itself, stored as evidence."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Header, Input, Static, TextArea

from tui.base import VaultScreen
from tui.dates import parse_date
from tui.messages import Done
from tui.widgets.requirements import RequirementSuggester, split_requirements
from vault.errors import InvalidInput


class InterviewScreen(VaultScreen):
    PALETTE_NAME = "interview note"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("ctrl+s", "save", "Save note")]

    def __init__(self, engagement: str, standard: str) -> None:
        super().__init__()
        self.engagement = engagement
        self.standard = standard

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"Interview note for {self.engagement}"), classes="screen-title")
        with Horizontal(id="interview-fields"):
            yield Input(placeholder="interviewee role, e.g. network administrator", id="role")
            yield Input(value=date.today().isoformat(), placeholder="YYYY-MM-DD", id="date")
            yield Input(placeholder="requirements, e.g. 1.2.1, 1.2.7", id="requirements",
                        suggester=RequirementSuggester(self.standard))
        yield TextArea("", id="note", show_line_numbers=False, soft_wrap=True)
        with Horizontal(classes="buttons"):
            yield Button("Save (Ctrl+S)", variant="primary", id="save")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#role", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_save()

    def action_save(self) -> None:
        self.query_one("#save", Button).disabled = True
        self.save(self.query_one("#role", Input).value, self.query_one("#date", Input).value,
                  self.query_one("#requirements", Input).value,
                  self.query_one("#note", TextArea).text)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def save(self, role: str, on: str, requirements: str, text: str) -> None:
        try:
            day = parse_date(on, "interview date")
            if day is None:
                raise InvalidInput("give the interview date")
            result = self.vault.add_interview_note(self.engagement, role, day,
                                                   split_requirements(requirements), text)
        finally:
            self.app.call_from_thread(self._enable)
        self.post_message(Done("note", result))

    def _enable(self) -> None:
        self.query_one("#save", Button).disabled = False

    def on_done(self, message: Done) -> None:
        item = message.data.view.item
        dup = " (identical to an existing note)" if message.data.duplicate else ""
        self.notify(f"interview note stored as {item.id[:8]}{dup}")
        self.app.pop_screen()

    def action_back(self) -> None:
        self.app.pop_screen()
