"""Retention dates, payload protection in the store, and the doctor on the local store."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.conftest import StepClock
from vault.errors import PermissionDenied
from vault.evidence.sources import Source
from vault.metadata.models import EvidenceItem
from vault.retention.dates import destruction_date
from vault.service import IngestOptions, IngestResult, Vault


def test_destruction_date_rules() -> None:
    at = datetime(2026, 5, 10, 15, 30, tzinfo=UTC)
    # the start of the day after the anniversary: never before three full years
    assert destruction_date(None, at) == datetime(2029, 5, 11, tzinfo=UTC)
    assert destruction_date(None, at) > at.replace(year=2029)
    assert destruction_date(date(2026, 9, 1), at) == datetime(2029, 9, 2, tzinfo=UTC)
    assert destruction_date(date(2026, 1, 1), at) == datetime(2029, 5, 11, tzinfo=UTC)
    assert destruction_date(date(2028, 2, 29), at) == datetime(2031, 3, 2, tzinfo=UTC)
    assert destruction_date(None, at, years=5) == datetime(2031, 5, 11, tzinfo=UTC)
    with pytest.raises(ValueError, match="may not be shorter than 3 years"):
        destruction_date(None, at, years=2)


def _ingest(vault: Vault, eng: str, data: bytes) -> EvidenceItem:
    [r] = vault.ingest(eng, [Source("f.txt", len(data), lambda: io.BytesIO(data))],
                       IngestOptions())
    assert isinstance(r, IngestResult)
    return r.view.item


def test_payload_is_held_until_destruction_and_extended_on_completion(
        vault: Vault, engagement: str, clock: StepClock) -> None:
    item = _ingest(vault, engagement, b"evidence")
    info = vault.store.head(item.object_key)
    assert info.retain_until == destruction_date(None, item.ingested_at)
    with pytest.raises(PermissionError):
        vault.store.delete(item.object_key)
    vault.complete_engagement(engagement, date(2026, 12, 31))
    assert vault.store.head(item.object_key).retain_until == datetime(2030, 1, 1, tzinfo=UTC)
    clock.advance(timedelta(days=4 * 366))
    assert vault.store.delete(item.object_key) == 1   # only after the date


def test_doctor_finds_and_repairs_only_leftovers(vault: Vault, engagement: str,
                                                 clock: StepClock) -> None:
    live = _ingest(vault, engagement, b"live")
    vault.store.put("payload/" + "ab" * 16, [b"orphan ciphertext"])
    with Session(vault.engine) as s:  # a crashed ingest: a pending row, its payload written
        stalled = EvidenceItem(id="cd" * 16, engagement_id=live.engagement_id,
                               key_id=live.key_id, kind="other", original_name="x",
                               ingested_at=clock(), ingested_by=live.ingested_by,
                               state="pending", object_key="payload/" + "cd" * 16)
        s.add(stalled)
        s.commit()
    vault.store.put("payload/" + "cd" * 16, [b"half an ingest"])
    gone = _ingest(vault, engagement, b"gone")
    Path(vault.store.url.removeprefix("file://"), gone.object_key).unlink()
    rep = vault.doctor()
    assert rep["orphan_payloads"] == ["payload/" + "ab" * 16]
    assert rep["missing_payloads"] == [gone.id]
    assert rep["stalled_ingests"] == []          # too recent: may still be running
    clock.advance(timedelta(hours=2))
    rep = vault.doctor(repair=True)
    assert rep["stalled_ingests"] == ["cd" * 16]
    assert sorted(rep["repaired"]) == sorted([f"payload payload/{'ab' * 16}",
                                              f"payload payload/{'cd' * 16}",
                                              f"pending record {'cd' * 16}"])
    assert vault.store.exists(live.object_key)
    again = vault.doctor()
    assert (again["orphan_payloads"], again["stalled_ingests"]) == ([], [])
    assert again["missing_payloads"] == [gone.id]   # reported, never "repaired"


def test_store_check_and_doctor_permissions(vault: Vault, make_vault) -> None:  # type: ignore[no-untyped-def]
    assert vault.store_check()["worm"] is False
    from vault.age import X25519Identity
    bob = X25519Identity.generate()
    vault.add_user("bob", str(bob.recipient))
    with pytest.raises(PermissionDenied):
        make_vault(bob, "bob").doctor()
