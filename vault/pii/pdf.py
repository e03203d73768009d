"""PDF text per page, read in a bounded child process (PDFium through pypdfium2).

A PDF from a client is hostile input: a decompression bomb, a parser crash or an endless
content stream must cost one file, never the scan or the vault. So the PDF is parsed in a
child process (``python -m vault.pii.pdf``) with an address-space limit (:data:`MAX_MEMORY`),
a CPU limit and a wall-clock time-out (:data:`TIMEOUT_S`); the text it returns is capped per
page (:data:`MAX_PAGE_CHARS`) and in total (:data:`MAX_TEXT_CHARS`), and at most
:data:`MAX_PAGES` pages are read. What could not be read is said per file or per page.

Pages without a text layer, and pages holding large images (screenshots pasted into a report),
are rendered and OCRed (:mod:`vault.pii.ocr`), at most :data:`MAX_OCR_PAGES` per PDF; any
beyond that are reported as not scanned.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .extract import UnreadableFile

MAX_PDF_BYTES = 256 << 20
MAX_PAGES = 5_000
MAX_PAGE_CHARS = 2_000_000
MAX_TEXT_CHARS = 64_000_000
MAX_MEMORY = 1 << 30
"""Address-space limit of the parsing process (a decompression bomb hits it and dies)."""
MAX_CPU_S = 120
TIMEOUT_S = 180.0
MAX_OCR_PAGES = 8
RENDER_DPI = 200
MAX_RENDER_SIDE = 2400
MIN_IMAGE_FRACTION = 0.05
"""An image covering at least this fraction of a page makes the page worth OCR."""
MIN_TEXT_CHARS = 1
"""A page with fewer visible characters than this has no text layer."""

_ERR_PASSWORD = 4
_ERR_SECURITY = 5


class PdfEncrypted(UnreadableFile):
    """The PDF needs a password to open."""


@dataclass(frozen=True)
class Page:
    """One page's extracted text. ``number`` is 1-based; ``ocr`` tells the text came from
    OCR of the rendered page; ``note`` says what could not be read of it (None: complete)."""

    number: int
    text: str
    ocr: bool = False
    note: str | None = None


@dataclass
class PdfText:
    """Text of a PDF: the pages read, the page count, and notes about what was not read
    (e.g. ``page 12 has no text layer and was not OCRed (limit of 8 pages)``)."""

    page_count: int
    pages: list[Page] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.notes


def extract_pdf(data: bytes, *, ocr: bool = True, max_ocr_pages: int = MAX_OCR_PAGES,
                ocr_image: Callable[[bytes], str] | None = None,
                max_memory: int = MAX_MEMORY, timeout: float = TIMEOUT_S) -> PdfText:
    """Text of every page of a PDF (bytes), each page's layers separately.

    Returns a :class:`PdfText` whose ``notes`` list what was left unread (pages over the
    limits, image pages not OCRed). Raises :class:`PdfEncrypted` for a password-protected
    PDF and :class:`UnreadableFile` for one that is corrupt or cannot be parsed within the
    memory/time limits (the message says which). With ``ocr``, image-only or image-heavy
    pages are rendered and passed through ``ocr_image`` (PNG bytes -> text; default
    :func:`vault.pii.ocr.ocr_image`), and their text is returned as extra pages with
    ``ocr=True`` (same page number).
    """
    if len(data) > MAX_PDF_BYTES:
        raise UnreadableFile(f"pdf larger than {MAX_PDF_BYTES >> 20} MiB: not scanned")
    with tempfile.TemporaryDirectory(prefix="vault-pdf-") as tmp:
        lines, rc = _run_worker(data, tmp, max_ocr_pages if ocr else -1, max_memory, timeout)
        result, images = _collect(lines, rc, max_memory, timeout)
        if images:
            _ocr_pages(result, images, ocr_image)
        return result


def _run_worker(data: bytes, tmp: str, ocr_pages: int, max_memory: int,
                timeout: float) -> tuple[list[str], int]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    args = [sys.executable, "-m", "vault.pii.pdf", tmp, str(ocr_pages), str(max_memory)]
    try:
        p = subprocess.run(args, input=data, capture_output=True, timeout=timeout, env=env,
                           check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        return out.decode("utf-8", "replace").splitlines(), -999
    return p.stdout.decode("utf-8", "replace").splitlines(), p.returncode


def _collect(lines: list[str], rc: int, max_memory: int,
             timeout: float) -> tuple[PdfText, list[tuple[int, str]]]:
    result: PdfText | None = None
    images: list[tuple[int, str]] = []
    for line in lines:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "error" in msg:
            if msg["error"] == "encrypted":
                raise PdfEncrypted("pdf is encrypted (password protected): not scanned")
            raise UnreadableFile(f"pdf is {msg['error']}: not scanned")
        if "page_count" in msg:
            result = PdfText(page_count=int(msg["page_count"]))
        elif result is not None and "n" in msg:
            result.pages.append(Page(int(msg["n"]), str(msg["text"]), note=msg.get("note")))
            if msg.get("image"):
                images.append((int(msg["n"]), str(msg["image"])))
        elif result is not None and "note" in msg:
            result.notes.append(str(msg["note"]))
    if rc != 0:
        why = (f"took longer than {timeout:.0f} s" if rc == -999
               else f"exceeded the parser's limits ({max_memory >> 20} MiB memory, "
                    f"{MAX_CPU_S} s CPU) or crashed")
        if result is None:
            raise UnreadableFile(f"pdf could not be read: it {why}")
        nxt = max((p.number for p in result.pages), default=0) + 1
        if nxt <= result.page_count:
            result.notes.append(f"pages from {nxt} not scanned: the pdf {why}")
    if result is None:
        raise UnreadableFile("pdf could not be read")
    for p in result.pages:
        if p.note:
            result.notes.append(f"page {p.number} {p.note}")
    return result, images


def _ocr_pages(result: PdfText, images: list[tuple[int, str]],
               ocr_image: Callable[[bytes], str] | None) -> None:
    if ocr_image is None:
        from .ocr import ocr_image as _ocr

        def ocr_image(png: bytes) -> str:
            return _ocr(png).text
    for n, path in images:
        try:
            text = ocr_image(Path(path).read_bytes())
        except UnreadableFile as exc:
            result.notes.append(f"page {n} has images that could not be OCRed: {exc}")
            continue
        result.pages.append(Page(n, text, ocr=True))
    result.pages.sort(key=lambda p: (p.number, p.ocr))


# ---------------------------------------------------------------- the child process

def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _image_heavy(page: Any, raw: Any) -> bool:
    w, h = page.get_size()
    area = max(w * h, 1.0)
    try:
        for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=3):
            left, bottom, right, top = obj.get_bounds()
            if (right - left) * (top - bottom) >= MIN_IMAGE_FRACTION * area:
                return True
    except Exception:  # noqa: BLE001 - an odd object tree: treat as no image
        return False
    return False


def _worker(tmp: str, ocr_pages: int, max_memory: int) -> int:  # pragma: no cover - child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    resource.setrlimit(resource.RLIMIT_CPU, (MAX_CPU_S, MAX_CPU_S + 5))
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    data = sys.stdin.buffer.read()
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        _emit({"error": "encrypted" if code in (_ERR_PASSWORD, _ERR_SECURITY)
               else "corrupt or not a pdf"})
        return 0
    n = len(doc)
    _emit({"page_count": n})
    total = 0
    rendered = 0
    for i in range(min(n, MAX_PAGES)):
        note = None
        try:
            page = doc[i]
            tp = page.get_textpage()
            count = tp.count_chars()
            if count > MAX_PAGE_CHARS:
                note = f"text cut at {MAX_PAGE_CHARS} characters"
                count = MAX_PAGE_CHARS
            text = tp.get_text_range(0, count) if count > 0 else ""
        except pdfium.PdfiumError:
            _emit({"note": f"page {i + 1} could not be read"})
            continue
        if total + len(text) > MAX_TEXT_CHARS:
            _emit({"note": f"pages from {i + 1} not scanned: more than "
                           f"{MAX_TEXT_CHARS} characters of text"})
            break
        total += len(text)
        visible = sum(1 for c in text if not c.isspace())
        no_text = visible < MIN_TEXT_CHARS
        image = None
        if no_text or _image_heavy(page, raw):
            if rendered < ocr_pages:
                rendered += 1
                w, h = page.get_size()
                scale = min(RENDER_DPI / 72, MAX_RENDER_SIDE / max(w, h, 1.0))
                pil = page.render(scale=scale, grayscale=True).to_pil()
                image = os.path.join(tmp, f"p{i + 1}.png")
                buf = io.BytesIO()
                pil.save(buf, format="PNG", compress_level=1)
                Path(image).write_bytes(buf.getvalue())
            elif no_text:
                extra = (f" and was not OCRed (limit of {ocr_pages} pages)"
                         if ocr_pages >= 0 else " (OCR off)")
                note = "has no text layer" + extra
            elif ocr_pages >= 0:
                note = f"has images that were not OCRed (limit of {ocr_pages} pages)"
        _emit({"n": i + 1, "text": text, "note": note, "image": image})
        sys.stdout.flush()
    if n > MAX_PAGES:
        _emit({"note": f"pages from {MAX_PAGES + 1} not scanned: more than {MAX_PAGES} pages"})
    return 0


if __name__ == "__main__":  # pragma: no cover - the child process
    sys.exit(_worker(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
