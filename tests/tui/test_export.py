"""The export screen through Pilot: recipient, request reference and scope, the dry run's
table of what goes and what is withheld before anything is written, the export with its
progress, the past exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.tui.test_flows import PAN, drive, mem, open_engagement, settle, table_keys
from tui.app import make_app
from tui.screens.export import ExportScreen
from vault.age import X25519Identity
from vault.service import IngestOptions, Vault


def test_dry_run_then_export(vault: Vault, engagement: str, tmp_path: Path) -> None:
    [ok] = vault.ingest(engagement, [mem("rules.txt", b"permit any\n")],
                        IngestOptions(roc_refs=("DOC-1",)))
    [held] = vault.ingest(engagement, [mem("pay.log", f"card {PAN}\n".encode())],
                          IngestOptions(roc_refs=("DOC-2",)))
    vault.add_recipient("PCI SSC QA", "council", str(X25519Identity.generate().recipient))
    out = tmp_path / "bundle.age"

    async def script(pilot: Pilot[Any]) -> None:
        await open_engagement(pilot)
        await pilot.press("x")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ExportScreen)
        screen.query_one("#request-ref", Input).value = "QA-1"
        screen.query_one("#output", Input).value = str(out)
        screen.query_one("#roc-refs", Input).value = "DOC-1, DOC-2"
        await pilot.press("ctrl+s")  # the dry run comes first, nothing written
        await settle(pilot)
        plan = screen.query_one("#plan", DataTable)
        assert table_keys(plan) == ["in-" + ok.view.item.id,  # type: ignore[union-attr]
                                    "out-" + held.view.item.id]  # type: ignore[union-attr]
        assert not out.exists()
        assert "1 withheld" in str(screen.query_one("#export-summary", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert out.exists()
        assert "wrote" in str(screen.query_one("#export-summary", Static).render())
        assert len(table_keys(screen.query_one("#past", DataTable))) == 1
        await pilot.press("escape")
    drive(make_app(vault), script)
    [rec] = vault.exports(engagement)
    assert (rec.request_ref, rec.items, rec.withheld) == ("QA-1", 1, 1)
