"""Stand-alone pre-ingest scan: find card data and PII in files without storing anything.

What is read, by the type libmagic sees in the first bytes (never by the file name):
text types are decoded and scanned with line numbers; PDFs page by page (``page`` set, no
line); PNG/JPEG screenshots through OCR (no line, no page); anything else by its printable
runs. A file that cannot be read as its type raises :class:`UnreadableFile` for that file
only; a file read only in part (a PDF page without text that could not be OCRed) is reported
through ``on_note`` or, without one, as an :class:`IncompleteScan` after its findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, BinaryIO, NamedTuple

from vault.pii import Finding, Scanner
from vault.pii import ocr as ocr_mod
from vault.pii import pdf as pdf_mod
from vault.pii.extract import UnreadableFile, is_text_mime, iter_text
from vault.pii.filetype import MAGIC_BYTES, detect_mime
from vault.pii.scanner import Row, Values, finding_from_row

PDF_MIME = "application/pdf"

Note = Callable[[str, str], None]
"""Called with (path, what was not scanned) for a file scanned only in part."""


class IncompleteScan(UnreadableFile):
    """Part of a file could not be scanned (its findings so far were reported)."""


class ScanHit(NamedTuple):
    """One finding in one file (a named tuple: a scan can yield millions of them)."""

    path: str
    finding: Finding
    page: int | None = None

    def as_dict(self) -> dict[str, Any]:
        f = self.finding
        return {"path": self.path, "kind": f.kind, "line": f.line, "page": self.page,
                "masked": f.masked, "detector": f.detector,
                "confidence": round(f.confidence, 2)}


def _read_bounded(f: BinaryIO, limit: int, what: str) -> bytes:
    data = f.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(f"{what} larger than {limit >> 20} MiB: not scanned")
    return data


class ScanBatch(NamedTuple):
    """Findings of one file (one page of a PDF) as :data:`vault.pii.scanner.Row` tuples, or,
    from :func:`scan_batches` given ``render``, already rendered: ``rendered`` is then
    ``render(path, page, rows)`` and ``rows`` is empty (None: render ``rows`` yourself)."""

    path: str
    page: int | None
    rows: list[Row]
    rendered: Any = None


def scan_source(src: Any, scanner: Scanner, *, on_note: Note | None = None,
                ocr: bool = True) -> Iterator[ScanHit]:
    """Findings in one source (a :class:`vault.sources.Source`).

    Raises :class:`UnreadableFile` (a ``VaultError`` and a ``ValueError``) when the file is
    corrupt, encrypted or over a limit, before or after yielding what it found. With
    ``ocr=False`` images are skipped with a note and image pages of PDFs are noted.
    """
    for path, page, rows, _ in scan_batches(src, scanner, on_note=on_note, ocr=ocr):
        for row in rows:
            yield ScanHit(path, finding_from_row(row), page)


def scan_batches(src: Any, scanner: Scanner, *, on_note: Note | None = None,
                 ocr: bool = True, values: Values = "hash",
                 render: Callable[[str, int | None, list[Row]], Any] | None = None,
                 ) -> Iterator[ScanBatch]:  # fmt: skip
    """:func:`scan_source`'s findings, in the same order and with the same errors, in batches
    of rows: for callers that handle millions of findings and need no objects per finding.
    ``values``: what the last field of text files' rows holds (:data:`~vault.pii.scanner.Values`;
    other files' rows always carry the value hash, as their :class:`Finding` does).
    ``render`` (picklable): text files' batches come rendered where they were scanned, in the
    scanner's worker processes for big files (see ``ScanBatch.rendered``)."""
    path = str(src.path) if src.path is not None else src.name
    notes: list[str] = []
    with src.open() as f:
        head = f.read(MAGIC_BYTES)
        mime = detect_mime(head).split(";", 1)[0]
        f.seek(0)
        if is_text_mime(mime) or mime == "application/x-empty":
            bind = getattr(render, "bind", None)  # a render made for the workers (JsonLines)
            job_render = (bind(path, None) if bind is not None
                          else partial(render, path, None) if render is not None else None)
            for out in scanner.scan_stream_rendered(f, job_render, values=values,
                                                    size=src.size):  # big files: in processes
                if render is not None:
                    yield ScanBatch(path, None, [], out)
                elif out:
                    yield ScanBatch(path, None, out)
            return
        if mime == PDF_MIME:
            for page, findings in _scan_pdf(_read_bounded(f, pdf_mod.MAX_PDF_BYTES, "pdf"),
                                            scanner, notes, ocr):  # fmt: skip
                yield ScanBatch(path, page, [_unlined(x) for x in findings])
        elif mime in ocr_mod.IMAGE_MIMES:
            data = _read_bounded(f, ocr_mod.MAX_IMAGE_BYTES, "image")
            if ocr:
                text = ocr_mod.ocr_image(data).text
                yield ScanBatch(path, None, [_unlined(x) for x in scanner.scan_text(text)])
            else:
                notes.append("image not OCRed (OCR off)")
        else:
            for piece in iter_text(f, mime):
                yield ScanBatch(path, None, [_unlined(x) for x in scanner.scan_text(piece)])
    if notes:
        if on_note is None:
            more = f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""
            raise IncompleteScan(f"scanned only in part: {notes[0]}{more}")
        for note in notes:
            on_note(path, note)


def _unlined(f: Finding) -> Row:
    """The finding as a row without a line number (PDF pages, images, binary strings)."""
    return (f.kind, f.detector, f.start, f.end, None, f.masked, f.confidence, f.value_hash)


def _scan_pdf(data: bytes, scanner: Scanner, notes: list[str],
              ocr: bool) -> Iterator[tuple[int, list[Finding]]]:
    doc = pdf_mod.extract_pdf(data, ocr=ocr)
    notes.extend(doc.notes)
    seen: set[tuple[int, str, str]] = set()
    for page in doc.pages:  # text layer first, then the OCR of the same page
        found = []
        for finding in scanner.scan_text(page.text):
            key = (page.number, finding.kind, finding.value_hash)
            if page.ocr and key in seen:
                continue  # the same value read from the text layer already
            seen.add(key)
            found.append(finding)
        if found:
            yield page.number, found
