"""Redaction: masked spans in the original encoding, black boxes on images, nothing left."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.pii.media_corpus import render_screenshot
from vault.errors import InvalidInput
from vault.pii import CARD_KINDS, Scanner, ocr, scan_bytes
from vault.pii.redact import (
    boxes_for_findings,
    mask_span,
    redact_bytes,
    redact_image,
    redact_text,
)

PAN = "4111 1111 1111 1111"
TRACK = "%B4111111111111111^DOE/JOHN^2912101000000000000000?"
needs_tesseract = pytest.mark.skipif(ocr.tesseract_path() is None,
                                     reason="tesseract-ocr is not installed")


def _cards(data: bytes) -> list[str]:
    return [f.kind for f in scan_bytes(data) if f.kind in CARD_KINDS]


def test_mask_span_keeps_first6_last4_and_separators() -> None:
    assert mask_span("pan", "4111-1111-1111-1111") == "4111-11**-****-1111"
    assert mask_span("pan", "４１１１１１１１１１１１１１１１") == "４１１１１１******１１１１"
    assert mask_span("track_data", ";4111=2912?") == ";****=****?"
    assert mask_span("email", "a.b@x.fi") == "*.*@*.**"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom",
                                      "latin-1"])
def test_redact_text_in_the_original_encoding(encoding: str) -> None:
    text = f"nimi Järvinen\ncard {PAN} exp 12/29\ntrack {TRACK}\nmasked 411111******1111\n"
    if encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    findings = scan_bytes(data)
    assert sorted(f.kind for f in findings) == ["pan", "track_data"]
    out = redact_text(data, findings)
    assert len(out) == len(data) and out[:2] == data[:2]
    assert _cards(out) == []
    dec = out.decode("utf-16" if "16" in encoding else encoding)
    assert "card 4111 11** **** 1111 exp 12/29" in dec
    assert "track %" + "*" * 17 + "^***/****^" in dec and "Järvinen" in dec
    assert "masked 411111******1111" in dec


def test_undecodable_bytes_are_kept() -> None:
    data = b"caf\xc3\xa9 \xff\xfe bad\ncard " + PAN.encode() + b" \xe2\x82 end\n"
    findings = scan_bytes(data)
    out = redact_text(data, findings)
    assert out == data.replace(PAN.encode(), b"4111 11** **** 1111")


def test_redact_dot_grouped_pan_keeps_the_dots_and_the_ip() -> None:
    data = b"17;Virtanen;4111.1111.1111.1111;12,50;10.20.30.40\namex 3782.822463.10005\n"
    findings = scan_bytes(data)
    assert [f.kind for f in findings] == ["pan", "ip_address", "pan"]
    assert mask_span("pan", "4111.1111.1111.1111") == "4111.11**.****.1111"
    out = redact_text(data, [f for f in findings if f.kind in CARD_KINDS])
    assert out == (b"17;Virtanen;4111.11**.****.1111;12,50;10.20.30.40\n"
                   b"amex 3782.82****.*0005\n")
    assert _cards(out) == []


def test_findings_of_other_bytes_are_refused() -> None:
    findings = scan_bytes(f"card {PAN}\n".encode())
    with pytest.raises(InvalidInput, match="does not match the text"):
        redact_text(f"xxxxxxxxx {PAN}\n".encode(), findings)
    with pytest.raises(InvalidInput, match="outside the text"):
        redact_text(b"short", findings)


def _image(fmt: str) -> bytes:
    im = Image.new("RGB", (200, 100), "white")
    buf = io.BytesIO()
    if fmt == "PNG":
        info = PngInfo()
        info.add_text("Comment", "secret 4111111111111111")
        im.save(buf, format="PNG", pnginfo=info)
    else:
        exif = Image.Exif()
        exif[0x010E] = "secret 4111111111111111"  # ImageDescription
        im.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_redact_image_blacks_out_boxes_and_strips_metadata(fmt: str) -> None:
    data = _image(fmt)
    assert b"4111111111111111" in data
    out = redact_image(data, [(50, 40, 100, 60)], margin=3)
    im = Image.open(io.BytesIO(out))
    assert im.format == fmt and im.size == (200, 100)
    assert b"4111111111111111" not in out and not im.info.get("exif") and "Comment" not in im.info
    rgb = im.convert("RGB")
    assert max(rgb.getpixel((48, 38))) < 30 and max(rgb.getpixel((101, 61))) < 30  # margin
    assert min(rgb.getpixel((45, 50))) > 220 and min(rgb.getpixel((150, 50))) > 220


@needs_tesseract
@pytest.mark.parametrize(("fmt", "dark"), [("PNG", True), ("JPEG", False)])
def test_redacted_screenshot_has_no_card_data_left(fmt: str, dark: bool) -> None:
    lines = ["gateway log", f"card {PAN} exp 12/29", "id 20240301123456789 ok",
             f"swipe {TRACK}", "pan=5555555555554444 settled"]
    data = render_screenshot(lines, dark=dark, size=(1280, 400), fmt=fmt)
    sc = Scanner()
    before = ocr.ocr_image(data)
    cards = [f for f in sc.scan_text(before.text) if f.kind in CARD_KINDS]
    assert sorted(f.kind for f in cards) == ["pan", "pan", "track_data"]
    out = redact_image(data, boxes_for_findings(before, cards))
    after = ocr.ocr_image(out)
    assert [f for f in sc.scan_text(after.text) if f.kind in CARD_KINDS] == []
    assert "gateway log" in after.text and "20240301123456789" in after.text
    assert Image.open(io.BytesIO(out)).format == fmt


def test_redact_bytes_dispatches_by_type() -> None:
    sc = Scanner()
    out = redact_bytes(f"a\ncard {PAN}\nmail a@b.fi\n".encode(), "text/plain", sc)
    assert out == b"a\ncard 4111 11** **** 1111\nmail a@b.fi\n"
    out = redact_bytes(b"mail a@b.fi\n", "text/plain; charset=utf-8", sc, {"email"})
    assert out == b"mail *@*.**\n"
    with pytest.raises(InvalidInput, match="cannot redact application/pdf files"):
        redact_bytes(b"%PDF-1.4", "application/pdf", sc)
