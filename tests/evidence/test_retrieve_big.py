"""A payload bigger than retrieve.SMALL is decrypted by a pool and hashed on a helper thread:
it reads back byte for byte, and an edited SHA-256 record is still caught."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col

from tests.conftest import ingest_one
from vault.errors import IntegrityError
from vault.evidence import retrieve
from vault.evidence.retrieve import SMALL
from vault.metadata.models import EvidenceItem
from vault.service import Vault


def test_a_big_item_reads_back_and_an_edited_hash_is_caught(vault: Vault, engagement: str,
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    data = os.urandom(SMALL + (1 << 20) + 7)
    a = ingest_one(vault, engagement, "big.bin", data).view.item.id
    tuned: list[bool] = []
    monkeypatch.setattr(retrieve, "tune_malloc", lambda: tuned.append(True))
    vault.read_item(a, dest=tmp_path / "ok")
    assert (tmp_path / "ok").read_bytes() == data
    assert tuned  # malloc set for a stream of MiB blocks on several threads
    table = EvidenceItem.__table__  # type: ignore[attr-defined]
    with vault.engine.begin() as c:
        c.execute(sa.update(table).where(col(EvidenceItem.id) == a).values(sha256="0" * 64))
    with pytest.raises(IntegrityError, match="corrupted or was tampered with"):
        vault.read_item(a, dest=tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
