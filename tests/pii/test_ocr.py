"""OCR: image loading limits, dark-mode preprocessing, track-data confusions, span -> boxes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.pii.media_corpus import render_screenshot
from vault.pii import Scanner, ocr
from vault.pii.extract import UnreadableFile
from vault.pii.ocr import OcrText, Word, fix_ocr_confusions, load_image, prepare

needs_tesseract = pytest.mark.skipif(ocr.tesseract_path() is None,
                                     reason="tesseract-ocr is not installed")


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(("data", "message"), [
    (b"", "image is corrupt or not a PNG/JPEG"),
    (b"\x7fELF\x02\x01\x01" + bytes(200), "image is corrupt or not a PNG/JPEG"),
    (_png(Image.new("RGB", (64, 64), "white"))[:60], "image is truncated or corrupt"),
])
def test_bad_images_are_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile) as exc:
        load_image(data)
    assert str(exc.value) == message


def test_other_formats_and_huge_images_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="GIF")
    with pytest.raises(UnreadableFile, match=r"^not a PNG or JPEG image \(found GIF\)$"):
        load_image(buf.getvalue())
    monkeypatch.setattr(ocr, "MAX_PIXELS", 100)
    with pytest.raises(UnreadableFile, match="image of 20x20 pixels exceeds the OCR limit"):
        load_image(_png(Image.new("L", (20, 20))))


def test_dark_screenshots_are_inverted_light_ones_are_not() -> None:
    dark, inv, scale = prepare(Image.new("RGB", (1200, 100), (20, 20, 30)))
    assert inv and dark.mode == "L" and dark.getpixel((0, 0)) > 200 and scale == 1
    light, inv, _ = prepare(Image.new("RGB", (1200, 100), (250, 250, 250)))
    assert not inv and light.getpixel((0, 0)) > 200
    small, _, scale = prepare(Image.new("RGB", (400, 100), "white"))
    assert scale == 2 and small.size == (800, 200)


@pytest.mark.parametrize(("seen", "fixed"), [
    ("x %B4111111111111111*DOE/JOHN*2912101000000000000? y",
     "x %B4111111111111111^DOE/JOHN^2912101000000000000? y"),
    ("%B4111111111111111\u201dDOE/JOHN~2912101",
     "%B4111111111111111^DOE/JOHN^2912101"),
    ("%B41111111 11111111 ~*DOE/JOHN* 2912101000?",
     "%B4111111111111111^DOE/JOHN^2912101000    ?"),
    ("t2 ;4111111111111111=2912 101000? z", "t2 ;4111111111111111=2912101000 ? z"),
    ("order B123*AB*2024 ; 12 = 3", "order B123*AB*2024 ; 12 = 3"),
])
def test_track_confusions_are_undone_in_place(seen: str, fixed: str) -> None:
    out = fix_ocr_confusions(seen)
    assert out == fixed and len(out) == len(seen)


def test_spans_map_to_word_boxes() -> None:
    words = (Word("card", 0, 0, 40, 10, 95, 1, 1, 1), Word("4111", 50, 0, 40, 10, 95, 1, 1, 1),
             Word("1111", 100, 0, 40, 10, 95, 1, 1, 1), Word("ok", 0, 20, 20, 10, 95, 1, 1, 2))
    text = "card 4111 1111\nok"
    r = OcrText(text, words, (0, 5, 10, 15), (200, 40), False, "eng")
    assert [w.text for w in r.words_in(5, 14)] == ["4111", "1111"]
    assert [w.text for w in r.words_in(3, 6)] == ["card", "4111"]
    assert r.words_in(4, 5) == [] and [w.text for w in r.words_in(15, 17)] == ["ok"]


def test_missing_tesseract_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "tesseract_path", lambda: None)
    with pytest.raises(ocr.OcrUnavailable, match="tesseract is not installed"):
        ocr.ocr_image(_png(Image.new("L", (50, 50), 255)))


@needs_tesseract
def test_dark_screenshot_pan_is_read_and_boxed() -> None:
    data = render_screenshot(["status ok", "card 4111 1111 1111 1111 exp 12/29"], dark=True,
                             size=(1000, 300))
    r = ocr.ocr_image(data)
    assert r.inverted and r.size == (1000, 300)
    [f] = [f for f in Scanner().scan_text(r.text) if f.kind == "pan"]
    assert f.masked == "411111******1111" and f.line is not None
    words = r.words_in(f.start, f.end)
    assert [w.text for w in words] == ["4111", "1111", "1111", "1111"]
    assert all(200 < w.left < 1000 and 60 < w.top < 140 for w in words)
