"""What every vault screen shares: the facade, error reporting from workers, safe table cells."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.screen import Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from tui.app import VaultApp
    from tui.commands import PaletteCommand
    from vault.service import Vault


def cell(value: Any) -> Text:
    """A table cell that never interprets markup (names come from users' files)."""
    return Text("" if value is None else str(value).replace("\n", " "))


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


class VaultScreen(Screen[Any]):
    """A screen whose workers call the service; their VaultErrors open the error modal."""

    PALETTE_NAME = "this screen"
    """How the command palette names this screen in a command's help line."""

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """The command palette's entries for this screen: its key bindings that
        `check_action` allows. Override to add more (and yield from super())."""
        from tui.commands import binding_commands
        return binding_commands(self, self.PALETTE_NAME)

    @property
    def vault_app(self) -> VaultApp:
        return cast("VaultApp", self.app)

    @property
    def vault(self) -> Vault:
        vault = self.vault_app.vault
        assert vault is not None
        return vault

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.vault_app.show_error(event.worker.error)
