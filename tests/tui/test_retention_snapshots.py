"""Snapshot tests of the retention screens (see test_snapshots.py for how they stay fixed and
how to accept a deliberate change): an engagement's retention with a hold, the firm-wide
upcoming destructions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.conftest import StepClock
from tests.tui.test_snapshots import ENG, SIZE, app_on, demo, script, steady  # noqa: F401
from vault.service import Vault


@pytest.fixture
def due_soon(demo: Vault) -> Vault:  # noqa: F811
    """The demo vault, its engagement completed, two months before its destruction date, one
    item held."""
    demo.complete_engagement(ENG, date(2026, 6, 30))
    clock = demo.clock
    assert isinstance(clock, StepClock)
    clock.advance(datetime(2029, 5, 1, tzinfo=UTC) - clock.now)
    [first, *_] = demo.retention_status(ENG)
    demo.place_hold(first.item_id, "Smith v. Acme")
    return demo


def test_retention_view(snap_compare: Any, due_soon: Vault) -> None:
    assert snap_compare(app_on(due_soon), terminal_size=SIZE, run_before=script("d"))


def test_upcoming_destructions(snap_compare: Any, due_soon: Vault) -> None:
    async def upcoming(pilot: Pilot[Any]) -> None:
        await steady(pilot)
        await pilot.press("u")
        await steady(pilot)
    assert snap_compare(app_on(due_soon), terminal_size=SIZE, run_before=upcoming)
