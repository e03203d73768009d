"""PDF text per page in a bounded child process: corrupt, encrypted, bombs, image pages."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.pii.media_corpus import bomb_pdf, pdf_document
from vault.pii.extract import UnreadableFile
from vault.pii.pdf import PdfEncrypted, extract_pdf


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(buf, format="JPEG")
    return buf.getvalue()


@pytest.mark.parametrize("compress", [True, False])
def test_text_per_page(compress: bool) -> None:
    data = pdf_document([["first page", "card 4111 1111 1111 1111"], ["Järvinen (two)"]],
                        compress=compress)
    r = extract_pdf(data, ocr=False)
    assert r.page_count == 2 and r.complete
    assert [p.number for p in r.pages] == [1, 2]
    assert "card 4111 1111 1111 1111" in r.pages[0].text
    assert "Järvinen (two)" in r.pages[1].text and not r.pages[1].ocr


def test_encrypted_pdf_is_one_clear_error() -> None:
    with pytest.raises(PdfEncrypted) as exc:
        extract_pdf(pdf_document([["secret"]], encrypt=True))
    assert str(exc.value) == "pdf is encrypted (password protected): not scanned"


@pytest.mark.parametrize("data", [b"%PDF-1.7\n" + bytes(range(256)) * 8, b"not a pdf at all"])
def test_corrupt_pdf_is_one_clear_error(data: bytes) -> None:
    with pytest.raises(UnreadableFile) as exc:
        extract_pdf(data)
    assert str(exc.value) == "pdf is corrupt or not a pdf: not scanned"


def test_truncated_pdf_is_one_clear_error() -> None:
    data = pdf_document([["alpha page"], ["beta page"]])
    with pytest.raises(UnreadableFile, match=r"^pdf is corrupt or not a pdf: not scanned$"):
        extract_pdf(data[: len(data) - 60])  # trailer cut


def test_decompression_bomb_is_bounded() -> None:
    data = bomb_pdf(300 << 20)  # 0.9 MB that inflates to 300 MB of text operators
    assert len(data) < 2 << 20
    r = extract_pdf(data, max_memory=256 << 20)
    assert r.pages == [] and r.notes == [
        "pages from 1 not scanned: the pdf exceeded the parser's limits (256 MiB memory, "
        "120 s CPU) or crashed"]


def test_image_only_page_is_ocred_or_noted() -> None:
    data = pdf_document([["text page"], []], images={1: _jpeg()})
    seen: list[bytes] = []

    def fake_ocr(png: bytes) -> str:
        seen.append(png)
        return "card 4111 1111 1111 1111"

    r = extract_pdf(data, ocr_image=fake_ocr)
    assert r.complete and len(seen) == 1 and seen[0].startswith(b"\x89PNG")
    assert [(p.number, p.ocr) for p in r.pages] == [(1, False), (2, False), (2, True)]
    assert r.pages[2].text == "card 4111 1111 1111 1111"

    off = extract_pdf(data, ocr=False)
    assert off.notes == ["page 2 has no text layer (OCR off)"]
    capped = extract_pdf(data, max_ocr_pages=0, ocr_image=fake_ocr)
    assert capped.notes == ["page 2 has no text layer and was not OCRed (limit of 0 pages)"]
    assert len(seen) == 1


def test_page_with_a_pasted_screenshot_is_ocred_too() -> None:
    data = pdf_document([["report text with a screenshot below"]], images={0: _jpeg()})
    r = extract_pdf(data, ocr_image=lambda png: "ocr text")
    assert [(p.number, p.ocr) for p in r.pages] == [(1, False), (1, True)]


def test_oversized_pdf_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import vault.pii.pdf as pdf
    monkeypatch.setattr(pdf, "MAX_PDF_BYTES", 1 << 20)
    with pytest.raises(UnreadableFile, match=r"^pdf larger than 1 MiB: not scanned$"):
        extract_pdf(b"%PDF-1.4\n" + bytes(2 << 20))
