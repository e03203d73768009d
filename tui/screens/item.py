"""One item: metadata, versions, chain of custody, a text preview (card numbers masked) and a
container's members (Enter on one previews it, masked too)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane, TextArea

from tui.base import VaultScreen, cell, human_size
from tui.messages import Loaded
from tui.screens.member_preview import MemberPreviewScreen
from vault.people import access
from vault.service import ItemView


def metadata(v: ItemView) -> Text:
    i = v.item
    lines = [  # the state near the top: seen on an 80x24 terminal whatever wraps below
        ("Id", i.id), ("Name", i.original_name), ("State", i.state),
        ("Engagement", v.engagement),
        ("Kind", i.kind), ("Requirements", ", ".join(v.requirements) or "-"),
        ("Disclosure", i.disclosure),
        ("Type", (i.detected_mime or "?") + ("  (declared " + (i.declared_mime or "?")
                                              + " — mismatch)" if v.type_mismatch else "")),
        ("Size", f"{human_size(i.size)} ({i.size:,} bytes)" if i.size is not None else "?"),
        ("SHA-256", i.sha256 or ""), ("Ingested", f"{i.ingested_at:%Y-%m-%d %H:%M:%S} by "
                                                  f"{v.ingested_by}"),
        ("System", i.system or "-"), ("Description", i.description or "-"),
        ("Supersedes", i.supersedes_id or "-"),
    ]
    text = Text()
    for label, value in lines:  # 12 + 2 + a SHA-256's 64 fit in 80 columns
        text.append(f"{label:>12}  ", style="bold")
        text.append(str(value) + "\n")
    return text


TABS = Binding.Group("Tabs")
TAB_TITLES = {"tab-preview": "Preview", "tab-custody": "Chain of custody",
              "tab-versions": "Versions", "tab-flags": "Flags", "tab-members": "Members"}


class ItemScreen(VaultScreen):
    PALETTE_NAME = "item"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        *(Binding(str(n), f"show_tab('{pane}')", title, group=TABS)
          for n, (pane, title) in enumerate(TAB_TITLES.items(), 1)),
        Binding("r", "refresh", "Reload"),
    ]
    RETRY_GROUPS = frozenset({"item", "preview"})  # reads: run again after a re-unlock
    AUTO_FOCUS = "#preview"
    """The open tab's content has the focus (it scrolls with the arrows); 1-5 switch tabs
    (as do the arrows on the tab bar)."""

    def __init__(self, item_id: str, roles: frozenset[str]) -> None:
        super().__init__()
        self.item_id = item_id
        self.roles = roles
        self.member_paths: dict[str, str] = {}  # the members table's row keys -> their paths

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="item-meta")
        with TabbedContent(id="item-tabs"):
            with TabPane(TAB_TITLES["tab-preview"], id="tab-preview"):
                yield TextArea("", read_only=True, id="preview", soft_wrap=True)
            with TabPane(TAB_TITLES["tab-custody"], id="tab-custody"):
                yield DataTable(id="custody", cursor_type="row", zebra_stripes=True)
            with TabPane(TAB_TITLES["tab-versions"], id="tab-versions"):
                yield DataTable(id="versions", cursor_type="row", zebra_stripes=True)
            with TabPane(TAB_TITLES["tab-flags"], id="tab-flags"):
                yield DataTable(id="item-flags", cursor_type="row", zebra_stripes=True)
            with TabPane(TAB_TITLES["tab-members"], id="tab-members"):  # a container's
                yield DataTable(id="members", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#custody", DataTable).add_columns(
            "#", "When", "Who", "Action", "Outcome", "Detail")
        self.query_one("#versions", DataTable).add_columns(
            "Id", "Name", "State", "Ingested", "By", "SHA-256")
        self.query_one("#item-flags", DataTable).add_columns(
            "Flag", "State", "Kind", "Value", "Where", "Seen", "Decided by", "Reason")
        self.query_one("#members", DataTable).add_columns("Member", "Size", "Flags", "Note")
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load()
        if access.allowed("item.read", self.roles):
            self.query_one("#preview", TextArea).text = "decrypting…"
            self.load_preview()
        else:
            self.query_one("#preview", TextArea).text = "you may not read this item's content"

    @work(thread=True, exclusive=True, exit_on_error=False, group="item")
    def load(self) -> None:
        view = self.vault.item(self.item_id)
        flags = self.vault.flags(view.engagement, item=self.item_id)
        self.post_message(Loaded("item", (view, self.vault.versions(self.item_id),
                                          self.vault.custody(self.item_id), flags,
                                          self.vault.item_members(self.item_id))))

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def load_preview(self) -> None:
        self.post_message(Loaded("preview", self.vault.preview(self.item_id)))

    def on_loaded(self, message: Loaded) -> None:
        if message.what == "preview":
            self.query_one("#preview", TextArea).text = message.data
            self.load()  # the preview was a read: show it in the chain of custody
            return
        view, versions, custody, flags, members = message.data
        ft = self.query_one("#item-flags", DataTable)
        ft.clear()
        for fv in flags:
            f = fv.flag
            ft.add_row(cell(f.id[:12]), cell(f.state), cell(f.kind), cell(fv.shown),
                       cell(fv.where), cell(f.occurrences),
                       cell(fv.resolved_by or ""), cell(f.reason or ""), key=f.id)
        self.query_one("#item-meta", Static).update(metadata(view))
        mt = self.query_one("#members", DataTable)
        mt.clear()
        for m in members:
            mt.add_row(cell(m["path"]), cell("-" if m["size"] is None else human_size(m["size"])),
                       cell(f"{m['open_flags']} open of {m['flags']}" if m["flags"] else "-"),
                       cell(m["note"] or ""), key=str(m["seq"]))
        self.member_paths = {str(m["seq"]): m["path"] for m in members}
        table = self.query_one("#custody", DataTable)
        table.clear()
        for e in custody:
            table.add_row(cell(e.seq), cell(f"{e.at:%Y-%m-%d %H:%M:%S}"), cell(e.actor),
                          cell(e.action), cell(e.outcome), cell(e.detail or ""))
        vt = self.query_one("#versions", DataTable)
        vt.clear()
        for v in versions:
            i = v.item
            mark = " ◀" if i.id == view.item.id else ""
            vt.add_row(cell(i.id[:8] + mark), cell(i.original_name), cell(i.state),
                       cell(f"{i.ingested_at:%Y-%m-%d %H:%M}"), cell(v.ingested_by),
                       cell((i.sha256 or "")[:16]), key=i.id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "versions" and event.row_key.value != self.item_id:
            self.app.push_screen(ItemScreen(str(event.row_key.value), self.roles))
        elif event.data_table.id == "members" and event.row_key.value is not None:
            key = str(event.row_key.value)  # the member's place in the table of contents
            self.app.push_screen(MemberPreviewScreen(self.item_id, int(key),
                                                     self.member_paths.get(key, "")))

    def action_show_tab(self, pane: str) -> None:
        """Show a tab and put the focus on its content."""
        tabs = self.query_one(TabbedContent)
        tabs.active = pane
        content = tabs.get_pane(pane).query("DataTable, TextArea").first()
        self.call_after_refresh(content.focus)

    def action_back(self) -> None:
        self.app.pop_screen()
