"""What every vault screen shares: the facade, error reporting from workers (and running again
what failed because the unlock agent had gone), safe table cells."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from rich.text import Text
from textual.screen import Screen
from textual.worker import Worker, WorkerState, WorkType

if TYPE_CHECKING:
    from tui.app import VaultApp
    from tui.commands import PaletteCommand
    from vault.service import Vault


ResultType = TypeVar("ResultType")


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
    """A screen whose workers call the service; their VaultErrors open the error modal.

    A worker of a RETRY_GROUPS group that failed because the unlock agent had gone is run
    again once the passphrase has been typed (:meth:`retry_after_unlock`, called by the app):
    the screen goes on where the user was."""

    PALETTE_NAME = "this screen"
    """How the command palette names this screen in a command's help line."""

    RETRY_GROUPS: ClassVar[frozenset[str]] = frozenset({"load"})
    """Groups of the workers that only read (so may run again unasked); a write is never
    repeated behind the user's back."""

    _repeatable: dict[Worker[Any], Callable[[], object]] | None = None
    _failed: dict[tuple[str, str | None], Callable[[], object]] | None = None

    def run_worker(self, work: WorkType[ResultType], name: str | None = "",
                   group: str = "default", description: str = "", exit_on_error: bool = True,
                   start: bool = True, exclusive: bool = False,
                   thread: bool = False) -> Worker[ResultType]:
        worker = super().run_worker(work, name, group, description, exit_on_error, start,
                                    exclusive, thread)
        if group in self.RETRY_GROUPS and callable(work):  # (an awaitable runs once only)
            if self._repeatable is None:
                self._repeatable = {}
            self._repeatable[worker] = lambda: self.run_worker(
                work, name, group, description, exit_on_error, True, exclusive, thread)
        return worker

    def retry_after_unlock(self) -> None:
        """Run again the workers that failed because the unlock agent had gone (the newest of
        each group and name)."""
        failed, self._failed = self._failed, None
        for again in (failed or {}).values():
            again()

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
        from vault.crypto.agent import AgentUnavailable

        worker = event.worker
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            again = self._repeatable.pop(worker, None) if self._repeatable else None
            if again is not None and isinstance(worker.error, AgentUnavailable):
                if self._failed is None:
                    self._failed = {}
                self._failed[(worker.group, worker.name)] = again
        if event.state == WorkerState.ERROR and worker.error is not None:
            self.vault_app.show_error(worker.error)
