"""One member of a container item (an archive's file) as text, card numbers masked: read by the
vault out of the decrypted container in memory, shown once the whole item authenticated."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static, TextArea

from tui.base import VaultScreen
from tui.messages import Loaded


class MemberPreviewScreen(VaultScreen):
    PALETTE_NAME = "member preview"
    BINDINGS = [Binding("escape", "back", "Back")]
    RETRY_GROUPS = frozenset({"preview"})  # a read: run again after a re-unlock
    AUTO_FOCUS = "#member-preview"

    def __init__(self, item_id: str, seq: int, path: str) -> None:
        super().__init__()
        self.item_id = item_id
        self.seq = seq
        self.path = path

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"Member {self.path} (card numbers masked)"), classes="screen-title",
                     id="member-title")
        yield TextArea("decrypting…", read_only=True, id="member-preview", soft_wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        self.load_preview()

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def load_preview(self) -> None:
        self.post_message(Loaded("preview", self.vault.member_preview(self.item_id, self.seq)))

    def on_loaded(self, message: Loaded) -> None:
        self.query_one("#member-preview", TextArea).text = message.data

    def action_back(self) -> None:
        self.app.pop_screen()
