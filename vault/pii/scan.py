"""Stand-alone pre-ingest scan: find card data and PII in files without storing anything.

What is read, by the type libmagic sees in the first bytes (never by the file name): a type
with an extractor in :data:`vault.pii.containers.EXTRACTORS` through it (its text parts, and
the files embedded in it by their own types); text types decoded and scanned with line
numbers; PDFs page by page (``page`` set, no line); PNG/JPEG screenshots through OCR (no line,
no page); gzip, xz, bzip2 (and zstd) streams decompressed and read as what they hold (a
compressed log keeps its line numbers); zip and tar archives member by member, each by its
own type, nested within the limits of :mod:`vault.pii.containers`; anything else by its
printable runs.

An archive stays one file: its findings carry the ``member`` they were found in, nested names
joined by ``/`` (``nested.zip/settle.csv``) and where in a document after `` › ``
(``reports/book.xlsx › sheet Q1 cell B7``); member names are scanned too (they are content)
and shown with card numbers masked and control characters escaped.

A file that cannot be read as its type raises :class:`UnreadableFile` for that file only; a
file read only in part (a PDF page without text that could not be OCRed; a member that is
encrypted, damaged, over a limit; a name leading outside its archive) is reported through
``on_note`` or, without one, as an :class:`IncompleteScan` after its findings. A link or a
device entry in an archive holds no data: it is reported (``on_member``, ``on_info``), never
followed, and leaves nothing unscanned.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, BinaryIO, NamedTuple

from vault.pii import Finding, Scanner
from vault.pii import containers as cont
from vault.pii import ocr as ocr_mod
from vault.pii import pdf as pdf_mod
from vault.pii.documents import extractor_for
from vault.pii.extract import UnreadableFile, is_text_mime, iter_text
from vault.pii.filetype import MAGIC_BYTES, detect_mime
from vault.pii.model import CARD_KINDS
from vault.pii.parts import Embedded, Extractor, TextPart
from vault.pii.scanner import Row, Values, finding_from_row

PDF_MIME = "application/pdf"

Note = Callable[[str, str], None]
"""Called with (path, what was not scanned) for a file scanned only in part."""

Render = Callable[..., Any]


class IncompleteScan(UnreadableFile):
    """Part of a file could not be scanned (its findings so far were reported)."""


class ScanHit(NamedTuple):
    """One finding in one file (a named tuple: a scan can yield millions of them)."""

    path: str
    finding: Finding
    page: int | None = None
    member: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The finding as `vault scan --json` writes it: "member" (after "path") only for a
        finding inside a container."""
        f = self.finding
        head: dict[str, Any] = {"path": self.path}
        if self.member is not None:
            head["member"] = self.member
        return {**head, "kind": f.kind, "line": f.line, "page": self.page,
                "masked": f.masked, "detector": f.detector,
                "confidence": round(f.confidence, 2)}


def _read_bounded(f: BinaryIO, limit: int, what: str) -> bytes:
    data = f.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(f"{what} larger than {limit >> 20} MiB: not scanned")
    return data


class ScanBatch(NamedTuple):
    """Findings of one file (one page of a PDF, one member of an archive) as
    :data:`vault.pii.scanner.Row` tuples, or, from :func:`scan_batches` given ``render``,
    already rendered: ``rendered`` is then ``render(path, page, rows)`` and ``rows`` is empty
    (None: render ``rows`` yourself). ``member``: where in the file, for a container (see the
    module's documentation); a render that shows it has ``takes_member = True`` and accepts
    ``member=`` in ``__call__`` and ``bind``."""

    path: str
    page: int | None
    rows: list[Row]
    rendered: Any = None
    member: str | None = None


def scan_source(src: Any, scanner: Scanner, *, on_note: Note | None = None,
                ocr: bool = True) -> Iterator[ScanHit]:
    """Findings in one source (a :class:`vault.sources.Source`).

    Raises :class:`UnreadableFile` (a ``VaultError`` and a ``ValueError``) when the file is
    corrupt, encrypted or over a limit, before or after yielding what it found. With
    ``ocr=False`` images are skipped with a note and image pages of PDFs are noted.
    """
    for path, page, rows, _, member in scan_batches(src, scanner, on_note=on_note, ocr=ocr):
        for row in rows:
            yield ScanHit(path, finding_from_row(row), page, member)


OnMember = Callable[[str, "int | None", "str | None"], None]
"""Called with (where, size, why it was not read or None) for each member of a container met:
the container's table of contents (names shown as in findings: card data masked)."""


def scan_batches(src: Any, scanner: Scanner, *, on_note: Note | None = None,
                 ocr: bool = True, values: Values = "hash",
                 render: Render | None = None, on_member: OnMember | None = None,
                 on_info: Note | None = None) -> Iterator[ScanBatch]:  # fmt: skip
    """:func:`scan_source`'s findings, in the same order and with the same errors, in batches
    of rows: for callers that handle millions of findings and need no objects per finding.
    ``values``: what the last field of the rows holds (:data:`~vault.pii.scanner.Values`; PDF
    pages' rows carry the value hash where ``values`` is "none").
    ``render`` (picklable): text batches come rendered where they were scanned, in the
    scanner's worker processes for big files and streams (see ``ScanBatch.rendered``).
    ``on_info``: called with (path, what) for what is worth saying but left nothing unscanned
    (a link or a special entry in an archive: reported, never followed; it holds no data)."""
    path = str(src.path) if src.path is not None else src.name
    walk = _Walk(scanner, path, ocr=ocr, values=values, render=render, on_member=on_member)
    with src.open() as f:
        head = f.read(MAGIC_BYTES)
        f.seek(0)
        yield from walk.content(f, head, None, 0, src.size, seekable=None)
    walk.finish()
    if on_info is not None:
        for info in walk.infos:
            on_info(path, info)
    notes = walk.notes
    if notes:
        if on_note is None:
            more = f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""
            raise IncompleteScan(f"scanned only in part: {notes[0]}{more}")
        for note in notes:
            on_note(path, note)


def _mime(head: bytes) -> str:
    return detect_mime(head).split(";", 1)[0]


def _about(member: str | None) -> str:
    return f"member {member}: " if member is not None else ""


def _join(member: str | None, name: str, sep: str = cont.MEMBER_JOIN) -> str:
    return name if member is None else f"{member}{sep}{name}"


def _seekable(f: Any) -> bool:
    """Whether `f` can be read at any offset (a file; not the ingest's stream)."""
    try:
        f.seek(0, io.SEEK_END)
        f.seek(0)
        return True
    except (OSError, ValueError, AttributeError):
        return False


class _Walk:
    """One file's scan: the container walk, its notes and its limits' budget."""

    def __init__(self, scanner: Scanner, path: str, *, ocr: bool, values: Values,
                 render: Render | None, on_member: OnMember | None = None) -> None:  # fmt: skip
        self.on_member = on_member
        self.scanner = scanner
        self.path = path
        self.ocr = ocr
        self.values = values
        self.render = render
        self.notes: list[str] = []
        self.infos: list[str] = []  # what is worth saying but left nothing unscanned
        self.budget = cont.Budget()
        self._stop_noted = False

    # ------------------------------------------------------------------------------ notes

    def note(self, member: str | None, what: str) -> None:
        self.notes.append(f"{_about(member)}{what}")

    def _noted_stop(self, member: str | None) -> bool:
        """Note the file-wide limit passed (once); True when one was."""
        stopped = self.budget.stopped
        if stopped is None:
            return False
        if not self._stop_noted:
            self._stop_noted = True
            self.note(member, f"{stopped}; the rest of the file not scanned")
        return True

    def finish(self) -> None:
        self._noted_stop(None)

    # ------------------------------------------------------------------------------ rows

    def _bound(self, member: str | None) -> Any:
        """The render of one text stream's chunks (None: rows)."""
        render = self.render
        if render is None:
            return None
        named = member is not None and getattr(render, "takes_member", False)
        bind = getattr(render, "bind", None)  # a render made for the workers (JsonLines)
        if bind is not None:
            return bind(self.path, None, member) if named else bind(self.path, None)
        return (partial(render, self.path, None, member=member) if named
                else partial(render, self.path, None))

    def _unlined(self, text: str, values: Values | None = None) -> list[Row]:
        """The findings of a text without a line number (PDF pages, images, strings of a
        binary, names), their last field as ``values`` says."""
        out: list[Row] = []
        for rows in self.scanner.scan_stream_rows(io.StringIO(text), values=values or self.values,
                                                  workers=1):  # fmt: skip
            out.extend((k, d, s, e, None, m, c, v) for k, d, s, e, _, m, c, v in rows)
        return out

    def _label(self, name: str, member: str | None, target: str | None = None,
               ) -> tuple[str, list[ScanBatch]]:  # fmt: skip
        """A member's name as shown (card numbers masked, control characters escaped), and
        the batch of findings in the name (and a link's target): names are content."""
        text = name if target is None else f"{name} -> {target}"
        rows = self._unlined(text) if text else []
        shown = name
        for row in sorted((r for r in rows if r[0] in CARD_KINDS and r[3] <= len(name)),
                          key=lambda r: -r[2]):  # fmt: skip
            shown = shown[: row[2]] + row[5] + shown[row[3]:]
        where = _join(member, cont.printable(shown))
        return where, ([ScanBatch(self.path, None, rows, None, where)] if rows else [])

    # ------------------------------------------------------------------------------ types

    def content(self, f: Any, head: bytes, member: str | None, depth: int, size: int | None,
                *, seekable: bool | None = False, in_stream: bool = False,
                ) -> Iterator[ScanBatch]:  # fmt: skip
        """Scan `f` (at its start; `head`: its first bytes) by its type. `depth`: containers
        around it; `seekable` None: find out (the file given); `in_stream`: `f` is the content
        of a compressed stream."""
        mime = _mime(head)
        extractor = extractor_for(mime, head)
        if extractor is not None:
            yield from self._document(f, extractor, member, depth)
        elif is_text_mime(mime) or mime == "application/x-empty":
            yield from self._text(f, member, size)
        elif mime == PDF_MIME:
            yield from self._pdf(_read_bounded(f, pdf_mod.MAX_PDF_BYTES, "pdf"), member)
        elif mime in ocr_mod.IMAGE_MIMES:
            data = _read_bounded(f, ocr_mod.MAX_IMAGE_BYTES, "image")
            if self.ocr:
                text = ocr_mod.ocr_image(data).text
                yield ScanBatch(self.path, None, self._unlined(text), None, member)
            else:
                self.note(member, "image not OCRed (OCR off)")
        elif mime in cont.COMPRESSED_MIMES:
            yield from self._decompressed(f, mime, member, depth, size, in_stream)
        elif mime in cont.ZSTD_MIMES:  # without the zstandard package (an optional one)
            self.note(member, "zstd stream not read (the zstandard package is not installed)")
        elif mime in cont.UNSUPPORTED_MIMES:
            self.note(member, f"{cont.UNSUPPORTED_MIMES[mime]} not opened (not supported)")
        elif mime in cont.TAR_MIMES:
            if self._deeper(member, depth):
                yield from self._archive(cont.tar_members(f, self.budget), "tar", member, depth)
        elif mime in cont.ZIP_MIMES or head.startswith(cont.ZIP_MAGIC):
            yield from self._zip(f, head, member, depth, seekable)
        else:
            for piece in iter_text(f, mime):
                yield ScanBatch(self.path, None, self._unlined(piece), None, member)

    def _zip(self, f: Any, head: bytes, member: str | None, depth: int,
             seekable: bool | None) -> Iterator[ScanBatch]:  # fmt: skip
        """A zip, or an Office or OpenDocument file libmagic saw as one (told by its members:
        read through its extractor)."""
        if seekable is None:
            seekable = _seekable(f)
        buffered = not seekable
        if buffered:  # read into memory up to a limit (what the zip walk would do)
            f, seekable = cont.buffer_zip(f)
        if seekable:
            package = cont.package_mime(f)
            extractor = extractor_for(package, head) if package is not None else None
            if extractor is not None:
                yield from self._document(f, extractor, member, depth)
                return
        if self._deeper(member, depth):
            members = cont.zip_members(f, self.budget, seekable=seekable, buffered=buffered)
            yield from self._archive(members, "zip", member, depth)

    def _deeper(self, member: str | None, depth: int) -> bool:
        """Whether a container at `depth` may be opened (else noted)."""
        if depth + 1 > cont.MAX_DEPTH:
            self.note(member, f"nested deeper than {cont.MAX_DEPTH}")
            return False
        return True

    def _text(self, f: Any, member: str | None, size: int | None) -> Iterator[ScanBatch]:
        job_render = self._bound(member)
        for out in self.scanner.scan_stream_rendered(f, job_render, values=self.values,
                                                     size=size):  # big ones: in processes
            if job_render is not None:
                yield ScanBatch(self.path, None, [], out, member)
            elif out:
                yield ScanBatch(self.path, None, out, None, member)

    def _pdf(self, data: bytes, member: str | None) -> Iterator[ScanBatch]:
        doc = pdf_mod.extract_pdf(data, ocr=self.ocr)
        for n in doc.notes:
            self.note(member, n)
        # the rows must tell values apart to drop what the OCR of a page read again
        values: Values = "hash" if self.values == "none" else self.values
        seen: set[tuple[int, str, str]] = set()
        for page in doc.pages:  # text layer first, then the OCR of the same page
            found = []
            for row in self._unlined(page.text, values):
                key = (page.number, row[0], row[7])
                if page.ocr and key in seen:
                    continue  # the same value read from the text layer already
                seen.add(key)
                found.append(row)
            if found:
                yield ScanBatch(self.path, page.number, found, None, member)

    # ------------------------------------------------------------------------------ containers

    def _decompressed(self, f: Any, mime: str, member: str | None, depth: int,
                      size: int | None, in_stream: bool) -> Iterator[ScanBatch]:  # fmt: skip
        if in_stream:  # a compressed stream inside a compressed stream is a level deeper
            if not self._deeper(member, depth):
                return
            depth += 1
        stream = cont.decompress(f, mime, self.budget)
        try:
            head = stream.read(MAGIC_BYTES)
            # the compressed size: a hint that a big stream goes to the worker processes
            yield from self.content(cont.Prefixed(head, stream), head, member, depth, size,
                                    in_stream=True)  # fmt: skip
        finally:
            stream.close()
        if self._noted_stop(member):
            return
        if stream.failure is not None and getattr(f, "failure", None) is None:
            self.note(member, f"{cont.format_name(mime)} stream: {stream.failure}")

    def _archive(self, members: Iterator[cont.Member], kind: str, member: str | None,
                 depth: int) -> Iterator[ScanBatch]:  # fmt: skip
        budget = self.budget
        try:
            for m in members:
                if budget.out_of_time() or not budget.count_member():
                    break
                where, name_batches = self._label(m.name, member, m.target)
                yield from name_batches
                for problem in cont.name_problems(m.name):
                    self.note(where, f"{problem} (reported, never extracted)")
                if m.kind == "dir":
                    continue
                if self.on_member is not None:
                    self.on_member(where, m.size, cont.kind_note(m) if m.kind != "file"
                                   else m.problem)
                if m.kind != "file":  # a link or special entry holds no data: nothing
                    self.infos.append(f"{_about(where)}{cont.kind_note(m)}")  # unscanned
                elif m.problem is not None:
                    self.note(where, m.problem)
                elif m.open is not None:
                    yield from self._member(m.open, where, depth + 1, m.size)
                if budget.stopped is not None:
                    break
        except cont.ArchiveDamaged as exc:
            if budget.stopped is None:
                self.note(member, f"{kind} archive {exc.message}; the rest not scanned")
        except Exception as exc:  # noqa: BLE001 - the archive's own reads: a note, go on
            if budget.stopped is None:
                self.note(member, f"{kind} archive: {cont.reason_of(exc)}; the rest not scanned")
        self._noted_stop(member)

    def _member(self, opener: Callable[[], cont.Guarded], where: str, depth: int,
                size: int | None) -> Iterator[ScanBatch]:  # fmt: skip
        """One member (or embedded file): its errors are notes, the scan goes on."""
        try:
            reader = opener()
        except Exception as exc:  # noqa: BLE001 - this member only
            self.note(where, cont.reason_of(exc))
            return
        try:
            head = reader.read(MAGIC_BYTES)
            yield from self.content(cont.Prefixed(head, reader), head, where, depth, size)
        except Exception as exc:  # noqa: BLE001 - this member only
            if self.budget.stopped is None:
                self.note(where, cont.reason_of(exc))
        finally:
            reader.close()
        if not self._noted_stop(where) and reader.failure is not None:
            self.note(where, reader.failure)

    def _document(self, f: Any, extractor: Extractor, member: str | None,
                  depth: int) -> Iterator[ScanBatch]:  # fmt: skip
        """A document through its extractor: text parts scanned where they are, embedded
        files by their own types, a level deeper."""
        if not self._deeper(member, depth):
            return
        data = _read_bounded(f, cont.MAX_DOCUMENT_BYTES, "document")
        budget = self.budget
        for part in extractor(data):
            if budget.out_of_time():
                break
            if isinstance(part, TextPart):
                where = member if part.where is None else _join(
                    member, cont.printable(part.where), cont.PART_JOIN)
                yield from self._text(io.StringIO(part.text), where, None)
            elif isinstance(part, Embedded):
                if not budget.count_member() or not budget.charge(len(part.data)):
                    break
                where, name_batches = self._label(part.name, member)
                yield from name_batches
                stream = io.BytesIO(part.data)
                yield from self._member(partial(cont.Guarded, stream.read, budget), where,
                                        depth + 1, len(part.data))  # fmt: skip
        self._noted_stop(member)


# -------------------------------------------------------------------------------- one member


class MemberRead(NamedTuple):
    """The head of one member of a container, read for display (never written anywhere)."""

    data: bytes
    """Its first bytes (at most the limit asked for)."""
    more: bool
    """It holds more than that."""
    mime: str
    """Its type, as libmagic sees its head."""
    failure: str | None
    """Why it could not be read to its end (or to the limit), in words without content."""


class _Find(_Walk):
    """The walk of :class:`_Walk` (same readers, same limits, member names computed the same
    way) that opens only the containers on the way to one member, and reads that member's head
    instead of scanning it."""

    def __init__(self, scanner: Scanner, path: str, target: str, nth: int,
                 limit: int) -> None:  # fmt: skip
        super().__init__(scanner, path, ocr=False, values="none", render=None)
        self.target = target
        self.nth = nth
        self.limit = limit
        self.found: MemberRead | None = None

    def _text(self, f: Any, member: str | None, size: int | None) -> Iterator[ScanBatch]:
        return iter(())  # the text parts of a document on the way: not needed

    def _member(self, opener: Callable[[], cont.Guarded], where: str, depth: int,
                size: int | None) -> Iterator[ScanBatch]:  # fmt: skip
        if self.found is not None:
            return
        if where == self.target:
            if self.nth:
                self.nth -= 1
                return
            self.found = self._read(opener)
            self.budget.stop("found")  # every stream of the walk ends: nothing more is read
            return
        if self.target.startswith(where + cont.MEMBER_JOIN):  # a container on the way
            yield from super()._member(opener, where, depth, size)

    def _read(self, opener: Callable[[], cont.Guarded]) -> MemberRead:
        try:
            reader = opener()
        except Exception as exc:  # noqa: BLE001 - said, never raised
            return MemberRead(b"", False, "", cont.reason_of(exc))
        try:
            data = reader.read(self.limit + 1)
        finally:
            reader.close()
        return MemberRead(data[: self.limit], len(data) > self.limit,
                          _mime(data[:MAGIC_BYTES]) if data else "application/x-empty",
                          reader.failure)


def read_member(f: Any, name: str, scanner: Scanner, where: str, limit: int, *,
                nth: int = 0) -> MemberRead | None:
    """The first `limit` bytes of the member of container `f` shown as `where` (as the scan
    names it: see the module's documentation; `nth`: of several members of that name, the
    one after `nth` others), read through the same walk and limits as a scan, in memory only;
    None when the walk does not meet it. `scanner` masks card numbers in member names as the
    scan did (one for card data is enough)."""
    walk = _Find(scanner, name, where, nth, limit)
    head = f.read(MAGIC_BYTES)
    if not head:
        return None
    f.seek(0)
    for _ in walk.content(f, head, None, 0, None, seekable=None):
        pass
    return walk.found
