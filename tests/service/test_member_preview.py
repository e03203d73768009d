"""A container's member previewed: read out of the item decrypted in memory by the scan's own
container walker, card numbers masked, shown only once the whole payload authenticated,
audited as a read (of quarantined evidence when the item is quarantined)."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from tests.conftest import ingest_one
from tests.pii.test_containers import tar_of, zip_of
from tests.service.test_service import payload_path
from vault.age import X25519Identity
from vault.errors import IntegrityError, NotFound, PermissionDenied
from vault.metadata.models import AuditEvent
from vault.service import Vault

PAN = "4111111111111111"
MASKED = "411111******1111"


def last_event(vault: Vault) -> AuditEvent:
    with Session(vault.engine) as s:
        e = s.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
        assert e is not None
        return e


def seq_of(vault: Vault, item: str, path: str, nth: int = 0) -> int:
    return [m["seq"] for m in vault.item_members(item) if m["path"] == path][nth]


def _archive() -> bytes:
    inner = zip_of({"settle.csv": f"id,pan\n1,{PAN}\n".encode()})
    return zip_of({"logs/gw.log": f"2026-01-01 auth card={PAN} ok\n".encode(),
                   "notes.txt": b"nothing to see\n", "nested.zip": inner,
                   "utf16.txt": "card 4111 1111 1111 1111\n".encode("utf-16"),
                   "blob.bin": b"\x00\x01binary" * 100})


def test_a_text_member_is_shown_with_card_numbers_masked(vault: Vault, engagement: str,
                                                         settings) -> None:  # type: ignore[no-untyped-def]
    r = ingest_one(vault, engagement, "export.zip", _archive())
    item = r.view.item.id
    assert r.quarantined
    tmp = settings.home / "tmp"
    before = sorted(os.listdir(tmp)) if tmp.exists() else []
    text = vault.member_preview(item, seq_of(vault, item, "logs/gw.log"))
    assert text == f"2026-01-01 auth card={MASKED} ok\n"
    e = last_event(vault)  # alice is the lead: a quarantined item's content is hers to read
    assert (e.action, e.object, e.outcome) == ("item.read-quarantined", item, "ok")
    assert json.loads(e.detail or "{}") == {"member": "logs/gw.log", "preview": True}
    # nested, UTF-16, binary
    assert vault.member_preview(item, seq_of(vault, item, "nested.zip/settle.csv")) == \
        f"id,pan\n1,{MASKED}\n"
    assert MASKED in vault.member_preview(item, seq_of(vault, item, "utf16.txt"))
    assert vault.member_preview(item, seq_of(vault, item, "blob.bin")).startswith(
        "no text preview: binary content (")
    assert (sorted(os.listdir(tmp)) if tmp.exists() else []) == before  # nothing on disk


def test_the_head_of_a_long_member_and_of_a_tar_gz(vault: Vault, engagement: str) -> None:
    log = "".join(f"line {i} card={PAN}\n" for i in range(5000)).encode()
    r = ingest_one(vault, engagement, "logs.tgz", tar_of({"a/gw.log": log}, "w:gz"))
    item = r.view.item.id
    text = vault.member_preview(item, seq_of(vault, item, "a/gw.log"), max_bytes=1000)
    assert text.startswith(f"line 0 card={MASKED}\n") and PAN not in text
    assert text.endswith("\n… (first 1000 bytes shown)")


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_members_of_the_same_name_are_told_apart(vault: Vault, engagement: str) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("dup.txt", "first\n")
        zf.writestr("dup.txt", "second\n")
    r = ingest_one(vault, engagement, "dup.zip", buf.getvalue())
    item = r.view.item.id
    assert [vault.member_preview(item, seq_of(vault, item, "dup.txt", n)) for n in (0, 1)] == \
        ["first\n", "second\n"]


def test_a_member_never_read_is_not_read_now(vault: Vault, engagement: str) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("link")
        ti.type = tarfile.SYMTYPE
        ti.linkname = "/etc/shadow"
        tf.addfile(ti)
        data = b"clean\n"
        ti = tarfile.TarInfo("ok.txt")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    r = ingest_one(vault, engagement, "t.tar", buf.getvalue())
    item = r.view.item.id
    assert vault.member_preview(item, seq_of(vault, item, "link")) == \
        "no preview: symbolic link (not followed)"
    assert vault.member_preview(item, seq_of(vault, item, "ok.txt")) == "clean\n"
    with pytest.raises(NotFound, match="has no member number 99"):
        vault.member_preview(item, 99)


def test_who_may_preview(vault: Vault, engagement: str, make_vault) -> None:  # type: ignore[no-untyped-def]
    ident = X25519Identity.generate()
    vault.add_user("victor", str(ident.recipient))
    vault.add_member(engagement, "victor", "viewer")
    victor = make_vault(ident, "victor")
    held = ingest_one(vault, engagement, "held.zip", _archive()).view.item.id
    with pytest.raises(PermissionDenied, match="victor may not read quarantined evidence"):
        victor.member_preview(held, seq_of(vault, held, "notes.txt"))
    e = last_event(vault)
    assert (e.actor, e.action, e.outcome) == ("victor", "item.read-quarantined", "denied")
    clean = ingest_one(vault, engagement, "clean.zip", zip_of({"a.txt": b"hello\n"}))
    assert not clean.quarantined
    item = clean.view.item.id
    assert victor.member_preview(item, seq_of(vault, item, "a.txt")) == "hello\n"
    e = last_event(vault)
    assert (e.actor, e.action, e.outcome) == ("victor", "item.read", "ok")


def test_a_tampered_payload_shows_nothing(vault: Vault, engagement: str) -> None:
    filler = os.urandom(300_000)  # stored: the member is read before the damage
    data = zip_of({"a.txt": f"card {PAN}\n".encode(), "filler.bin": filler}, zipfile.ZIP_STORED)
    item = ingest_one(vault, engagement, "t.zip", data).view.item.id
    path: Path = payload_path(vault, item)
    raw = bytearray(path.read_bytes())
    raw[-1000] ^= 1
    path.chmod(0o600)
    path.write_bytes(bytes(raw))
    with pytest.raises(IntegrityError, match="corrupted or was tampered with"):
        vault.member_preview(item, seq_of(vault, item, "a.txt"))
    e = last_event(vault)
    assert (e.action, e.outcome) == ("item.read-quarantined", "integrity-failure")


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_big_zip_read_member_by_member(vault: Vault, engagement: str, method: int,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A zip over the in-memory limit is read from its local headers, at ingest and for the
    preview alike (here the limit is 0); written as a stream, its sizes follow each member."""
    from tests.pii.test_containers import _Pipe
    from vault.pii import containers as cont
    monkeypatch.setattr(cont, "MAX_ZIP_IN_MEMORY", 0)
    out = _Pipe()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, text in (("a.log", "first\n" * 20_000), ("b.log", f"card {PAN}\n")):
            with zf.open(name, "w") as w:
                w.write(text.encode())
    r = ingest_one(vault, engagement, "stream.zip", bytes(out.data))
    item = r.view.item.id
    assert [(m["path"], m["note"]) for m in vault.item_members(item)] == [
        ("a.log", None), ("b.log", None)]
    assert vault.member_preview(item, seq_of(vault, item, "b.log")) == f"card {MASKED}\n"
