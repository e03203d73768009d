"""Office documents (docx, xlsx, pptx, odt, ods, legacy OLE2) as text parts with where to
find them; damaged, encrypted and oversized packages refused with a readable reason.

The files are built here by hand (zipfile and minimal XML; OLE2 by :func:`make_cfb`)."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from vault.pii import office
from vault.pii.extract import UnreadableFile
from vault.pii.filetype import MAGIC_BYTES, detect_mime
from vault.pii.office import (
    MIME_TYPES,
    CompoundFile,
    column_name,
    extract_doc,
    extract_docx,
    extract_ods,
    extract_odt,
    extract_ole,
    extract_pptx,
    extract_xls,
    extract_xlsx,
    render_number,
    sniff_package,
)
from vault.pii.parts import Embedded, Part, TextPart

VISA = "4111111111111111"
MC = "5555555555554444"
AMEX = "378282246310005"
DISC = "6011111111111117"
JCB = "3530111333300000"
VISA2 = "4012888888881881"
MC2 = "5105105105105100"
DISC2 = "6011000990139424"

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


# ------------------------------------------------------------------------------------------
# builders


def zip_package(parts: dict[str, str | bytes | Iterable[bytes]]) -> bytes:
    """A zip with the members in the given order (deflated; "mimetype" stored); a member
    given as an iterable of bytes is streamed into the zip (cheap huge parts)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            if name == "mimetype":
                zf.writestr(name, content if isinstance(content, (str, bytes)) else b"",
                            compress_type=zipfile.ZIP_STORED)
            elif isinstance(content, (str, bytes)):
                zf.writestr(name, content)
            else:
                with zf.open(name, "w", force_zip64=True) as f:
                    for chunk in content:
                        f.write(chunk)
    return buf.getvalue()


CT = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/' \
     'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def rels(*items: tuple[str, str, str]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{REL}{t}" Target="{target}"/>'
                   for i, t, target in items)
    return ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{body}</Relationships>')


def ooxml(main: str, parts: dict[str, str | bytes | Iterable[bytes]]) -> bytes:
    """An OOXML package in the order Office writes it (libmagic needs it)."""
    return zip_package({"[Content_Types].xml": CT,
                        "_rels/.rels": rels(("rId1", "officeDocument", main)), **parts})


W = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
     'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
     f'xmlns:r="{R_NS}"')


def wp(*runs: str) -> str:
    return "<w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs></w:pPr>" + \
        "".join(f"<w:r><w:t xml:space=\"preserve\">{r}</w:t></w:r>" for r in runs) + "</w:p>"


def make_docx() -> bytes:
    body = (
        wp("Assessment summary")
        + wp("Card on file: 4111 ", "1111 11", "11 1111")  # split in runs
        + "<w:tbl><w:tr><w:tc>" + wp("Brand") + "</w:tc><w:tc>" + wp("Number") + "</w:tc></w:tr>"
        + "<w:tr><w:tc>" + wp("Amex") + "</w:tc><w:tc>" + wp(AMEX) + "</w:tc></w:tr></w:tbl>"
        + "<w:p><w:r><w:t>before</w:t><w:tab/><w:t>after</w:t></w:r></w:p>"
        + "<w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><w:txbxContent>"
        + wp(f"box {DISC}") + "</w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict>"
        + "<w:txbxContent>" + wp(f"box {DISC}") + "</w:txbxContent></w:pict></mc:Fallback>"
        + "</mc:AlternateContent></w:r></w:p>"
        + "<w:p><w:del><w:r><w:delText>deleted 5105 1051 0510 5100</w:delText></w:r></w:del></w:p>"
    )
    return ooxml("word/document.xml", {
        "word/_rels/document.xml.rels": rels(("rId1", "header", "header1.xml")),
        "word/document.xml": f'<?xml version="1.0"?><w:document {W}><w:body>{body}'
                             "</w:body></w:document>",
        "word/header1.xml": f"<w:hdr {W}>{wp('Confidential ' + MC)}</w:hdr>",
        "word/footer1.xml": f"<w:ftr {W}>{wp('page footer')}</w:ftr>",
        "word/comments.xml": f'<w:comments {W}><w:comment w:id="0" w:author="QSA">'
                             f"{wp('first remark')}</w:comment><w:comment w:id=\"1\">"
                             f"{wp('PAN ' + JCB)}</w:comment></w:comments>",
        "word/footnotes.xml": f'<w:footnotes {W}><w:footnote w:type="separator" w:id="-1">'
                              "<w:p><w:r><w:separator/></w:r></w:p></w:footnote>"
                              f'<w:footnote w:id="1">{wp("note " + VISA2)}</w:footnote>'
                              "</w:footnotes>",
        "docProps/core.xml": '<cp:coreProperties xmlns:cp="urn:cp" xmlns:dc="urn:dc">'
                             "<dc:title>Evidence title</dc:title></cp:coreProperties>",
        "word/embeddings/oleObject1.bin": b"embedded object",
        "word/media/image1.png": PNG,
    })


def cell(ref: str | None, value: str, t: str | None = None, f: str | None = None) -> str:
    r = f' r="{ref}"' if ref else ""
    tt = f' t="{t}"' if t else ""
    if t == "inlineStr":
        return f"<c{r}{tt}><is><t>{value}</t></is></c>"
    ff = f"<f>{f}</f>" if f else ""
    return f"<c{r}{tt}>{ff}<v>{value}</v></c>"


SHEET_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def sheet_xml(rows: str | Iterable[str], extra: str = "") -> Iterator[bytes]:
    yield f'<?xml version="1.0"?><worksheet {SHEET_NS} xmlns:r="{R_NS}"><sheetData>'.encode()
    if isinstance(rows, str):
        yield rows.encode()
    else:
        for r in rows:
            yield r.encode()
    yield f"</sheetData>{extra}</worksheet>".encode()


def make_xlsx(sheet1: str | Iterable[str] | None = None) -> bytes:
    if sheet1 is None:
        sheet1 = (
            f'<row r="1">{cell("A1", "0", "s")}{cell("B1", VISA)}</row>'
            f'<row r="2">{cell("A2", "1", "s")}{cell("B2", "5.555555555554444E+15")}</row>'
            f'<row r="3">{cell("C3", AMEX, "inlineStr")}{cell(None, "12.50")}</row>'
            f'<row r="7">{cell("B7", "2", "s")}'
            f'{cell("C7", DISC, "str", f="CONCAT(&quot;6011&quot;,&quot;111111111117&quot;)")}'
            "</row>"
        )
    return ooxml("xl/workbook.xml", {
        "xl/workbook.xml": f'<workbook {SHEET_NS} xmlns:r="{R_NS}"><sheets>'
                           '<sheet name="Q1" sheetId="1" r:id="rId1"/>'
                           '<sheet name="Data" sheetId="2" r:id="rId2"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": rels(("rId1", "worksheet", "worksheets/sheet1.xml"),
                                           ("rId2", "worksheet", "worksheets/sheet2.xml"),
                                           ("rId3", "sharedStrings", "sharedStrings.xml")),
        "xl/sharedStrings.xml": f"<sst {SHEET_NS}><si><t>Card</t></si>"
                                "<si><r><t>MC </t></r><r><t>5555 5555 5555 4444</t></r>"
                                "<rPh><t>phonetic</t></rPh></si>"
                                f"<si><t>JCB {JCB}</t></si></sst>",
        "xl/worksheets/sheet1.xml": sheet_xml(
            sheet1, "<headerFooter><oddHeader>&amp;CHeader text</oddHeader></headerFooter>"),
        "xl/worksheets/_rels/sheet1.xml.rels": rels(("rId1", "comments",
                                                     "../comments1.xml")),
        "xl/comments1.xml": f'<comments {SHEET_NS}><commentList><comment ref="B7" authorId="0">'
                            "<text>\n  <r><rPr><b/></rPr><t>check 4012 8888</t></r>\n  "
                            "<r><t> 8888 1881</t></r>\n</text></comment></commentList>"
                            "</comments>",
        "xl/worksheets/sheet2.xml": sheet_xml(f'<row r="4">{cell("D4", MC2)}</row>'),
        "xl/embeddings/Microsoft_Word_Document.docx": b"inner docx bytes",
    })


P_NS = ('xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        f'xmlns:r="{R_NS}"')


def slide(*paras: str, root: str = "p:sld") -> str:
    ps = "".join(f"<a:p><a:r><a:t>{t}</a:t></a:r></a:p>" for t in paras)
    return f"<{root} {P_NS}><p:cSld><p:spTree><p:sp><p:txBody>{ps}</p:txBody></p:sp>" \
           f"</p:spTree></p:cSld></{root}>"


def make_pptx() -> bytes:
    # slide order (presentation.xml) differs from the part names
    return ooxml("ppt/presentation.xml", {
        "ppt/presentation.xml": f"<p:presentation {P_NS}><p:sldIdLst>"
                                '<p:sldId id="256" r:id="rId3"/><p:sldId id="257" r:id="rId2"/>'
                                "</p:sldIdLst></p:presentation>",
        "ppt/_rels/presentation.xml.rels": rels(("rId2", "slide", "slides/slide1.xml"),
                                                ("rId3", "slide", "slides/slide2.xml")),
        "ppt/slides/slide1.xml": slide("Second slide", f"card {MC}"),
        "ppt/slides/_rels/slide1.xml.rels": rels(("rId1", "notesSlide",
                                                  "../notesSlides/notesSlide1.xml")),
        "ppt/notesSlides/notesSlide1.xml": slide(f"speaker note {AMEX}", root="p:notes"),
        "ppt/slides/slide2.xml": slide("Title slide", f"visa {VISA}"),
        "ppt/media/image1.png": PNG,
    })


ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"')


def odf(kind: str, body: str, *, styles: str = "", encrypted: bool = False,
        extra: dict[str, str | bytes] | None = None) -> bytes:
    enc = ('<manifest:encryption-data manifest:checksum-type="SHA1/1K" '
           'manifest:checksum="x"/>') if encrypted else ""
    return zip_package({
        "mimetype": f"application/vnd.oasis.opendocument.{kind}",
        "content.xml": f'<?xml version="1.0"?><office:document-content {ODF_NS}>'
                       f"<office:body>{body}</office:body></office:document-content>",
        "styles.xml": f"<office:document-styles {ODF_NS}><office:master-styles>{styles}"
                      "</office:master-styles></office:document-styles>",
        "meta.xml": f"<office:document-meta {ODF_NS}><office:meta><dc:title>Odf title"
                    "</dc:title></office:meta></office:document-meta>",
        "META-INF/manifest.xml": f"<manifest:manifest {ODF_NS}><manifest:file-entry "
                                 'manifest:full-path="content.xml" manifest:media-type="text/xml">'
                                 f"{enc}</manifest:file-entry></manifest:manifest>",
        **(extra or {}),
    })


def make_odt() -> bytes:
    body = (
        "<office:text><text:p>Intro</text:p>"
        '<text:p>Card 4111<text:s/>1111<text:s text:c="1"/><text:span>1111 1111</text:span>'
        '<office:annotation><dc:creator>Auditor 1234567</dc:creator><dc:date>2024-01-01</dc:date>'
        f"<text:p>see {MC}</text:p></office:annotation>"
        '<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation>'
        f"<text:note-body><text:p>fn {AMEX}</text:p></text:note-body></text:note></text:p>"
        "<table:table><table:table-row><table:table-cell><text:p>Brand</text:p>"
        "</table:table-cell><table:table-cell><text:p>Number</text:p></table:table-cell>"
        "</table:table-row><table:table-row><table:table-cell><text:p>Discover</text:p>"
        f"</table:table-cell><table:table-cell><text:p>{DISC}</text:p></table:table-cell>"
        "</table:table-row></table:table>"
        "<text:h>After the table</text:h></office:text>"
    )
    styles = (f"<style:master-page><style:header><text:p>Head {JCB}</text:p></style:header>"
              "<style:footer><text:p>Foot</text:p></style:footer></style:master-page>")
    return odf("text", body, styles=styles, extra={"Pictures/1.png": PNG})


def make_ods(empty_rows: int = 1_048_000) -> bytes:
    body = (
        '<office:spreadsheet><table:table table:name="Q1">'
        "<table:table-row><table:table-cell office:value-type=\"string\"><text:p>Card</text:p>"
        "</table:table-cell><table:table-cell office:value-type=\"float\" "
        f'office:value="{VISA}"><text:p>4.11111E+15</text:p></table:table-cell></table:table-row>'
        f'<table:table-row table:number-rows-repeated="{empty_rows}"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row>'
        '<table:table-row><table:table-cell table:number-columns-repeated="2"/>'
        f'<table:table-cell office:value-type="string"><text:p>{MC}</text:p>'
        "</table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet>"
    )
    return odf("spreadsheet", body)


# --- OLE2 compound files ---------------------------------------------------------------------

FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
Tree = dict[str, "bytes | Tree"]


def make_cfb(tree: Tree, clsid: str | None = None) -> bytes:
    """A version-3 OLE2 compound file (512-byte sectors, mini stream for streams under 4096
    bytes) holding ``tree``: name -> bytes (a stream) or dict (a storage)."""
    entries: list[dict[str, object]] = [{"name": "Root Entry", "type": 5, "children": [],
                                         "clsid": uuid.UUID(clsid).bytes_le if clsid
                                         else b"\0" * 16}]

    def add(parent: int, sub: Tree) -> None:
        for name, value in sub.items():
            idx = len(entries)
            if isinstance(value, dict):
                entries.append({"name": name, "type": 1, "children": []})
                entries[parent]["children"].append(idx)  # type: ignore[attr-defined]
                add(idx, value)
            else:
                entries.append({"name": name, "type": 2, "data": value})
                entries[parent]["children"].append(idx)  # type: ignore[attr-defined]

    add(0, tree)
    for e in entries:
        e.setdefault("left", FREE)
        e.setdefault("right", FREE)
        e.setdefault("child", FREE)

    def balance(ids: list[int]) -> int:
        if not ids:
            return FREE
        ids = sorted(ids, key=lambda i: (len(str(entries[i]["name"])),
                                         str(entries[i]["name"]).upper()))
        mid = len(ids) // 2
        node = ids[mid]
        entries[node]["left"] = balance(ids[:mid])
        entries[node]["right"] = balance(ids[mid + 1:])
        return node

    for e in entries:
        if e["type"] in (1, 5):
            e["child"] = balance(list(e["children"]))  # type: ignore[call-overload]

    mini = bytearray()
    minifat: list[int] = []
    big: list[tuple[int, bytes]] = []
    for i, e in enumerate(entries):
        if e["type"] != 2:
            continue
        data = e["data"]
        assert isinstance(data, bytes)
        e["size"] = len(data)
        if len(data) < 4096:
            start = len(mini) // 64
            n = max(1, -(-len(data) // 64)) if data else 0
            e["start"] = start if data else END
            for k in range(n):
                minifat.append(start + k + 1 if k < n - 1 else END)
            mini += data.ljust(n * 64, b"\0")
        else:
            big.append((i, data))

    def nsec(n: int) -> int:
        return -(-n // 512)

    dir_bytes = 128 * len(entries)
    n_dir = nsec(dir_bytes)
    n_minifat = nsec(4 * len(minifat))
    n_mini = nsec(len(mini))
    n_big = sum(nsec(len(d)) for _, d in big)
    n_fat = 1
    while True:
        total = n_fat + n_dir + n_minifat + n_mini + n_big
        if nsec(4 * total) <= n_fat:
            break
        n_fat += 1
    assert n_fat <= 109
    fat = [FREE] * (n_fat * 128)
    sectors: list[bytes] = []
    pos = 0

    def chain(n: int) -> int:
        nonlocal pos
        start = pos
        for k in range(n):
            fat[pos + k] = pos + k + 1 if k < n - 1 else END
        pos += n
        return start if n else END

    for k in range(n_fat):
        fat[k] = FATSECT
    pos = n_fat
    dir_start = chain(n_dir)
    minifat_start = chain(n_minifat)
    mini_start = chain(n_mini)
    entries[0]["start"] = mini_start if mini else END
    entries[0]["size"] = len(mini)
    for i, data in big:
        entries[i]["start"] = chain(nsec(len(data)))

    sectors.append(struct.pack(f"<{len(fat)}I", *fat))
    d = bytearray()
    for e in entries:
        name = str(e["name"]).encode("utf-16-le") + b"\0\0"
        d += name.ljust(64, b"\0")
        d += struct.pack("<HBB", len(name), int(e["type"]), 1)  # type: ignore[call-overload]
        d += struct.pack("<III", e["left"], e["right"], e["child"])
        d += (e.get("clsid") or b"\0" * 16)  # type: ignore[operator]
        d += b"\0" * 20
        d += struct.pack("<IQ", e.get("start", END), e.get("size", 0))
    sectors.append(bytes(d).ljust(n_dir * 512, b"\0"))
    mf = struct.pack(f"<{len(minifat)}I", *minifat) if minifat else b""
    sectors.append(mf.ljust(n_minifat * 512, b"\xff"))
    sectors.append(bytes(mini).ljust(n_mini * 512, b"\0"))
    for _, data in big:
        sectors.append(data.ljust(nsec(len(data)) * 512, b"\0"))
    difat = list(range(n_fat)) + [FREE] * (109 - n_fat)
    header = (bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, 4096,
                            minifat_start if minifat else END, n_minifat, END, 0)
              + struct.pack("<109I", *difat))
    assert len(header) == 512
    return header + b"".join(sectors)


WORD_CLSID = "00020906-0000-0000-c000-000000000046"
EXCEL_CLSID = "00020820-0000-0000-c000-000000000046"


def u16(s: str) -> bytes:
    return s.encode("utf-16-le")


def make_doc(encrypted: bool = False) -> bytes:
    flags = 0x0100 if encrypted else 0
    fib = struct.pack("<HHHHHH", 0xA5EC, 0xC1, 0, 0, 0, flags) + b"\0" * 500
    # the text spans several mini sectors (64 bytes each), not laid out contiguously
    text = u16("Cardholder record " + VISA + " " + "x" * 40 + " Amex " + AMEX)
    return make_cfb({"WordDocument": fib + text, "1Table": b"\0" * 100 + u16("table stream"),
                     "\x05SummaryInformation": b"\0" * 48}, WORD_CLSID)


def biff(rtype: int, body: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(body)) + body


def make_xls(encrypted: bool = False) -> bytes:
    bof_globals = biff(0x0809, struct.pack("<HH", 0x0600, 0x0005) + b"\0" * 12)
    name = "Cards"
    sst = biff(0x00FC, struct.pack("<IIHB", 1, 1, 16, 1) + u16("5555555555554444"))
    filepass = biff(0x002F, b"\x01\x00" + b"\0" * 52) if encrypted else b""
    eof = biff(0x000A, b"")

    def boundsheet(at: int) -> bytes:
        return biff(0x0085, struct.pack("<IBBBB", at, 0, 0, len(name), 0) + name.encode())

    head = bof_globals + filepass + boundsheet(0) + sst + eof
    sheet_at = len(head)
    head = bof_globals + filepass + boundsheet(sheet_at) + sst + eof
    sheet = (biff(0x0809, struct.pack("<HH", 0x0600, 0x0010) + b"\0" * 12)
             + biff(0x0203, struct.pack("<HHHd", 6, 1, 0, float(VISA)))  # B7
             + biff(0x027E, struct.pack("<HHHI", 0, 0, 0, (12345 << 2) | 2))  # A1 = 12345
             + eof)
    return make_cfb({"Workbook": head + sheet}, EXCEL_CLSID)


def make_encrypted_ooxml() -> bytes:
    return make_cfb({"EncryptionInfo": b"\x04\x00\x04\x00" + b"\0" * 200,
                     "EncryptedPackage": b"\x10\0\0\0\0\0\0\0" + bytes(range(256)) * 20,
                     "\x06DataSpaces": {"Version": b"\0" * 64}})


def texts(parts: Iterable[Part]) -> list[tuple[str | None, str]]:
    return [(p.where, p.text) for p in parts if isinstance(p, TextPart)]


def where_of(parts: list[tuple[str | None, str]], needle: str) -> list[str | None]:
    return [w for w, t in parts if needle in t]


def mime(data: bytes) -> str:
    return detect_mime(data[:MAGIC_BYTES])


# ------------------------------------------------------------------------------------------
# tests


def test_render_number_and_columns() -> None:
    assert render_number(VISA) == VISA
    assert render_number("4.111111111111111E+15") == VISA
    assert render_number("4111111111111111.0") == VISA
    assert render_number("12.50") == "12.5"
    assert render_number("1.5E-7") == "0.00000015"
    assert render_number("-0") == "0"
    assert render_number(" N/A ") == "N/A"
    assert render_number("1E+999") == "1E+999"  # not written out
    assert [column_name(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_docx_paragraphs_tables_headers_comments_notes_embedded() -> None:
    data = make_docx()
    parts = list(extract_docx(data))
    t = texts(parts)
    assert ("paragraph 1", "Assessment summary") in t
    assert ("paragraph 2", "Card on file: 4111 1111 1111 1111") in t  # runs joined
    assert ("table 1 row 2", f"Amex\t{AMEX}") in t
    assert ("paragraph 3", "before\tafter") in t  # w:tab in a run; none from w:pPr/w:tabs
    assert where_of(t, f"box {DISC}") == ["paragraph 5"]  # the text box once (no Fallback)
    assert where_of(t, "deleted 5105 1051 0510 5100") == ["paragraph 6"]  # tracked deletion
    assert ("header", f"Confidential {MC}") in t
    assert ("footer", "page footer") in t
    assert ("comment 1", "first remark") in t and ("comment 2", f"PAN {JCB}") in t
    assert ("footnote 1", f"note {VISA2}") in t
    assert where_of(t, "Evidence title") == ["properties"]
    emb = [p for p in parts if isinstance(p, Embedded)]
    assert [(e.name, e.data) for e in emb] == [("word/embeddings/oleObject1.bin",
                                                 b"embedded object"),
                                                ("word/media/image1.png", PNG)]
    assert isinstance(parts[-1], Embedded)  # embedded files come after all the text


def test_xlsx_cells_numbers_strings_comments() -> None:
    t = texts(extract_xlsx(make_xlsx()))
    assert ("sheet Q1 cell B1", VISA) in t  # a number cell, exactly
    assert ("sheet Q1 cell B2", MC) in t  # stored with an exponent
    assert ("sheet Q1 cell A1", "Card") in t
    assert ("sheet Q1 cell A2", "MC 5555 5555 5555 4444") in t  # rich text, no phonetic run
    assert ("sheet Q1 cell C3", AMEX) in t  # inline string
    assert ("sheet Q1 cell D3", "12.5") in t  # a cell without r: next column
    assert ("sheet Q1 cell B7", f"JCB {JCB}") in t
    assert ("sheet Q1 cell C7", DISC) in t  # formula result
    assert where_of(t, '"6011","111111111117"') == ["sheet Q1 cell C7 formula"]
    assert ("sheet Q1 comment B7", "check 4012 8888 8888 1881") in t  # runs, no layout
    assert ("sheet Q1 header", "&CHeader text") in t
    assert ("sheet Data cell D4", MC2) in t
    assert not where_of(t, "phonetic")


def test_xlsx_embedded_files() -> None:
    emb = [p for p in extract_xlsx(make_xlsx()) if isinstance(p, Embedded)]
    assert [e.name for e in emb] == ["xl/embeddings/Microsoft_Word_Document.docx"]


def million_rows() -> Iterator[str]:
    """1,000,000 empty rows, then B1000001 holding a card number (written as it is zipped)."""
    batch = 10_000
    for start in range(1, 1_000_001, batch):
        yield "".join(f'<row r="{i}"/>' for i in range(start, start + batch))
    yield f'<row r="1000001">{cell("B1000001", VISA)}</row>'


MILLION_ROWS_CHILD = """
import json, resource, time
from tests.pii.test_office import make_xlsx, million_rows, texts
from vault.pii.office import extract_xlsx
data = make_xlsx(million_rows())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
found = texts(extract_xlsx(data))
print(json.dumps({"size": len(data), "seconds": time.perf_counter() - t0, "found": found,
                  "grew_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before}))
"""


def test_xlsx_million_empty_rows_streams_in_bounded_time_and_memory() -> None:
    # in a child process, so that its peak RSS is its own
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", MILLION_ROWS_CHILD], cwd=root, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    r = json.loads(out)
    assert r["size"] < 4 << 20  # ~20 MB of XML, deflated: cheap to build
    assert r["found"] == [["sheet Q1 name", "Q1"], ["sheet Q1 cell B1000001", VISA],
                          ["sheet Q1 header", "&CHeader text"],
                          ["sheet Q1 comment B7", "check 4012 8888 8888 1881"],
                          ["sheet Data name", "Data"], ["sheet Data cell D4", MC2]]
    assert r["seconds"] < 10  # ~2 s on one core
    assert r["grew_kib"] < 40 << 10  # the 20 MB of XML never held, no per-row state


def test_pptx_slides_in_presentation_order_with_notes() -> None:
    data = make_pptx()
    parts = list(extract_pptx(data))
    t = texts(parts)
    assert ("slide 1", f"Title slide\nvisa {VISA}") in t
    assert ("slide 2", f"Second slide\ncard {MC}") in t
    assert ("slide 2 notes", f"speaker note {AMEX}") in t
    assert [p.name for p in parts if isinstance(p, Embedded)] == ["ppt/media/image1.png"]


def test_odt_paragraphs_tables_notes_comments_header() -> None:
    data = make_odt()
    parts = list(extract_odt(data))
    t = texts(parts)
    assert ("paragraph 1", "Intro") in t
    assert ("paragraph 2", "Card 4111 1111 1111 1111") in t  # no author, date or citation
    assert ("comment 1", f"see {MC}") in t
    assert ("footnote 1", f"fn {AMEX}") in t
    assert ("table 1 row 2", f"Discover\t{DISC}") in t
    assert ("paragraph 3", "After the table") in t
    assert ("header", f"Head {JCB}") in t and ("footer", "Foot") in t
    assert where_of(t, "Odf title") == ["properties"]
    assert not where_of(t, "Auditor")
    assert [(p.name, p.data) for p in parts if isinstance(p, Embedded)] == [
        ("Pictures/1.png", PNG)]


def test_ods_values_exactly_and_repeated_rows_cheaply() -> None:
    t0 = time.perf_counter()
    t = texts(extract_ods(make_ods()))
    assert time.perf_counter() - t0 < 2
    assert ("sheet Q1 cell A1", "Card") in t
    assert ("sheet Q1 cell B1", f"4.11111E+15\n{VISA}") in t  # shown text and exact value
    assert ("sheet Q1 cell C1048002", MC) in t  # after 1,048,000 repeated empty rows


def test_legacy_doc_by_its_strings_utf16_across_sectors() -> None:
    data = make_doc()
    t = texts(extract_doc(data))
    assert all(w is None for w, _ in t)
    joined = "\n".join(s for _, s in t)
    assert f"Cardholder record {VISA}" in joined and f"Amex {AMEX}" in joined


def test_legacy_xls_number_cells_and_strings() -> None:
    t = texts(extract_xls(make_xls()))
    assert ("sheet Cards cell B7", VISA) in t
    assert ("sheet Cards cell A1", "12345") in t
    assert any(w is None and MC in s for w, s in t)


def test_compound_file_reader_reads_what_the_writer_wrote() -> None:
    big = bytes(range(256)) * 40  # 10 KiB: regular sectors
    cf = CompoundFile(make_cfb({"a": b"small", "S": {"inner": big, "x": b""}}))
    paths = {p: i for p, i in cf.walk()}
    assert set(paths) == {"a", "S", "S/inner", "S/x"}
    assert cf.stream(paths["a"]) == b"small"
    assert cf.stream(paths["S/inner"]) == big
    assert cf.stream(paths["S/x"]) == b""


@pytest.mark.parametrize("extract", [extract_docx, extract_xlsx, extract_ole])
def test_encrypted_ooxml_is_refused(extract: object) -> None:
    data = make_encrypted_ooxml()
    assert mime(data) in MIME_TYPES
    with pytest.raises(UnreadableFile, match="encrypted \\(password-protected\\)") as exc:
        list(extract(data))  # type: ignore[operator]
    assert str(exc.value).startswith(
        {extract_docx: "docx", extract_xlsx: "xlsx", extract_ole: "office document"}[
            extract])  # type: ignore[index]


@pytest.mark.parametrize("make, extract", [(make_doc, extract_doc), (make_xls, extract_xls)])
def test_encrypted_legacy_files_are_refused(make: object, extract: object) -> None:
    with pytest.raises(UnreadableFile, match="encrypted"):
        list(extract(make(encrypted=True)))  # type: ignore[operator]


def test_encrypted_odf_is_refused() -> None:
    data = odf("text", "<office:text><text:p>secret</text:p></office:text>", encrypted=True)
    with pytest.raises(UnreadableFile, match="^odt: encrypted \\(password-protected\\)$"):
        list(extract_odt(data))


def test_damaged_zip_is_refused() -> None:
    data = make_docx()
    with pytest.raises(UnreadableFile, match="^docx: damaged zip$"):
        list(extract_docx(data[: len(data) // 2]))
    # a member's compressed bytes damaged (the central directory intact)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    bad = bytearray(data)
    for i in range(start + 10, start + info.compress_size - 10):
        bad[i] ^= 0x5A
    with pytest.raises(UnreadableFile) as exc:
        list(extract_docx(bytes(bad)))
    assert str(exc.value) in ("docx: damaged zip",
                              "docx: part word/document.xml is not well-formed XML (line 1)")
    with pytest.raises(UnreadableFile, match="^xlsx: damaged zip$"):
        list(extract_xlsx(b"PK\x03\x04 not really a zip"))


def test_not_the_document_it_claims() -> None:
    with pytest.raises(UnreadableFile, match="^docx: no main document part"):
        list(extract_docx(make_xlsx()))
    with pytest.raises(UnreadableFile, match="^xlsx: no workbook part"):
        list(extract_xlsx(make_pptx()))
    with pytest.raises(UnreadableFile, match="^pptx: no presentation part"):
        list(extract_pptx(make_docx()))


def test_dtd_in_a_part_is_refused() -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              f"<w:document {W}><w:body>{wp('&b;')}</w:body></w:document>")
    data = ooxml("word/document.xml", {"word/document.xml": laughs})
    with pytest.raises(UnreadableFile, match="part word/document.xml declares a DTD"):
        list(extract_docx(data))


def test_oversized_part_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "MAX_PART_BYTES", 1 << 20)
    big = (f'<w:document {W}><w:body>' + wp("x" * 100) * 20_000 + "</w:body></w:document>")
    data = ooxml("word/document.xml", {"word/document.xml": big})
    with pytest.raises(UnreadableFile, match="^part word/document.xml larger than 1 MiB$"):
        list(extract_docx(data))


def test_package_total_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "MAX_TOTAL_BYTES", 1 << 20)
    data = ooxml("word/document.xml", {
        "word/document.xml": f"<w:document {W}><w:body>{wp('text')}</w:body></w:document>",
        **{f"word/media/image{i}.png": b"\0" * (300 << 10) for i in range(5)}})
    with pytest.raises(UnreadableFile, match="^docx: more than 1 MiB uncompressed$"):
        list(extract_docx(data))


def test_too_many_entries_refused_before_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "MAX_ENTRIES", 10)
    data = ooxml("word/document.xml", {f"word/media/{i}.png": b"" for i in range(20)})
    with pytest.raises(UnreadableFile, match="more than 10 zip entries"):
        list(extract_docx(data))


def test_damaged_ole_is_read_by_its_strings_then_refused() -> None:
    data = make_doc()
    bad = data[:0x30] + struct.pack("<I", 0x7FFFFFF0) + data[0x34:]  # directory out of range
    parts = []
    with pytest.raises(UnreadableFile, match="damaged OLE2 structure"):
        for p in extract_doc(bad):
            parts.append(p)
    assert any(VISA in p.text for p in parts if isinstance(p, TextPart))


def test_mime_types_cover_what_libmagic_says() -> None:
    files = {
        "docx": (make_docx(), extract_docx),
        "xlsx": (make_xlsx(), extract_xlsx),
        "pptx": (make_pptx(), extract_pptx),
        "odt": (make_odt(), extract_odt),
        "ods": (make_ods(10), extract_ods),
        "doc": (make_doc(), extract_doc),
        "xls": (make_xls(), extract_xls),
    }
    for kind, (data, extract) in files.items():
        m = mime(data)
        assert MIME_TYPES.get(m) is extract, (kind, m)
    assert mime(make_docx()) == office.DOCX
    assert mime(make_doc()) == "application/msword"
    assert mime(make_xls()) == "application/vnd.ms-excel"


def test_sniff_package_for_zip_typed_packages() -> None:
    # members out of the usual order: libmagic says application/zip
    data = zip_package({"[Content_Types].xml": CT, "word/document.xml":
                        f"<w:document {W}><w:body>{wp(VISA)}</w:body></w:document>",
                        "_rels/.rels": rels(("rId1", "officeDocument", "word/document.xml"))})
    assert mime(data) == "application/zip"
    assert sniff_package(data) == office.DOCX
    assert ("paragraph 1", VISA) in texts(extract_docx(data))
    assert sniff_package(make_ods(10)) == "application/vnd.oasis.opendocument.spreadsheet"
    assert sniff_package(zip_package({"a.txt": "x"})) is None
    assert sniff_package(b"not a zip") is None


def test_ole_embedded_package_and_packager_object_are_files() -> None:
    inner = make_docx()
    payload = f"secret {VISA}".encode()
    native = (b"\x02\x00" + b"notes.txt\0" + b"C:\\notes.txt\0" + b"\0\0\x03\0"
              + struct.pack("<I", 14) + b"C:\\tmp\\n.txt\0\0" + struct.pack("<I", len(payload))
              + payload)
    data = make_cfb({"WordDocument": struct.pack("<HHHHHH", 0xA5EC, 0xC1, 0, 0, 0, 0),
                     "ObjectPool": {"_1": {"Package": inner},
                                    "_2": {"\x01Ole10Native": struct.pack("<I", len(native))
                                           + native}}}, WORD_CLSID)
    parts = list(extract_doc(data))
    assert [(p.name, p.data) for p in parts if isinstance(p, Embedded)] == [
        ("ObjectPool/_1/Package", inner), ("notes.txt", payload)]


def test_odp_slides_and_notes() -> None:
    from vault.pii.office import extract_odp

    pres = 'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"'
    body = ("<office:presentation>"
            '<draw:page draw:name="p1"><draw:frame><draw:text-box><text:p>Title</text:p>'
            f"<text:p>card {VISA}</text:p></draw:text-box></draw:frame>"
            f"<presentation:notes><draw:frame><draw:text-box><text:p>note {MC}</text:p>"
            "</draw:text-box></draw:frame></presentation:notes></draw:page>"
            '<draw:page draw:name="p2"><draw:frame><draw:text-box>'
            f"<text:p>second {AMEX}</text:p></draw:text-box></draw:frame></draw:page>"
            "</office:presentation>")
    data = zip_package({
        "mimetype": "application/vnd.oasis.opendocument.presentation",
        "content.xml": f'<?xml version="1.0"?><office:document-content {ODF_NS} {pres}>'
                       f"<office:body>{body}</office:body></office:document-content>",
    })
    assert MIME_TYPES[mime(data)] is extract_odp
    t = texts(extract_odp(data))
    assert t == [("slide 1 notes", f"note {MC}"), ("slide 1", f"Title\ncard {VISA}"),
                 ("slide 2", f"second {AMEX}")]
