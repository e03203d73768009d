"""An engagement's members: list, add with a role, remove."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from tui.base import VaultScreen, cell
from tui.messages import Done, Loaded
from tui.screens.member_form import MemberForm, RemoveForm
from vault.people import access


class MembersScreen(VaultScreen):
    PALETTE_NAME = "members"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("a", "add", "Add member"),
                Binding("x", "remove", "Remove member"), Binding("r", "refresh", "Reload")]
    AUTO_FOCUS = "#members"

    def __init__(self, engagement: str, roles: frozenset[str]) -> None:
        super().__init__()
        self.engagement = engagement
        self.roles = roles

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"Members of {self.engagement}"), classes="screen-title")
        yield DataTable(id="members", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("User", "Role", "Added", "Recipient")
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add", "remove"):
            return access.allowed(f"member.{action}", self.roles)
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self) -> None:
        self.post_message(Loaded("members", self.vault.members(self.engagement)))

    def on_loaded(self, message: Loaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for m in message.data:
            table.add_row(cell(m["user"]), cell(m["role"]), cell(m["added_at"][:16]),
                          cell(m["recipient"]), key=m["user"])
        table.focus()

    def action_refresh(self) -> None:
        self.load()

    def action_add(self) -> None:
        def chosen(value: tuple[str, str] | None) -> None:
            if value is not None:
                self.add(*value)
        self.app.push_screen(MemberForm(), chosen)

    def action_remove(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return
        user = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

        def confirmed(rotate: bool | None) -> None:
            if rotate is not None:
                self.remove_member(user, rotate)
        self.app.push_screen(RemoveForm(user, self.engagement), confirmed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def add(self, user: str, role: str) -> None:
        self.vault.add_member(self.engagement, user, role)
        self.post_message(Done(f"{user} is now {role}"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def remove_member(self, user: str, rotate: bool) -> None:
        self.vault.remove_member(self.engagement, user, rotate=rotate)
        self.post_message(Done(f"{user} removed" + (", key rotated" if rotate else "")))

    def on_done(self, message: Done) -> None:
        self.notify(message.what)
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()
