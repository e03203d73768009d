"""LocalStore.delete_many: delete() for many keys at once, refusing protected ones alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage_backends import LocalStore


def test_delete_many(tmp_path: Path) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    store = LocalStore(tmp_path / "s", clock=lambda: now)
    store.put("payload/a", [b"a"], retain_until=now - timedelta(days=1))
    store.put("payload/b", [b"b"], retain_until=now + timedelta(days=1))
    store.put("payload/c", [b"c"], legal_hold=True)
    store.put("other/d", [b"d"])
    out = store.delete_many(["payload/a", "payload/b", "payload/c", "other/d", "payload/x"])
    assert out["payload/a"] == 1 and out["other/d"] == 1 and out["payload/x"] == 0
    assert isinstance(out["payload/b"], PermissionError)
    assert isinstance(out["payload/c"], PermissionError)
    assert sorted(store.list()) == ["payload/b", "payload/c"]
    assert store.versions("payload/a") == [] and store.head("payload/c").legal_hold
    assert not (tmp_path / "s" / "other").exists()          # emptied directories pruned
    with pytest.raises(ValueError):
        store.delete_many(["payload/b", "../escape"])          # nothing removed on a bad key
    assert sorted(store.list()) == ["payload/b", "payload/c"]
