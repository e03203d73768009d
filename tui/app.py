"""The Evidence Vault terminal UI: the app, its factory and the `vault tui` entry point.

The app holds no business logic: screens call the service facade (`vault.service.Vault`) in
worker threads and show what comes back. Tests build the app with `make_app(vault)`.
"""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from tui.commands import VaultCommands
from tui.screens.engagements import EngagementsScreen
from tui.screens.error import ErrorModal
from tui.screens.help import HelpScreen
from tui.screens.unlock import UnlockScreen
from vault.config import Settings
from vault.errors import VaultError

if TYPE_CHECKING:
    from vault.service import Vault


class VaultApp(App[None]):
    TITLE = "Evidence Vault"
    CSS_PATH = "vault.tcss"
    # Only the vault's commands: Textual's system commands would add theme pickers and a
    # screenshot command that writes the screen (evidence names, previews) to a file.
    COMMANDS = {VaultCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, vault: Vault | None = None, *, settings: Settings | None = None,
                 passphrase: str | None = None, agent_sock: str | None = None) -> None:
        super().__init__()
        self.vault = vault
        self._settings = settings
        self._passphrase = passphrase
        self._agent_sock = agent_sock

    def on_mount(self) -> None:
        # A full garbage collection walks every object: ~150,000 once Textual, SQLAlchemy and
        # the vault are loaded, 60-110 ms during which the screen is frozen, every few
        # keystrokes on the evidence screen. What exists at start-up lives as long as the app:
        # it is kept out of the collector's walks (gc.freeze) until the app ends, which leaves
        # ~50,000 objects and 20-30 ms.
        gc.freeze()
        if self.vault is not None:
            self.unlocked(self.vault)
        else:
            settings = self._settings or Settings.from_env()
            passphrase, self._passphrase = self._passphrase, None
            self.push_screen(UnlockScreen(settings, passphrase, agent_sock=self._agent_sock))

    def on_unmount(self) -> None:
        gc.unfreeze()

    def unlocked(self, vault: Vault) -> None:
        self.vault = vault
        self.sub_title = vault.user.name
        screen = self.screen
        if isinstance(screen, UnlockScreen) and screen.again:
            self.pop_screen()  # back where the agent was missed: try the action again
        elif isinstance(screen, UnlockScreen):
            self.switch_screen(EngagementsScreen())
        else:
            self.push_screen(EngagementsScreen())

    def show_error(self, error: BaseException) -> None:
        """A VaultError's message and hint in a modal; anything else is a bug, shown briefly.
        The unlock agent gone mid-session: the passphrase is asked, and the app goes on."""
        from vault.agent import AgentUnavailable

        if isinstance(error, AgentUnavailable) and not isinstance(self.screen, UnlockScreen):
            settings = self._settings or Settings.from_env()
            self.push_screen(UnlockScreen(settings, again=error.message))
        elif isinstance(error, VaultError):
            self.push_screen(ErrorModal(error.message, error.hint))
        else:
            self.log.error(repr(error))
            self.push_screen(ErrorModal(f"unexpected error: {type(error).__name__}: {error}",
                                        "this is a bug in Evidence Vault; please report it"))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def make_app(vault: Vault | None = None, *, settings: Settings | None = None,
             passphrase: str | None = None, agent_sock: str | None = None) -> VaultApp:
    """The app on an open vault (tests), or one that unlocks the configured identity first
    (through the unlock agent at `agent_sock` when given, else with the passphrase)."""
    return VaultApp(vault, settings=settings, passphrase=passphrase, agent_sock=agent_sock)


def run() -> int:
    """Open the vault from the environment (VAULT_HOME, VAULT_IDENTITY, VAULT_AGENT_SOCK,
    VAULT_PASSPHRASE...)."""
    settings = Settings.from_env()
    passphrase = os.environ.get("VAULT_PASSPHRASE") or None
    agent_sock = os.environ.get("VAULT_AGENT_SOCK") or None
    make_app(settings=settings, passphrase=passphrase, agent_sock=agent_sock).run()
    return 0
