"""The service facade: engagements, ingest, listing, reading back, verification."""

from __future__ import annotations

import hashlib
import io
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.conftest import ingest_one, src
from vault.age import X25519Identity
from vault.crypto.keys import unwrap_identity
from vault.errors import (
    AlreadyExists,
    IntegrityError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StorageError,
)
from vault.evidence.sources import collect
from vault.metadata.models import AuditEvent, EvidenceItem, KeyGrant
from vault.service import IngestOptions, ItemFilter, Vault


def payload_path(vault: Vault, item_id: str) -> Path:
    with Session(vault.engine) as s:
        item = s.get(EvidenceItem, item_id)
        assert item is not None
        return Path(vault.store.url.removeprefix("file://")) / item.object_key


# -- engagements -------------------------------------------------------------------------------

def test_create_list_show_engagement(vault: Vault) -> None:
    e = vault.create_engagement("acme", client="Acme", standard="pci-3ds-1.0",
                                period_start=date(2026, 1, 1), period_end=date(2026, 3, 31))
    [(listed, count)] = vault.list_engagements()
    assert (listed.id, listed.standard, count) == (e.id, "pci-3ds-1.0", 0)
    by_name, _ = vault.engagement("acme")
    by_id, _ = vault.engagement(e.id[:8])
    assert by_name.id == by_id.id == e.id


def test_engagement_name_is_unique(vault: Vault, engagement: str) -> None:
    with pytest.raises(AlreadyExists, match="exists already"):
        vault.create_engagement(engagement, client="x", standard="pci-dss-4.0.1")


@pytest.mark.parametrize("name", ["", "   ", "two\nlines", "x" * 201])
def test_bad_engagement_names(vault: Vault, name: str) -> None:
    with pytest.raises(InvalidInput, match="1-200 characters on one line"):
        vault.create_engagement(name, client="x", standard="pci-dss-4.0.1")


def test_unknown_standard_and_period(vault: Vault) -> None:
    with pytest.raises(InvalidInput, match="unknown standard 'pci-dss-3.2.1'"):
        vault.create_engagement("a", client="x", standard="pci-dss-3.2.1")
    with pytest.raises(InvalidInput, match="ends before it starts"):
        vault.create_engagement("a", client="x", standard="pci-dss-4.0.1",
                                period_start=date(2026, 2, 1), period_end=date(2026, 1, 1))


def test_unknown_engagement(vault: Vault) -> None:
    with pytest.raises(NotFound, match="no engagement 'nope'"):
        vault.engagement("nope")


def test_completion_date_only_moves_later(vault: Vault, engagement: str) -> None:
    assert vault.complete_engagement(engagement, date(2026, 6, 30)).completed_on == \
        date(2026, 6, 30)
    with pytest.raises(InvalidInput, match="may only move later"):
        vault.complete_engagement(engagement, date(2026, 6, 1))
    assert vault.complete_engagement(engagement, date(2026, 7, 1)).completed_on == \
        date(2026, 7, 1)


def test_engagement_key_is_stored_only_wrapped(vault: Vault, engagement: str,
                                               alice_id: X25519Identity) -> None:
    with Session(vault.engine) as s:
        [grant] = s.exec(select(KeyGrant)).all()
    assert b"AGE-SECRET-KEY" not in grant.wrapped
    assert grant.wrapped.startswith(b"age-encryption.org/v1\n")
    assert str(unwrap_identity(grant.wrapped, alice_id)).startswith("AGE-SECRET-KEY-1")


# -- ingest and read back ----------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 5 * 1024 * 1024 + 3])
def test_round_trip_bit_for_bit(vault: Vault, engagement: str, tmp_path: Path,
                                size: int) -> None:
    data = (hashlib.sha256(b"seed").digest() * (size // 32 + 1))[:size]
    r = ingest_one(vault, engagement, f"file-{size}.bin", data, kind="log_export")
    assert not r.duplicate
    assert (r.view.item.size, r.view.item.sha256) == (size, hashlib.sha256(data).hexdigest())
    out = tmp_path / "out.bin"
    vault.read_item(r.view.item.id, dest=out)
    assert out.read_bytes() == data
    buf = io.BytesIO()
    vault.read_item(r.view.item.id[:10], out=buf)
    assert buf.getvalue() == data


def test_metadata_recorded(vault: Vault, engagement: str) -> None:
    r = ingest_one(vault, engagement, "fw.txt", b"permit any\n", kind="config_export",
                   requirements=("1.2.1", "1.2.7", "1.2.1"), disclosure="council-only",
                   system="fw-01", description="rules")
    item = vault.item(r.view.item.id).as_dict()
    assert item["requirements"] == ["1.2.1", "1.2.7"]
    assert (item["kind"], item["disclosure"], item["system"], item["description"]) == \
        ("config_export", "council-only", "fw-01", "rules")
    assert (item["declared_mime"], item["detected_mime"]) == ("text/plain", "text/plain")
    assert item["state"] == "active" and item["supersedes"] is None
    assert item["ingested_by"] == "alice"


def test_declared_type_that_disagrees_is_flagged(vault: Vault, engagement: str) -> None:
    r = ingest_one(vault, engagement, "screenshot.png", b"MZ\x90\x00" + b"\x00" * 200)
    assert r.view.item.declared_mime == "image/png"
    assert r.view.item.detected_mime != "image/png"
    assert r.view.type_mismatch


def test_same_bytes_twice_is_idempotent(vault: Vault, engagement: str) -> None:
    first = ingest_one(vault, engagement, "a.txt", b"same")
    again = ingest_one(vault, engagement, "b.txt", b"same")
    assert again.duplicate and again.view.item.id == first.view.item.id
    assert len(vault.list_items(engagement)) == 1
    with Session(vault.engine) as s:  # no pending row or orphan payload left behind
        assert len(s.exec(select(EvidenceItem)).all()) == 1
    assert list(vault.store.list()) == [f"payload/{first.view.item.id}"]


def test_same_bytes_in_two_engagements_are_two_items(vault: Vault, engagement: str) -> None:
    vault.create_engagement("other", client="x", standard="pci-dss-4.0.1")
    a = ingest_one(vault, engagement, "a.txt", b"same")
    b = ingest_one(vault, "other", "a.txt", b"same")
    assert not b.duplicate and a.view.item.id != b.view.item.id


@pytest.mark.parametrize("name", ["../../etc/passwd", "line\nbreak.txt", "ｆｕｌｌ\u202e.txt",
                                  "/abs/path.txt", "nul\x00.txt"])
def test_odd_names_are_data(vault: Vault, engagement: str, name: str) -> None:
    r = ingest_one(vault, engagement, name, name.encode("utf-8", "surrogatepass"))
    assert vault.item(r.view.item.id).item.original_name == name
    assert list(vault.store.list()) == [f"payload/{r.view.item.id}"]


def test_unknown_requirement_kind_disclosure(vault: Vault, engagement: str) -> None:
    with pytest.raises(InvalidInput, match="requirement '13.1' is not in the PCI DSS"):
        vault.ingest(engagement, [src("a", b"a")], IngestOptions(requirements=("13.1",)))
    with pytest.raises(InvalidInput, match="unknown kind 'video'"):
        vault.ingest(engagement, [src("a", b"a")], IngestOptions(kind="video"))
    with pytest.raises(InvalidInput, match="unknown disclosure level 'public'"):
        vault.ingest(engagement, [src("a", b"a")], IngestOptions(disclosure="public"))
    assert vault.list_items(engagement) == []


def test_file_changing_during_ingest_leaves_nothing(vault: Vault, engagement: str,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "growing.log"
    path.write_bytes(b"x" * (9 << 20))
    [source] = collect([str(path)])

    def grow(_n: int) -> None:
        with open(path, "ab") as f:
            f.write(b"more")
    [r] = vault.ingest(engagement, [source], IngestOptions(), progress=grow)
    assert isinstance(r, InvalidInput)
    assert "file changed while it was ingested: growing.log" in str(r)
    assert vault.list_items(engagement) == []
    assert list(vault.store.list()) == []
    with Session(vault.engine) as s:
        assert s.exec(select(EvidenceItem)).all() == []


class _FailingStore:
    """Wraps a store; put() reads part of the stream and then fails like a full disk."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def put(self, key: str, chunks, **kw: object) -> None:  # type: ignore[no-untyped-def]
        next(iter(chunks))
        raise OSError(28, "No space left on device")


def test_store_failure_leaves_nothing_visible(vault: Vault, engagement: str) -> None:
    vault.store = _FailingStore(vault.store)  # type: ignore[assignment]
    [r] = vault.ingest(engagement, [src("a.txt", b"a" * 100)], IngestOptions())
    assert isinstance(r, StorageError)
    assert "could not store 'a.txt': No space left on device" in str(r)
    with Session(vault.engine) as s:
        assert s.exec(select(EvidenceItem)).all() == []


def test_header_in_db_plus_payload_in_store_is_an_age_file(
        vault: Vault, engagement: str, alice_id: X25519Identity, tmp_path: Path) -> None:
    """Recoverable with the standard age CLI if this software is gone."""
    data = b"evidence " * 20000
    r = ingest_one(vault, engagement, "a.txt", data)
    with Session(vault.engine) as s:
        item = s.get(EvidenceItem, r.view.item.id)
        grant = s.exec(select(KeyGrant)).one()
    assert item is not None and item.age_header is not None
    assert data[:64] not in item.age_header
    stored = payload_path(vault, item.id).read_bytes()
    assert data[:64] not in stored
    agefile = tmp_path / "item.age"
    agefile.write_bytes(item.age_header + stored)
    keyfile = tmp_path / "eng.key"
    keyfile.write_text(str(unwrap_identity(grant.wrapped, alice_id)) + "\n")
    out = subprocess.run(["age", "-d", "-i", str(keyfile), str(agefile)], check=True,
                         capture_output=True).stdout
    assert out == data
    payload_only = tmp_path / "payload.age"
    payload_only.write_bytes(stored)
    assert subprocess.run(["age", "-d", "-i", str(keyfile), str(payload_only)],
                          capture_output=True).returncode != 0


# -- tampering ---------------------------------------------------------------------------------

def _tamper(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "flip":
        data[len(data) // 2] ^= 0x01
    elif how == "truncate":
        del data[-100:]
    else:
        data += b"junk"
    path.chmod(0o600)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flip", "truncate", "append"])
def test_tampered_payload_is_refused_and_nothing_published(
        vault: Vault, engagement: str, tmp_path: Path, how: str) -> None:
    data = bytes(range(256)) * 2048  # 512 KiB: eight chunks, damage in the middle
    r = ingest_one(vault, engagement, "a.bin", data)
    _tamper(payload_path(vault, r.view.item.id), how)
    out = tmp_path / "out" / "a.bin"
    out.parent.mkdir()
    with pytest.raises(IntegrityError, match=f"item {r.view.item.id} is corrupted or was "
                                             "tampered with"):
        vault.read_item(r.view.item.id, dest=out)
    assert list(out.parent.iterdir()) == []
    sink = io.BytesIO()
    with pytest.raises(IntegrityError):
        vault.read_item(r.view.item.id, out=sink)
    assert sink.getvalue() == b""
    [bad] = [v for v in vault.verify(engagement=engagement) if not v.ok]
    assert (bad.item_id, bad.name) == (r.view.item.id, "a.bin")


def test_missing_payload_is_named(vault: Vault, engagement: str, tmp_path: Path) -> None:
    r = ingest_one(vault, engagement, "a.bin", b"abc")
    good = ingest_one(vault, engagement, "b.bin", b"def")
    payload_path(vault, r.view.item.id).unlink()
    with pytest.raises(StorageError, match="payload of item .* is missing from the store"):
        vault.read_item(r.view.item.id, dest=tmp_path / "x")
    results = {v.item_id: v for v in vault.verify(engagement=engagement)}
    assert not results[r.view.item.id].ok and results[good.view.item.id].ok


def test_tampered_header_is_refused(vault: Vault, engagement: str, tmp_path: Path) -> None:
    r = ingest_one(vault, engagement, "a.bin", b"abc")
    with Session(vault.engine) as s:
        item = s.get(EvidenceItem, r.view.item.id)
        assert item is not None and item.age_header is not None
        h = bytearray(item.age_header)
        h[30] ^= 0x01
        item.age_header = bytes(h)
        s.add(item)
        s.commit()
    with pytest.raises(IntegrityError, match="corrupted or was tampered with") as exc:
        vault.read_item(r.view.item.id, dest=tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert "its header (kept in the database) does not open" in exc.value.message
    assert exc.value.hint and exc.value.hint.startswith("restore the database from a backup")
    assert "restore its payload" not in exc.value.hint


def test_existing_output_is_not_overwritten(vault: Vault, engagement: str,
                                            tmp_path: Path) -> None:
    r = ingest_one(vault, engagement, "a.bin", b"new")
    out = tmp_path / "keep.txt"
    out.write_bytes(b"precious")
    with pytest.raises(AlreadyExists, match="output file exists"):
        vault.read_item(r.view.item.id, dest=out)
    assert out.read_bytes() == b"precious"
    vault.read_item(r.view.item.id, dest=out, overwrite=True)
    assert out.read_bytes() == b"new"


# -- listing -----------------------------------------------------------------------------------

def test_list_filters(vault: Vault, engagement: str) -> None:
    ingest_one(vault, engagement, "fw.txt", b"1", kind="config_export", requirements=("1.2.1",))
    ingest_one(vault, engagement, "shot.png", b"2", kind="screenshot", disclosure="client",
               system="pos-lane-3")
    ingest_one(vault, engagement, "note.md", b"3", kind="interview_note",
               description="Firewall review", requirements=("1.2.7",))

    def names(**kw: object) -> list[str]:
        return [v.item.original_name for v in vault.list_items(engagement, ItemFilter(**kw))]
    assert names() == ["fw.txt", "shot.png", "note.md"]
    assert names(kind="screenshot") == ["shot.png"]
    assert names(requirement="1.2.7") == ["note.md"]
    assert names(disclosure="client") == ["shot.png"]
    assert names(text="firewall") == ["note.md"]
    assert names(text="POS-LANE") == ["shot.png"]
    assert names(limit=1, offset=1) == ["shot.png"]


def test_item_ids_by_prefix(vault: Vault, engagement: str) -> None:
    r = ingest_one(vault, engagement, "a", b"a")
    assert vault.item(r.view.item.id[:6]).item.id == r.view.item.id
    with pytest.raises(NotFound):
        vault.item("ffffffffffff")
    with pytest.raises(InvalidInput, match="not an item id"):
        vault.item("../x")


# -- access and audit --------------------------------------------------------------------------

def test_non_member_cannot_read_and_is_audited(vault: Vault, engagement: str,
                                               make_vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = ingest_one(vault, engagement, "a.txt", b"secret evidence")
    bob_id = X25519Identity.generate()
    from vault.metadata.models import User
    with Session(vault.engine) as s:
        s.add(User(id="b" * 32, name="bob", recipient=str(bob_id.recipient),
                   created_at=vault.clock()))
        s.commit()
    bob = make_vault(bob_id, "bob")
    with pytest.raises(PermissionDenied, match="bob may not read the evidence of engagement"):
        bob.read_item(r.view.item.id, dest=tmp_path / "x")
    with pytest.raises(PermissionDenied):
        bob.list_items(engagement)
    assert bob.list_engagements() == []
    with Session(vault.engine) as s:
        denied = s.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert [(e.actor, e.action) for e in denied] == [("bob", "item.read"), ("bob", "item.list")]


def test_audit_chain_records_actions_without_content(vault: Vault, engagement: str,
                                                     tmp_path: Path) -> None:
    r = ingest_one(vault, engagement, "card.log", b"pan=4111111111111111 password=hunter2")
    vault.read_item(r.view.item.id, dest=tmp_path / "x", quarantined=True)
    with Session(vault.engine) as s:
        events = s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == ["engagement.create", "item.ingest",
                                          "item.read-quarantined"]
    for prev, ev in zip(events, events[1:], strict=False):
        assert ev.prev_hash == prev.hash
    dump = repr([e.model_dump() for e in events])
    assert "4111111111111111" not in dump and "hunter2" not in dump and "card.log" not in dump


def test_listing_by_a_requirement_that_does_not_exist_says_so(vault: Vault,
                                                              engagement: str) -> None:
    from vault.service import ItemFilter
    for call in (vault.list_items, vault.count_items, vault.item_page):
        with pytest.raises(InvalidInput, match="requirement '99.9' is not in the PCI DSS"):
            call(engagement, ItemFilter(requirement="99.9"))  # type: ignore[operator]
    assert vault.list_items(engagement, ItemFilter(requirement="1.2.1")) == []
