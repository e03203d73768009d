"""Holding a payload in the store until its destruction date: one call for a new payload, a
store that already holds it longer accepted, a store that refuses the call itself reported."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from storage_backends.local import LocalStore
from vault.errors import StorageError
from vault.metadata.models import EvidenceItem
from vault.retention.dates import destruction_date
from vault.retention.protect import protect

INGESTED = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)


class Counting:
    """A store that counts the calls protect makes (and can refuse set_retention)."""

    def __init__(self, inner: LocalStore, refuse: bool = False) -> None:
        self.inner, self.refuse, self.calls = inner, refuse, []  # type: ignore[var-annotated]

    @property
    def capabilities(self) -> frozenset[str]:
        return self.inner.capabilities

    def head(self, key: str) -> Any:
        self.calls.append("head")
        return self.inner.head(key)

    def set_retention(self, key: str, until: datetime) -> None:
        self.calls.append("set_retention")
        if self.refuse:
            raise PermissionError(13, "Access Denied", key)
        self.inner.set_retention(key, until)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = LocalStore(tmp_path / "store")
    s.put("payload/a", [b"sealed"])
    return s


def _item() -> EvidenceItem:
    return EvidenceItem(id="a" * 32, object_key="payload/a", ingested_at=INGESTED)


def test_a_new_payload_is_held_until_its_destruction_date_in_one_call(store: LocalStore
                                                                       ) -> None:
    counting = Counting(store)
    protect(counting, _item(), date(2026, 6, 30), 3)  # type: ignore[arg-type]
    assert store.head("payload/a").retain_until == destruction_date(date(2026, 6, 30),
                                                                    INGESTED, 3)
    assert counting.calls == ["set_retention"]


def test_a_store_holding_it_longer_is_left_as_it_is(store: LocalStore) -> None:
    longer = datetime(2040, 1, 1, tzinfo=UTC)
    store.set_retention("payload/a", longer)
    protect(store, _item(), None, 3)
    assert store.head("payload/a").retain_until == longer


def test_a_store_refusing_the_call_is_reported(store: LocalStore) -> None:
    with pytest.raises(StorageError, match="could not protect item aaaaaaaaaaaa with "
                                           "retention: Access Denied"):
        protect(Counting(store, refuse=True), _item(), None, 3)  # type: ignore[arg-type]
    assert store.head("payload/a").retain_until is None
