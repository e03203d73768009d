"""Exporting an engagement's evidence to a recipient: recipient, request reference, scope
(requirements completed from the catalogue, ROC references from the engagement's items), the
dry run's table of what would go and what would be withheld (and why) before anything is
written, then the export with a progress bar; below, the engagement's past exports."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.suggester import SuggestFromList
from textual.widgets import Button, DataTable, Footer, Header, Input, ProgressBar, Select, Static

from tui.base import VaultScreen, cell, human_size
from tui.messages import Done, Loaded
from tui.widgets.requirements import RequirementSuggester, split_requirements
from vault.errors import InvalidInput


class ExportScreen(VaultScreen):
    PALETTE_NAME = "export"
    BINDINGS = [Binding("escape", "back", "Back"),
                Binding("ctrl+d", "dry_run", "Dry run", tooltip="what would go, what not"),
                Binding("ctrl+s", "export", "Export", tooltip="write the bundle")]
    AUTO_FOCUS = "#request-ref"

    def __init__(self, engagement: str, standard: str) -> None:
        super().__init__()
        self.engagement, self.standard = engagement, standard
        self.planned = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Export evidence of {self.engagement}", classes="screen-title")
        with Horizontal(classes="form-row"):
            yield Select[str]([], prompt="recipient", id="recipient")
            yield Input(placeholder="request reference (e.g. QA-2026-014)", id="request-ref")
            yield Input(placeholder="output file (bundle.age)", id="output")
        with Horizontal(classes="form-row"):
            yield Input(placeholder="ROC references (DOC-1, DOC-2)", id="roc-refs")
            yield Input(placeholder="requirements (1.2.1, 8.3)", id="requirements",
                        suggester=RequirementSuggester(self.standard))
            yield Button("Dry run", id="dry-run")
            yield Button("Export", variant="primary", id="export")
        yield Static("", id="export-summary")
        yield ProgressBar(id="export-progress", show_eta=True)
        yield DataTable(id="plan", cursor_type="row", zebra_stripes=True)
        yield Static("Past exports", classes="screen-title")
        yield DataTable(id="past", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plan", DataTable).add_columns("Item", "Goes?", "File or reason",
                                                        "Size")
        self.query_one("#past", DataTable).add_columns("Date", "Recipient", "Request",
                                                        "Files", "Withheld", "Bundle SHA-256")
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self) -> None:
        v = self.vault
        self.post_message(Loaded("export-choices", (
            [r.name for r in v.list_recipients()], v.engagement_roc_refs(self.engagement),
            v.exports(self.engagement))))

    def on_loaded(self, message: Loaded) -> None:
        if message.what == "plan":
            self.show_plan(message.data)
            return
        names, refs, past = message.data
        self.query_one("#recipient", Select).set_options([(n, n) for n in names])
        if names:
            self.query_one("#recipient", Select).value = names[0]
        self.query_one("#roc-refs", Input).suggester = _LastOf(refs)
        table = self.query_one("#past", DataTable)
        table.clear()
        for e in past:
            table.add_row(cell(f"{e.created_at:%Y-%m-%d %H:%M}"), cell(e.recipient),
                          cell(e.request_ref), cell(e.items), cell(e.withheld),
                          cell(e.bundle_sha256[:16]), key=e.id)

    def _args(self, dry_run: bool) -> dict[str, object]:
        from vault.service.exports import Scope
        recipient = self.query_one("#recipient", Select).value
        if not isinstance(recipient, str):
            raise InvalidInput("choose a recipient",
                               hint="an administrator registers them: vault recipient add")
        output = self.query_one("#output", Input).value.strip()
        if not dry_run and not output:
            raise InvalidInput("name the output file")
        return {"to": recipient, "request_ref": self.query_one("#request-ref", Input).value,
                "output": Path(output).expanduser() if output else None,
                "scope": Scope(
                    roc_refs=split_requirements(self.query_one("#roc-refs", Input).value),
                    requirements=split_requirements(
                        self.query_one("#requirements", Input).value)),
                "dry_run": dry_run}

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_export() if event.button.id == "export" else self.action_dry_run()

    def action_dry_run(self) -> None:
        try:
            self.run_plan(self._args(True))
        except InvalidInput as exc:
            self.vault_app.show_error(exc)

    def action_export(self) -> None:
        if not self.planned:  # the table of what goes comes first, before anything is written
            self.action_dry_run()
            return
        try:
            args = self._args(False)
        except InvalidInput as exc:
            self.vault_app.show_error(exc)
            return
        self.run_export(args)

    @work(thread=True, exclusive=True, exit_on_error=False, group="plan")
    def run_plan(self, args: dict[str, object]) -> None:
        self.post_message(Loaded("plan", self.vault.export(self.engagement, **args)))  # type: ignore[arg-type]

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def run_export(self, args: dict[str, object]) -> None:
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            self.app.call_from_thread(self.query_one("#export-progress", ProgressBar).update,
                                      progress=done[0])
        self.post_message(Done("export", self.vault.export(
            self.engagement, progress=progress, **args)))  # type: ignore[arg-type]

    def on_input_changed(self, event: Input.Changed) -> None:
        self.planned = False  # a changed request is planned again before it is written

    def on_select_changed(self, event: Select.Changed) -> None:
        self.planned = False

    def show_plan(self, r: object) -> None:
        from vault.service.exports import ExportResult
        assert isinstance(r, ExportResult)
        table = self.query_one("#plan", DataTable)
        table.clear()
        for i in r.included:
            table.add_row(cell(i.item_id[:12]), Text("goes", style="green"), cell(i.path),
                          cell(human_size(i.size)), key="in-" + i.item_id)
        for w in r.withheld:
            table.add_row(cell(w.item_id[:12]), Text("withheld", style="bold red"),
                          cell(f"{w.name}: {w.reason}"), cell(""), key="out-" + w.item_id)
        total = sum(i.size for i in r.included)
        self.query_one("#export-progress", ProgressBar).update(total=max(total, 1), progress=0)
        self.query_one("#export-summary", Static).update(Text(
            f"{len(r.included)} file(s), {human_size(total)}, would go to {r.recipient}; "
            f"{len(r.withheld)} withheld. Ctrl+S writes the bundle."))
        self.planned = True

    def on_done(self, message: Done) -> None:
        r = message.data
        self.query_one("#export-summary", Static).update(Text(
            f"wrote {r.output} ({human_size(r.bundle_size)}), bag {r.bag_name}, "
            f"sha256 {r.bundle_sha256}"))
        self.planned = False
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)


class _LastOf(SuggestFromList):
    """Completes the last comma-separated ROC reference from the engagement's."""

    def __init__(self, refs: list[str]) -> None:
        super().__init__(refs, case_sensitive=False)
        self.refs = refs

    async def get_suggestion(self, value: str) -> str | None:
        head, comma, token = value.rpartition(",")
        token = token.lstrip()
        if not token:
            return None
        for r in self.refs:
            if r.lower().startswith(token.lower()) and r != token:
                return value + r[len(token):]
        return None
