"""Keyboard help (`?`)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown

HELP = """\
| Key | Where | What |
|---|---|---|
| Enter | lists | open the highlighted engagement, item or requirement |
| Escape | everywhere | go back (in a filter box: back to the table) |
| q | everywhere but text boxes | quit |
| ? | everywhere | this help |
| Ctrl+P | everywhere | command palette |
| / | evidence, audit | focus the search box |
| n / p, PageDown at the end / PageUp at the top | evidence | next / previous page |
| n | engagements | new engagement |
| d | engagements | set the completion date (leads) |
| i | evidence | ingest files (leads, assessors) |
| t | evidence | write an interview note (leads, assessors) |
| c | evidence | requirement coverage |
| m | evidence | members |
| a | evidence | audit log (leads, QA, administrators) |
| a / x | members | add / remove a member (leads) |
| a | ingest | add the highlighted file or folder of the tree |
| Ctrl+S | ingest, interview note, forms | start / save |
| r | lists | reload |

Actions you may not take are not offered; the vault checks every action again anyway.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("question_mark", "dismiss", "Close"),
                Binding("q", "dismiss", "Close", show=False)]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="modal-box"):
            yield Label("Keys", classes="modal-title")
            yield Markdown(HELP)
