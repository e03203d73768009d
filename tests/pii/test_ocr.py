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


# -- what raises recall on screenshots (tests/bench/bench_ocr_recall.py measures it) ------------


def _w(text: str, left: int, width: int, line: int = 1, height: int = 10) -> Word:
    return Word(text, left, 0, width, height, 90, 1, 1, line)


def test_a_column_gap_is_two_spaces_and_spans_still_map_to_boxes() -> None:
    # "973722  5555 5559 6441 4305  settled": the id column is not a sixth group of the card
    words = [_w("973722", 0, 40), _w("5555", 50, 26), _w("5559", 80, 26), _w("6441", 111, 26),
             _w("4305", 141, 26), _w("settled", 177, 35), _w("next", 0, 20, line=2)]
    text, kept, offsets = ocr._assemble(words)
    assert text == "973722  5555 5559 6441 4305  settled\nnext"
    r = OcrText(text, kept, offsets, (300, 40), False, "eng")
    [f] = [f for f in Scanner().scan_text(text) if f.kind == "pan"]
    assert f.masked == "555555******4305"
    assert [w.text for w in r.words_in(f.start, f.end)] == ["5555", "5559", "6441", "4305"]
    # gaps of one size (a number in irregular groups) stay single spaces, as do small jitters
    words = [_w("371", 0, 20), _w("4496", 25, 26), _w("353", 56, 20), _w("984", 83, 20),
             _w("31", 107, 13)]
    assert ocr._assemble(words)[0] == "371 4496 353 984 31"


@pytest.mark.parametrize(("seen", "fixed"), [
    ("pan=3566-0083-0608.9585 rc=00", "pan=3566-0083-0608-9585 rc=00"),
    ("6011.1155-5338.2730", "6011.1155.5338.2730"),
    ("10.0.0.1 v1.2-3 2026-03-01 12.50", "10.0.0.1 v1.2-3 2026-03-01 12.50"),  # not chains
    ("1.2-3.4-5", "1.2-3.4-5"),  # as many of each: left alone
])
def test_a_dash_read_as_a_dot_in_a_chain_is_undone_in_place(seen: str, fixed: str) -> None:
    out = ocr.fix_separator_confusions(seen)
    assert out == fixed and len(out) == len(seen)


@needs_tesseract
def test_small_text_is_read_again_upscaled(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.pii import screenshot_corpus as scx
    scales: list[int] = []
    real = ocr._read

    def spy(exe: str, g: Image.Image, scale: int, *args: object) -> list[Word]:
        scales.append(scale)
        return real(exe, g, scale, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ocr, "_read", spy)
    lines = ["Card number: 4012 8888 8888 1881", "pan=5105105105105100 rc=00",
             "Receipt shows 411111******1111 - ok"]
    small = scx.render(lines, theme="grey", font="DejaVuSans.ttf", size=11, fmt="JPEG")
    r = ocr.ocr_image(small)
    assert scales == [1, 2]
    assert sorted(f.masked for f in Scanner().scan_text(r.text) if f.kind == "pan") == [
        "401288******1881", "510510******5100"]
    assert all(w.left + w.width <= 1280 for w in r.words)  # boxes in the image's own pixels
    scales.clear()
    ocr.ocr_image(scx.render(lines, theme="light", font="DejaVuSans.ttf", size=20, fmt="PNG"))
    assert scales == [1]  # text large enough: one reading
