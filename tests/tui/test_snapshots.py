"""Snapshot tests of the main screens (pytest-textual-snapshot; the SVGs are in __snapshots__/).

Everything on screen is fixed: the clock (StepClock), ids (a seeded rng), identities (fixed
secret bytes), names, the terminal size, and no wall-clock date is shown. After a deliberate
change of the UI, review and accept the new pictures with
`pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from storage_backends import LocalStore
from tests.conftest import StepClock, src
from tests.tui.test_flows import settle
from tui.app import VaultApp, make_app
from vault.age import X25519Identity
from vault.config import Settings
from vault.metadata.db import open_database
from vault.service import IngestOptions, Vault, bootstrap

SIZE = (120, 36)
ENG = "acme-2026"
Script = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture
def demo(tmp_path: Path) -> Vault:
    """A small vault whose every id, key, name and time is the same on every run."""
    rng = random.Random(7)
    clock = StepClock()

    def rand(n: int) -> bytes:
        return rng.randbytes(n)

    engine = open_database(f"sqlite:///{tmp_path / 'vault.db'}")
    alice = X25519Identity(bytes(range(1, 33)))
    bootstrap._register_first(engine, alice, "alice", clock, rand)
    vault = Vault(engine, LocalStore(tmp_path / "objects", clock=clock), alice,
                  tmp_dir=tmp_path / "tmp", clock=clock, rng=rand)
    vault.create_engagement(ENG, client="Acme Payments", standard="pci-dss-4.0.1",
                            period_start=date(2026, 1, 1), period_end=date(2026, 12, 31))
    vault.create_engagement("globex-3ds", client="Globex", standard="pci-3ds-1.0")
    bob = X25519Identity(bytes(range(101, 133)))
    vault.add_user("bob", str(bob.recipient))
    vault.add_member(ENG, "bob", "viewer")
    files = [("fw-rules.txt", b"permit tcp any host 10.0.0.1 eq 443\n", "config_export",
              ("1.2.1", "1.2.7"), "fw-01"),
             ("auth.log", b"Mar  1 12:00:01 sshd: accepted key for admin\n", "log_export",
              ("10.2.1",), "bastion"),
             ("payments.log", b"card=4111 1111 1111 1111 approved\n", "log_export",
              ("3.3.1",), "pos-gw")]
    for name, data, kind, reqs, system in files:
        [r] = vault.ingest(ENG, [src(name, data)],
                           IngestOptions(kind=kind, requirements=reqs, system=system))
        assert not isinstance(r, Exception), r
    vault.add_interview_note(ENG, "Network admin", date(2026, 3, 2), ["1.2.1"],
                             "Firewall rules are reviewed twice a year.")
    return vault


def app_on(vault: Vault) -> VaultApp:
    return make_app(vault)


async def open_evidence(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def steady(pilot: Pilot[Any]) -> None:
    """Workers done, their results shown, every table filled and laid out, and no blinking
    cursor (it would be on or off depending on the moment)."""
    for _ in range(3):
        await settle(pilot)
        await pilot.pause(0.1)
    for table in pilot.app.screen.query(DataTable):
        for _ in range(100):
            if table.row_count:
                break
            await pilot.pause(0.05)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)
    await pilot.wait_for_scheduled_animations()


def script(*keys: str, then: Script | None = None) -> Script:
    async def run(pilot: Pilot[Any]) -> None:
        await open_evidence(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            await then(pilot)
        await steady(pilot)
    return run


def test_engagements(snap_compare: Any, demo: Vault) -> None:
    assert snap_compare(app_on(demo), terminal_size=SIZE, run_before=steady)


def test_evidence_list(snap_compare: Any, demo: Vault) -> None:
    assert snap_compare(app_on(demo), terminal_size=SIZE, run_before=script())


def test_evidence_search(snap_compare: Any, demo: Vault) -> None:
    assert snap_compare(app_on(demo), terminal_size=SIZE,
                        run_before=script("slash", *"LOG"))


def test_item_detail(snap_compare: Any, demo: Vault) -> None:
    async def pick_payments(pilot: Pilot[Any]) -> None:  # the item with a card number
        table = pilot.app.screen.query_one("#items", DataTable)
        keys = [str(r.key.value) for r in table.ordered_rows]
        names = [str(table.get_row(k)[1]) for k in keys]
        table.move_cursor(row=names.index("payments.log"))
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
    assert snap_compare(app_on(demo), terminal_size=SIZE, run_before=script(then=pick_payments))


def test_coverage(snap_compare: Any, demo: Vault) -> None:
    assert snap_compare(app_on(demo), terminal_size=SIZE, run_before=script("c"))


def test_members(snap_compare: Any, demo: Vault) -> None:
    assert snap_compare(app_on(demo), terminal_size=SIZE, run_before=script("m"))


def test_audit_log(snap_compare: Any, demo: Vault) -> None:
    assert snap_compare(app_on(demo), terminal_size=SIZE, run_before=script("a"))


def test_help(snap_compare: Any, demo: Vault) -> None:
    async def rendered(pilot: Pilot[Any]) -> None:  # the Markdown table lays out in steps
        await pilot.pause(0.5)
        await pilot.wait_for_scheduled_animations()
    assert snap_compare(app_on(demo), terminal_size=SIZE,
                        run_before=script("question_mark", then=rendered))


def test_command_palette(snap_compare: Any, demo: Vault) -> None:
    async def palette(pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
    assert snap_compare(app_on(demo), terminal_size=SIZE, run_before=script(then=palette))


def test_unlock(snap_compare: Any) -> None:
    home = Path("/nonexistent/vault-home")
    settings = Settings(home=home, db_url=f"sqlite:///{home / 'vault.db'}",
                        store_url=f"file://{home / 'objects'}",
                        identity_path=Path("/nonexistent/identity.age"))
    assert snap_compare(make_app(settings=settings), terminal_size=SIZE,
                        run_before=steady)


def test_flag_review_queue(snap_compare: Any, demo: Vault) -> None:
    assert snap_compare(app_on(demo), terminal_size=SIZE, run_before=script("f"))


def test_member_preview(snap_compare: Any, demo: Vault) -> None:
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (("logs/gw.log", "2026-03-01 12:00:01 auth card=5555 5555 5555 4444 "
                                           "approved\n2026-03-01 12:00:02 auth declined\n"),
                           ("notes.txt", "nothing here\n")):
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 3, 1, 12, 0, 0)), text)
    [r] = demo.ingest(ENG, [src("export.zip", buf.getvalue())], IngestOptions(kind="other"))
    assert not isinstance(r, Exception), r

    async def open_member(pilot: Pilot[Any]) -> None:
        table = pilot.app.screen.query_one("#items", DataTable)
        names = [str(table.get_row(r.key)[1]) for r in table.ordered_rows]
        table.move_cursor(row=names.index("export.zip"))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("enter")  # the first member: logs/gw.log
        await settle(pilot)
    assert snap_compare(app_on(demo), terminal_size=SIZE, run_before=script(then=open_member))
