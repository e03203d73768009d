"""Card data in screenshots and PDFs: recall/precision on the labelled media corpus, the
`vault scan` contract for pages and images, and bad media as one clear per-file error."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.pii.media_corpus import MediaDoc, generate, pdf_document, render_screenshot
from vault.evidence.sources import Source
from vault.pii import Scanner, ocr
from vault.pii.extract import UnreadableFile
from vault.pii.scan import IncompleteScan, ScanHit, scan_source

CARD = ("pan", "track_data")
needs_tesseract = pytest.mark.skipif(ocr.tesseract_path() is None,
                                     reason="tesseract-ocr is not installed")


def _src(name: str, data: bytes) -> Source:
    return Source(name=name, size=len(data), open=lambda: io.BytesIO(data))


@pytest.fixture(scope="module")
def corpus_hits() -> list[tuple[MediaDoc, list[ScanHit]]]:
    sc = Scanner(b"k")
    return [(d, list(scan_source(_src(d.name, d.data), sc))) for d in generate()]


@needs_tesseract
def test_card_recall_and_precision_on_media(
        corpus_hits: list[tuple[MediaDoc, list[ScanHit]]]) -> None:
    tp = fp = fn = 0
    misses = []
    for doc, hits in corpus_hits:
        want = Counter(doc.planted)
        got = Counter((h.finding.kind, h.finding.masked) for h in hits
                      if h.finding.kind in CARD)
        tp += sum((want & got).values())
        fp += sum((got - want).values())
        fn += sum((want - got).values())
        if want != got:
            misses.append((doc.name, dict(want - got), dict(got - want)))
    assert {d.mime for d, _ in corpus_hits} == {"image/png", "image/jpeg", "application/pdf"}
    assert tp + fn >= 80
    recall, precision = tp / (tp + fn), tp / (tp + fp)
    assert recall >= 0.99 and precision >= 0.99, misses


@needs_tesseract
def test_pages_and_lines_in_the_json_contract(
        corpus_hits: list[tuple[MediaDoc, list[ScanHit]]]) -> None:
    for doc, hits in corpus_hits:
        assert hits, doc.name
        for h in hits:
            d = h.as_dict()
            assert d["line"] is None
            if doc.mime == "application/pdf":
                assert isinstance(d["page"], int) and d["page"] >= 1
            else:
                assert d["page"] is None
    pages = {h.page for d, hs in corpus_hits if d.name == "scanned.pdf" for h in hs}
    assert pages == {1, 2}  # page 2 is an image only: OCRed


def test_image_pdf_without_ocr_is_reported_incomplete() -> None:
    data = pdf_document([["card 4111 1111 1111 1111"], []], images={
        1: render_screenshot(["x"], dark=False, size=(300, 200), fmt="JPEG")})
    sc = Scanner()
    hits: list[ScanHit] = []
    with pytest.raises(IncompleteScan) as exc:
        for h in scan_source(_src("a.pdf", data), sc, ocr=False):
            hits.append(h)
    assert [(h.page, h.finding.masked) for h in hits] == [(1, "411111******1111")]
    assert str(exc.value) == "scanned only in part: page 2 has no text layer (OCR off)"
    notes: list[tuple[str, str]] = []
    list(scan_source(_src("a.pdf", data), sc, ocr=False, on_note=lambda p, n: notes.append(
        (p, n))))
    assert notes == [("a.pdf", "page 2 has no text layer (OCR off)")]


_SHOT = render_screenshot(["card 4111 1111 1111 1111"], dark=False, size=(400, 200))
_JPEG = render_screenshot(["card 4111 1111 1111 1111"], dark=False, size=(400, 200), fmt="JPEG")


@pytest.mark.parametrize(("data", "message"), [
    (_SHOT[:200], "image is truncated or corrupt"),
    (_JPEG[:400], "image is truncated or corrupt"),
    (_SHOT[:33] + bytes(500), "image is corrupt or not a PNG/JPEG"),
    (pdf_document([["x"]], encrypt=True), "pdf is encrypted (password protected): not scanned"),
], ids=["png-cut", "jpeg-cut", "png-zeros", "pdf-encrypted"])
def test_bad_media_is_a_per_file_error(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile) as exc:
        list(scan_source(_src("bad", data), Scanner()))
    assert str(exc.value) == message


def test_cli_reports_bad_media_and_scans_the_rest(run: Callable[..., Result],
                                                   tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(_SHOT[:200])
    (tmp_path / "locked.pdf").write_bytes(pdf_document([["4111 1111 1111 1111"]], encrypt=True))
    (tmp_path / "ok.pdf").write_bytes(pdf_document([["intro"], ["card 4111 1111 1111 1111"]]))
    (tmp_path / "empty.png").write_bytes(b"")
    r = run("scan", str(tmp_path), "--json")
    assert r.code == 2
    rows = [json.loads(x) for x in r.text.splitlines()]
    assert [(Path(x["path"]).name, x["page"], x["line"], x["masked"]) for x in rows] == [
        ("ok.pdf", 2, None, "411111******1111")]
    errs = sorted(r.err.strip().splitlines())
    assert errs == [
        f"vault: error: cannot scan {tmp_path.name}/broken.png: image is truncated or corrupt",
        f"vault: error: cannot scan {tmp_path.name}/locked.pdf: pdf is encrypted (password "
        "protected): not scanned"]
    assert "4111111111111111" not in r.text + r.err and "Traceback" not in r.err
