"""Seeded labelled media corpus: screenshots (PNG/JPEG, light/dark, up to 1920x1080) and PDFs
(text pages, an image-only page) with planted card data and look-alikes.

Each document records its planted card items as (kind, masked) — ``masked`` is the scanner's
first-6/last-4 form of the PAN, also for track data — so findings from OCR or PDF text can be
matched without character offsets. Look-alikes (masked PANs, timestamps, order ids, bad Luhn,
IBANs) are mixed in and must not be reported. PDFs are written by a small hand-made writer
(standard Helvetica font, WinAnsi text, optional DCT image), so no PDF library is needed.
Test-only: every value is synthetic.
"""

from __future__ import annotations

import io
import random
import zlib
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from tests.pii.corpus import group, lookalike, make_pan, track1, track2
from vault.pii.model import mask_pan

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
FONTS = {"sans": FONT_DIR + "DejaVuSans.ttf", "mono": FONT_DIR + "DejaVuSansMono.ttf"}


@dataclass
class MediaDoc:
    name: str
    mime: str
    data: bytes
    planted: list[tuple[str, str]] = field(default_factory=list)  # (kind, masked)
    lines: list[str] = field(default_factory=list)  # the text as drawn/written


# ---------------------------------------------------------------- text content

_FILLER = [
    "2024-03-{d:02d} 12:{m:02d}:07 INFO gateway auth ok stan={s} rrn={r}",
    "Asiakas Järvinen soitti maksusta, tilaus ORD-2024-{s}",
    "Firewall rule 1042 permit tcp 10.0.{d}.5 any eq 443",
    "Review of requirement 3.4.1: PAN rendered unreadable in logs",
    "amount=12.{m:02d} EUR terminal T{s} batch {d}",
]


def _filler(rng: random.Random) -> str:
    return rng.choice(_FILLER).format(d=rng.randint(1, 28), m=rng.randint(0, 59),
                                      s=rng.randint(100000, 999999),
                                      r=rng.randint(10**11, 10**12 - 1))


def _positive(rng: random.Random, k: int) -> tuple[str, tuple[str, str]]:
    """One line holding one planted card item, and its label."""
    brands = ["visa", "mastercard", "amex", "discover", "jcb", "diners", "unionpay", "maestro"]
    pan = make_pan(rng, brands[k % len(brands)])
    kind = k % 5
    if kind == 3:
        return f"swipe {track1(pan, rng)}", ("track_data", mask_pan(pan))
    if kind == 4:
        return f"track2 {track2(pan, rng)}", ("track_data", mask_pan(pan))
    shown = pan if kind == 0 else group(pan, " " if kind == 1 else "-")
    label = rng.choice(["card", "PAN", "Kortti", "cardNumber:", "pan="])
    return f"{label} {shown} exp {rng.randint(1, 12):02d}/{rng.randint(26, 31)}", (
        "pan", mask_pan(pan))


def _negative(rng: random.Random) -> str:
    return f"ref {lookalike(rng)} " + rng.choice(["ok", "declined", "masked", "settled"])


def content(rng: random.Random, n_lines: int, n_pos: int, k0: int = 0,
            ) -> tuple[list[str], list[tuple[str, str]]]:
    """``n_lines`` lines with ``n_pos`` planted card items and as many look-alikes."""
    lines = [_filler(rng) for _ in range(n_lines)]
    labels = []
    slots = rng.sample(range(n_lines), min(n_lines, 2 * n_pos))
    for j, i in enumerate(slots):
        if j < n_pos:
            lines[i], lab = _positive(rng, k0 + j)
            labels.append(lab)
        else:
            lines[i] = _negative(rng)
    return lines, labels


# ---------------------------------------------------------------- screenshots

def render_screenshot(lines: list[str], *, dark: bool, size: tuple[int, int] = (1920, 1080),
                      font: str = "mono", font_size: int = 16, fmt: str = "PNG",
                      columns: int = 1) -> bytes:
    """A console/admin-page style screenshot: a title bar, a side bar, text in ``columns``."""
    bg, fg, bar = (((30, 30, 36), (215, 218, 224), (50, 50, 62)) if dark
                   else ((255, 255, 255), (25, 25, 25), (225, 230, 238)))
    im = Image.new("RGB", size, bg)
    d = ImageDraw.Draw(im)
    f = ImageFont.truetype(FONTS[font], font_size)
    small = ImageFont.truetype(FONTS["sans"], 14)
    d.rectangle((0, 0, size[0], 40), fill=bar)
    d.text((16, 12), "Payment gateway console - transactions", font=small, fill=fg)
    side = min(220, size[0] // 6)
    d.rectangle((0, 40, side, size[1]), fill=bar)
    for i, item in enumerate(["Dashboard", "Transactions", "Settings", "Users"]):
        d.text((16, 60 + 30 * i), item, font=small, fill=fg)
    col_w = (size[0] - side - 40) // columns
    step = font_size + 10
    per_col = max(1, (size[1] - 70) // step)
    for i, line in enumerate(lines):
        c, r = divmod(i, per_col)
        if c >= columns:
            raise ValueError("too many lines for the screenshot")
        d.text((side + 20 + c * col_w, 60 + r * step), line, font=f, fill=fg)
    buf = io.BytesIO()
    if fmt == "JPEG":
        im.save(buf, format="JPEG", quality=85)
    else:
        im.save(buf, format="PNG")
    return buf.getvalue()


def screenshots(seed: int = 7) -> list[MediaDoc]:
    """Six screenshots: PNG and JPEG, light and dark, 1920x1080 and smaller, two fonts."""
    rng = random.Random(seed)
    specs = [  # (name, fmt, dark, size, font, font_size, lines, positives, columns)
        ("light-1080p.png", "PNG", False, (1920, 1080), "mono", 16, 36, 10, 1),
        ("dark-1080p.png", "PNG", True, (1920, 1080), "mono", 16, 36, 10, 1),
        ("light-1080p.jpg", "JPEG", False, (1920, 1080), "sans", 17, 34, 8, 1),
        ("dark-1080p.jpg", "JPEG", True, (1920, 1080), "sans", 17, 34, 8, 1),
        ("dark-1440x900.png", "PNG", True, (1440, 900), "mono", 15, 28, 6, 1),
        ("light-800x600.jpg", "JPEG", False, (800, 600), "sans", 14, 20, 4, 1),
    ]
    out, k = [], 0
    for name, fmt, dark, size, font, fs, n, npos, cols in specs:
        lines, labels = content(rng, n, npos, k)
        k += npos
        data = render_screenshot(lines, dark=dark, size=size, font=font, font_size=fs, fmt=fmt,
                                 columns=cols)
        out.append(MediaDoc(name, "image/png" if fmt == "PNG" else "image/jpeg", data, labels,
                            lines))
    return out


# ---------------------------------------------------------------- PDFs

def _pdf_str(s: str) -> bytes:
    raw = s.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_document(pages: list[list[str]], *, images: dict[int, bytes] | None = None,
                 compress: bool = True, encrypt: bool = False,
                 raw_content: dict[int, bytes] | None = None) -> bytes:
    """A minimal valid PDF: one Helvetica text page per item of ``pages`` (lines top-down).

    ``images`` maps a page index to a JPEG drawn full-page (an image-only scan if its lines are
    empty); ``raw_content`` replaces a page's content stream (uncompressed bytes, compressed
    here when ``compress``); ``encrypt`` adds a Standard security handler whose user password
    is not empty (so the file cannot be opened without it).
    """
    images = images or {}
    raw_content = raw_content or {}
    objs: list[bytes] = []

    def add(body: bytes) -> int:
        objs.append(body)
        return len(objs)

    catalog = add(b"")
    pages_id = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
               b"/Encoding /WinAnsiEncoding >>")
    kids = []
    for i, lines in enumerate(pages):
        ops = [b"BT /F1 10 Tf 14 TL 50 800 Td"]
        for line in lines:
            ops.append(_pdf_str(line) + b" Tj T*")
        ops.append(b"ET")
        xobj = b""
        if i in images:
            im = Image.open(io.BytesIO(images[i]))
            img = add(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                      b"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode "
                      b"/Length %d >>\nstream\n" % (im.width, im.height, len(images[i]))
                      + images[i] + b"\nendstream")
            ops.insert(0, b"q 595 0 0 %d 0 %d cm /Im1 Do Q" % (
                round(595 * im.height / im.width), 842 - round(595 * im.height / im.width)))
            xobj = b" /XObject << /Im1 %d 0 R >>" % img
        stream = raw_content.get(i, b"\n".join(ops))
        filt = b""
        if compress:
            stream = zlib.compress(stream, 9)
            filt = b" /Filter /FlateDecode"
        content_id = add(b"<< /Length %d%s >>\nstream\n" % (len(stream), filt) + stream
                         + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                        b"/Resources << /Font << /F1 %d 0 R >>%s >> /Contents %d 0 R >>"
                        % (pages_id, font, xobj, content_id)))
    objs[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    objs[pages_id - 1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                          + b"] /Count %d >>" % len(kids))
    enc = b""
    if encrypt:
        e = add(b"<< /Filter /Standard /V 1 /R 2 /O <" + b"ab" * 32 + b"> /U <"
                + b"cd" * 32 + b"> /P -44 >>")
        enc = b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (e, b"01" * 16, b"01" * 16)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objs) + 1, catalog, enc, xref))
    return out.getvalue()


def bomb_pdf(expanded: int = 2 << 30) -> bytes:
    """A small PDF whose one content stream inflates to ``expanded`` bytes of text operators."""
    chunk = b"BT /F1 10 Tf 50 800 Td (x) Tj ET\n" * 32768
    co = zlib.compressobj(9)
    parts = [co.compress(chunk) for _ in range(expanded // len(chunk))]
    parts.append(co.flush())
    page_stream = b"".join(parts)
    return pdf_document([[]], raw_content={0: b""}, compress=False).replace(
        b"<< /Length 0 >>\nstream\n\nendstream",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(page_stream) + page_stream
        + b"\nendstream")


def pdfs(seed: int = 11) -> list[MediaDoc]:
    """Text PDFs (one and several pages, compressed and not) and one with a scanned page."""
    rng = random.Random(seed)
    out = []
    k = 100
    for name, npages, compress in [("report.pdf", 3, True), ("export-plain.pdf", 2, False)]:
        pages, labels, all_lines = [], [], []
        for _ in range(npages):
            lines, labs = content(rng, 40, 6, k)
            k += 6
            pages.append(lines)
            labels += labs
            all_lines += lines
        out.append(MediaDoc(name, "application/pdf", pdf_document(pages, compress=compress),
                            labels, all_lines))
    # page 1 text, page 2 a scanned screenshot (image only)
    lines1, labs1 = content(rng, 30, 4, k)
    lines2, labs2 = content(rng, 20, 4, k + 4)
    shot = render_screenshot(lines2, dark=False, size=(1400, 900), font="sans", font_size=18,
                             fmt="JPEG")
    out.append(MediaDoc("scanned.pdf", "application/pdf",
                        pdf_document([lines1, []], images={1: shot}), labs1 + labs2,
                        lines1 + lines2))
    return out


def generate() -> list[MediaDoc]:
    return screenshots() + pdfs()
