"""Rows swapped in the database together with their payloads are caught: the item id is bound
to its ciphertext (a label stanza under the header MAC), and verify checks every item against
what its ingest event recorded."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from tests.conftest import ingest_one
from tests.service.test_service import payload_path
from vault.age import header_stanzas
from vault.errors import IntegrityError
from vault.evidence.binding import ITEM_LABEL
from vault.metadata.models import EvidenceItem
from vault.service import Vault


def swap(vault: Vault, a: str, b: str, *, payloads: bool = True, headers: bool = True) -> None:
    """What an attacker with write access to the database and the store can do."""
    with Session(vault.engine) as s:
        ra, rb = s.get(EvidenceItem, a), s.get(EvidenceItem, b)
        assert ra is not None and rb is not None
        va = (ra.age_header, ra.sha256, ra.size)
        vb = (rb.age_header, rb.sha256, rb.size)
    table = EvidenceItem.__table__  # type: ignore[attr-defined]
    with vault.engine.begin() as c:  # sha256 is unique per engagement: through a free value
        c.execute(sa.update(table).where(col(EvidenceItem.id) == a).values(sha256="x"))
        for iid, (h, sha, size) in ((b, va), (a, vb)):
            values = {"sha256": sha, "size": size}
            if headers:
                values["age_header"] = h
            c.execute(sa.update(table).where(col(EvidenceItem.id) == iid).values(**values))
    if payloads:
        pa, pb = payload_path(vault, a), payload_path(vault, b)
        for p in (pa, pb):
            p.chmod(0o600)
        da, db = pa.read_bytes(), pb.read_bytes()
        pa.write_bytes(db)
        pb.write_bytes(da)


@pytest.fixture
def two(vault: Vault, engagement: str) -> tuple[str, str]:
    a = ingest_one(vault, engagement, "a.txt", b"first item's evidence\n").view.item.id
    b = ingest_one(vault, engagement, "b.txt", b"second, longer item's evidence\n").view.item.id
    return a, b


def test_the_header_names_its_item_and_age_still_decrypts(vault: Vault, two: tuple[str, str],
                                                          tmp_path: Path, alice_id) -> None:  # type: ignore[no-untyped-def]
    a, _ = two
    with Session(vault.engine) as s:
        row = s.get(EvidenceItem, a)
        assert row is not None and row.age_header is not None
        header = row.age_header
    labels = [st for st in header_stanzas(header) if st.type == ITEM_LABEL]
    assert [st.args for st in labels] == [(a,)]
    # header + payload is still a standard age file for the age CLI
    (tmp_path / "item.age").write_bytes(header + payload_path(vault, a).read_bytes())
    vault_key = tmp_path / "engagement.key"
    from vault.crypto.keys import unwrap_identity
    from vault.metadata.models import KeyGrant
    with Session(vault.engine) as s:
        grant = s.exec(sa.select(KeyGrant)).scalars().first()
        assert grant is not None
        vault_key.write_text(str(unwrap_identity(grant.wrapped, alice_id)) + "\n")
    out = subprocess.run(["age", "-d", "-i", str(vault_key), str(tmp_path / "item.age")],
                         capture_output=True, check=True)
    assert out.stdout == b"first item's evidence\n"


def test_swapped_rows_and_payloads_fail_verify_and_get(vault: Vault, two: tuple[str, str],
                                                       tmp_path: Path) -> None:
    a, b = two
    assert all(r.ok for r in vault.verify(None))
    swap(vault, a, b)
    results = {r.item_id: r for r in vault.verify(None)}
    assert not results[a].ok and not results[b].ok
    with Session(vault.engine) as s:
        now_a, now_b = s.get(EvidenceItem, a), s.get(EvidenceItem, b)
        assert now_a is not None and now_b is not None
    assert results[a].problem == (
        f"item {a[:12]}: its record says sha256 {(now_a.sha256 or '')[:16]}… and 31 bytes, "
        f"its ingest event sha256 {(now_b.sha256 or '')[:16]}… and 22 bytes (the database "
        "record was swapped or edited)")
    with pytest.raises(IntegrityError, match=f"item {a[:12]} holds the key of item {b[:12]}"):
        vault.read_item(a, dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_header_moved_alone_is_caught_by_its_label(vault: Vault, two: tuple[str, str],
                                                     tmp_path: Path) -> None:
    """Only headers and hashes swapped (payloads left): the label names the other item."""
    a, b = two
    swap(vault, a, b, payloads=False)
    with pytest.raises(IntegrityError, match="its database record was swapped or edited"):
        vault.read_item(b, dest=tmp_path / "out")
    assert all(not r.ok for r in vault.verify(None))
