"""Ingesting files and folders: pick paths, kind, requirements, disclosure; a progress bar with
throughput fed from the worker thread; per-file results with duplicates noted."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import (
    Button,
    DataTable,
    DirectoryTree,
    Footer,
    Header,
    Input,
    ProgressBar,
    Select,
    Static,
)

from tui.base import VaultScreen, cell, human_size
from tui.messages import Done
from tui.widgets.requirements import RequirementSuggester, split_requirements
from vault.errors import InvalidInput, VaultError
from vault.evidence.preview import mask_cards_fallback
from vault.evidence.sources import Source, collect
from vault.service import DISCLOSURES, KINDS, IngestOptions, IngestResult


class IngestScreen(VaultScreen):
    PALETTE_NAME = "ingest"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("ctrl+s", "start", "Ingest"),
                Binding("a", "add_highlighted", "Add highlighted path",
                        tooltip="add the highlighted file or folder"),
                Binding("slash", "focus_paths", "Type paths",
                        tooltip="type the paths instead (Enter ingests them)")]
    AUTO_FOCUS = "#tree"
    """The file picker is the list the screen opens on (keys are commands there: `q` quits);
    `/` goes to the paths box, and once files are ingested the results take the focus."""

    class Started(Message):
        def __init__(self, total: int, files: int) -> None:
            super().__init__()
            self.total, self.files = total, files

    class FileResult(Message):
        def __init__(self, name: str, result: IngestResult | VaultError) -> None:
            super().__init__()
            self.name, self.result = name, result

    def __init__(self, engagement: str, standard: str, root: Path | None = None) -> None:
        super().__init__()
        self.engagement = engagement
        self.standard = standard
        self.start_dir = root or Path.cwd()
        self.started_at = 0.0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"Ingest into {self.engagement}"), classes="screen-title")
        yield Input(placeholder="paths (space-separated; quote names with spaces) — or pick "
                                "below: Enter on a file, 'a' on a folder", id="paths")
        yield DirectoryTree(self.start_dir, id="tree")
        with Horizontal(id="ingest-options"):
            yield Select([(k, k) for k in KINDS], prompt="kind: from content", id="kind")
            yield Input(placeholder="requirements, e.g. 1.2.1, 10.2.1", id="requirements",
                        suggester=RequirementSuggester(self.standard))
            yield Select([(d, d) for d in DISCLOSURES], value="team", allow_blank=False,
                         id="disclosure")
            yield Button("Ingest", variant="primary", id="start")
        yield ProgressBar(id="progress", show_eta=True)
        yield Static("", id="throughput")
        yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#results", DataTable).add_columns("Name", "Result", "Id", "Size")
        self.query_one("#tree", DirectoryTree).focus()

    def _add_path(self, path: Path) -> None:
        field = self.query_one("#paths", Input)
        field.value = (field.value.rstrip() + " " + shlex.quote(str(path))).lstrip()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self._add_path(event.path)

    def action_focus_paths(self) -> None:
        self.query_one("#paths", Input).focus()

    def _main_list(self) -> Widget:
        """The results once there are some, else the file picker."""
        results = self.query_one("#results", DataTable)
        return results if results.row_count else self.query_one("#tree", DirectoryTree)

    def action_add_highlighted(self) -> None:
        node = self.query_one(DirectoryTree).cursor_node
        if node is not None and node.data is not None:
            self._add_path(node.data.path)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_start()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "paths":
            self.action_start()
        else:
            self.focus_next()

    def action_start(self) -> None:
        kind = self.query_one("#kind", Select).value
        opts = IngestOptions(
            kind=kind if isinstance(kind, str) else None,
            requirements=split_requirements(self.query_one("#requirements", Input).value),
            disclosure=str(self.query_one("#disclosure", Select).value))
        self.query_one("#start", Button).disabled = True
        self.run_ingest(self.query_one("#paths", Input).value, opts)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ingest")
    def run_ingest(self, raw_paths: str, opts: IngestOptions) -> None:
        try:
            try:
                paths = shlex.split(raw_paths)
            except ValueError:
                raise InvalidInput("the paths are not quoted properly") from None
            if not paths:
                raise InvalidInput("name at least one file or folder to ingest")
            sources = collect(paths)
            self.ingest_sources(sources, opts)
        finally:
            self.app.call_from_thread(self._enable)

    def ingest_sources(self, sources: list[Source], opts: IngestOptions) -> None:
        """Runs in the worker thread."""
        total = sum(s.size or 0 for s in sources)
        self.post_message(self.Started(total, len(sources)))
        done = 0
        last = 0.0

        def progress(n: int) -> None:
            nonlocal done, last
            done += n
            now = time.monotonic()
            if now - last >= 0.1:
                last = now
                self.app.call_from_thread(self._show_progress, done)

        def on_result(src: Source, result: IngestResult | VaultError) -> None:
            # the name as stored (card data masked), or the typed name, masked the same way
            name = (result.view.item.original_name if isinstance(result, IngestResult)
                    else mask_cards_fallback(src.name))
            self.post_message(self.FileResult(name, result))

        results = self.vault.ingest(self.engagement, sources, opts, progress=progress,
                                    on_result=on_result)
        self.app.call_from_thread(self._show_progress, done)
        stored = sum(1 for r in results if isinstance(r, IngestResult) and not r.duplicate)
        dupes = sum(1 for r in results if isinstance(r, IngestResult) and r.duplicate)
        self.post_message(Done("ingest", (stored, dupes, len(results) - stored - dupes)))

    def _enable(self) -> None:
        self.query_one("#start", Button).disabled = False

    def on_ingest_screen_started(self, event: Started) -> None:
        self.started_at = time.monotonic()
        self.query_one("#progress", ProgressBar).update(total=max(event.total, 1), progress=0)
        self.query_one("#results", DataTable).clear()
        self.query_one("#throughput", Static).update(
            f"{event.files:,} file{'' if event.files == 1 else 's'}, "
            f"{human_size(event.total)}")

    def _show_progress(self, done: int) -> None:
        self.query_one("#progress", ProgressBar).update(progress=done)
        elapsed = max(time.monotonic() - self.started_at, 1e-6)
        self.query_one("#throughput", Static).update(
            f"{human_size(done)} in {elapsed:.1f} s · {human_size(int(done / elapsed))}/s")

    def on_ingest_screen_file_result(self, event: FileResult) -> None:
        table = self.query_one("#results", DataTable)
        r = event.result
        if isinstance(r, IngestResult):
            i = r.view.item
            if r.duplicate:
                status = Text("duplicate of an existing item", style="yellow")
            elif r.flags:
                found = ", ".join(f"{k} x{n}" for k, n in sorted(r.flags.items()))
                status = Text(("QUARANTINED: " if r.quarantined else "stored, flagged: ")
                              + found, style="bold red" if r.quarantined else "yellow")
            else:
                status = Text("stored", style="green")
            table.add_row(cell(event.name), status, cell(i.id[:8]), cell(human_size(i.size)))
        else:
            msg = r.message + (f" ({r.hint})" if r.hint else "")
            table.add_row(cell(event.name), Text(msg, style="bold red"), cell(""), cell(""))

    def on_done(self, message: Done) -> None:
        stored, dupes, errors = message.data
        bar = self.query_one("#progress", ProgressBar)
        if bar.total is not None:
            bar.update(progress=bar.total)
        self.notify(f"{stored} stored, {dupes} duplicates, {errors} errors",
                    severity="warning" if errors else "information")
        self._main_list().focus()  # Escape now goes back, `q` quits

    def action_back(self) -> None:
        if isinstance(self.focused, Input | Select):
            self._main_list().focus()
        else:
            self.app.pop_screen()
