"""The command palette (Ctrl+P): the vault actions of the current screen that the user may
take, then help and quit.

A screen offers its key bindings (each checked with the screen's `check_action`, so actions the
user's roles forbid are not offered, as in the footer) and may add its own commands through
`VaultScreen.palette_commands`; a new screen or binding appears here without changes to this
module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.actions import parse as parse_action
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    help: str
    run: Callable[[], Any]


def binding_commands(node: Screen[Any] | App[Any], where: str) -> Iterator[PaletteCommand]:
    """`node`'s described bindings whose action `node.check_action` allows (True: not
    hidden, not disabled)."""
    seen: set[str] = set()
    for binding in Binding.make_bindings(node.BINDINGS):
        if not binding.description or binding.description in seen:
            continue
        _, name, params = parse_action(binding.action)
        if node.check_action(name, params) is not True:
            continue
        seen.add(binding.description)
        key = node.app.get_key_display(binding)
        yield PaletteCommand(binding.description, f"{where} · key {key}",
                             partial(node.run_action, binding.action))


class VaultCommands(Provider):
    """What the palette lists: the screen's commands, then the app's (help, quit)."""

    def commands(self) -> list[PaletteCommand]:
        from tui.base import VaultScreen

        screen = self.screen
        found: list[PaletteCommand] = []
        if isinstance(screen, VaultScreen):
            found.extend(screen.palette_commands())
        app_commands: Iterable[PaletteCommand] = binding_commands(self.app, "anywhere")
        titles = {c.title for c in found}
        found.extend(c for c in app_commands if c.title not in titles)
        return found

    async def discover(self) -> Hits:
        for c in self.commands():
            yield DiscoveryHit(c.title, c.run, help=c.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for c in self.commands():
            score = matcher.match(c.title)
            if score > 0:
                yield Hit(score, matcher.highlight(c.title), c.run, help=c.help)
