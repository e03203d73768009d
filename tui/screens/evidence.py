"""One engagement's evidence: a table paged from the database, filters and the total count.

Only one page (PAGE rows) is ever in the table, so the screen stays fast at 100,000 items.
Every change of a filter asks for a page at once (no debounce); while one is being fetched,
further changes are coalesced into a single next fetch, so fast typing never queues stale work.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, Select, Static
from textual.worker import Worker, WorkerState

from tui.base import VaultScreen, human_size
from tui.messages import Loaded
from tui.widgets.paged_table import Cell, PagedTable
from tui.widgets.requirements import RequirementSuggester
from vault.errors import InvalidInput
from vault.people import access
from vault.service import DISCLOSURES, KINDS, ItemFilter
from vault.service.browse import SEARCH_CAP

PAGE = 100

ACTION_PERMISSION = {
    "ingest": "item.ingest",
    "note": "item.ingest",
    "members": "member.list",
    "audit": "audit.read",
    "flags": "flag.list",
    "retention": "retention.view",
    "export": "export.create",
}
STATES = ("active", "quarantined", "superseded", "shredded")


@dataclass(frozen=True)
class Page:
    offset: int
    total: int
    exact: bool  # False: more than total - 1 match (a search counts up to SEARCH_CAP)
    rows: list[tuple[str, tuple[Cell, ...]]]


def count_line(page: Page) -> str:
    """"1,234 items · showing 1–200 · page 1 of 7", or "10,000+ items" when capped."""
    shown = len(page.rows)
    first = page.offset + 1 if shown else 0
    if page.exact:
        total, pages = f"{page.total:,}", str(max(1, -(-page.total // PAGE)))
    else:
        total, pages = f"{page.total - 1:,}+", f"{-(-(page.total - 1) // PAGE)}+"
    noun = "item" if page.exact and page.total == 1 else "items"
    return (f"{total} {noun} · showing {first:,}–{page.offset + shown:,}"
            f" · page {page.offset // PAGE + 1} of {pages}")


class EvidenceScreen(VaultScreen):
    PALETTE_NAME = "evidence"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "focus_search", "Search"),
        Binding("n", "page(1)", "Next page"),
        Binding("p", "page(-1)", "Prev page"),
        Binding("i", "ingest", "Ingest"),
        Binding("t", "note", "Interview note"),
        Binding("f", "flags", "Flags"),
        Binding("c", "coverage", "Coverage"),
        Binding("m", "members", "Members"),
        Binding("a", "audit", "Audit log"),
        Binding("d", "retention", "Retention",
                tooltip="destruction dates, days left and legal holds"),
        Binding("x", "export", "Export", tooltip="a bundle for the Council or the client"),
        Binding("r", "refresh", "Reload"),
    ]

    COLUMNS = (("Id", 8), ("Name", 36), ("State", 11), ("Kind", 14), ("Requirements", 14),
               ("Disclosure", 10), ("Size", 9), ("Ingested", 16), ("By", 12))
    """Fixed widths (label, cells), in the order of the row cells `fetch` builds: the table
    never measures a page to size itself, and never lags behind rows added from a worker
    (DataTable's auto-width was seen to, truncating every column). The state comes right after
    the name, so that `quarantined` is seen on an 80-column terminal too."""

    AUTO_FOCUS = "#items"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    """Below 110 columns the filters take two lines (vault.tcss), each wide enough to use."""

    def __init__(self, engagement: str, standard: str, roles: frozenset[str]) -> None:
        super().__init__()
        self.engagement = engagement
        self.standard = standard
        self.roles = roles
        self.page_offset = 0
        self.page_total = 0
        self.page_exact = True
        self.generation = 0
        self._cursor_at_end = False
        self._keep: tuple[str, int] | None = None  # the row to put the cursor back on
        self._shown: ItemFilter | None = None  # the filter of the page shown
        self._fetching = False
        self._queued: tuple[ItemFilter, int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"{self.engagement} · {self.standard}"), classes="screen-title")
        with Horizontal(id="filters"):
            yield Input(placeholder="/ search name, description, system", id="search")
            yield Select([(k, k) for k in KINDS], prompt="any kind", id="kind")
            yield Input(placeholder="requirement", id="requirement",
                        suggester=RequirementSuggester(self.standard))
            yield Select([(d, d) for d in DISCLOSURES], prompt="any disclosure",
                         id="disclosure")
            yield Select([(st, st) for st in STATES], prompt="any state", id="state")
        yield Static("loading…", id="count")
        yield PagedTable(id="items", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(PagedTable)
        for label, width in self.COLUMNS:
            table.add_column(label, width=width)
        table.focus()

    def on_screen_resume(self) -> None:
        """Back from an item (or anything else): the same page, the cursor on the same row; the
        first page when the filters changed meanwhile (a requirement picked in the coverage)."""
        if self._shown is not None and self._shown == self._filter_key():
            self.load_page(self.page_offset, keep=True)
        else:
            self.load_page(0)

    # -- loading -------------------------------------------------------------------------------

    def current_filter(self) -> ItemFilter:
        kind = self.query_one("#kind", Select).value
        disclosure = self.query_one("#disclosure", Select).value
        state = self.query_one("#state", Select).value
        return ItemFilter(
            state=state if isinstance(state, str) else None,
            kind=kind if isinstance(kind, str) else None,
            disclosure=disclosure if isinstance(disclosure, str) else None,
            requirement=self.query_one("#requirement", Input).value.strip() or None,
            text=self.query_one("#search", Input).value.strip() or None)

    def _filter_key(self) -> ItemFilter:
        flt = self.current_filter()
        flt.offset = 0
        return flt

    def reload(self) -> None:
        self.load_page(0)

    def load_page(self, offset: int, at_end: bool = False, keep: bool = False) -> None:
        """Fetch the page at `offset`; the cursor then goes to its first row (its last with
        `at_end`), or with `keep` back to the row it is on now (the same item, else the same
        place when that item has left the page)."""
        self.generation += 1
        self._cursor_at_end = at_end
        self._keep = self._cursor_key() if keep else None
        request = (self.current_filter(), max(0, offset), self.generation)
        if self._fetching:
            self._queued = request  # the newest wins; started when the running fetch ends
        else:
            self._fetching = True
            self.fetch(*request)

    @work(thread=True, exit_on_error=False, group="page")
    def fetch(self, flt: ItemFilter, offset: int, generation: int) -> None:
        flt.offset = offset
        page = self.vault.item_page(self.engagement, flt, size=PAGE,
                                    cap=SEARCH_CAP if flt.text else None)
        rows: list[tuple[str, tuple[Cell, ...]]] = []
        for v in page.items:
            i = v.item
            rows.append((i.id, (
                Cell(i.id[:8]), Cell(i.original_name), Cell(i.state), Cell(i.kind),
                Cell(", ".join(v.requirements)), Cell(i.disclosure),
                Cell(human_size(i.size), right=True),
                Cell(i.ingested_at.strftime("%Y-%m-%d %H:%M")), Cell(v.ingested_by))))
        self.post_message(Loaded("page", Page(page.offset, page.total, page.exact, rows),
                                 generation))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # (VaultScreen's handler shows a failed fetch's error; this one runs first.)
        if event.worker.group != "page" or event.state not in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        self._fetching = False
        if self._queued is not None:
            request, self._queued = self._queued, None
            self._fetching = True
            self.fetch(*request)
        elif isinstance(event.worker.error, InvalidInput):
            # A filter refused while it is being typed ('3.' on the way to '3.3.1'): said on
            # the count line, no modal taking the keys that follow.
            event.prevent_default()
            self._shown = None
            self.query_one(PagedTable).clear()
            self.query_one("#count", Static).update(Text(event.worker.error.message),
                                                    layout=False)

    def on_loaded(self, message: Loaded) -> None:
        if message.what != "page" or message.generation != self.generation:
            return  # a stale page: the filters changed since
        page: Page = message.data
        self.page_offset, self.page_total, self.page_exact = page.offset, page.total, page.exact
        self._shown = self._filter_key()
        table = self.query_one(PagedTable)
        table.clear()
        for key, row in page.rows:
            table.add_row(*row, key=key)
        if page.rows:
            keys = [key for key, _ in page.rows]
            if self._keep is not None:
                key, row_index = self._keep
                at = keys.index(key) if key in keys else min(row_index, len(keys) - 1)
            else:
                at = len(keys) - 1 if self._cursor_at_end else 0
            table.move_cursor(row=at)
        # The line keeps its size: no layout pass of the whole screen (~5 ms) for new words.
        self.query_one("#count", Static).update(Text(count_line(page)), layout=False)

    # -- filters -------------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(PagedTable).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.reload()

    # -- navigation ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        permission = ACTION_PERMISSION.get(action)
        if permission is not None:
            return access.allowed(permission, self.roles)
        return True

    def action_back(self) -> None:
        if isinstance(self.focused, Input | Select):
            self.query_one(PagedTable).focus()
        else:
            self.app.pop_screen()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_page(self, delta: int) -> None:
        offset = self.page_offset + delta * PAGE
        if self.page_exact:
            more = offset < self.page_total
        else:  # a capped count: there is a next page while this one is full
            more = delta < 0 or self.query_one(PagedTable).row_count == PAGE
        if offset >= 0 and more:
            self.load_page(offset, at_end=delta < 0)

    def on_paged_table_page_request(self, event: PagedTable.PageRequest) -> None:
        self.action_page(event.delta)

    def action_refresh(self) -> None:
        self.load_page(self.page_offset, keep=True)

    def _cursor_key(self) -> tuple[str, int] | None:
        """The highlighted row's item id and place in the page."""
        table = self.query_one(PagedTable)
        if table.row_count == 0:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(row_key.value), table.cursor_row

    def on_data_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        from tui.screens.item import ItemScreen
        self.app.push_screen(ItemScreen(str(event.row_key.value), self.roles))

    def action_ingest(self) -> None:
        from tui.screens.ingest import IngestScreen
        self.app.push_screen(IngestScreen(self.engagement, self.standard))

    def action_note(self) -> None:
        from tui.screens.interview import InterviewScreen
        self.app.push_screen(InterviewScreen(self.engagement, self.standard))

    def action_coverage(self) -> None:
        from tui.screens.coverage import CoverageScreen

        def picked(requirement: str | None) -> None:
            if requirement:
                self.query_one("#requirement", Input).value = requirement
                self.reload()
        self.app.push_screen(CoverageScreen(self.engagement), picked)

    def action_flags(self) -> None:
        from tui.screens.flags import FlagsScreen
        self.app.push_screen(FlagsScreen(self.engagement, self.roles))

    def action_members(self) -> None:
        from tui.screens.members import MembersScreen
        self.app.push_screen(MembersScreen(self.engagement, self.roles))

    def action_export(self) -> None:
        from tui.screens.export import ExportScreen
        self.app.push_screen(ExportScreen(self.engagement, self.standard))

    def action_audit(self) -> None:
        from tui.screens.audit import AuditScreen
        self.app.push_screen(AuditScreen(self.engagement))

    def action_retention(self) -> None:
        from tui.screens.retention import RetentionScreen
        self.app.push_screen(RetentionScreen(self.engagement, self.roles))
