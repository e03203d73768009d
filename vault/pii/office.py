"""Office documents as the text a reviewer reads, with where to find it.

Office Open XML (``.docx``, ``.xlsx``, ``.pptx`` and their macro/template variants) and
OpenDocument (``.odt``, ``.ods``, ``.odp``) are zips of XML parts. Each part is parsed as a
stream by expat (no DTD accepted, so no entity is ever declared, expanded or fetched), with
a size limit per part (:data:`MAX_PART_BYTES`) and for the whole package
(:data:`MAX_TOTAL_BYTES`); a sheet of a million empty rows streams through in constant memory.
Embedded files (``word/embeddings/*``, ``*/media/*``, ODF ``Pictures/*`` and binary objects)
are yielded as :class:`~vault.pii.parts.Embedded` after the text.

``where`` of each text part:

- docx, odt: ``"paragraph 12"``, ``"table 2 row 3"`` (cells separated by tabs), ``"header"``,
  ``"footer"``, ``"footnote 3"``, ``"endnote 1"``, ``"comment 3"``;
- xlsx, ods: ``"sheet NAME cell B7"`` (numbers exactly as stored, no exponent, no ``.0``),
  ``"sheet NAME cell B7 formula"``, ``"sheet NAME comment B7"``, ``"sheet NAME header"``,
  ``"sheet NAME name"`` (the sheet's name itself);
- pptx, odp: ``"slide 3"``, ``"slide 3 notes"``, ``"slide 3 comment"``;
- all: ``"properties"`` (title, author...), ``"chart 1"``, ``"diagram 1"``, ``"drawing 1"``,
  ``"custom XML 1"``; ODF objects ``"object NAME: ..."``.

Legacy binary Office files (``.doc``, ``.xls``, ``.ppt``: OLE2 compound files, read by
:class:`CompoundFile`) give the printable runs (ASCII and UTF-16LE) of each stream, ``where``
None; ``.xls`` number cells also as ``"sheet NAME cell B7"``; embedded OOXML files
(``Package`` streams) and Packager objects (``\\x01Ole10Native``) as files. An OLE2 file
holding an ``EncryptedPackage`` (a password-protected OOXML file) or a ``.doc``/``.xls``
with its encryption flag set raises :class:`~vault.pii.extract.UnreadableFile`; one with
Outlook property streams given as a plain OLE2 file is read as a ``.msg``.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO
from xml.parsers import expat

from .extract import UnreadableFile, printable_runs
from .parts import Embedded, Extractor, Part, TextPart

MAX_PART_BYTES = 64 << 20
"""An XML part larger than this (uncompressed) is refused."""
MAX_EMBEDDED_BYTES = 128 << 20
"""An embedded file larger than this (uncompressed) is refused."""
MAX_TOTAL_BYTES = 512 << 20
"""All the parts read from one package, uncompressed, at most (a zip bomb stops here)."""
MAX_ENTRIES = 20_000
"""A package with more zip entries is refused before they are listed."""
MAX_STREAM_BYTES = 256 << 20
"""An OLE2 stream larger than this is refused."""
TEXT_CHUNK = 1 << 20
"""Strings of an OLE2 stream are yielded in parts of about this many characters."""

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_CHUNK = 1 << 16


# --------------------------------------------------------------------------------------------
# shared helpers


def render_number(value: str) -> str:
    """A number as stored in a spreadsheet (``"4111111111111111"``, ``"4.111111111111111E+15"``,
    ``"12.50"``) written out exactly: no exponent, no trailing ``.0`` (``"4111111111111111"``,
    ``"12.5"``). Anything that is not a finite number is returned stripped, as is."""
    s = value.strip()
    try:
        d = Decimal(s)
    except InvalidOperation:
        return s
    if not d.is_finite() or abs(d.adjusted()) > 40:
        return s
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def column_name(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    name = ""
    index += 1
    while index > 0:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def _parse_ref(ref: str) -> tuple[int, int] | None:
    """"B7" -> (column index 1, row 7)."""
    m = _REF.fullmatch(ref.strip())
    if m is None:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return col - 1, int(m.group(2))


def _attr(attrs: dict[str, str], local: str) -> str | None:
    """An attribute by its local name, whatever its prefix."""
    v = attrs.get(local)
    if v is not None:
        return v
    for key, value in attrs.items():
        if key.endswith(":" + local):
            return value
    return None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


class _Refused(Exception):
    """Raised inside expat callbacks: a part that declares a DTD."""


class _Handler:
    """Receives one XML part's events (local names); appends parts to ``out``."""

    def __init__(self) -> None:
        self.out: list[Part] = []
        self.root: str | None = None  # local name of the root element, once seen

    def start(self, name: str, attrs: dict[str, str]) -> None:
        pass

    def end(self, name: str) -> None:
        pass

    def text(self, data: str) -> None:
        pass

    def finish(self) -> None:
        pass


# --------------------------------------------------------------------------------------------
# the zip package


def _zip_entries(data: bytes) -> int | None:
    """The entry count in the zip's end record (None when not found)."""
    tail = data[-(65535 + 22):]
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or i + 22 > len(tail):
        return None
    (count,) = struct.unpack_from("<H", tail, i + 10)
    if count == 0xFFFF:
        j = tail.rfind(b"PK\x06\x06", 0, i)
        if j >= 0 and j + 40 <= len(tail):
            (count,) = struct.unpack_from("<Q", tail, j + 32)
    return count


_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
               NotImplementedError, struct.error, IndexError, KeyError, OverflowError)


class _Package:
    """A zip package opened for reading within the limits; errors say ``label: ...``."""

    def __init__(self, data: bytes, label: str) -> None:
        self.label = label
        if data[:8] == OLE2_MAGIC:
            if _ole_encrypted_package(data):
                raise UnreadableFile(f"{label}: encrypted (password-protected)")
            raise UnreadableFile(f"{label}: an OLE2 file, not a zip package")
        count = _zip_entries(data)
        if count is not None and count > MAX_ENTRIES:
            raise UnreadableFile(f"{label}: more than {MAX_ENTRIES} zip entries")
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
            self.infos = {i.filename: i for i in self.zf.infolist() if not i.is_dir()}
            # part names are case-insensitive (OPC): a relationship may differ in case
            self._lower = {n.lower(): n for n in self.infos}
        except _ZIP_ERRORS:
            raise UnreadableFile(f"{label}: damaged zip") from None
        if len(self.infos) > MAX_ENTRIES:
            raise UnreadableFile(f"{label}: more than {MAX_ENTRIES} zip entries")
        self.read_total = 0

    def has(self, name: str) -> bool:
        return name in self.infos or name.lower() in self._lower

    def _open(self, name: str, limit: int, what: str) -> IO[bytes]:
        info = self.infos.get(name) or self.infos[self._lower[name.lower()]]
        if info.flag_bits & 0x1:
            raise UnreadableFile(f"{self.label}: encrypted (password-protected)")
        if info.file_size > limit:
            raise UnreadableFile(f"{what} {name} larger than {limit >> 20} MiB")
        return self.zf.open(info)

    def _count(self, n: int, total: int, name: str, limit: int, what: str) -> None:
        if total > limit:
            raise UnreadableFile(f"{what} {name} larger than {limit >> 20} MiB")
        self.read_total += n
        if self.read_total > MAX_TOTAL_BYTES:
            raise UnreadableFile(f"{self.label}: more than {MAX_TOTAL_BYTES >> 20} MiB "
                                 "uncompressed")

    def read(self, name: str, limit: int = MAX_PART_BYTES, what: str = "part") -> bytes:
        """A whole member (e.g. an embedded file), within ``limit``."""
        try:
            with self._open(name, limit, what) as f:
                chunks: list[bytes] = []
                total = 0
                while chunk := f.read(_CHUNK):
                    total += len(chunk)
                    self._count(len(chunk), total, name, limit, what)
                    chunks.append(chunk)
                return b"".join(chunks)
        except _ZIP_ERRORS:
            raise UnreadableFile(f"{self.label}: damaged zip") from None

    def parse(self, name: str, handler: _Handler) -> Iterator[Part]:
        """Stream the XML part ``name`` through ``handler``, yielding its parts as they come."""
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = _CHUNK

        def doctype(*_: object) -> None:
            raise _Refused

        parser.StartDoctypeDeclHandler = doctype
        parser.EntityDeclHandler = doctype

        def start(n: str, a: dict[str, str]) -> None:
            handler.start(n[n.find(":") + 1:], a)

        def first(n: str, a: dict[str, str]) -> None:
            handler.root = n[n.find(":") + 1:]
            parser.StartElementHandler = start
            start(n, a)

        parser.StartElementHandler = first
        parser.EndElementHandler = lambda n: handler.end(n[n.find(":") + 1:])
        parser.CharacterDataHandler = handler.text
        try:
            with self._open(name, MAX_PART_BYTES, "part") as f:
                total = 0
                while chunk := f.read(_CHUNK):
                    total += len(chunk)
                    self._count(len(chunk), total, name, MAX_PART_BYTES, "part")
                    parser.Parse(chunk, False)
                    if handler.out:
                        yield from handler.out
                        handler.out.clear()
                parser.Parse(b"", True)
            handler.finish()
            yield from handler.out
            handler.out.clear()
        except _Refused:
            raise UnreadableFile(f"{self.label}: part {name} declares a DTD (refused)") from None
        except expat.ExpatError as e:
            raise UnreadableFile(f"{self.label}: part {name} is not well-formed XML "
                                 f"(line {e.lineno})") from None
        except _ZIP_ERRORS:
            raise UnreadableFile(f"{self.label}: damaged zip") from None

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """A part's relationships: id -> (type's last path segment, target part name)."""
        base, _, leaf = part.rpartition("/")
        name = f"{base}/_rels/{leaf}.rels" if base else f"_rels/{leaf}.rels"
        if not self.has(name):
            return {}
        h = _RelsHandler(base)
        for _ in self.parse(name, h):
            pass
        return h.rels

    def embedded(self, names: list[str]) -> Iterator[Part]:
        for name in names:
            yield Embedded(name, self.read(name, MAX_EMBEDDED_BYTES, "embedded file"))


class _RelsHandler(_Handler):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.rels: dict[str, tuple[str, str]] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name != "Relationship" or attrs.get("TargetMode") == "External":
            return
        rid, target = attrs.get("Id"), attrs.get("Target")
        if rid and target:
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                path = posixpath.normpath(posixpath.join(self.base, target))
            self.rels[rid] = (attrs.get("Type", "").rpartition("/")[2], path)


class _TextHandler(_Handler):
    """Every text node of a part, one line per element, as one part (``where`` given)."""

    def __init__(self, where: str, numbers: bool = False) -> None:
        super().__init__()
        self.where = where
        self.numbers = numbers
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.size = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self._line()

    def end(self, name: str) -> None:
        self._line()

    def text(self, data: str) -> None:
        self.buf.append(data)

    def _line(self) -> None:
        if self.buf:
            s = "".join(self.buf).strip()
            self.buf = []
            if s:
                self.lines.append(render_number(s) if self.numbers else s)
                self.size += len(s)
                if self.size >= TEXT_CHUNK:
                    self._flush()

    def _flush(self) -> None:
        if self.lines:
            self.out.append(TextPart("\n".join(self.lines), self.where))
            self.lines, self.size = [], 0

    def finish(self) -> None:
        self._line()
        self._flush()


def _numbered(pattern: str, names: list[str]) -> list[tuple[int, str]]:
    """(number, name) of the names matching ``pattern`` (one group: the number), sorted."""
    rx = re.compile(pattern)
    found = []
    for name in names:
        m = rx.fullmatch(name)
        if m:
            found.append((_int(m.group(1), 0), name))
    return sorted(found)


def _ooxml_extras(pkg: _Package, top: str) -> Iterator[Part]:
    """Properties, charts, diagrams, drawings and custom XML of an OOXML package."""
    names = list(pkg.infos)
    for prop in ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml"):
        if pkg.has(prop):
            yield from pkg.parse(prop, _TextHandler("properties"))
    for kind, pattern in (("chart", rf"{top}/charts/chart(\d+)\.xml"),
                          ("diagram", rf"{top}/diagrams/data(\d+)\.xml"),
                          ("drawing", rf"{top}/drawings/drawing(\d+)\.xml"),
                          ("custom XML", r"customXml/item(\d+)\.xml")):
        for n, name in _numbered(pattern, names):
            yield from pkg.parse(name, _TextHandler(f"{kind} {n}", numbers=kind == "chart"))


def _embedded_names(pkg: _Package, top: str) -> list[str]:
    return sorted(n for n in pkg.infos
                  if n.startswith((f"{top}/embeddings/", f"{top}/media/")))


def _main_part(pkg: _Package, default: str) -> str:
    """The package's main part, by the relationships of the package (``_rels/.rels``)."""
    for kind, target in pkg.rels("").values():
        if kind == "officeDocument" and pkg.has(target):
            return target
    return default


def _guard(label: str, gen: Callable[[], Iterator[Part]]) -> Iterator[Part]:
    """Runs an extractor body mapping stray parsing errors to a readable UnreadableFile."""
    try:
        yield from gen()
    except UnreadableFile:
        raise
    except _ZIP_ERRORS:
        raise UnreadableFile(f"{label}: damaged zip") from None
    except (ValueError, RecursionError, MemoryError):
        raise UnreadableFile(f"{label}: damaged document") from None


# --------------------------------------------------------------------------------------------
# docx


@dataclass
class _Table:
    no: int
    row: int = 0
    cells: list[list[str]] = field(default_factory=list)  # paragraphs of each cell


class _WordHandler(_Handler):
    """w:p paragraphs, w:tbl rows, notes and comments of one WordprocessingML part.

    ``kind``: "document" (numbered paragraphs), "header"/"footer"/"glossary" (the whole
    part as one text), "footnote"/"endnote"/"comment" (one text per note)."""

    NOTES = {"footnote": "footnote", "endnote": "endnote", "comment": "comment"}

    def __init__(self, kind: str, counters: dict[str, int]) -> None:
        super().__init__()
        self.kind = kind
        self.n = counters  # shared across parts: paragraph, table
        self.paras: list[list[str]] = []
        self.numbers: list[int] = []  # of the open paragraphs (0: not a body paragraph)
        self.tables: list[_Table] = []
        self.note: list[str] | None = None
        self.note_name = ""
        self.whole: list[str] = []
        self.skip = 0
        self.run = 0
        self.in_text = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.skip:
            self.skip += 1
            return
        if name in ("t", "delText"):
            self.in_text = True
        elif name == "r":
            self.run += 1
        elif name == "p":
            self.paras.append([])
            body = self.kind == "document" and self.note is None and not (
                self.tables and self.tables[-1].cells)
            if body:
                self.n["paragraph"] += 1
            self.numbers.append(self.n["paragraph"] if body else 0)
        elif self.run and self.paras:
            if name == "tab":
                self.paras[-1].append("\t")
            elif name in ("br", "cr"):
                self.paras[-1].append("\n")
            elif name == "noBreakHyphen":
                self.paras[-1].append("-")
        if name == "Fallback":  # mc:Fallback repeats mc:Choice (VML copies of text boxes)
            self.skip = 1
        elif name == "tbl":
            self.n["table"] += 1
            self.tables.append(_Table(self.n["table"]))
        elif name == "tr" and self.tables:
            self.tables[-1].row += 1
            self.tables[-1].cells = []
        elif name == "tc" and self.tables:
            self.tables[-1].cells.append([])
        elif name in self.NOTES and self.kind in ("footnote", "endnote", "comment"):
            if _attr(attrs, "type") in ("separator", "continuationSeparator",
                                        "continuationNotice"):
                self.skip = 1
                return
            self.n[name] = self.n.get(name, 0) + 1
            self.note, self.note_name = [], f"{self.NOTES[name]} {self.n[name]}"

    def end(self, name: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        if name in ("t", "delText"):
            self.in_text = False
        elif name == "r":
            self.run = max(0, self.run - 1)
        elif name == "p" and self.paras:
            text = "".join(self.paras.pop())
            self._paragraph(text, self.numbers.pop())
        elif name == "tr" and self.tables:
            table = self.tables[-1]
            text = "\t".join("\n".join(c) for c in table.cells)
            table.cells = []
            if text.strip():
                where = f"table {table.no} row {table.row}"
                if self.note is not None:
                    self.note.append(text)
                elif self.kind == "document":
                    self.out.append(TextPart(text, where))
                else:
                    self.whole.append(text)
        elif name == "tbl" and self.tables:
            self.tables.pop()
        elif name in self.NOTES and self.note is not None:
            text = "\n".join(self.note).strip()
            if text:
                self.out.append(TextPart(text, self.note_name))
            self.note = None

    def _paragraph(self, text: str, number: int) -> None:
        if number:
            if text.strip():
                self.out.append(TextPart(text, f"paragraph {number}"))
        elif self.tables and self.tables[-1].cells:
            self.tables[-1].cells[-1].append(text)
        elif self.note is not None:
            self.note.append(text)
        else:
            self.whole.append(text)

    def text(self, data: str) -> None:
        if self.in_text and self.paras and not self.skip:
            self.paras[-1].append(data)

    def finish(self) -> None:
        text = "\n".join(self.whole).strip()
        if text:
            self.out.append(TextPart(text, self.kind))


def _docx(pkg: _Package) -> Iterator[Part]:
    main = _main_part(pkg, "word/document.xml")
    if not pkg.has(main):
        raise UnreadableFile(f"{pkg.label}: no main document part (not a Word document)")
    top = main.partition("/")[0]
    names = list(pkg.infos)
    counters = {"paragraph": 0, "table": 0}
    doc = _WordHandler("document", counters)
    yield from pkg.parse(main, doc)
    if doc.root != "document":
        raise UnreadableFile(f"{pkg.label}: no main document part (not a Word document)")
    for kind, pattern in (("header", rf"{top}/header(\d*)\.xml"),
                          ("footer", rf"{top}/footer(\d*)\.xml"),
                          ("footnote", rf"{top}/footnotes(\d*)\.xml"),
                          ("endnote", rf"{top}/endnotes(\d*)\.xml"),
                          ("comment", rf"{top}/comments(\d*)\.xml"),
                          ("glossary", rf"{top}/glossary/document(\d*)\.xml")):
        for _, name in _numbered(pattern, names):
            yield from pkg.parse(name, _WordHandler(kind, {"paragraph": 0, "table": 0}))
    yield from _ooxml_extras(pkg, top)
    yield from pkg.embedded(_embedded_names(pkg, top))


def extract_docx(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for Word documents (docx, docm, dotx)."""
    return _guard("docx", lambda: _docx(_Package(data, "docx")))


# --------------------------------------------------------------------------------------------
# xlsx


class _StringsHandler(_Handler):
    """The shared strings table: one string per ``si`` (phonetic runs left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.strings: list[str] = []
        self.buf: list[str] = []
        self.in_t = False
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "si":
            self.buf = []
        elif name == "t":
            self.in_t = True
        elif name == "rPh":
            self.phonetic += 1

    def end(self, name: str) -> None:
        if name == "si":
            self.strings.append("".join(self.buf))
            self.buf = []
        elif name == "t":
            self.in_t = False
        elif name == "rPh":
            self.phonetic -= 1

    def text(self, data: str) -> None:
        if self.in_t and not self.phonetic:
            self.buf.append(data)


_HEADER_FOOTER = {"oddHeader": "header", "evenHeader": "header", "firstHeader": "header",
                  "oddFooter": "footer", "evenFooter": "footer", "firstFooter": "footer"}


class _SheetHandler(_Handler):
    """Cells of one worksheet, streamed: rows and cells hold no state once ended."""

    def __init__(self, sheet: str, strings: list[str]) -> None:
        super().__init__()
        self.sheet = sheet
        self.strings = strings
        self.row = 0
        self.col = -1
        self.ref = ""
        self.type: str | None = None
        self.collect: list[str] | None = None  # text of the element being read
        self.value: list[str] = []
        self.formula: list[str] = []
        self.inline: list[str] = []
        self.phonetic = 0
        self.hf: str | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "row":
            self.row = _int(attrs.get("r"), self.row + 1)
            self.col = -1
        elif name == "c":
            ref = attrs.get("r")
            pos = _parse_ref(ref) if ref else None
            if pos is not None:
                self.col, self.row = pos
            else:
                self.col += 1
            self.ref = f"{column_name(self.col)}{self.row}"
            self.type = attrs.get("t")
            self.value, self.formula, self.inline = [], [], []
        elif name == "v":
            self.collect = self.value
        elif name == "f":
            self.collect = self.formula
        elif name == "t":
            self.collect = self.inline
        elif name == "rPh":
            self.phonetic += 1
        elif name in _HEADER_FOOTER:
            self.hf = _HEADER_FOOTER[name]
            self.collect = []

    def end(self, name: str) -> None:
        if name in ("v", "f", "t"):
            self.collect = None
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "c":
            self._cell()
        elif name in _HEADER_FOOTER and self.collect is not None:
            text = "".join(self.collect).strip()
            if text:
                self.out.append(TextPart(text, f"sheet {self.sheet} {self.hf}"))
            self.collect = None

    def text(self, data: str) -> None:
        if self.collect is not None and not self.phonetic:
            self.collect.append(data)

    def _cell(self) -> None:
        v = "".join(self.value)
        t = self.type
        if t == "s":
            i = _int(v.strip(), -1)
            text = self.strings[i] if 0 <= i < len(self.strings) else ""
        elif t == "inlineStr":
            text = "".join(self.inline)
        elif t in ("str", "e", "d"):
            text = v
        elif t == "b":
            text = {"1": "TRUE", "0": "FALSE"}.get(v.strip(), v)
        else:
            text = render_number(v) if v.strip() else ""
        where = f"sheet {self.sheet} cell {self.ref}"
        if text.strip():
            self.out.append(TextPart(text, where))
        formula = "".join(self.formula)
        if formula.strip():
            self.out.append(TextPart(formula, f"{where} formula"))


class _WorkbookHandler(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.sheets: list[tuple[str, str]] = []  # (name, relationship id)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "sheet":
            self.sheets.append((attrs.get("name", ""), _attr(attrs, "id") or ""))


class _CommentsHandler(_Handler):
    """Spreadsheet comments (``comment`` or ``threadedComment`` with a ``ref``)."""

    def __init__(self, sheet: str) -> None:
        super().__init__()
        self.sheet = sheet
        self.ref: str | None = None
        self.buf: list[str] = []
        self.in_t = 0
        self.text_tag = "t"  # legacy comments: runs' t; threaded comments: text

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name in ("comment", "threadedComment"):
            self.ref, self.buf = attrs.get("ref", "?"), []
            self.text_tag = "text" if name == "threadedComment" else "t"
        elif name == self.text_tag and self.ref is not None:
            self.in_t += 1

    def end(self, name: str) -> None:
        if name == self.text_tag and self.in_t:
            self.in_t -= 1
        elif name in ("comment", "threadedComment") and self.ref is not None:
            text = "".join(self.buf).strip()
            if text:
                prefix = f"sheet {self.sheet} " if self.sheet else ""
                self.out.append(TextPart(text, f"{prefix}comment {self.ref}"))
            self.ref = None

    def text(self, data: str) -> None:
        if self.in_t:
            self.buf.append(data)


def _xlsx(pkg: _Package) -> Iterator[Part]:
    book = _main_part(pkg, "xl/workbook.xml")
    if not pkg.has(book):
        raise UnreadableFile(f"{pkg.label}: no workbook part (not a spreadsheet)")
    top = book.partition("/")[0]
    rels = pkg.rels(book)
    wb = _WorkbookHandler()
    for _ in pkg.parse(book, wb):
        pass
    if wb.root != "workbook":
        raise UnreadableFile(f"{pkg.label}: no workbook part (not a spreadsheet)")
    sst_name = next((t for k, t in rels.values() if k == "sharedStrings"),
                    f"{top}/sharedStrings.xml")
    strings = _StringsHandler()
    if pkg.has(sst_name):
        for _ in pkg.parse(sst_name, strings):
            pass
    seen: set[str] = set()
    sheets = [(name, rels[rid][1]) for name, rid in wb.sheets
              if rid in rels and rels[rid][0] == "worksheet" and pkg.has(rels[rid][1])]
    if not sheets:  # relationships missing: the sheets by their part names
        sheets = [(f"{n}", name) for n, name in
                  _numbered(rf"{top}/worksheets/sheet(\d+)\.xml", list(pkg.infos))]
    for sheet, part in sheets:
        yield TextPart(sheet, f"sheet {sheet} name")
        yield from pkg.parse(part, _SheetHandler(sheet, strings.strings))
        for kind, target in pkg.rels(part).values():
            if kind in ("comments", "threadedComment") and pkg.has(target):
                seen.add(target)
                yield from pkg.parse(target, _CommentsHandler(sheet))
    for _, name in _numbered(rf"{top}/(?:comments|threadedComments/threadedComment)(\d+)\.xml",
                             list(pkg.infos)):
        if name not in seen:
            yield from pkg.parse(name, _CommentsHandler(""))
    strings.strings.clear()
    yield from _ooxml_extras(pkg, top)
    yield from pkg.embedded(_embedded_names(pkg, top))


def extract_xlsx(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for Excel workbooks (xlsx, xlsm, xltx)."""
    return _guard("xlsx", lambda: _xlsx(_Package(data, "xlsx")))


# --------------------------------------------------------------------------------------------
# pptx


class _DrawingTextHandler(_Handler):
    """DrawingML text (``a:p`` paragraphs of ``a:t`` runs; ``p:text`` of old comments), the
    whole part as one text part."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where
        self.paras: list[str] = []
        self.buf: list[str] = []
        self.in_t = 0
        self.skip = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.skip:
            self.skip += 1
        elif name == "Fallback":
            self.skip = 1
        elif name in ("t", "text"):
            self.in_t += 1
        elif name == "br":
            self.buf.append("\n")

    def end(self, name: str) -> None:
        if self.skip:
            self.skip -= 1
        elif name in ("t", "text") and self.in_t:
            self.in_t -= 1
            if name == "text":
                self._para()
        elif name == "p":
            self._para()

    def _para(self) -> None:
        if self.buf:
            self.paras.append("".join(self.buf))
            self.buf = []

    def text(self, data: str) -> None:
        if self.in_t and not self.skip:
            self.buf.append(data)

    def finish(self) -> None:
        self._para()
        text = "\n".join(p for p in self.paras if p.strip())
        if text.strip():
            self.out.append(TextPart(text, self.where))


class _PresentationHandler(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.slides: list[str] = []  # relationship ids, in slide order

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "sldId":
            rid = next((v for k, v in attrs.items() if k.endswith(":id")), None)
            if rid:
                self.slides.append(rid)


def _pptx(pkg: _Package) -> Iterator[Part]:
    pres = _main_part(pkg, "ppt/presentation.xml")
    if not pkg.has(pres):
        raise UnreadableFile(f"{pkg.label}: no presentation part (not a presentation)")
    top = pres.partition("/")[0]
    rels = pkg.rels(pres)
    ph = _PresentationHandler()
    for _ in pkg.parse(pres, ph):
        pass
    if ph.root != "presentation":
        raise UnreadableFile(f"{pkg.label}: no presentation part (not a presentation)")
    slides = [rels[rid][1] for rid in ph.slides if rid in rels and pkg.has(rels[rid][1])]
    if not slides:
        slides = [n for _, n in _numbered(rf"{top}/slides/slide(\d+)\.xml", list(pkg.infos))]
    done: set[str] = set()
    for number, slide in enumerate(slides, 1):
        yield from pkg.parse(slide, _DrawingTextHandler(f"slide {number}"))
        for kind, target in pkg.rels(slide).values():
            if not pkg.has(target) or target in done:
                continue
            if kind == "notesSlide":
                done.add(target)
                yield from pkg.parse(target, _DrawingTextHandler(f"slide {number} notes"))
            elif kind in ("comments", "comment") or "omments" in kind:
                done.add(target)
                yield from pkg.parse(target, _DrawingTextHandler(f"slide {number} comment"))
    for n, name in _numbered(rf"{top}/notesSlides/notesSlide(\d+)\.xml", list(pkg.infos)):
        if name not in done:
            yield from pkg.parse(name, _DrawingTextHandler(f"notes {n}"))
    for n, name in _numbered(rf"{top}/comments/\D*(\d+)\.xml", list(pkg.infos)):
        if name not in done:
            yield from pkg.parse(name, _DrawingTextHandler(f"comment {n}"))
    yield from _ooxml_extras(pkg, top)
    yield from pkg.embedded(_embedded_names(pkg, top))


def extract_pptx(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for PowerPoint presentations (pptx, pptm, ppsx)."""
    return _guard("pptx", lambda: _pptx(_Package(data, "pptx")))


# --------------------------------------------------------------------------------------------
# OpenDocument


@dataclass
class _Box:
    """Where paragraphs go while an ODF element is open."""

    kind: str  # body, row, cell, note, collect (a slide, its notes, a header), whole, none
    where: str = ""
    texts: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    value: str | None = None


class _OdfHandler(_Handler):
    """Paragraphs, tables, sheets, slides, notes and annotations of an ODF part."""

    def __init__(self, prefix: str = "", whole: str | None = None) -> None:
        super().__init__()
        self.prefix = prefix
        self.mode = "text"  # text, spreadsheet, presentation
        self.paras: list[list[str] | None] = []
        self.boxes: list[_Box] = [_Box("whole", whole) if whole else _Box("body")]
        self.n = {"paragraph": 0, "table": 0, "comment": 0, "footnote": 0, "endnote": 0,
                  "slide": 0}
        self.tables: list[list[int]] = []  # [table no, row no]
        self.sheet = ""
        self.row = 0  # 1-based row of the open row (spreadsheet)
        self.col = 0  # 0-based column of the next cell
        self.repeat_rows = 1
        self.repeat_cols = 1
        self.skip = 0

    def _emit(self, text: str, where: str) -> None:
        if text.strip():
            self.out.append(TextPart(text, self.prefix + where))

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.skip:
            self.skip += 1
            return
        box = self.boxes[-1]
        if name in ("p", "h"):
            self.paras.append([])
        elif name in ("s", "tab", "line-break") and self.paras and self.paras[-1] is not None:
            self.paras[-1].append({"s": " " * min(_int(_attr(attrs, "c"), 1), 1000),
                                   "tab": "\t", "line-break": "\n"}[name])
        elif name in ("note-citation", "tracked-changes", "sequence-decls", "deletion"):
            self.skip = 1
        elif name in ("spreadsheet", "presentation", "drawing"):
            self.mode = "spreadsheet" if name == "spreadsheet" else "presentation"
        elif name == "table" and self.mode == "spreadsheet":
            self.sheet = _attr(attrs, "name") or "?"
            self.row = 0
            self._emit(self.sheet, f"sheet {self.sheet} name")
        elif name == "table" and self.mode == "text":
            self.n["table"] += 1
            self.tables.append([self.n["table"], 0])
        elif name == "table-row":
            self.repeat_rows = max(1, _int(_attr(attrs, "number-rows-repeated"), 1))
            if self.mode == "spreadsheet":
                self.row += 1
                self.col = 0
            elif self.mode == "text" and self.tables:
                self.tables[-1][1] += 1
                self.boxes.append(_Box("row", f"table {self.tables[-1][0]} "
                                              f"row {self.tables[-1][1]}"))
        elif name in ("table-cell", "covered-table-cell"):
            self.repeat_cols = max(1, _int(_attr(attrs, "number-columns-repeated"), 1))
            if self.mode == "spreadsheet":
                value = None
                if _attr(attrs, "value-type") in ("float", "currency", "percentage"):
                    raw = _attr(attrs, "value")
                    value = render_number(raw) if raw else None
                else:
                    value = (_attr(attrs, "date-value") or _attr(attrs, "time-value")
                             or _attr(attrs, "string-value"))
                ref = f"{column_name(self.col)}{self.row}"
                self.boxes.append(_Box("cell", f"sheet {self.sheet} cell {ref}", value=value))
            elif box.kind == "row":
                self.boxes.append(_Box("cell"))
        elif name == "annotation":
            if self.mode == "spreadsheet":
                ref = f"{column_name(self.col)}{self.row}"
                where = f"sheet {self.sheet} comment {ref}"
            else:
                self.n["comment"] += 1
                where = f"comment {self.n['comment']}"
            self.boxes.append(_Box("note", where))
            self.paras.append(None)  # text outside its paragraphs (author, date) is not read
        elif name == "note":
            kind = "endnote" if _attr(attrs, "note-class") == "endnote" else "footnote"
            self.n[kind] += 1
            self.boxes.append(_Box("note", f"{kind} {self.n[kind]}"))
            self.paras.append(None)
        elif name == "text-box":
            self.paras.append(None)
        elif name == "page" and self.mode == "presentation":
            self.n["slide"] += 1
            self.boxes.append(_Box("collect", f"slide {self.n['slide']}"))
        elif name == "notes" and box.kind == "collect":
            self.boxes.append(_Box("collect", f"{box.where} notes"))
        elif name in ("creator", "date") and box.kind == "note":
            self.skip = 1

    def end(self, name: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        box = self.boxes[-1]
        if name in ("p", "h") and self.paras:
            buf = self.paras.pop()
            if buf is not None:
                self._paragraph("".join(buf))
        elif name == "table" and self.mode == "text" and self.tables:
            self.tables.pop()
        elif name == "table-row":
            if self.mode == "spreadsheet":
                self.row += self.repeat_rows - 1
            elif box.kind == "row":
                self.boxes.pop()
                self._emit("\t".join(box.cells), box.where)
        elif name in ("table-cell", "covered-table-cell"):
            if box.kind == "cell":
                self.boxes.pop()
                text = "\n".join(box.texts)
                if box.value is not None and box.value not in text:
                    text = f"{text}\n{box.value}" if text.strip() else box.value
                if self.mode == "spreadsheet":
                    self._emit(text, box.where)
                elif self.boxes[-1].kind == "row":
                    self.boxes[-1].cells.append(text)
            if self.mode == "spreadsheet":
                self.col += self.repeat_cols
                self.repeat_cols = 1
        elif name in ("annotation", "note") and box.kind == "note":
            self.boxes.pop()
            if self.paras and self.paras[-1] is None:
                self.paras.pop()
            self._emit("\n".join(box.texts), box.where)
        elif name == "text-box" and self.paras and self.paras[-1] is None:
            self.paras.pop()
        elif name in ("page", "notes") and box.kind == "collect":
            self.boxes.pop()
            self._emit("\n".join(box.texts), box.where)

    def _paragraph(self, text: str) -> None:
        box = self.boxes[-1]
        if box.kind == "body":
            self.n["paragraph"] += 1
            self._emit(text, f"paragraph {self.n['paragraph']}")
        elif box.kind == "row":  # a paragraph in a row but no cell: keep it
            box.cells.append(text)
        else:
            box.texts.append(text)

    def text(self, data: str) -> None:
        if self.paras and not self.skip:
            top = self.paras[-1]
            if top is not None:
                top.append(data)

    def finish(self) -> None:
        box = self.boxes[0]
        if box.kind == "whole":
            self._emit("\n".join(box.texts), box.where)


class _OdfStylesHandler(_OdfHandler):
    """styles.xml: the text of headers and footers of the master pages."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes = [_Box("none")]

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if not self.skip and name in ("header", "header-left", "header-first", "footer",
                                      "footer-left", "footer-first"):
            self.boxes.append(_Box("collect", name.partition("-")[0]))
        super().start(name, attrs)

    def end(self, name: str) -> None:
        super().end(name)
        if not self.skip and name in ("header", "header-left", "header-first", "footer",
                                      "footer-left", "footer-first"):
            box = self.boxes.pop()
            self._emit("\n".join(box.texts), box.where)

    def _paragraph(self, text: str) -> None:
        if self.boxes[-1].kind != "none":
            super()._paragraph(text)


class _ManifestHandler(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.encrypted = False
        self.objects: dict[str, str] = {}  # full-path -> media-type

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "encryption-data":
            self.encrypted = True
        elif name == "file-entry":
            path = _attr(attrs, "full-path")
            if path:
                self.objects[path] = _attr(attrs, "media-type") or ""


def _odf(pkg: _Package) -> Iterator[Part]:
    if not pkg.has("content.xml") and not pkg.has("mimetype"):
        raise UnreadableFile(f"{pkg.label}: no content.xml (not an OpenDocument file)")
    manifest = _ManifestHandler()
    if pkg.has("META-INF/manifest.xml"):
        for _ in pkg.parse("META-INF/manifest.xml", manifest):
            pass
    if manifest.encrypted:
        raise UnreadableFile(f"{pkg.label}: encrypted (password-protected)")
    if pkg.has("content.xml"):
        yield from pkg.parse("content.xml", _OdfHandler())
    if pkg.has("styles.xml"):
        yield from pkg.parse("styles.xml", _OdfStylesHandler())
    if pkg.has("meta.xml"):
        yield from pkg.parse("meta.xml", _TextHandler("properties"))
    # embedded ODF objects (charts, formulas, other documents) are folders of the package
    objects = sorted({n.rpartition("/")[0] for n in pkg.infos
                      if n.endswith("/content.xml") and "/" in n})
    for obj in objects:
        yield from pkg.parse(f"{obj}/content.xml", _OdfHandler(prefix=f"object {obj}: "))
    embedded = sorted(
        n for n in pkg.infos
        if (n.startswith("Pictures/") or (n.startswith("Object") and "/" not in n))
    )
    yield from pkg.embedded(embedded)


def extract_odt(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for OpenDocument text (odt)."""
    return _guard("odt", lambda: _odf(_Package(data, "odt")))


def extract_ods(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for OpenDocument spreadsheets (ods)."""
    return _guard("ods", lambda: _odf(_Package(data, "ods")))


def extract_odp(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for OpenDocument presentations and drawings."""
    return _guard("odp", lambda: _odf(_Package(data, "odp")))


def sniff_package(data: bytes) -> str | None:
    """The MIME type of an Office Open XML or OpenDocument package that libmagic may call
    ``application/zip`` (it needs its members in the usual order), from the zip's member
    names; None for any other zip (or not a zip)."""
    try:
        count = _zip_entries(data)
        if count is None or count > MAX_ENTRIES:
            return None
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
        if "mimetype" in names:
            info = zf.getinfo("mimetype")
            if info.file_size <= 200:
                mime = zf.read(info).decode("ascii", "replace").strip()
                if mime.startswith("application/vnd.oasis.opendocument."):
                    return mime
    except _ZIP_ERRORS:
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, mime in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
        if any(n.startswith(prefix) for n in names):
            return mime
    return None


# --------------------------------------------------------------------------------------------
# OLE2 compound files


class CompoundFileError(Exception):
    """The OLE2 structure is damaged."""


_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE
_MAXREG = 0xFFFFFFFA


@dataclass(frozen=True)
class OleEntry:
    name: str
    type: int  # 1 storage, 2 stream, 5 root
    left: int
    right: int
    child: int
    start: int
    size: int


class CompoundFile:
    """A minimal, bounded reader of OLE2 compound files (MS-CFB): the directory tree and
    streams' contents, following sector chains with loop and range checks. Raises
    :class:`CompoundFileError` on a damaged structure."""

    def __init__(self, data: bytes) -> None:
        if data[:8] != OLE2_MAGIC or len(data) < 512:
            raise CompoundFileError("not an OLE2 file")
        self.data = data
        (self.shift, mini_shift) = struct.unpack_from("<HH", data, 0x1E)
        if self.shift not in (9, 12) or mini_shift != 6:
            raise CompoundFileError("bad sector size")
        self.ssize = 1 << self.shift
        (nfat, dir_start, _, cutoff, minifat_start, nminifat, difat_start,
         ndifat) = struct.unpack_from("<IIIIIIII", data, 0x2C)
        self.cutoff = cutoff if 0 < cutoff <= 1 << 20 else 4096
        self.nsectors = max(0, (len(data) - self.ssize) // self.ssize + 1)
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s <= _MAXREG]
        seen: set[int] = set()
        sid = difat_start
        per = self.ssize // 4 - 1
        while sid <= _MAXREG and len(fat_sectors) < nfat:
            if sid in seen or len(seen) > self.nsectors:
                raise CompoundFileError("DIFAT loop")
            seen.add(sid)
            vals = struct.unpack(f"<{per + 1}I", self._sector(sid))
            fat_sectors.extend(v for v in vals[:per] if v <= _MAXREG)
            sid = vals[per]
        fat_sectors = fat_sectors[:max(nfat, 1)]
        self.fat = self._table(b"".join(self._sector(s) for s in fat_sectors))
        dirdata = self._chain_bytes(self.fat, dir_start, self._sector)
        self.entries = [self._entry(dirdata, i) for i in range(len(dirdata) // 128)]
        if not self.entries or self.entries[0].type != 5:
            raise CompoundFileError("no root entry")
        root = self.entries[0]
        self.minifat = (self._table(self._chain_bytes(self.fat, minifat_start, self._sector))
                        if nminifat and minifat_start <= _MAXREG else [])
        self.ministream = (self._chain_bytes(self.fat, root.start, self._sector)[:root.size]
                           if root.start <= _MAXREG else b"")

    @staticmethod
    def _table(raw: bytes) -> list[int]:
        return list(struct.unpack(f"<{len(raw) // 4}I", raw[:len(raw) // 4 * 4]))

    def _sector(self, sid: int) -> bytes:
        off = (sid + 1) << self.shift
        if sid > _MAXREG or off >= len(self.data):
            raise CompoundFileError("sector out of range")
        return self.data[off:off + self.ssize].ljust(self.ssize, b"\0")

    def _mini_sector(self, sid: int) -> bytes:
        off = sid << 6
        if off >= len(self.ministream):
            raise CompoundFileError("mini sector out of range")
        return self.ministream[off:off + 64].ljust(64, b"\0")

    def _chain_bytes(self, table: list[int], start: int, read: Callable[[int], bytes],
                     limit: int = MAX_STREAM_BYTES) -> bytes:
        out: list[bytes] = []
        seen: set[int] = set()
        sid, size = start, 0
        while sid <= _MAXREG:
            if sid in seen or sid >= len(table):
                raise CompoundFileError("broken sector chain")
            seen.add(sid)
            chunk = read(sid)
            size += len(chunk)
            if size > limit + self.ssize:
                raise UnreadableFile(f"OLE2 stream larger than {limit >> 20} MiB")
            out.append(chunk)
            sid = table[sid]
        return b"".join(out)

    def _entry(self, d: bytes, i: int) -> OleEntry:
        off = i * 128
        nlen = min(struct.unpack_from("<H", d, off + 64)[0], 64)
        name = d[off:off + max(0, nlen - 2)].decode("utf-16-le", "replace")
        typ = d[off + 66]
        left, right, child = struct.unpack_from("<III", d, off + 68)
        start, size = struct.unpack_from("<IQ", d, off + 116)
        if self.shift == 9:
            size &= 0xFFFFFFFF
        return OleEntry(name, typ, left, right, child, start, size)

    def children(self, index: int) -> list[int]:
        """The entries in the storage ``index`` (its red-black tree walked in order)."""
        out: list[int] = []
        seen: set[int] = set()
        stack: list[int] = []
        node = self.entries[index].child if 0 <= index < len(self.entries) else _FREE
        while stack or node < len(self.entries):
            while node < len(self.entries):
                if node in seen:
                    raise CompoundFileError("directory loop")
                seen.add(node)
                stack.append(node)
                node = self.entries[node].left
            node = stack.pop()
            out.append(node)
            node = self.entries[node].right
        return out

    def walk(self, index: int = 0, prefix: str = "", depth: int = 0
             ) -> Iterator[tuple[str, int]]:
        """(path, entry index) of every stream and storage under ``index``, depth-first."""
        if depth > 32:
            raise CompoundFileError("storages nested too deeply")
        for i in self.children(index):
            e = self.entries[i]
            path = f"{prefix}{e.name}"
            yield path, i
            if e.type == 1:
                yield from self.walk(i, path + "/", depth + 1)

    def find(self, index: int, name: str) -> int | None:
        """The child of storage ``index`` named ``name`` (case-insensitive), or None."""
        low = name.lower()
        for i in self.children(index):
            if self.entries[i].name.lower() == low:
                return i
        return None

    def stream(self, index: int, limit: int = MAX_STREAM_BYTES) -> bytes:
        e = self.entries[index]
        if e.type != 2:
            raise CompoundFileError("not a stream")
        if e.size > limit:
            raise UnreadableFile(f"OLE2 stream {e.name!r} larger than {limit >> 20} MiB")
        if e.size < self.cutoff:
            data = self._chain_bytes(self.minifat, e.start, self._mini_sector, limit)
        else:
            data = self._chain_bytes(self.fat, e.start, self._sector, limit)
        return data[:e.size]


def _ole_encrypted_package(data: bytes) -> bool:
    try:
        cf = CompoundFile(data)
        return cf.find(0, "EncryptedPackage") is not None
    except (CompoundFileError, struct.error, IndexError):
        return b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0" in data


def strings_parts(data: bytes, where: str | None = None) -> Iterator[TextPart]:
    """The printable runs (ASCII and UTF-16LE, >= 8 characters) of ``data`` as text parts
    of about :data:`TEXT_CHUNK` characters."""
    batch: list[str] = []
    size = 0
    for start, end, enc in printable_runs(data):
        s = data[start:end].decode(enc)
        batch.append(s)
        size += len(s)
        if size >= TEXT_CHUNK:
            yield TextPart("\n".join(batch), where)
            batch, size = [], 0
    if batch:
        yield TextPart("\n".join(batch), where)


_BIFF_BOF, _BIFF_FILEPASS, _BIFF_BOUNDSHEET = 0x0809, 0x002F, 0x0085
_BIFF_NUMBER, _BIFF_RK, _BIFF_MULRK, _BIFF_FORMULA = 0x0203, 0x027E, 0x00BD, 0x0006


def _rk(value: int) -> str:
    if value & 2:
        n = value >> 2
        if n & (1 << 29):
            n -= 1 << 30
        return render_number(str(Decimal(n) / 100 if value & 1 else n))
    (f,) = struct.unpack("<d", struct.pack("<Q", (value & 0xFFFFFFFC) << 32))
    return render_number(repr(f / 100 if value & 1 else f))


def _biff_encrypted(stream: bytes) -> bool:
    pos = 0
    for _ in range(64):  # FILEPASS follows the first BOF closely
        if pos + 4 > len(stream):
            return False
        rtype, size = struct.unpack_from("<HH", stream, pos)
        if rtype == _BIFF_FILEPASS:
            return True
        pos += 4 + size
    return False


def _biff_numbers(stream: bytes) -> Iterator[TextPart]:
    """Number cells of a BIFF8 workbook stream (a card number typed in an .xls cell is a
    floating-point NUMBER record: no string of it exists)."""
    sheets: dict[int, str] = {}
    sheet: str | None = None
    pos = 0
    n = len(stream)
    while pos + 4 <= n:
        rtype, size = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4:pos + 4 + size]
        if rtype == _BIFF_BOUNDSHEET and len(body) >= 8:
            (at,) = struct.unpack_from("<I", body, 0)
            cch, flags = body[6], body[7]
            raw = body[8:8 + cch * (2 if flags & 1 else 1)]
            sheets[at] = raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")
        elif rtype == _BIFF_BOF:
            sheet = sheets.get(pos)
        elif sheet is not None:
            cells: list[tuple[int, int, str]] = []
            if rtype == _BIFF_NUMBER and len(body) >= 14:
                row, col = struct.unpack_from("<HH", body, 0)
                cells.append((row, col, render_number(repr(struct.unpack_from("<d", body,
                                                                              6)[0]))))
            elif rtype == _BIFF_FORMULA and len(body) >= 14 and body[12:14] != b"\xff\xff":
                row, col = struct.unpack_from("<HH", body, 0)
                cells.append((row, col, render_number(repr(struct.unpack_from("<d", body,
                                                                              6)[0]))))
            elif rtype == _BIFF_RK and len(body) >= 10:
                row, col, _, rk = struct.unpack_from("<HHHI", body, 0)
                cells.append((row, col, _rk(rk)))
            elif rtype == _BIFF_MULRK and len(body) >= 12:
                row, first = struct.unpack_from("<HH", body, 0)
                for i in range((len(body) - 6) // 6):
                    (rk,) = struct.unpack_from("<I", body, 4 + i * 6 + 2)
                    cells.append((row, first + i, _rk(rk)))
            for row, col, text in cells:
                if text not in ("nan", "inf", "-inf"):
                    yield TextPart(text, f"sheet {sheet} cell {column_name(col)}{row + 1}")
        pos += 4 + size


def _cstring(data: bytes, pos: int) -> tuple[str, int]:
    end = data.index(b"\0", pos)
    return data[pos:end].decode("latin-1"), end + 1


def _ole10native(data: bytes, path: str) -> Embedded:
    """The file inside an ``\\x01Ole10Native`` stream: an OLE Packager object (label, paths,
    then the file's bytes) when it is one, else the native data as it is."""
    (total,) = struct.unpack_from("<I", data, 0)
    body = data[4:4 + total]
    try:
        if body[:2] == b"\x02\x00":
            label, pos = _cstring(body, 2)
            _, pos = _cstring(body, pos)  # original path
            pos += 4
            (n,) = struct.unpack_from("<I", body, pos)
            pos += 4 + n  # temporary path
            (size,) = struct.unpack_from("<I", body, pos)
            pos += 4
            if pos + size <= len(body):
                return Embedded(label or path, body[pos:pos + size])
    except (ValueError, struct.error):
        pass
    return Embedded(path, body)


def _ole(data: bytes, label: str, msg: Extractor | None = None) -> Iterator[Part]:
    try:
        cf = CompoundFile(data)
        streams = [(p, i) for p, i in cf.walk() if cf.entries[i].type == 2]
    except (CompoundFileError, struct.error, IndexError):
        yield from strings_parts(data)
        raise UnreadableFile(f"{label}: damaged OLE2 structure (read by its strings only)"
                             ) from None
    names = {p.lower(): i for p, i in streams}
    if msg is not None and any(n.startswith("__substg1.0_") for n in names):
        yield from msg(data)  # an Outlook message libmagic did not name
        return
    if "encryptedpackage" in names:
        raise UnreadableFile(f"{label}: encrypted (password-protected)")
    if "encryptedsummary" in names:
        raise UnreadableFile(f"{label}: encrypted (password-protected)")
    try:
        word = names.get("worddocument")
        if word is not None:
            fib = cf.stream(word)[:12]
            if len(fib) >= 12 and struct.unpack_from("<H", fib, 10)[0] & 0x8100:
                raise UnreadableFile(f"{label}: encrypted (password-protected)")
        book = names.get("workbook", names.get("book"))
        if book is not None:
            wb = cf.stream(book)
            if _biff_encrypted(wb):
                raise UnreadableFile(f"{label}: encrypted (password-protected)")
        files: list[Embedded] = []
        for path, i in streams:
            raw = cf.stream(i)
            leaf = path.rpartition("/")[2]
            if leaf == "Package" and raw[:4] == b"PK\x03\x04":  # an embedded OOXML file
                files.append(Embedded(path, raw))
            elif leaf == "\x01Ole10Native" and len(raw) >= 4:  # an embedded file (Packager)
                files.append(_ole10native(raw, path))
            else:
                yield from strings_parts(raw)
        if book is not None:
            yield from _biff_numbers(cf.stream(book))
        yield from files
    except (CompoundFileError, struct.error, IndexError):
        raise UnreadableFile(f"{label}: damaged OLE2 structure") from None


def extract_doc(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for legacy Word documents (.doc)."""
    return _ole(data, "doc")


def extract_xls(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for legacy Excel workbooks (.xls)."""
    return _ole(data, "xls")


def extract_ppt(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for legacy PowerPoint presentations (.ppt)."""
    return _ole(data, "ppt")


def extract_ole(data: bytes, *, msg: Extractor | None = None) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for other OLE2 compound files (and encrypted
    Office files, which libmagic calls ``application/encrypted``); `msg` reads one that turns
    out to be an Outlook message (:mod:`vault.pii.documents` passes the e-mail reader)."""
    return _ole(data, "office document", msg)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

MIME_TYPES: dict[str, Extractor] = {
    DOCX: extract_docx,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template": extract_docx,
    "application/vnd.ms-word.document.macroEnabled.12": extract_docx,
    "application/vnd.ms-word.template.macroEnabled.12": extract_docx,
    XLSX: extract_xlsx,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template": extract_xlsx,
    "application/vnd.ms-excel.sheet.macroEnabled.12": extract_xlsx,
    "application/vnd.ms-excel.template.macroEnabled.12": extract_xlsx,
    PPTX: extract_pptx,
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow": extract_pptx,
    "application/vnd.openxmlformats-officedocument.presentationml.template": extract_pptx,
    "application/vnd.ms-powerpoint.presentation.macroEnabled.12": extract_pptx,
    "application/vnd.oasis.opendocument.text": extract_odt,
    "application/vnd.oasis.opendocument.text-template": extract_odt,
    "application/vnd.oasis.opendocument.spreadsheet": extract_ods,
    "application/vnd.oasis.opendocument.spreadsheet-template": extract_ods,
    "application/vnd.oasis.opendocument.presentation": extract_odp,
    "application/vnd.oasis.opendocument.presentation-template": extract_odp,
    "application/vnd.oasis.opendocument.graphics": extract_odp,
    "application/msword": extract_doc,
    "application/vnd.ms-excel": extract_xls,
    "application/vnd.ms-powerpoint": extract_ppt,
    "application/x-ole-storage": extract_ole,
    "application/CDFV2": extract_ole,
    "application/encrypted": extract_ole,
}
"""libmagic MIME types (:func:`vault.pii.filetype.detect_mime`) these extractors read (the
macro-enabled and template types as IANA spells them; libmagic 5.44 calls those files by the
plain docx/xlsx/pptx types). An OLE2 file libmagic cannot name (``application/x-ole-storage``:
e.g. a large .msg whose directory lies beyond the head it reads) is read by its content."""
