"""Documents inside containers, end to end through `scan_source`: the walker finds each
document's extractor by its detected type, scans its text parts, opens its embedded files, and
names where each value was found."""

from __future__ import annotations

import io

import pytest

from tests.pii.test_containers import hits_and_notes, src, zip_of
from tests.pii.test_mail import make_eml
from tests.pii.test_office import make_docx, make_xlsx
from vault.pii import Scanner
from vault.pii.documents import extractor_for
from vault.pii.filetype import detect_mime


@pytest.fixture(scope="module")
def sc() -> Scanner:
    return Scanner(b"k")


def masked_members(hits: list) -> set[tuple[str | None, str]]:  # type: ignore[type-arg]
    return {(h.member, h.finding.masked) for h in hits if h.finding.kind == "pan"}


def test_every_document_type_has_its_extractor() -> None:
    for data in (make_docx(), make_xlsx(), make_eml()):
        assert extractor_for(detect_mime(data[:65536]).split(";")[0], data[:65536]) is not None
    assert extractor_for("text/plain", b"just some notes\n") is None


def test_a_docx_alone_is_read_as_a_document_not_a_zip(sc: Scanner) -> None:
    hits, notes = hits_and_notes(src("report.docx", make_docx()), sc)
    found = masked_members(hits)
    assert ("paragraph 2", "411111******1111") in found
    assert not any(m and m.startswith("word/") for m, _ in found)  # not walked as a zip


def test_documents_inside_a_zip_name_member_and_place(sc: Scanner) -> None:
    data = zip_of({"reports/summary.docx": make_docx(), "exports/cards.xlsx": make_xlsx(),
                   "mail/ticket.eml": make_eml()})
    hits, _ = hits_and_notes(src("evidence.zip", data), sc)
    members = {m for m, _ in masked_members(hits)}
    assert any(m.startswith("reports/summary.docx \u203a paragraph") for m in members)
    assert any(m.startswith("exports/cards.xlsx \u203a sheet") for m in members)
    assert any(m.startswith("mail/ticket.eml \u203a ") for m in members)


def test_an_email_read_as_text_by_libmagic_is_still_a_message(sc: Scanner) -> None:
    raw = (b"Subject: refund\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
           b"Content-Transfer-Encoding: base64\n\n"
           + __import__("base64").encodebytes(b"card 4111 1111 1111 1111\n"))
    hits, _ = hits_and_notes(src("ticket.txt", raw), sc)
    assert ("411111******1111") in {h.finding.masked for h in hits}


def test_through_the_ingest_feed_a_zip_of_documents_quarantines(sc: Scanner) -> None:
    from vault.evidence.lifecycle import quarantines
    from vault.pii.feed import ScanFeed
    data = zip_of({"exports/cards.xlsx": make_xlsx()})
    feed = ScanFeed(sc, "evidence.zip", size=len(data))
    buf = io.BytesIO(data)
    while block := buf.read(1 << 16):
        feed.feed(block)
    out = feed.finish()
    assert quarantines(out.counts())
    assert any((d.member or "").startswith("exports/cards.xlsx \u203a sheet")
               for d in out.drafts if d.kind == "pan")
