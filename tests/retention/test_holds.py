"""Retention period (longer only), retention status (dates, days left, holds), and legal holds
mirrored to the store's legal-hold flag, on SQLite + the local store."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from tests.conftest import StepClock, ingest_one
from vault.age import X25519Identity
from vault.errors import InvalidInput, NotFound, PermissionDenied, StorageError
from vault.metadata.models import AuditEvent, EvidenceItem
from vault.retention.dates import NOT_DUE, destruction_date
from vault.service import Vault

CARD = "4111 1111 1111 1111"


def _events(vault: Vault, action: str) -> list[AuditEvent]:
    with Session(vault.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(col(AuditEvent.seq))).all())


def _bob(vault: Vault, make_vault: Callable[..., Vault], role: str | None = None) -> Vault:
    bob = X25519Identity.generate()
    vault.add_user("bob", str(bob.recipient), role)
    return make_vault(bob, "bob")


# -- the retention period ------------------------------------------------------------------------

def test_retention_extends_only_and_moves_every_payload(vault: Vault, engagement: str) -> None:
    a = ingest_one(vault, engagement, "a.txt", b"a").view.item
    b = ingest_one(vault, engagement, "b.txt", b"b").view.item
    vault.complete_engagement(engagement, date(2026, 6, 30))
    assert vault.store.head(a.object_key).retain_until == datetime(2029, 7, 1, tzinfo=UTC)
    e = vault.set_retention(engagement, 7)
    assert e.retention_years == 7
    for item in (a, b):
        assert vault.store.head(item.object_key).retain_until == datetime(2033, 7, 1,
                                                                         tzinfo=UTC)
    with pytest.raises(InvalidInput, match="may only be made longer, not 5"):
        vault.set_retention(engagement, 5)
    with pytest.raises(InvalidInput, match="3 to 100 years, not 2"):
        vault.set_retention(engagement, 2)
    with pytest.raises(InvalidInput, match="not 101"):
        vault.set_retention(engagement, 101)
    assert vault.engagement(engagement)[0].retention_years == 7
    ev = _events(vault, "engagement.retention")
    assert [(x.outcome, json.loads(x.detail or "{}")) for x in ev] == [
        ("ok", {"from": 3, "to": 7}), ("error", {"error": "InvalidInput"})]
    # a later ingest, and the completion date moving later, keep the engagement's years
    c = ingest_one(vault, engagement, "c.txt", b"c").view.item
    assert vault.store.head(c.object_key).retain_until == destruction_date(
        date(2026, 6, 30), c.ingested_at, 7)
    vault.complete_engagement(engagement, date(2026, 9, 30))
    assert vault.store.head(a.object_key).retain_until == datetime(2033, 10, 1, tzinfo=UTC)


def test_doctor_repairs_retention_with_the_engagements_years(vault: Vault,
                                                              engagement: str) -> None:
    vault.set_retention(engagement, 5)
    item = ingest_one(vault, engagement, "a.txt", b"a").view.item
    want = destruction_date(None, item.ingested_at, 5)
    assert vault.store.head(item.object_key).retain_until == want
    assert vault.doctor()["unprotected_items"] == []


# -- status ---------------------------------------------------------------------------------------

def test_status_dates_days_left_and_no_completion_date(vault: Vault, engagement: str,
                                                       clock: StepClock) -> None:
    item = ingest_one(vault, engagement, "a.txt", b"a").view.item   # 2026-03-01
    [row] = vault.retention_status(engagement)
    assert (row.due, row.days_left, row.note) == (None, None, NOT_DUE)
    assert row.as_dict()["note"] == "not due: no completion date"
    assert vault.retention_status(engagement, upcoming=100000) == []   # never due
    vault.complete_engagement(engagement, date(2026, 6, 30))
    [row] = vault.retention_status(engagement)
    assert row.due == datetime(2029, 7, 1, tzinfo=UTC)
    assert row.days_left == (date(2029, 7, 1) - date(2026, 3, 1)).days
    assert (row.item_id, row.name, row.note) == (item.id, "a.txt", "")
    assert vault.retention_status(engagement, upcoming=30) == []
    clock.advance(datetime(2029, 6, 2, tzinfo=UTC) - clock.now)
    [row] = vault.retention_status(upcoming=30)
    assert row.days_left == 29
    clock.advance(timedelta(days=29))                       # 2029-07-01, midnight passed
    [row] = vault.retention_status(engagement)
    assert (row.days_left, row.note) == (0, "due")
    d = row.as_dict()
    assert (d["destruction_date"], d["days_left"], d["held"]) == ("2029-07-01", 0, False)
    with pytest.raises(InvalidInput, match="--upcoming"):
        vault.retention_status(upcoming=-1)


def test_status_across_engagements_is_what_the_actor_may_see(
        vault: Vault, engagement: str, make_vault: Callable[..., Vault]) -> None:
    ingest_one(vault, engagement, "secret-name.txt", b"a")
    bob = _bob(vault, make_vault)
    bob.create_engagement("bobs-2026", client="B", standard="pci-dss-4.0.1")
    ingest_one(bob, "bobs-2026", "b.txt", b"b")
    assert [r.engagement for r in bob.retention_status()] == ["bobs-2026"]
    with pytest.raises(PermissionDenied, match="see the retention of"):
        bob.retention_status(engagement)
    # the administrator sees every engagement's dates, but names only where a member
    rows = {r.engagement: r for r in vault.retention_status()}
    assert set(rows) == {engagement, "bobs-2026"}
    assert rows[engagement].name == "secret-name.txt" and rows["bobs-2026"].name is None


# -- holds ---------------------------------------------------------------------------------------

def test_holds_cover_items_and_engagements_and_mirror_the_store(vault: Vault,
                                                                engagement: str) -> None:
    a = ingest_one(vault, engagement, "a.txt", b"a").view.item
    b = ingest_one(vault, engagement, "b.txt", b"b").view.item
    flag = vault.store.head
    h1 = vault.place_hold(a.id[:10], "matter 1")
    assert (h1.hold.item_id, h1.active, h1.placed_by) == (a.id, True, "alice")
    assert flag(a.object_key).legal_hold and not flag(b.object_key).legal_hold
    h2 = vault.place_hold(engagement, "matter 2")            # the whole engagement
    assert h2.hold.item_id is None
    assert flag(a.object_key).legal_hold and flag(b.object_key).legal_hold
    c = ingest_one(vault, engagement, "c.txt", b"c").view.item  # later evidence is held too
    assert flag(c.object_key).legal_hold
    rows = {r.item_id: r for r in vault.retention_status(engagement)}
    assert rows[a.id].holds == (h1.hold.id, h2.hold.id)      # in the order placed
    assert rows[b.id].holds == (h2.hold.id,)
    with pytest.raises(PermissionError):
        vault.store.delete(a.object_key)
    # releasing the engagement's hold leaves a held by its own
    vault.release_hold(h2.hold.id[:8], "matter 2 settled")
    assert flag(a.object_key).legal_hold
    assert not flag(b.object_key).legal_hold and not flag(c.object_key).legal_hold
    released = vault.release_hold(h1.hold.id, "matter 1 settled")
    assert released.released_by == "alice" and released.hold.release_reason == (
        "matter 1 settled")
    assert not flag(a.object_key).legal_hold
    with pytest.raises(InvalidInput, match="released already"):
        vault.release_hold(h1.hold.id, "again")
    assert [h.hold.id for h in vault.holds()] == []
    assert {h.hold.id for h in vault.holds(include_released=True)} == {h1.hold.id, h2.hold.id}
    placed = _events(vault, "hold.place")
    assert [(e.object, json.loads(e.detail or "{}")["scope"]) for e in placed] == [
        (a.id, "item"), (vault.engagement(engagement)[0].id, "engagement")]
    assert all("matter" not in (e.detail or "") for e in placed)   # reasons stay out of the log
    assert [e.outcome for e in _events(vault, "hold.release")] == ["ok", "ok", "error"]


def test_hold_input_is_checked(vault: Vault, engagement: str) -> None:
    a = ingest_one(vault, engagement, "a.txt", b"a").view.item
    with pytest.raises(InvalidInput, match="card"):
        vault.place_hold(a.id, f"customer card {CARD}")
    with pytest.raises(InvalidInput, match="may not be empty"):
        vault.place_hold(a.id, "   ")
    with pytest.raises(NotFound, match="no engagement or item"):
        vault.place_hold("no-such-thing", "x")
    with pytest.raises(NotFound, match="no hold"):
        vault.release_hold("abcdef12", "x")
    h = vault.place_hold(a.id, "matter")
    with pytest.raises(InvalidInput, match="card"):
        vault.release_hold(h.hold.id, f"settled {CARD}")
    assert vault.holds()[0].active                     # nothing half-written
    with Session(vault.engine) as s:
        assert all(CARD.replace(" ", "") not in (e.detail or "").replace(" ", "")
                   for e in s.exec(select(AuditEvent)).all())


def test_who_may_place_and_release(vault: Vault, engagement: str,
                                   make_vault: Callable[..., Vault]) -> None:
    a = ingest_one(vault, engagement, "a.txt", b"a").view.item
    bob = _bob(vault, make_vault)
    vault.add_member(engagement, "bob", "assessor")
    with pytest.raises(PermissionDenied, match="place legal holds"):
        bob.place_hold(a.id, "matter")
    vault.remove_member(engagement, "bob")
    vault.add_member(engagement, "bob", "qa")
    h = bob.place_hold(a.id, "matter")                     # QA may place
    with pytest.raises(PermissionDenied, match="release legal holds"):
        bob.release_hold(h.hold.id, "done")                 # only administrators release
    assert [x.hold.id for x in bob.holds(engagement)] == [h.hold.id]


def test_store_failure_keeps_the_hold_and_doctor_repairs(vault: Vault, engagement: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    a = ingest_one(vault, engagement, "a.txt", b"a").view.item
    real = vault.store.set_legal_hold

    def broken(key: str, on: bool) -> None:
        raise OSError(5, "store unreachable")
    monkeypatch.setattr(vault.store, "set_legal_hold", broken)
    with pytest.raises(StorageError, match="is placed, but .*store unreachable") as err:
        vault.place_hold(a.id, "matter")
    assert "doctor --repair" in (err.value.hint or "")
    [h] = vault.holds()                                     # the vault's hold stands
    assert not vault.store.head(a.object_key).legal_hold
    monkeypatch.setattr(vault.store, "set_legal_hold", real)
    rep = vault.doctor()
    assert rep["unheld_payloads"] == [a.id]
    rep = vault.doctor(repair=True)
    assert f"legal hold of item {a.id} set" in rep["repaired"]
    assert vault.store.head(a.object_key).legal_hold
    monkeypatch.setattr(vault.store, "set_legal_hold", broken)
    with pytest.raises(StorageError, match="is released, but the store kept"):
        vault.release_hold(h.hold.id, "settled")
    monkeypatch.setattr(vault.store, "set_legal_hold", real)
    assert vault.doctor()["stale_holds"] == [a.id]
    vault.doctor(repair=True)
    assert not vault.store.head(a.object_key).legal_hold
    with Session(vault.engine) as s:
        assert s.get(EvidenceItem, a.id) is not None


def test_nothing_destroyed_can_be_held(vault: Vault, engagement: str) -> None:
    a = ingest_one(vault, engagement, "a.txt", b"a").view.item
    with Session(vault.engine) as s:    # as the destruction job leaves them
        row = s.get(EvidenceItem, a.id)
        eng = vault.engagement(engagement)[0]
        assert row is not None
        row.state = "destroyed"
        eng.destroyed_at = eng.created_at
        s.add_all([row, eng])
        s.commit()
    with pytest.raises(InvalidInput, match="was destroyed: there is nothing to hold"):
        vault.place_hold(a.id, "matter")
    with pytest.raises(InvalidInput, match="engagement 'acme-2026' was destroyed"):
        vault.place_hold(engagement, "matter")
    assert vault.retention_status(engagement) == []        # a tombstone has no date


def test_a_batch_of_small_files_into_a_held_engagement_is_held_with_its_years(
        vault: Vault, engagement: str) -> None:
    """Several files at once take the batched ingest: each payload gets the engagement's
    retention years and, under an engagement hold, the store's legal-hold flag."""
    from tests.conftest import src
    from vault.service import IngestOptions
    vault.complete_engagement(engagement, date(2026, 6, 30))
    vault.set_retention(engagement, 6)
    vault.place_hold(engagement, "matter 3")
    results = vault.ingest(engagement, [src(f"f{i}.txt", f"file {i}\n".encode())
                                        for i in range(5)], IngestOptions())
    items = [r.view.item for r in results]  # type: ignore[union-attr]
    assert len(items) == 5
    for it in items:
        info = vault.store.head(it.object_key)
        assert info.legal_hold
        assert info.retain_until == destruction_date(date(2026, 6, 30), it.ingested_at, 6)
