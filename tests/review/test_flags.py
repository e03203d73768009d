"""Scanning at ingest: flags (never the clear value), quarantine, and the reviewer's decisions."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from tests.conftest import Result, ingest_one
from vault.errors import InvalidInput, NotFound, PermissionDenied
from vault.evidence.lifecycle import quarantines
from vault.evidence.pipeline import BLOCK_SIZE
from vault.metadata.models import AuditEvent, EvidenceItem, Flag
from vault.pii import Scanner
from vault.pii.feed import ScanFeed
from vault.service import IngestOptions, Vault

PAN = "4111111111111111"
PAN2 = "5500005555555559"
MASKED = "411111******1111"


def _log(*lines: str) -> bytes:
    return "\n".join(lines).encode() + b"\n"


def _dump(vault: Vault) -> str:
    """Every value of every table, as text (to look for clear values)."""
    out = []
    with vault.engine.connect() as c:
        for table in sa.inspect(c).get_table_names():
            for row in c.execute(sa.text(f'SELECT * FROM "{table}"')):
                out.append(" ".join(v.decode("latin-1") if isinstance(v, bytes) else str(v)
                                    for v in row))
    return "\n".join(out)


def test_card_data_quarantines_and_flags_keep_only_masked_values(vault: Vault,
                                                                 engagement: str) -> None:
    r = ingest_one(vault, engagement, "gw.log",
                   _log("GET /status 200", f"auth card={PAN} amount=10",
                        f"auth card={PAN} amount=11", "contact ops@example.com"))
    assert r.quarantined and r.view.item.state == "quarantined"
    assert r.flags == {"pan": 1, "email": 1}
    flags = vault.flags(engagement)
    pan = [f for f in flags if f.flag.kind == "pan"]
    assert [(f.flag.masked, f.flag.line, f.flag.occurrences, f.flag.state) for f in pan] == [
        (MASKED, 2, 2, "open")]
    assert flags[0].flag.kind == "pan"  # card data first
    assert all(f.flag.created_at.tzinfo is not None and f.flag.item_id == r.view.item.id
               and f.flag.created_at > r.view.item.ingested_at for f in flags)
    dump = _dump(vault)
    assert PAN not in dump and "ops@example.com" not in dump
    assert MASKED in dump
    with Session(vault.engine) as s:
        ev = s.exec(select(AuditEvent).where(AuditEvent.action == "item.ingest")).one()
    assert json.loads(ev.detail or "{}")["flags"] == {"pan": 1, "email": 1}


def test_flag_timestamps_are_stored_as_the_orm_stores_them(vault: Vault, engagement: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Flags are inserted through the driver: their timestamp text must be the ORM's (SQL
    comparisons and sorting between tables depend on it), even on a whole second."""
    from datetime import UTC, datetime
    monkeypatch.setattr(vault, "clock", lambda: datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    ingest_one(vault, engagement, "gw.log", _log(f"card {PAN}"))
    with vault.engine.connect() as c:
        flag_at = c.execute(sa.text("SELECT created_at FROM flag")).scalar_one()
        item_at = c.execute(sa.text("SELECT ingested_at FROM evidence_item")).scalar_one()
    assert flag_at == item_at == "2026-03-01 12:00:00.000000"


def test_bulk_flag_insert_restores_the_page_cache(vault: Vault, engagement: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Over 1,000 flags are inserted with a bigger SQLite page cache, then put back as it was."""
    import vault.review.flags as flagging
    monkeypatch.setattr(flagging, "MAX_OTHER_FLAGS_PER_KIND", 2000)
    lines = [f"client 10.{i // 250}.{i % 250}.7 ok" for i in range(1100)]
    r = ingest_one(vault, engagement, "busy.log", _log(*lines))
    assert r.flags == {"ip_address": 1100}
    with vault.engine.connect() as c:  # the pooled connection the insert used
        assert c.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
        assert c.exec_driver_sql("SELECT count(*) FROM flag").scalar() == 1100


def test_bulk_flag_ids_ascend_in_insertion_order(vault: Vault, engagement: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The flags' random ids are handed out sorted (the primary-key index takes them in
    order), while the rows keep the order in which their values were first seen."""
    import vault.review.flags as flagging
    monkeypatch.setattr(flagging, "MAX_OTHER_FLAGS_PER_KIND", 2000)
    lines = [f"client 10.{i // 250}.{i % 250}.7 ok" for i in range(1100)]
    ingest_one(vault, engagement, "busy.log", _log(*lines))
    with vault.engine.connect() as c:
        rows = c.exec_driver_sql("SELECT id, line FROM flag ORDER BY rowid").all()
    assert len(rows) == 1100
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert [r[1] for r in rows] == list(range(1, 1101))


def test_pii_without_card_data_is_flagged_but_not_quarantined(vault: Vault,
                                                             engagement: str) -> None:
    r = ingest_one(vault, engagement, "notes.txt", b"mail ops@example.com\n")
    assert r.view.item.state == "active" and r.flags == {"email": 1}
    assert [f.flag.state for f in vault.flags(engagement, open_only=True)] == ["open"]


def test_clean_file_has_no_flags(vault: Vault, engagement: str) -> None:
    r = ingest_one(vault, engagement, "clean.txt", b"nothing to see here\n")
    assert r.view.item.state == "active" and r.flags == {}
    assert vault.flags(engagement) == []


def test_same_value_is_recognised_across_files_by_its_keyed_hash(
        vault: Vault, engagement: str) -> None:
    ingest_one(vault, engagement, "a.log", _log(f"card {PAN}"))
    ingest_one(vault, engagement, "b.log", _log("x", f"card {PAN}", f"card {PAN2}"))
    other = vault.create_engagement("Other", client="c", standard="pci-dss-4.0.1").name
    ingest_one(vault, other, "c.log", _log(f"card {PAN}"))
    mine = [f.flag for f in vault.flags(engagement) if f.flag.masked == MASKED]
    theirs = [f.flag for f in vault.flags(other)]
    assert len(mine) == 2 and mine[0].value_hash == mine[1].value_hash
    assert len(mine[0].value_hash) == 64
    assert theirs[0].value_hash != mine[0].value_hash  # keyed per engagement


def test_value_hash_is_the_same_for_text_big_text_and_pdf(vault: Vault, engagement: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Text streams are reduced to distinct values in clear and only the kept ones are hashed;
    PDF pages carry the hash from the scanner: one value, one hash, whatever the path."""
    import vault.pii.scanner as scanner_mod
    from tests.pii.media_corpus import pdf_document
    from vault.pii.model import keyed_hash
    from vault.review.flags import flag_hash_key
    monkeypatch.setattr(scanner_mod, "PROCESS_MIN_BYTES", 1 << 16)  # the worker processes
    ingest_one(vault, engagement, "small.log", _log(f"card {PAN}"))
    ingest_one(vault, engagement, "big.log", b"filler line\n" * 20_000 + _log(f"card {PAN}"))
    ingest_one(vault, engagement, "doc.pdf", pdf_document([[f"Card {PAN}"]]))
    hashes = {f.item_name: f.flag.value_hash for f in vault.flags(engagement)}
    assert set(hashes) == {"small.log", "big.log", "doc.pdf"}
    with Session(vault.engine) as s:
        key = vault.engagement_identity(s, s.exec(select(EvidenceItem)).first().key_id)
    eng_id = vault.engagement(engagement)[0].id
    assert set(hashes.values()) == {keyed_hash(flag_hash_key(key, eng_id), PAN)}


def test_a_big_file_is_scanned_in_the_workers_from_its_first_block(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest tells the scanner the file's size: no chunk of a big file is scanned on threads
    in the ingesting process (which therefore never compiles a Hyperscan database)."""
    import vault.pii.scanner as scanner_mod
    monkeypatch.setattr(scanner_mod, "PROCESS_MIN_BYTES", 2 << 20)  # (first chunk: 1 MiB)
    r = ingest_one(vault, engagement, "big.log", b"filler line\n" * 250_000 + _log(f"card {PAN}"))
    assert r.flags == {"pan": 1}
    scanner = vault._scanners[vault.engagement(engagement)[0].id]  # the content's scanner
    assert scanner._pool is not None and scanner._hs_engine is None


def test_pan_across_the_pipeline_block_boundary_is_found(vault: Vault,
                                                         engagement: str) -> None:
    pad = b"x" * (BLOCK_SIZE - 8) + b" "
    r = ingest_one(vault, engagement, "big.log", pad + PAN.encode() + b" end\n")
    assert r.flags == {"pan": 1} and r.quarantined


def test_duplicate_ingest_keeps_the_first_flags(vault: Vault, engagement: str) -> None:
    data = _log(f"card {PAN}")
    ingest_one(vault, engagement, "a.log", data)
    again = ingest_one(vault, engagement, "a-copy.log", data)
    assert again.duplicate and again.flags == {}
    assert len(vault.flags(engagement)) == 1


def test_decisions_lift_the_quarantine_only_when_every_card_flag_is_resolved(
        vault: Vault, engagement: str) -> None:
    r = ingest_one(vault, engagement, "two.log", _log(f"a {PAN}", f"b {PAN2}"))
    first, second = (f.flag for f in vault.flags(engagement))
    res = vault.resolve_flag(first.id, "false_positive", "a test card from the vendor's docs")
    assert res.item_state == "quarantined"
    assert res.flags[0].flag.state == "false_positive"
    res = vault.resolve_flag(second.id[:8], "retain", "needed to show the PAN is in clear")
    assert res.item_state == "active"
    assert vault.item(r.view.item.id).item.state == "active"
    assert vault.flags(engagement, open_only=True) == []
    done = vault.flags(engagement)
    assert {(f.flag.state, f.resolved_by) for f in done} == {
        ("false_positive", "alice"), ("retained", "alice")}
    with Session(vault.engine) as s:
        evs = s.exec(select(AuditEvent).where(AuditEvent.action == "flag.resolve")).all()
    details = [json.loads(e.detail or "{}") for e in evs]
    assert [d["decision"] for d in details] == ["false_positive", "retained"]
    assert details[1]["reason"] == "needed to show the PAN is in clear"
    assert details[1]["item_state"] == "active"


def test_decision_errors(vault: Vault, engagement: str) -> None:
    ingest_one(vault, engagement, "c.log", _log(f"card {PAN}"))
    [f] = vault.flags(engagement)
    with pytest.raises(InvalidInput, match="needs a reason"):
        vault.resolve_flag(f.flag.id, "retain", "  ")
    with pytest.raises(InvalidInput, match="contains card data"):
        vault.resolve_flag(f.flag.id, "retain", f"it is {PAN}")
    with pytest.raises(InvalidInput, match="unknown decision"):
        vault.resolve_flag(f.flag.id, "ignore", "x")
    with pytest.raises(NotFound):
        vault.resolve_flag("abcdef12", "retain", "x")
    with pytest.raises(InvalidInput, match="not a flag id"):
        vault.resolve_flag("zz", "retain", "x")
    vault.resolve_flag(f.flag.id, "retain", "kept")
    with pytest.raises(InvalidInput, match="already resolved"):
        vault.resolve_flag(f.flag.id, "false_positive", "changed my mind")
    assert PAN not in _dump(vault)


def test_viewer_may_list_but_not_decide(vault: Vault, engagement: str,
                                        make_vault: Callable[..., Vault]) -> None:
    from vault.age import X25519Identity
    ingest_one(vault, engagement, "c.log", _log(f"card {PAN}"))
    bob_id = X25519Identity.generate()
    vault.add_user("bob", str(bob_id.recipient))
    vault.add_member(engagement, "bob", "viewer")
    bob = make_vault(bob_id, "bob")
    [f] = bob.flags(engagement)
    with pytest.raises(PermissionDenied):
        bob.resolve_flag(f.flag.id, "retain", "x")
    assert vault.flags(engagement)[0].flag.state == "open"


# -- the feed ---------------------------------------------------------------------------------


def _blocks(n: int, size: int = 1024) -> Iterator[bytes]:
    for i in range(n):
        yield bytes([65 + i % 26]) * size


def test_feed_sees_exactly_the_bytes_and_rewinds_within_the_head() -> None:
    seen: list[bytes] = []

    def scan(source: Any, scanner: Scanner) -> Iterator[Any]:
        with source.open() as f:
            head = f.read(100)
            f.seek(0)
            seen.append(head)
            seen.append(f.read())
        return iter(())

    feed = ScanFeed(Scanner(), "x", scan=scan)
    blocks = list(_blocks(50))
    for b in blocks:
        feed.feed(b)
    out = feed.finish()
    assert out.drafts == [] and out.error is None
    assert seen == [blocks[0][:100], b"".join(blocks)]


def test_block_stream_hands_over_whole_blocks_without_copying() -> None:
    """The scanner's reads of a block's size or more get the fed block object itself; reads
    within a block (the head, then a rewind) get exactly the bytes."""
    import queue

    from vault.pii.feed import _BlockStream
    q: queue.Queue[bytes | None] = queue.Queue()
    blocks = [bytes([65 + i]) * 1000 for i in range(3)]
    for b in blocks:
        q.put(b)
    q.put(None)
    s = _BlockStream(q)
    assert s.read(10) == blocks[0][:10]
    assert s.seek(0) == 0
    first = s.read(4096)
    assert first is blocks[0]
    assert s.read(1000) is blocks[1]
    assert s.read(300) == blocks[2][:300] and s.tell() == 2300
    assert s.read(5000) == blocks[2][300:]
    assert s.read(5000) == b"" and s.read() == b""


def test_a_failing_scan_never_blocks_the_pipeline_and_becomes_an_unscannable_flag() -> None:
    def scan(source: Any, scanner: Scanner) -> Iterator[Any]:
        with source.open() as f:
            f.read(10)
        raise ValueError(f"broken image with {PAN} inside")  # content must not leak

    feed = ScanFeed(Scanner(), "x", depth=1, scan=scan)
    done = threading.Event()

    def produce() -> None:
        for b in _blocks(500):
            feed.feed(b)
        done.set()
    t = threading.Thread(target=produce)
    t.start()
    t.join(timeout=20)
    assert done.is_set(), "the producer blocked on a dead scanner"
    out = feed.finish()
    assert quarantines(out.counts())
    [d] = out.drafts
    assert d.kind == "unscannable" and PAN not in d.masked and "ValueError" in d.masked


def test_unscannable_item_is_quarantined(vault: Vault, engagement: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import vault.pii.scan as scan_mod

    def broken(source: Any, scanner: Scanner) -> Iterator[Any]:
        raise OSError("cannot decode")
        yield  # pragma: no cover

    monkeypatch.setattr(scan_mod, "scan_batches", broken)
    r = ingest_one(vault, engagement, "odd.bin", b"\x00\x01payload")
    assert r.quarantined and r.flags == {"unscannable": 1}
    [f] = vault.flags(engagement)
    vault.resolve_flag(f.flag.id, "false_positive", "looked at it: a firmware blob")
    assert vault.item(r.view.item.id).item.state == "active"


def test_abort_after_a_failed_ingest_leaves_nothing(vault: Vault, engagement: str) -> None:
    class Exploding(io.RawIOBase):
        def __init__(self) -> None:
            self.n = 0

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            self.n += 1
            if self.n > 3:
                raise OSError(5, "Input/output error")
            b[:4] = PAN.encode()[:4]
            return 4

    from vault.evidence.sources import Source
    [r] = vault.ingest(engagement, [Source("bad.log", None, open=lambda: Exploding())],
                       IngestOptions())
    assert isinstance(r, Exception) and "input/output error" in str(r).lower()
    with Session(vault.engine) as s:
        assert s.exec(select(EvidenceItem)).all() == []
        assert s.exec(select(Flag)).all() == []


# -- CLI ----------------------------------------------------------------------------------------


def test_cli_ingest_flags_and_resolve(initialised: Callable[..., Result], files: Path) -> None:
    run = initialised
    assert run("engagement", "create", "E", "--client", "c", "--standard",
               "pci-dss-4.0.1").code == 0
    log = files / "gw.log"
    log.write_bytes(_log(f"card={PAN}", f"card={PAN2}"))
    r = run("ingest", "E", str(log))
    assert r.code == 0 and "QUARANTINED: pan x2" in r.err + r.out.decode()
    r = run("flags", "E", "--open")
    assert r.code == 0 and MASKED in r.text and "line 1" in r.text
    flags = run("flags", "E", "--json").json()
    assert isinstance(flags, list) and {f["state"] for f in flags} == {"open"}
    r = run("flag", "resolve", flags[0]["id"], "--retain", "--reason", "needed")
    assert r.code == 0 and "retained" in r.text and "quarantined" in r.text
    r = run("flag", "resolve", flags[1]["id"], "--false-positive", "--reason", "test card",
            "--json")
    assert r.code == 0 and r.json()["item_state"] == "active"  # type: ignore[index]
    r = run("flag", "resolve", flags[1]["id"], "--retain", "--reason", "again")
    assert r.code == 2 and "already resolved" in r.err and "Traceback" not in r.err
    assert PAN not in r.err
    assert run("flags", "E", "--open", "--json").json() == []


# -- redaction ----------------------------------------------------------------------------------


def test_redact_text_writes_a_masked_version_and_shreds_the_original(
        vault: Vault, engagement: str, tmp_path: Path) -> None:
    from vault.errors import InvalidInput as Invalid
    r = ingest_one(vault, engagement, "gw.log",
                   _log(f"auth card={PAN} ok", f"auth card={PAN2} ok", "mail ops@example.com"),
                   requirements=("10.2.1",), kind="log_export")
    orig = r.view.item
    pan_flag = next(f.flag for f in vault.flags(engagement) if f.flag.masked == MASKED)
    res = vault.resolve_flag(pan_flag.id, "redact", "card numbers are not needed as evidence")
    assert res.item_state == "shredded" and res.redacted_version
    # every open flag of the original is resolved (its content is gone)
    assert {f.flag.kind: f.flag.state for f in res.flags} == {
        "pan": "redacted", "email": "redacted"}
    new = vault.item(res.redacted_version)
    assert new.item.supersedes_id == orig.id and new.item.state == "active"
    assert new.requirements == ("10.2.1",) and new.item.kind == "log_export"
    out = tmp_path / "redacted.log"
    vault.read_item(new.item.id, dest=out)
    text = out.read_text()
    assert PAN not in text and PAN2 not in text
    assert "card=411111******1111 ok" in text and "card=550000******5559 ok" in text
    assert "ops@example.com" in text  # only card data and the flag's kind are masked
    # the new version is scanned like any file: the e-mail flag is open on it, no card data
    new_flags = vault.flags(engagement, item=new.item.id)
    assert [(f.flag.kind, f.flag.state) for f in new_flags] == [("email", "open")]
    # the original: no header left, refused with a pointer to the new version
    with Session(vault.engine) as s:
        row = s.get(EvidenceItem, orig.id)
        assert row is not None and row.age_header is None and row.state == "shredded"
        actions = [e.action for e in s.exec(select(AuditEvent)).all()]
    assert actions[-3:] == ["flag.resolve", "item.shred", "item.read"]
    with pytest.raises(Invalid, match="crypto-shredded") as exc:
        vault.read_item(orig.id, dest=tmp_path / "orig.log")
    assert exc.value.hint and res.redacted_version[:12] in exc.value.hint
    assert [v.item.id for v in vault.versions(new.item.id)] == [orig.id, new.item.id]
    checked = {v.item_id: v for v in vault.verify(engagement=engagement)}
    assert checked[orig.id].ok and "shredded" in (checked[orig.id].problem or "")
    assert checked[new.item.id].ok and checked[new.item.id].problem is None
    with pytest.raises(Invalid, match="already resolved|redacted already"):
        vault.resolve_flag(pan_flag.id, "redact", "again")


def test_redact_refuses_what_it_cannot_mask_and_changes_nothing(vault: Vault,
                                                                engagement: str) -> None:
    from tests.pii.media_corpus import pdf_document
    pdf = pdf_document([[f"card {PAN}"]])
    r = ingest_one(vault, engagement, "statement.pdf", pdf)
    assert r.quarantined
    [f] = [f for f in vault.flags(engagement) if f.flag.kind == "pan"]
    assert f.flag.page == 1 and f.flag.line is None
    with pytest.raises(InvalidInput, match="cannot redact application/pdf"):
        vault.resolve_flag(f.flag.id, "redact", "not needed")
    assert vault.flags(engagement)[0].flag.state == "open"
    assert vault.item(r.view.item.id).item.state == "quarantined"


def test_redact_screenshot_boxes_the_card_number(vault: Vault, engagement: str) -> None:
    from tests.pii.media_corpus import render_screenshot
    from vault.pii.ocr import ocr_image
    png = render_screenshot(["Transaction 2291 approved", f"Card {PAN[:4]} {PAN[4:8]} "
                             f"{PAN[8:12]} {PAN[12:]}  amount 10.00 EUR"],
                            dark=True, size=(900, 300), font_size=20)
    r = ingest_one(vault, engagement, "console.png", png)
    assert r.quarantined and r.view.item.kind == "screenshot"
    [f] = [f for f in vault.flags(engagement) if f.flag.kind == "pan"]
    assert f.flag.masked == MASKED and f.flag.line is None and f.flag.page is None
    res = vault.resolve_flag(f.flag.id, "redact", "screenshot only needs the approval")
    assert res.redacted_version
    buf = io.BytesIO()
    vault.read_item(res.redacted_version, out=buf)
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data != png
    seen = ocr_image(data).text
    assert "approved" in seen and "1111" not in seen
    assert not [x for x in Scanner().scan_text(seen) if x.kind == "pan"]


def test_screenshot_preview_is_its_ocr_text_with_card_numbers_masked(
        vault: Vault, engagement: str) -> None:
    from tests.pii.media_corpus import render_screenshot
    png = render_screenshot(["Refund 5521 approved", f"PAN {PAN}"], dark=False,
                            size=(700, 200), font_size=20)
    r = ingest_one(vault, engagement, "refund.png", png)
    text = vault.preview(r.view.item.id)
    assert text.startswith("OCR text of the image") and "approved" in text
    assert MASKED in text and PAN not in text


def test_card_kinds_keep_more_values_than_the_other_kinds(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    import vault.review.flags as flagging
    from tests.pii.corpus import make_pan
    monkeypatch.setattr(flagging, "MAX_FLAGS_PER_KIND", 6)
    monkeypatch.setattr(flagging, "MAX_OTHER_FLAGS_PER_KIND", 3)
    rng = random.Random(4)
    pans = list(dict.fromkeys(make_pan(rng, "visa", 16) for _ in range(12)))[:8]
    lines = [f"client 10.0.{i}.1 card {p}" for i, p in enumerate(pans)]
    r = ingest_one(vault, engagement, "busy.log", _log(*lines))
    assert r.flags == {"ip_address": 3, "pan": 6} and r.quarantined
    kept = sorted(f.flag.line or 0 for f in vault.flags(engagement) if f.flag.kind == "pan")
    assert kept == [1, 2, 3, 4, 5, 6]  # the first six seen
    with Session(vault.engine) as s:
        ev = s.exec(select(AuditEvent).where(AuditEvent.action == "item.ingest")).one()
    assert json.loads(ev.detail or "{}")["flags_not_kept"] == 5 + 2


def test_many_values_of_one_kind_do_not_crowd_out_card_data(
        vault: Vault, engagement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import vault.review.flags as flagging
    monkeypatch.setattr(flagging, "MAX_OTHER_FLAGS_PER_KIND", 5)
    lines = [f"client 10.0.{i}.1 ok" for i in range(20)] + [f"card {PAN}", f"card {PAN2}"]
    r = ingest_one(vault, engagement, "busy.log", _log(*lines))
    assert r.flags == {"ip_address": 5, "pan": 2} and r.quarantined
    with Session(vault.engine) as s:
        ev = s.exec(select(AuditEvent).where(AuditEvent.action == "item.ingest")).one()
    assert json.loads(ev.detail or "{}")["flags_not_kept"] == 15


def test_redact_refuses_an_item_over_the_size_limit(vault: Vault, engagement: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import vault.service.review as redaction
    r = ingest_one(vault, engagement, "gw.log", _log(f"card {PAN}", "padding " * 10))
    [f] = [f for f in vault.flags(engagement) if f.flag.kind == "pan"]
    monkeypatch.setattr(redaction, "MAX_REDACT_BYTES", r.view.item.size - 1)
    with pytest.raises(InvalidInput, match="too large to redact in the vault") as exc:
        vault.resolve_flag(f.flag.id, "redact", "not needed")
    assert exc.value.hint and "outside the vault" in exc.value.hint
    assert vault.flags(engagement)[0].flag.state == "open"
    assert vault.item(r.view.item.id).item.state == "quarantined"
    monkeypatch.setattr(redaction, "MAX_REDACT_BYTES", r.view.item.size)  # the limit is inclusive
    assert vault.resolve_flag(f.flag.id, "redact", "not needed").item_state == "shredded"


def test_redact_with_nothing_left_to_mask_changes_nothing(vault: Vault, engagement: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.pii import redact as redaction
    r = ingest_one(vault, engagement, "gw.log", _log(f"card {PAN}"))
    [f] = [f for f in vault.flags(engagement) if f.flag.kind == "pan"]
    # as if the detectors no longer found the value (e.g. after a rule change)
    monkeypatch.setattr(redaction, "redact_bytes", lambda data, *a, **k: data)
    with pytest.raises(InvalidInput, match="nothing to redact") as exc:
        vault.resolve_flag(f.flag.id, "redact", "not needed")
    assert exc.value.hint and "false positive" in exc.value.hint
    assert vault.flags(engagement)[0].flag.state == "open"
    assert len(vault.list_items(engagement)) == 1  # no new version was stored
    assert vault.item(r.view.item.id).item.state == "quarantined"


def test_two_addresses_of_one_subnet_are_told_apart_without_revealing_them(
        vault: Vault, engagement: str) -> None:
    ingest_one(vault, engagement, "fw.log", _log("allow 10.20.1.5 ok", "allow 10.20.7.9 ok"))
    shown = sorted(f.shown for f in vault.flags(engagement) if f.flag.kind == "ip_address")
    assert len(set(shown)) == 2 and all(s.startswith("10.20.*.* #") for s in shown), shown
    assert not any("1.5" in s or "7.9" in s for s in shown)
    assert {f.as_dict()["shown"] for f in vault.flags(engagement)} == set(shown)
