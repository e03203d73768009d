"""Quarantine means something on read: a quarantined item's content is read only by the roles
that decide flags, with an explicit option, audited as such; the preview stays masked."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from tests.conftest import ingest_one
from vault.age import X25519Identity
from vault.errors import InvalidInput, PermissionDenied
from vault.metadata.models import AuditEvent
from vault.service import Vault

PAN = "4111 1111 1111 1111"


@pytest.fixture
def held(vault: Vault, engagement: str) -> str:
    r = ingest_one(vault, engagement, "pay.log", f"auth ok card={PAN}\n".encode())
    assert r.quarantined
    return r.view.item.id


def last_event(vault: Vault) -> AuditEvent:
    with Session(vault.engine) as s:
        e = s.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
        assert e is not None
        return e


def test_reading_a_quarantined_item_needs_the_option(vault: Vault, held: str,
                                                     tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is quarantined: it holds card data") as exc:
        vault.read_item(held, dest=tmp_path / "out")
    assert exc.value.hint and "--quarantined" in exc.value.hint
    assert not (tmp_path / "out").exists()
    buf = io.BytesIO()
    vault.read_item(held, out=buf, quarantined=True)  # alice is the lead
    assert PAN.encode() in buf.getvalue()
    e = last_event(vault)
    assert (e.action, e.object, e.outcome) == ("item.read-quarantined", held, "ok")


def test_a_viewer_is_refused_even_with_the_option_but_sees_the_masked_preview(
        vault: Vault, engagement: str, held: str, make_vault) -> None:  # type: ignore[no-untyped-def]
    ident = X25519Identity.generate()
    vault.add_user("victor", str(ident.recipient))
    vault.add_member(engagement, "victor", "viewer")
    victor = make_vault(ident, "victor")
    with pytest.raises(PermissionDenied, match="victor may not read quarantined evidence"):
        victor.read_item(held, out=io.BytesIO(), quarantined=True)
    e = last_event(vault)
    assert (e.actor, e.action, e.outcome) == ("victor", "item.read-quarantined", "denied")
    with pytest.raises(InvalidInput, match="is quarantined"):
        victor.read_item(held, out=io.BytesIO())
    text = victor.preview(held)
    assert "411111******1111" in text and PAN not in text


def test_a_resolved_item_reads_as_usual(vault: Vault, engagement: str, held: str) -> None:
    [flag] = vault.flags(engagement)
    vault.resolve_flag(flag.flag.id, "retain", "the auditor needs the receipt as it is")
    buf = io.BytesIO()
    vault.read_item(held, out=buf)
    assert PAN.encode() in buf.getvalue()
    assert last_event(vault).action == "item.read"
