"""HTML and XML as the text a reader sees: tags removed, entities decoded, block elements
separating text and inline ones not (``<td>4111 <b>1111</b> 1111 1111</td>`` reads as one
number), ``<script>``/``<style>`` ignored; attribute values a person may read or that carry
data (``alt``, ``title``, ``value``, links...) and comments on lines of their own; CDATA
sections are text.

XML is parsed by expat, which fetches nothing; a document whose DTD declares an entity (a
"billion laughs") is not parsed as XML but read leniently like HTML, which knows no declared
entities, so nothing is ever expanded (expat also has DefaultHandler set, which keeps it from
expanding internal entities in text). XHTML reads like HTML; XML that is not well-formed is
read leniently as HTML too.

Text is yielded in parts of about :data:`GROUP_CHARS` characters, each whole blocks, with
``where`` the source lines it came from: ``"line 12"`` or ``"lines 12-30"``. Base64
``data:`` images in HTML (a screenshot pasted into a page or an e-mail) are yielded as
:class:`~vault.pii.parts.Embedded` files named ``"data URI 1.png"``.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from xml.parsers import expat

from .encoding import detect_encoding
from .extract import UnreadableFile
from .parts import Embedded, Extractor, Part, TextPart

MAX_MARKUP_BYTES = 64 << 20
"""Larger HTML or XML files are refused (:class:`UnreadableFile`)."""
GROUP_CHARS = 4096
"""Whole blocks are gathered into one text part until it holds about this many characters."""
MAX_DATA_URI_BYTES = 32 << 20
"""A ``data:`` URI decoding to more than this is not yielded."""

BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog dir div dl dt "
    "fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header "
    "hgroup hr html iframe legend li main menu nav noscript ol optgroup option p pre section "
    "select summary table tbody textarea tfoot thead title tr ul".split()
)
CELL_TAGS = frozenset({"td", "th"})
SKIP_TAGS = frozenset({"script", "style"})
INLINE_TAGS = frozenset(
    "a abbr acronym b bdi bdo big cite code data del dfn em font i ins kbd label mark nobr q "
    "rp rt ruby s samp small span strike strong sub sup time tt u var wbr "
    # DocBook, DITA, TEI and the like: inline markup in mixed content
    "emphasis phrase literal link ulink xref quote term foreignphrase hi ph".split()
)
"""Inline in XML too; every other XML element separates text."""
TEXT_ATTRS = frozenset(
    {"alt", "title", "value", "placeholder", "content", "label", "aria-label", "summary",
     "abbr", "download"}
)
URL_ATTRS = frozenset({"href", "src", "action", "cite", "poster", "formaction", "longdesc"})

_CELL = "\x1f"  # stands for a tab between table cells until whitespace is collapsed
_BREAK = "\x1e"  # stands for a line break (<br>) until whitespace is collapsed
_SPACE = re.compile(r"[ \t\n\r\f\v]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_INVISIBLE[0xA0] = " "  # &nbsp; renders as a space
_DATA_URI = re.compile(r"data:([\w.+-]+/[\w.+-]+)?((?:;[^,;]*)*?);base64,(.*)\Z", re.S | re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""",
                           re.I)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")


def _where(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


class _Blocks:
    """Rendered text gathered block by block into parts of about GROUP_CHARS characters."""

    def __init__(self) -> None:
        self.out: list[Part] = []
        self._pieces: list[str] = []
        self._line = 0  # source line where the open block's text starts
        self._pre = False
        self._extra: list[tuple[str, int]] = []  # attribute values and comments of the block
        self._group: list[str] = []
        self._size = 0
        self._first = 0
        self._last = 0
        self._uris = 0

    def text(self, s: str, line: int, pre: bool = False) -> None:
        if not self._pieces:
            if not s.strip():
                return
            self._line, self._pre = line, pre
        self._pieces.append(s)

    def cell(self, line: int) -> None:
        """A table cell begins: separate it from the previous one in the row."""
        if self._pieces:
            self._pieces.append(_CELL)

    def line_break(self, line: int) -> None:
        if self._pieces:
            self._pieces.append(_BREAK)

    def extra(self, s: str, line: int) -> None:
        s = s.translate(_INVISIBLE).strip()
        if s:
            self._extra.append((s, line))

    def data_uri(self, value: str) -> None:
        m = _DATA_URI.match(value.strip())
        if m is None or len(m.group(3)) > MAX_DATA_URI_BYTES * 4 // 3 + 4:
            return
        try:
            data = base64.b64decode(re.sub(r"\s+", "", m.group(3)))
        except (binascii.Error, ValueError):
            return
        self._uris += 1
        mime = (m.group(1) or "application/octet-stream").lower()
        ext = mime.rpartition("/")[2].split("+")[0]
        self.out.append(Embedded(f"data URI {self._uris}.{ext}", data))

    def end_block(self) -> None:
        if self._pieces:
            raw = "".join(self._pieces).translate(_INVISIBLE)
            self._pieces = []
            if self._pre:
                text = raw.replace(_CELL, "\t").replace(_BREAK, "\n").strip("\n")
            else:
                text = _SPACE.sub(" ", raw)
                text = re.sub(" ?([\x1e\x1f]) ?", r"\1", text).strip(" \x1e\x1f")
                text = text.replace(_CELL, "\t").replace(_BREAK, "\n")
            if text.strip():
                self._add(text, self._line)
        if self._extra:
            extra, self._extra = self._extra, []
            for s, line in extra:
                self._add(s, line)

    def _add(self, text: str, line: int) -> None:
        if not self._group:
            self._first = self._last = line
        self._group.append(text)
        self._first = min(self._first, line)
        self._last = max(self._last, line)
        self._size += len(text) + 1
        if self._size >= GROUP_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self._group:
            self.out.append(TextPart("\n".join(self._group), _where(self._first, self._last)))
            self._group, self._size = [], 0

    def close(self) -> list[Part]:
        self.end_block()
        self._flush()
        return self.out


def _attr_values(blocks: _Blocks, attrs: list[tuple[str, str | None]], line: int) -> None:
    for name, value in attrs:
        if not value:
            continue
        name = name.lower()
        if name in URL_ATTRS or name.startswith("data-"):
            if value.lstrip()[:5].lower() == "data:":
                blocks.data_uri(value)
            elif not value.lstrip().lower().startswith("javascript:"):
                blocks.extra(value, line)
        elif name in TEXT_ATTRS:
            blocks.extra(value, line)


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks = _Blocks()
        self._skip: str | None = None  # inside <script> or <style>
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        if tag in SKIP_TAGS:
            self._skip = tag
            return
        if tag in BLOCK_TAGS:
            self.blocks.end_block()
            if tag == "pre":
                self._pre += 1
        elif tag in CELL_TAGS:
            self.blocks.cell(line)
        elif tag == "br":
            self.blocks.line_break(line)
        _attr_values(self.blocks, attrs, line)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP_TAGS:
            return  # <script/>: nothing to skip (never the rest of the document)
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip is not None:
            if tag == self._skip:
                self._skip = None
            return
        if tag in BLOCK_TAGS:
            self.blocks.end_block()
            if tag == "pre" and self._pre:
                self._pre -= 1

    def handle_data(self, data: str) -> None:
        if self._skip is None:
            self.blocks.text(data, self.getpos()[0], self._pre > 0)

    def handle_comment(self, data: str) -> None:
        if self._skip is None:
            self.blocks.extra(data, self.getpos()[0])

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA[") and self._skip is None:  # CDATA in XHTML, SVG, XML
            self.blocks.text(data[6:], self.getpos()[0], self._pre > 0)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:  # not a marked section after all: "<![" is text
            self.handle_data("<![")
            return i + 3


def html_parts(text: str) -> Iterator[Part]:
    """The parts of an HTML document given as text (see the module's docstring)."""
    parser = _Html()
    parser.feed(text)
    parser.close()
    yield from parser.blocks.close()


def text_codec(name: bytes | str | None) -> str | None:
    """The codec of a declared charset if Python has it as a text encoding (not "hex",
    "base64" or "rot13"), else None."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.decode("ascii") if isinstance(name, bytes) else name).name
        b"".decode(codec)  # LookupError for bytes-to-bytes codecs
        return codec
    except (LookupError, UnicodeError, ValueError):
        return None


def decode_html(data: bytes, charset: str | None = None) -> str:
    """HTML bytes as text: a BOM, else ``charset`` (e.g. from a MIME header), else a
    ``<meta charset>`` in the first 4 KiB, else the detected encoding (UTF-8 or Latin-1)."""
    enc = detect_encoding(data[:4096], complete=len(data) <= 4096)
    if not enc.startswith(("utf-8-sig", "utf-16", "utf-32")):
        m = _META_CHARSET.search(data[:4096])
        declared = text_codec(charset) or text_codec(m.group(1) if m else None)
        if declared and not declared.startswith(("utf-16", "utf-32")):
            enc = declared  # a meta saying UTF-16 in an ASCII-compatible file is wrong
        else:
            enc = detect_encoding(data, complete=True)
    return data.decode(enc, errors="replace")


def _check_size(data: bytes, what: str) -> None:
    if len(data) > MAX_MARKUP_BYTES:
        raise UnreadableFile(f"{what} larger than {MAX_MARKUP_BYTES >> 20} MiB: not scanned")


def extract_html(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for HTML files."""
    _check_size(data, "html")
    yield from html_parts(decode_html(data))


class _EntityRefused(Exception):
    pass


class _Xml:
    """expat callbacks rendering XML: generic XML element by element, XHTML like HTML."""

    def __init__(self, parser: expat.XMLParserType) -> None:
        self.p = parser
        self.blocks = _Blocks()
        self.html: bool | None = None  # decided by the root element
        self.skip = 0
        self.pre = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        line = self.p.CurrentLineNumber
        if self.html is None:
            self.html = tag.lower() == "html"
        if self.skip:
            self.skip += 1
            return
        if self.html:
            tag = tag.lower()
            if tag in SKIP_TAGS:
                self.skip = 1
                return
            if tag in BLOCK_TAGS:
                self.blocks.end_block()
                self.pre += tag == "pre"
            elif tag in CELL_TAGS:
                self.blocks.cell(line)
            elif tag == "br":
                self.blocks.line_break(line)
            _attr_values(self.blocks, [(k.rpartition(":")[2], v) for k, v in attrs.items()],
                         line)
            return
        if tag not in INLINE_TAGS:
            self.blocks.end_block()
        for key, value in attrs.items():
            if key != "xmlns" and not key.startswith("xmlns:"):
                self.blocks.extra(value, line)

    def end(self, name: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        tag = name.rpartition(":")[2]
        if self.html:
            tag = tag.lower()
            if tag in BLOCK_TAGS:
                self.blocks.end_block()
                if tag == "pre" and self.pre:
                    self.pre -= 1
        elif tag not in INLINE_TAGS:
            self.blocks.end_block()

    def data(self, text: str) -> None:
        if not self.skip:
            self.blocks.text(text, self.p.CurrentLineNumber, self.pre > 0)

    def comment(self, text: str) -> None:
        if not self.skip:
            self.blocks.extra(text, self.p.CurrentLineNumber)

    def entity(self, *_: object) -> None:
        raise _EntityRefused  # a declared entity is never expanded: read leniently instead

    def ignore(self, text: str) -> None:
        """Default handler: being set, it keeps expat from expanding internal entities
        (their references arrive here and are dropped)."""


def xml_parts(data: bytes) -> list[Part]:
    """The parts of an XML document; raises ``expat.ExpatError`` when it is not well-formed,
    :class:`_EntityRefused` when its DTD declares an entity."""
    parser = expat.ParserCreate()
    x = _Xml(parser)
    parser.buffer_text = True
    parser.ordered_attributes = False
    parser.StartElementHandler = x.start
    parser.EndElementHandler = x.end
    parser.CharacterDataHandler = x.data
    parser.CommentHandler = x.comment
    parser.EntityDeclHandler = x.entity
    parser.DefaultHandler = x.ignore
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.Parse(data, True)
    return x.blocks.close()


def _decode_xml(data: bytes) -> str:
    enc = detect_encoding(data[:4096], complete=len(data) <= 4096)
    if not enc.startswith(("utf-8-sig", "utf-16", "utf-32")):
        m = _XML_ENCODING.match(data.lstrip()[:256])
        enc = text_codec(m.group(1) if m else None) or detect_encoding(data, complete=True)
    return data.decode(enc, errors="replace")


def extract_xml(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for XML files (XHTML and SVG included)."""
    _check_size(data, "xml")
    try:
        parts = xml_parts(data)
    except (expat.ExpatError, _EntityRefused, ValueError):
        # not well-formed, or declaring entities: read leniently, nothing is expanded
        parts = list(html_parts(_decode_xml(data)))
    yield from parts


MIME_TYPES: dict[str, Extractor] = {
    "text/html": extract_html,
    "application/xhtml+xml": extract_xml,
    "text/xml": extract_xml,
    "application/xml": extract_xml,
    "image/svg+xml": extract_xml,
}
"""libmagic MIME types (:func:`vault.pii.filetype.detect_mime`) these extractors read."""
