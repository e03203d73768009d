"""The terminal UI's main flows, end to end through Textual's Pilot on a temporary vault.

Plain test functions run the async Pilot sessions with asyncio.run (no pytest plugin needed).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static, TextArea
from textual.worker import WorkerState

from tests.conftest import serve_agent
from tui.app import make_app
from tui.screens.engagements import EngagementsScreen
from tui.screens.error import ErrorModal
from tui.screens.evidence import PAGE, EvidenceScreen
from tui.screens.help import HelpScreen
from tui.screens.ingest import IngestScreen
from tui.screens.interview import InterviewScreen
from tui.screens.item import ItemScreen
from tui.screens.member_preview import MemberPreviewScreen
from tui.screens.members import MembersScreen
from tui.screens.unlock import UnlockScreen
from vault.age import X25519Identity
from vault.config import Settings
from vault.crypto import keys
from vault.evidence.sources import Source
from vault.metadata.models import EvidenceItem
from vault.service import IngestOptions, Vault

SIZE = (120, 40)
PAN = "4111 1111 1111 1111"


def drive(app: Any, script: Callable[[Pilot[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await script(pilot)
    asyncio.run(main())


async def settle(pilot: Pilot[Any], timeout: float = 20.0) -> None:
    """Let workers finish and their result messages be handled (which may start others).

    DirectoryTree's loader worker never ends by design, so it is left out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while quiet < 2:
        busy = [w for w in pilot.app.workers if w.group != "_loader"
                and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if busy:
            quiet = 0
            assert loop.time() < deadline, f"workers still busy: {busy}"
            await asyncio.sleep(0.02)
        else:
            quiet += 1
        await pilot.pause()


def mem(name: str, data: bytes) -> Source:
    return Source(name=name, size=len(data), open=lambda: io.BytesIO(data))


def table_keys(table: DataTable[Any]) -> list[str]:
    return [str(r.key.value) for r in table.ordered_rows]


async def open_engagement(pilot: Pilot[Any]) -> EvidenceScreen:
    assert isinstance(pilot.app.screen, EngagementsScreen)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, EvidenceScreen)
    return screen


def test_create_engagement(vault: Vault) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("n")
        form = pilot.app.screen
        form.query_one("#name", Input).value = "globex-2026"
        form.query_one("#client", Input).value = "Globex"
        form.query_one("#standard", Select).value = "pci-3ds-1.0"
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, EngagementsScreen)
        assert table_keys(screen.query_one(DataTable)) == ["globex-2026"]
        eng, n = vault.engagement("globex-2026")
        assert eng.standard == "pci-3ds-1.0" and eng.client == "Globex" and n == 0
        await pilot.press("d")  # the creator is lead: may set the completion date
        pilot.app.screen.query_one("#completed-on", Input).value = "2026-06-30"
        await pilot.press("enter")
        await settle(pilot)
        assert str(vault.engagement("globex-2026")[0].completed_on) == "2026-06-30"
    drive(make_app(vault), script)


def test_service_error_in_modal(vault: Vault, engagement: str) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("n")
        pilot.app.screen.query_one("#name", Input).value = engagement
        await pilot.press("ctrl+s")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, ErrorModal)
        text = str(modal.query_one("#error-message", Static).render())
        assert "exists already" in text and "Traceback" not in text
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, EngagementsScreen)
        # a bad date is a user error too, with its hint-free message
        await pilot.press("d")
        pilot.app.screen.query_one("#completed-on", Input).value = "tomorrow"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ErrorModal)
        assert "YYYY-MM-DD" in pilot.app.screen.message
    drive(make_app(vault), script)


def test_ingest_a_file(vault: Vault, engagement: str, tmp_path: Path) -> None:
    f = tmp_path / "fw rules.txt"
    f.write_text("permit tcp any host 10.0.0.1 eq 443\n")

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("i")
        screen = pilot.app.screen
        assert isinstance(screen, IngestScreen)
        screen.query_one("#paths", Input).value = f"'{f}'"
        screen.query_one("#requirements", Input).value = "1.2.1"
        screen.query_one("#kind", Select).value = "config_export"
        await pilot.press("ctrl+s")
        await settle(pilot)
        results = screen.query_one("#results", DataTable)
        assert results.row_count == 1
        assert "stored" in str(results.get_row_at(0)[1])
        await pilot.press("ctrl+s")  # the same file again: a duplicate, noted
        await settle(pilot)
        assert "duplicate" in str(results.get_row_at(0)[1])
        await pilot.press("escape")
        await settle(pilot)
        evidence = pilot.app.screen
        assert isinstance(evidence, EvidenceScreen)
        table = evidence.query_one("#items", DataTable)
        assert table.row_count == 1
        assert str(table.get_row_at(0)[1]) == "fw rules.txt"
        assert "1 item ·" in str(evidence.query_one("#count", Static).render())
    drive(make_app(vault), script)
    [view] = vault.list_items(engagement)
    assert view.item.kind == "config_export" and view.requirements == ("1.2.1",)


def test_item_preview_masks_card_number(vault: Vault, engagement: str) -> None:
    vault.ingest(engagement, [mem("payments.log", f"auth ok card={PAN} amount=10\n".encode())],
                 IngestOptions(kind="log_export"))

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ItemScreen)
        preview = screen.query_one("#preview", TextArea).text
        assert "411111******1111" in preview and PAN not in preview
        assert "payments.log" in str(screen.query_one("#item-meta", Static).render())
        custody = screen.query_one("#custody", DataTable)
        actions = [str(custody.get_row_at(i)[3]) for i in range(custody.row_count)]
        assert actions[:2] == ["item.ingest", "item.read"]
        assert screen.query_one("#versions", DataTable).row_count == 1
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, EvidenceScreen)
    drive(make_app(vault), script)


def test_add_member(vault: Vault, engagement: str) -> None:
    vault.add_user("bob", str(X25519Identity.generate().recipient))

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("m")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, MembersScreen)
        await pilot.press("a")
        pilot.app.screen.query_one("#user", Input).value = "bob"
        pilot.app.screen.query_one("#role", Select).value = "qa"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert table_keys(screen.query_one(DataTable)) == ["alice", "bob"]
    drive(make_app(vault), script)
    assert {m["user"]: m["role"] for m in vault.members(engagement)} == {
        "alice": "lead", "bob": "qa"}


def test_interview_note(vault: Vault, engagement: str) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("t")
        screen = pilot.app.screen
        assert isinstance(screen, InterviewScreen)
        screen.query_one("#role", Input).value = "network administrator"
        screen.query_one("#date", Input).value = "2026-03-02"
        screen.query_one("#requirements", Input).value = "1.2.1, 1.2.7"
        screen.query_one("#note", TextArea).text = "Firewall rules are reviewed twice a year."
        await pilot.press("ctrl+s")
        await settle(pilot)
        evidence = pilot.app.screen
        assert isinstance(evidence, EvidenceScreen)
        assert evidence.query_one("#items", DataTable).row_count == 1
    drive(make_app(vault), script)
    [view] = vault.list_items(engagement)
    assert view.item.kind == "interview_note" and view.requirements == ("1.2.1", "1.2.7")
    assert "twice a year" in vault.preview(view.item.id)


def clone_items(vault: Vault, engagement: str, n: int) -> None:
    """n items fast: one real ingest, then n-1 metadata rows cloned from it (a real ingest
    costs ~30 ms per item on this machine: 2,000 would take a minute)."""
    [r] = vault.ingest(engagement, [mem("log-0000.txt", b"line 0\n")],
                       IngestOptions(kind="log_export"))
    assert not isinstance(r, Exception)
    proto = r.view.item
    with Session(vault.engine) as s:
        rows = []
        for i in range(1, n):
            row = EvidenceItem.model_validate(proto.model_dump())
            row.id = f"{i:08x}" + proto.id[8:]
            row.original_name = f"log-{i:04}.txt"
            row.sha256 = f"{i:064x}"
            row.object_key = f"payload/{row.id}"
            row.ingested_at = proto.ingested_at + timedelta(seconds=i)
            rows.append(row)
        s.add_all(rows)
        s.commit()


def test_paging_holds_one_page(vault: Vault, engagement: str) -> None:
    clone_items(vault, engagement, 2000)
    assert vault.count_items(engagement) == 2000

    async def script(pilot: Pilot[Any]) -> None:
        screen = await open_engagement(pilot)
        table = screen.query_one("#items", DataTable)
        count = screen.query_one("#count", Static)
        assert table.row_count == PAGE
        assert "2,000 items" in str(count.render()) and f"page 1 of {2000 // PAGE}" in str(
            count.render())
        first = table_keys(table)[0]
        await pilot.press("n")
        await settle(pilot)
        assert table.row_count == PAGE and table_keys(table)[0] != first
        assert f"{PAGE + 1}–{2 * PAGE}" in str(count.render())
        await pilot.press("p")
        await settle(pilot)
        assert table_keys(table)[0] == first
        await pilot.press("/")
        assert screen.focused is screen.query_one("#search", Input)
        await pilot.press(*"log-19")
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == min(PAGE, 100) and "100 items" in str(count.render())
    drive(make_app(vault), script)


def test_viewer_sees_no_write_actions(vault: Vault, engagement: str, make_vault: Any) -> None:
    bob_id = X25519Identity.generate()
    vault.add_user("bob", str(bob_id.recipient))
    vault.add_member(engagement, "bob", "viewer")
    bob = make_vault(bob_id, "bob")

    async def script(pilot: Pilot[Any]) -> None:
        start = pilot.app.screen
        assert isinstance(start, EngagementsScreen)
        assert start.check_action("complete", ()) is False
        screen = await open_engagement(pilot)
        for action in ("ingest", "note", "audit"):
            assert screen.check_action(action, ()) is False
        assert screen.check_action("members", ()) is True
        await pilot.press("i")  # hidden actions do nothing
        assert pilot.app.screen is screen
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        assert pilot.app.screen is screen
    drive(make_app(bob), script)


def test_unlock_screen(settings: Settings, make_vault: Any) -> None:
    passphrase = "correct horse battery staple"
    make_vault(keys.create_identity(settings.identity_path, passphrase))

    async def script(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, UnlockScreen)
        field = screen.query_one("#passphrase", Input)
        assert field.password
        await pilot.press(*"letmein-please", "enter")
        await settle(pilot)
        status = str(screen.query_one("#unlock-status", Static).render())
        assert "wrong passphrase" in status and "letmein" not in status
        assert field.value == "" and pilot.app.screen is screen
        await pilot.press(*passphrase, "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EngagementsScreen)
        assert pilot.app.vault is not None and pilot.app.vault.user.name == "alice"
    drive(make_app(settings=settings), script)


def test_unlock_screen_asks_the_agent_first(settings: Settings, make_vault: Any,
                                            tmp_path: Path) -> None:
    ident = X25519Identity.generate()
    make_vault(ident)
    server, thread = serve_agent(ident, tmp_path)

    async def script(pilot: Pilot[Any]) -> None:  # no passphrase typed
        assert isinstance(pilot.app.screen, EngagementsScreen)
        assert pilot.app.vault is not None and pilot.app.vault.user.name == "alice"
    try:
        drive(make_app(settings=settings, agent_sock=str(server.path)), script)
    finally:
        server.stop()
        thread.join(5)

    async def gone(pilot: Pilot[Any]) -> None:  # the agent has gone: the passphrase is asked
        screen = pilot.app.screen
        assert isinstance(screen, UnlockScreen)
        status = str(screen.query_one("#unlock-status", Static).render())
        assert "no vault agent answers" in status
        assert not screen.query_one("#passphrase", Input).disabled
    drive(make_app(settings=settings, agent_sock=str(server.path)), gone)


def test_agent_gone_mid_session_asks_the_passphrase_and_goes_on(
        settings: Settings, make_vault: Any, tmp_path: Path) -> None:
    passphrase = "correct horse battery staple"
    ident = keys.create_identity(settings.identity_path, passphrase)
    direct = make_vault(ident)
    direct.create_engagement("acme-2026", client="Acme Payments", standard="pci-dss-4.0.1")
    direct.ingest("acme-2026", [mem("payments.log", f"auth ok card={PAN}\n".encode())],
                  IngestOptions(kind="log_export"))
    server, thread = serve_agent(ident, tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app.screen, EngagementsScreen)
        evidence = await open_engagement(pilot)
        server.stop()  # the agent's lifetime ends while the TUI is open
        thread.join(5)
        await pilot.press("enter")  # the item's preview needs the engagement key
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, UnlockScreen) and screen.again
        status = str(screen.query_one("#unlock-status", Static).render())
        assert "no vault agent answers" in status and "enter your passphrase" in status
        await pilot.press(*passphrase, "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ItemScreen)  # back where it was
        await pilot.press("escape")
        assert pilot.app.screen is evidence
        await pilot.press("enter")
        await settle(pilot)
        item = pilot.app.screen
        assert isinstance(item, ItemScreen)
        assert "411111******1111" in item.query_one("#preview", TextArea).text
    drive(make_app(settings=settings, agent_sock=str(server.path)), script)


def test_a_bug_shows_a_generic_line_and_logs_where_not_what(vault: Vault) -> None:
    """An exception that is not a VaultError may quote evidence in its message: the modal says
    something went wrong, and the log under the vault home names where, never the message."""
    app = make_app(vault)
    secret = "card 4111111111111111 of the client"

    def boom() -> None:
        raise RuntimeError(secret)

    async def script(pilot: Pilot[Any]) -> None:
        try:
            boom()
        except RuntimeError as exc:
            pilot.app.show_error(exc)
        await pilot.pause()
        modal = pilot.app.screen
        assert isinstance(modal, ErrorModal)
        shown = modal.message + (modal.hint or "")
        assert "4111" not in shown and "RuntimeError" not in shown
        assert modal.message.startswith("something went wrong inside Evidence Vault")
        log = vault.tmp_dir.parent / "logs" / "tui-errors.log"
        assert modal.hint == f"please report it with {log}"
        text = log.read_text()
        assert "builtins.RuntimeError" in text and "in boom" in text and "4111" not in text
        assert log.stat().st_mode & 0o777 == 0o600

    drive(app, script)


def test_no_screen_shows_a_card_number_from_a_file_name(vault: Vault, engagement: str,
                                                        tmp_path: Path) -> None:
    digits = PAN.replace(" ", "")
    f = tmp_path / f"refund_{digits}.txt"
    f.write_text("nothing sensitive inside\n")
    shots: list[str] = []

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("i")
        screen = pilot.app.screen
        assert isinstance(screen, IngestScreen)
        screen.query_one("#paths", Input).value = f"'{f}'"
        await pilot.press("ctrl+s")
        await settle(pilot)
        results = screen.query_one("#results", DataTable)
        assert results.row_count == 1
        screen.query_one("#paths", Input).value = ""  # what the user typed is theirs to clear
        shots.append(pilot.app.export_screenshot())
        await pilot.press("escape")
        await settle(pilot)
        shots.append(pilot.app.export_screenshot())
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ItemScreen)
        shots.append(pilot.app.export_screenshot())
    drive(make_app(vault), script)
    assert [v.item.original_name for v in vault.list_items(engagement)] == [
        "refund_411111******1111.txt"]
    for svg in shots:
        text = svg.replace("&#160;", " ").replace("\u00a0", " ")
        assert digits not in text and "411111******1111" in text


def test_after_a_re_unlock_the_item_shows_its_preview_without_a_reload(
        settings: Settings, make_vault: Any, tmp_path: Path) -> None:
    """The agent gone as an item opens: its preview fails, the passphrase is asked, and once
    it is typed the preview that failed is decrypted again unasked (no `r`)."""
    passphrase = "correct horse battery staple"
    ident = keys.create_identity(settings.identity_path, passphrase)
    direct = make_vault(ident)
    direct.create_engagement("acme-2026", client="Acme Payments", standard="pci-dss-4.0.1")
    direct.ingest("acme-2026", [mem("payments.log", f"auth ok card={PAN}\n".encode())],
                  IngestOptions(kind="log_export"))
    server, thread = serve_agent(ident, tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        server.stop()  # the agent's lifetime ends while the TUI is open
        thread.join(5)
        await pilot.press("enter")
        await settle(pilot)
        unlock = pilot.app.screen
        assert isinstance(unlock, UnlockScreen) and unlock.again
        item = pilot.app.screen_stack[-2]
        assert isinstance(item, ItemScreen)
        assert item.query_one("#preview", TextArea).text == "decrypting…"
        await pilot.press(*passphrase, "enter")
        await settle(pilot)
        assert pilot.app.screen is item  # back on the item, nothing on top
        preview = item.query_one("#preview", TextArea).text
        assert "411111******1111" in preview and PAN not in preview
        custody = item.query_one("#custody", DataTable)
        actions = [str(custody.get_row_at(i)[3]) for i in range(custody.row_count)]
        assert "item.read" in actions  # the retried read is in the chain of custody
    drive(make_app(settings=settings, agent_sock=str(server.path)), script)


def test_after_a_re_unlock_a_failed_write_is_not_repeated_unasked(
        settings: Settings, make_vault: Any, tmp_path: Path) -> None:
    """Only reads run again after the re-unlock: adding a member that failed for the gone
    agent is left for the user to do again."""
    passphrase = "correct horse battery staple"
    ident = keys.create_identity(settings.identity_path, passphrase)
    direct = make_vault(ident)
    direct.create_engagement("acme-2026", client="Acme Payments", standard="pci-dss-4.0.1")
    direct.add_user("bob", str(X25519Identity.generate().recipient))
    server, thread = serve_agent(ident, tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("m")
        await settle(pilot)
        members = pilot.app.screen
        assert isinstance(members, MembersScreen)
        server.stop()
        thread.join(5)
        await pilot.press("a")
        pilot.app.screen.query_one("#user", Input).value = "bob"
        pilot.app.screen.query_one("#role", Select).value = "qa"
        await pilot.press("ctrl+s")  # wrapping the engagement key for bob needs the agent
        await settle(pilot)
        assert isinstance(pilot.app.screen, UnlockScreen) and pilot.app.screen.again
        await pilot.press(*passphrase, "enter")
        await settle(pilot)
        assert pilot.app.screen is members
        assert table_keys(members.query_one(DataTable)) == ["alice"]
    drive(make_app(settings=settings, agent_sock=str(server.path)), script)
    assert [m["user"] for m in direct.members("acme-2026")] == ["alice"]


def test_an_archive_item_lists_its_members_with_their_flags(vault: Vault,
                                                            engagement: str) -> None:
    from tests.pii.test_containers import zip_of
    data = zip_of({"logs/gw.log": f"card={PAN}\n".encode(), "notes.txt": b"fine\n"})
    vault.ingest(engagement, [mem("export.zip", data)], IngestOptions())

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ItemScreen)
        await pilot.press("5")
        await settle(pilot)
        table = screen.query_one("#members", DataTable)
        rows = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[2])
                for i in range(table.row_count)}
        assert rows == {"logs/gw.log": "1 open of 1", "notes.txt": "-"}
        flags = screen.query_one("#item-flags", DataTable)
        assert str(flags.get_row_at(0)[4]) == "logs/gw.log line 1"
        # Enter on a member previews it, card numbers masked; Escape comes back to the row
        paths = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        table.move_cursor(row=paths.index("logs/gw.log"))
        await pilot.press("enter")
        await settle(pilot)
        shown = pilot.app.screen
        assert isinstance(shown, MemberPreviewScreen)
        assert shown.query_one("#member-preview", TextArea).text == "card=411111******1111\n"
        assert "logs/gw.log" in str(shown.query_one("#member-title", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is screen and table.cursor_row == paths.index("logs/gw.log")
    drive(make_app(vault), script)


def test_coverage_counts_testable_requirements_and_keeps_the_count_in_sight(
        vault: Vault, engagement: str) -> None:
    from tui.screens.coverage import CoverageScreen
    vault.ingest(engagement, [mem("fw.txt", b"rules\n")], IngestOptions(requirements=("1.2.1",)))

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, CoverageScreen)
        summary = str(screen.query_one("#coverage-summary", Static).render())
        testable = sum(1 for _, title, _ in screen.rows if not title.startswith("§"))
        assert summary.startswith(f"{engagement}: 1 of {testable} requirements have evidence")
        table = screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1])
                for i in range(table.row_count)}
        assert rows["1.2.1"] == "1" and rows["1"] == "-" and rows["1.1.1"] == "none"
    drive(make_app(vault), script)
