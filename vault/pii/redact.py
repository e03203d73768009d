"""Redaction primitives (pure: bytes in, bytes out; no DB, no store).

Text: every finding's span is masked in the original encoding, character for character, so
lengths and line structure are kept (byte lengths too for ASCII-compatible text). A PAN keeps
its first 6 and last 4 digits (the PCI DSS display maximum, e.g. ``4111 11** **** 1111``) and
its separators, so a reviewer still sees which card it was; track data, CVV, PIN blocks and
every other kind become ``*`` for each letter or digit (punctuation kept).

Images: opaque black boxes, with a margin, over the OCR word boxes a finding covers; the image
is re-encoded in its own format (PNG/JPEG) from pixels only, so EXIF, XMP, ICC profiles and
text chunks are dropped (EXIF orientation is applied first, as OCR saw it).
"""

from __future__ import annotations

import codecs
import io
import threading
from collections.abc import Iterable, Sequence

from PIL import Image, ImageDraw

from vault.errors import InvalidInput

from .encoding import detect_encoding
from .model import Finding
from .ocr import OcrText, Word, load_image
from .scanner import Scanner

BOX_MARGIN = 3
"""Pixels added on every side of a word box."""
JPEG_QUALITY = 92
_DETECT_BYTES = 1 << 20  # what Scanner.scan_stream reads to detect the encoding

Box = tuple[int, int, int, int]


def mask_span(kind: str, span: str) -> str:
    """The masked form of one finding's text (same length)."""
    is_digit = [c.isdecimal() for c in span]
    if kind == "pan":
        n = sum(is_digit)
        out, seen = [], 0
        for c, d in zip(span, is_digit, strict=True):
            if d:
                seen += 1
                out.append(c if seen <= 6 or seen > n - 4 else "*")
            else:
                out.append(c)
        return "".join(out)
    return "".join("*" if c.isalnum() else c for c in span)


def redact_text(data: bytes, findings: Iterable[Finding], *,
                encoding: str | None = None) -> bytes:
    """``data`` with every finding's span masked (see :func:`mask_span`).

    Offsets are the scanner's character offsets into ``data`` decoded as
    :meth:`vault.pii.Scanner.scan_stream` decodes it (encoding detected on the first MiB,
    undecodable bytes as U+FFFD); those undecodable bytes are kept as they were. Raises
    :class:`InvalidInput` when a span falls outside the text or a PAN span does not hold
    the digits its finding says (the findings are not from these bytes).
    """
    enc = codecs.lookup(encoding or detect_encoding(data[:_DETECT_BYTES])).name
    pieces = _decode_pieces(data, enc)
    text = "".join(t for t, _ in pieces)
    chars = list(text)
    for f in findings:
        if not 0 <= f.start < f.end <= len(chars):
            raise InvalidInput(f"cannot redact: a {f.kind} finding lies outside the text")
        span = text[f.start:f.end]
        if f.kind == "pan":
            digits = [c for c in span if c.isdecimal()]
            shown = f.masked.replace("*", "")
            if len(digits) != len(f.masked) or "".join(
                    str(int(c)) for c in digits[:6] + digits[-4:]) != shown:
                raise InvalidInput("cannot redact: a pan finding does not match the text "
                                   "(findings from other bytes?)")
        chars[f.start:f.end] = mask_span(f.kind, span)
    bom, codec = _encoder(data, enc)
    out = io.BytesIO()
    out.write(bom)
    pos = 0
    for piece, raw in pieces:
        if raw is not None:
            out.write(raw)  # an undecodable byte sequence, kept as it was
        else:
            out.write("".join(chars[pos:pos + len(piece)]).encode(codec))
        pos += len(piece)
    return out.getvalue()


_BOM_CODECS = [(codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
               (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
               (codecs.BOM_UTF16_BE, "utf-16-be")]


def _encoder(data: bytes, enc: str) -> tuple[bytes, str]:
    """(BOM to write first, codec for the text) reproducing ``data``'s byte order."""
    if enc in ("utf-8-sig", "utf-16", "utf-32"):
        family = enc.removesuffix("-sig")
        for bom, codec in _BOM_CODECS:
            if data.startswith(bom) and codec.startswith(family):
                return bom, codec
        return b"", {"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}[enc]
    return b"", enc


_errors = threading.local()


def _record(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    _errors.spans.append((exc.start, exc.end))
    return "\ufffd", exc.end


codecs.register_error("vault-redact-record", _record)


def _decode_pieces(data: bytes, enc: str) -> list[tuple[str, bytes | None]]:
    """``data`` decoded as the scanner does, as (text, None) runs and ('\\ufffd', raw bytes)
    for each undecodable sequence."""
    _errors.spans = []
    text = data.decode(enc, errors="vault-redact-record")
    errors: list[tuple[int, int]] = _errors.spans
    if not errors:
        return [(text, None)]
    if enc not in ("utf-8", "utf-8-sig"):
        raise InvalidInput(f"cannot redact: the text is not valid {enc}")
    pieces: list[tuple[str, bytes | None]] = []
    pos = 0
    for s, e in errors:
        if s > pos:
            pieces.append((data[pos:s].decode(enc if pos == 0 else "utf-8"), None))
        pieces.append(("\ufffd", data[s:e]))
        pos = e
    if pos < len(data):
        pieces.append((data[pos:].decode("utf-8"), None))
    return pieces


def words_for_findings(ocr: OcrText, findings: Iterable[Finding]) -> list[Word]:
    """The OCR words that the findings (offsets into ``ocr.text``) cover, each once."""
    out: dict[int, Word] = {}
    for f in findings:
        for w in ocr.words_in(f.start, f.end):
            out[id(w)] = w
    return list(out.values())


def boxes_for_findings(ocr: OcrText, findings: Iterable[Finding]) -> list[Box]:
    """Boxes (left, top, right, bottom) to black out for the findings on an OCRed image."""
    return [w.box for w in words_for_findings(ocr, findings)]


def redact_image(data: bytes, boxes: Sequence[Box], *, margin: int = BOX_MARGIN) -> bytes:
    """The PNG/JPEG ``data`` with an opaque black box over each box (plus ``margin``),
    re-encoded in the same format without metadata. Raises
    :class:`vault.pii.extract.UnreadableFile` if ``data`` is not a readable PNG/JPEG."""
    im = load_image(data)
    fmt = im.format or "PNG"
    if fmt == "JPEG":
        im = im.convert("RGB") if im.mode not in ("RGB", "L") else im
    elif im.mode not in ("RGB", "RGBA", "L", "LA"):
        im = im.convert("RGBA" if "transparency" in im.info or im.mode in ("PA",) else "RGB")
    clean = Image.new(im.mode, im.size)
    clean.paste(im)
    draw = ImageDraw.Draw(clean)
    blacks: dict[str, int | tuple[int, ...]] = {
        "L": 0, "LA": (0, 255), "RGB": (0, 0, 0), "RGBA": (0, 0, 0, 255)}
    black = blacks[clean.mode]
    w, h = clean.size
    for left, top, right, bottom in boxes:
        draw.rectangle((max(left - margin, 0), max(top - margin, 0),
                        min(right + margin, w) - 1, min(bottom + margin, h) - 1), fill=black)
    buf = io.BytesIO()
    if fmt == "JPEG":
        clean.save(buf, format="JPEG", quality=JPEG_QUALITY)
    else:
        clean.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def redact_bytes(data: bytes, mime: str, scanner: Scanner,
                 kinds: Iterable[str] | None = None) -> bytes:
    """Scan ``data`` and return it with every finding of ``kinds`` (default: card kinds)
    redacted: masked text for text types, black boxes for PNG/JPEG (via OCR).

    Raises :class:`InvalidInput` for types that cannot be redacted here (PDFs, other
    binaries) and :class:`vault.pii.extract.UnreadableFile` for an unreadable image.
    """
    from .extract import is_text_mime
    from .model import CARD_KINDS
    from .ocr import IMAGE_MIMES, ocr_image

    want = frozenset(CARD_KINDS if kinds is None else kinds)
    base = mime.split(";", 1)[0].strip().lower()
    if not base:
        from vault.pii.filetype import MAGIC_BYTES, detect_mime
        base = detect_mime(data[:MAGIC_BYTES]).split(";", 1)[0]
    if is_text_mime(base) or base == "application/x-empty":
        found = [f for f in scanner.scan_stream(io.BytesIO(data), workers=1) if f.kind in want]
        return redact_text(data, found)
    if base in IMAGE_MIMES:
        seen = ocr_image(data)
        found = [f for f in scanner.scan_text(seen.text) if f.kind in want]
        return redact_image(data, boxes_for_findings(seen, found))
    from .containers import GZIP_MIMES
    if base in GZIP_MIMES:
        return _redact_gzip(data, scanner, want)
    from .containers import COMPRESSED_MIMES, TAR_MIMES, ZIP_MIMES
    from .documents import extractor_for
    if base in ZIP_MIMES | TAR_MIMES | COMPRESSED_MIMES or extractor_for(base, data[:4096]):
        raise InvalidInput(f"cannot redact inside a container or document ({base}) in the "
                           "vault: its members would have to be rewritten",
                           hint="retain the flags with a reason, or redact a copy outside the "
                                "vault, ingest it, and resolve these flags as retained with "
                                "the new item's id in the reason")
    raise InvalidInput(f"cannot redact {base} files in the vault",
                       hint="redact a copy outside the vault and ingest it as a new version")


MAX_GUNZIP_BYTES = 256 << 20
"""A gzip'd text is redacted in memory: at most this much once decompressed."""


def _redact_gzip(data: bytes, scanner: Scanner, want: frozenset[str]) -> bytes:
    """A gzip'd text, redacted as text and compressed again (any other gzip'd content is a
    container: refused)."""
    import gzip
    import zlib

    from .extract import is_text_mime
    from .filetype import MAGIC_BYTES, detect_mime
    d = zlib.decompressobj(wbits=31)
    try:
        plain = d.decompress(data, MAX_GUNZIP_BYTES + 1)
    except zlib.error:
        raise InvalidInput("cannot redact this gzip file: it is damaged") from None
    if len(plain) > MAX_GUNZIP_BYTES or d.unconsumed_tail:
        raise InvalidInput(f"cannot redact this gzip file in the vault: it holds more than "
                           f"{MAX_GUNZIP_BYTES >> 20} MiB",
                           hint="redact a copy outside the vault and ingest it")
    if d.unused_data:
        raise InvalidInput("cannot redact a gzip file of several members in the vault",
                           hint="redact a copy outside the vault and ingest it")
    inner = detect_mime(plain[:MAGIC_BYTES]).split(";", 1)[0]
    if not (is_text_mime(inner) or inner == "application/x-empty"):
        raise InvalidInput(f"cannot redact inside a gzip'd {inner} in the vault",
                           hint="retain the flags with a reason, or redact a copy outside "
                                "the vault and ingest it")
    found = [f for f in scanner.scan_stream(io.BytesIO(plain), workers=1) if f.kind in want]
    return gzip.compress(redact_text(plain, found), mtime=0)
