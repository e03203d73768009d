"""Unlocking the personal identity: the passphrase is asked once, masked, never echoed."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, Static

from vault.config import Settings
from vault.errors import VaultError
from vault.service.bootstrap import open_vault, open_with_agent

if TYPE_CHECKING:
    from tui.app import VaultApp
    from vault.service import Vault


class UnlockScreen(Screen[None]):
    class Opened(Message):
        def __init__(self, vault: Vault) -> None:
            super().__init__()
            self.vault = vault

    class Failed(Message):
        def __init__(self, error: VaultError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, settings: Settings, passphrase: str | None = None, *,
                 agent_sock: str | None = None, again: str | None = None) -> None:
        """`again`: why the passphrase is asked in the middle of a session (the unlock agent
        has gone); the app then goes back to where it was."""
        super().__init__()
        self.settings = settings
        self._env_passphrase = passphrase
        self._agent_sock = agent_sock
        self.again = again

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="unlock-box", classes="modal-box"):
            yield Label("Unlock your identity", classes="modal-title")
            yield Static(Text(f"identity: {self.settings.identity_path}"), id="unlock-identity")
            yield Input(password=True, placeholder="passphrase", id="passphrase")
            yield Static("", id="unlock-status")
        yield Footer()

    def on_mount(self) -> None:
        if self.again:
            self._status(f"{self.again}: enter your passphrase to go on", error=True)
            self.query_one("#passphrase", Input).focus()
        elif self._agent_sock:  # the unlock agent holds the identity (`vault agent`)
            self.query_one("#passphrase", Input).disabled = True
            self._status("asking the vault agent…")
            self.unlock_by_agent(self._agent_sock)
        elif self._env_passphrase:
            passphrase, self._env_passphrase = self._env_passphrase, None
            self._start(passphrase)
        else:
            self.query_one("#passphrase", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        passphrase = event.value
        event.input.value = ""
        if not passphrase:
            self._status("enter your passphrase", error=True)
            return
        self._start(passphrase)

    def _start(self, passphrase: str) -> None:
        self.query_one("#passphrase", Input).disabled = True
        self._status("unlocking…")
        self.unlock(passphrase)

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#unlock-status", Static)
        status.update(Text(text))
        status.set_class(error, "error")

    @work(thread=True, exclusive=True, exit_on_error=False)
    def unlock(self, passphrase: str) -> None:
        try:
            vault = open_vault(self.settings, lambda _new: passphrase)
        except VaultError as exc:
            self.post_message(self.Failed(exc))
            return
        self.post_message(self.Opened(vault))

    @work(thread=True, exclusive=True, exit_on_error=False)
    def unlock_by_agent(self, agent_sock: str) -> None:
        try:
            vault = open_with_agent(self.settings, agent_sock)
        except VaultError as exc:  # e.g. the agent expired: the passphrase still works
            self.post_message(self.Failed(exc))
            return
        self.post_message(self.Opened(vault))

    def on_unlock_screen_failed(self, event: Failed) -> None:
        msg = event.error.message + (f" (hint: {event.error.hint})" if event.error.hint else "")
        self._status(msg, error=True)
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.focus()

    def on_unlock_screen_opened(self, event: Opened) -> None:
        cast("VaultApp", self.app).unlocked(event.vault)
