"""The Evidence Vault terminal UI: the app, its factory and the `vault tui` entry point.

The app holds no business logic: screens call the service facade (`vault.service.Vault`) in
worker threads and show what comes back. Tests build the app with `make_app(vault)`.
"""

from __future__ import annotations

import gc
import os
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from tui.base import VaultScreen
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
        Binding("q", "quit", "Quit", tooltip="quit (outside text boxes)"),
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
            self.pop_screen()  # back where the agent was missed: run again what failed
            for below in self.screen_stack:
                if isinstance(below, VaultScreen):
                    below.retry_after_unlock()
        elif isinstance(screen, UnlockScreen):
            self.switch_screen(EngagementsScreen())
        else:
            self.push_screen(EngagementsScreen())

    def show_error(self, error: BaseException) -> None:
        """A VaultError's message and hint in a modal; anything else is a bug: a generic line,
        and where it happened goes to a log file under the vault home (:func:`bug_report`).
        The unlock agent gone mid-session: the passphrase is asked, and the app goes on (the
        screens run again what failed for it, :meth:`VaultScreen.retry_after_unlock`)."""
        from vault.crypto.agent import AgentUnavailable

        if isinstance(error, AgentUnavailable):
            if not isinstance(self.screen, UnlockScreen):  # else it is being asked already
                settings = self._settings or Settings.from_env()
                self.push_screen(UnlockScreen(settings, again=error.message))
        elif isinstance(error, VaultError):
            self.push_screen(ErrorModal(error.message, error.hint))
        else:  # a bug: its text may quote content, so only where it happened is kept
            home = (self.vault.tmp_dir.parent if self.vault is not None
                    else (self._settings or Settings.from_env()).home)
            where = bug_report(error, home)
            self.push_screen(ErrorModal(
                "something went wrong inside Evidence Vault (a bug); nothing was changed by "
                "the step that failed",
                f"please report it with {where}" if where else "please report it"))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def bug_report(error: BaseException, home: Path) -> Path | None:
    """Append where `error` happened (its type and the stack's files, lines and functions,
    never its message, which may quote evidence) to ``logs/tui-errors.log`` under the vault
    home (0600); the file's path, or None when it cannot be written."""
    frames = traceback.extract_tb(error.__traceback__)
    lines = [f"{datetime.now(UTC).isoformat()} {type(error).__module__}.{type(error).__name__}"]
    lines += [f"  {Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames]
    path = home / "logs" / "tui-errors.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    except OSError:
        return None
    return path


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
