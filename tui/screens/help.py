"""Keyboard help (`?`): one row per screen, its keys taken from the screen's BINDINGS (so a new
binding shows here by itself), with the keys its widgets handle (Enter in a list, PageDown on
the last row...) added by hand."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Markdown

from tui.screens.audit import AuditScreen
from tui.screens.coverage import CoverageScreen
from tui.screens.engagement_form import CompleteForm, EngagementForm
from tui.screens.engagements import EngagementsScreen
from tui.screens.error import ErrorModal
from tui.screens.evidence import EvidenceScreen
from tui.screens.export import ExportScreen
from tui.screens.flags import FlagsScreen, ReasonForm
from tui.screens.ingest import IngestScreen
from tui.screens.interview import InterviewScreen
from tui.screens.item import ItemScreen
from tui.screens.member_form import MemberForm, RemoveForm
from tui.screens.member_preview import MemberPreviewScreen
from tui.screens.members import MembersScreen
from tui.screens.retention import CertificatesScreen, HoldForm, RetentionScreen, UpcomingScreen

GOING_BACK = frozenset({"Back", "Cancel", "Close"})
"""What Escape does on every screen: said once, in the first row, not on each screen's."""

KEY_NAMES = {"escape": "Esc", "enter": "Enter", "tab": "Tab", "pagedown": "PgDn",
             "pageup": "PgUp", "ctrl": "Ctrl", "shift": "Shift"}


@dataclass(frozen=True)
class Section:
    where: str
    screens: Sequence[type[Screen[Any]]] = ()
    """Whose BINDINGS make the row (every binding but Escape's going back)."""
    before: Sequence[tuple[str, str]] = ()
    """Keys handled by widgets rather than bindings, first in the row: (keys, what)."""
    after: Sequence[tuple[str, str]] = ()


SECTIONS: tuple[Section, ...] = (
    Section("Everywhere", after=(
        ("Ctrl+P", "command palette"),
        ("Esc", "back, or close a form; in a text box: back to the list"),
        ("Tab", "next field or list"))),
    Section("Engagements", (EngagementsScreen,), before=(("Enter", "open"),)),
    Section("Evidence", (EvidenceScreen,), before=(("Enter", "open the item"),),
            after=(("PgDn PgUp", "on the last / first row: next / previous page"),)),
    Section("Item", (ItemScreen, MemberPreviewScreen),
            after=(("← →", "on the tab bar: switch tabs"),
                   ("Enter", "on a version: open it; on a member: preview it (masked)"))),
    Section("Flags", (FlagsScreen,), before=(("Enter", "open the item"),)),
    Section("Coverage", (CoverageScreen,), before=(("Enter", "list its evidence"),)),
    Section("Audit log", (AuditScreen,)),
    Section("Members", (MembersScreen,)),
    Section("Retention", (RetentionScreen,)),
    Section("Upcoming destructions", (UpcomingScreen,),
            before=(("Enter", "open the engagement's retention"),)),
    Section("Certificates", (CertificatesScreen,)),
    Section("Ingest", (IngestScreen,), before=(("Enter", "in the tree: add the file"),)),
    Section("Interview note", (InterviewScreen,)),
    Section("Export", (ExportScreen,)),
    Section("Forms", (EngagementForm, CompleteForm, MemberForm, RemoveForm, ReasonForm,
                      HoldForm, ErrorModal), before=(("Enter", "next field"),)),
)
"""Every screen with bindings, in the order they are met (tests/tui checks none is missing);
the app's own bindings (quit, help) go in the first row."""


def key_label(key: str) -> str:
    """'ctrl+s' -> 'Ctrl+S', 'escape' -> 'Esc', 'question_mark' -> '?'."""
    parts = key.split("+")
    *mods, last = parts
    name = KEY_NAMES.get(last) or format_key(last)
    if mods and len(name) == 1:
        name = name.upper()
    return "+".join([KEY_NAMES.get(m, m.title()) for m in mods] + [name])


def what(binding: Binding) -> str:
    """The help line of a binding: its tooltip, else its footer description, lower-cased."""
    text = binding.tooltip or binding.description
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def binding_entries(bindings: Iterable[BindingType]) -> Iterator[tuple[str, str]]:
    """(keys, what) for each binding but Escape's going back; bindings of one Binding.Group
    make one entry ('1 2 3 4', 'tabs: preview, ...'), and keys doing the same are joined."""
    entries: dict[str, list[str]] = {}  # what -> keys
    groups: dict[str, tuple[list[str], list[str]]] = {}  # group -> (keys, whats)
    order: list[tuple[str, str]] = []
    for binding in Binding.make_bindings(bindings):
        if binding.key == "escape" and binding.description in GOING_BACK:
            continue
        key = key_label(binding.key)
        if binding.group is not None:
            name = binding.group.description
            if name not in groups:
                groups[name] = ([], [])
                order.append(("group", name))
            groups[name][0].append(key)
            groups[name][1].append(what(binding))
            continue
        text = what(binding)
        if text not in entries:
            entries[text] = []
            order.append(("binding", text))
        if key not in entries[text]:
            entries[text].append(key)
    for kind, name in order:
        if kind == "group":
            keys, whats = groups[name]
            yield " ".join(keys), f"{name.lower()}: " + ", ".join(w.lower() for w in whats)
        else:
            yield " ".join(entries[name]), name


def section_entries(section: Section, app_bindings: Iterable[BindingType] = ()
                    ) -> list[tuple[str, str]]:
    """The (keys, what) of a row: the hand-written ones around those of the bindings."""
    found: list[tuple[str, str]] = list(section.before)
    for screen in section.screens:
        found.extend(e for e in binding_entries(screen.BINDINGS) if e not in found)
    found.extend(binding_entries(app_bindings))
    found.extend(section.after)
    return found


def escape_markdown(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_[]<>|#" else c for c in text)


def help_markdown(app_bindings: Iterable[BindingType]) -> str:
    """The help's table: a row per screen, the app's bindings in the first."""
    rows = ["| Where | Keys |", "|---|---|"]
    for i, section in enumerate(SECTIONS):
        entries = section_entries(section, app_bindings if i == 0 else ())
        keys = " · ".join(
            " ".join(f"`{k}`" for k in keys.split(" ")) + f" {escape_markdown(text)}"
            for keys, text in entries)
        rows.append(f"| **{section.where}** | {keys} |")
    return "\n".join(rows) + (
        "\n\nWhat your roles do not allow is left out of the footer and the palette; the vault "
        "checks every action again anyway.\n")


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("question_mark", "dismiss", "Close"),
                Binding("q", "dismiss", "Close", show=False)]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="modal-box"):
            yield Label("Keys", classes="modal-title")
            yield Markdown(help_markdown(self.app.BINDINGS))
