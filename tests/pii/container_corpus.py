"""A labelled corpus of card numbers hidden in containers (test and benchmark only).

Written apart from the detector and from the other corpora (``corpus.py``, whose generator
the rules were tuned on, and ``layout_corpus.py``): nothing here imports ``vault.pii``. The
card numbers start from the brands' published test numbers (the public test-card lists of
payment gateways' documentation: Visa 4111 1111 1111 1111 and 4012 8888 8888 1881, Mastercard
5555 5555 5555 4444, Amex 3782 822463 10005, ...); each planted number keeps a test number's
issuer prefix (its first six digits) and length, with fresh middle digits and its own Luhn
check digit (computed here), so that numbers are distinct. The test numbers themselves are
planted too.

Layouts are what systems print, including irregular ones: one run; the schemes' groupings
(4-4-4-4, Amex 4-6-5, Diners 4-6-4, 13-digit 4-4-4-1, 19-digit 6-13, 4-4-4-4-3 and 4-4-4-7);
and any 2 to 5 groups of 2 to 8 digits separated consistently by single spaces or dashes.
Dots only in the schemes' groupings of three groups or more (a 19-digit number
printed 6.13 is a decimal to any reader), the 13- and 14-digit ones (4.4.4.1, 4.4.4.2)
included: the detector missed those until they joined its dotted layouts (recall 0.9947 on
3,000 numbers before).

Every document also holds look-alikes that must not be flagged: masked and truncated numbers
(``411111******1111``, ``4111 11** **** 1111``, ``XXXX-XXXX-XXXX-1111``), the same numbers
with a wrong check digit, Luhn-valid numbers of a length no brand issues for that prefix or
of no card issuer (ISO/IEC 7812 major industry identifiers 0, 1, 7, 8 and 9), timestamps,
IBANs and phone numbers.

The containers: gzip, xz, bzip2 streams, a zip, a zip inside a zip, a tar.gz, an xlsx (shared
strings and inline strings), a docx (numbers split across runs, a table), an e-mail (base64
and quoted-printable parts, a base64 CSV attachment) and an HTML page (digits as character
references, a number split by tags in one cell). ``build(rng, per_kind)`` returns each file's
bytes and its labels: the masked form (first six, last four) of every card number planted,
once per time it is written where a reader sees it.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import lzma
import quopri
import random
import tarfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

PUBLIC_TEST_NUMBERS = (
    "4111111111111111", "4012888888881881", "4222222222222", "4242424242424242",
    "4000056655665556", "4917610000000000003", "5555555555554444", "5105105105105100",
    "5200828282828210", "2223003122003222", "2221000000000009", "378282246310005",
    "371449635398431", "378734493671000", "6011111111111117", "6011000990139424",
    "6011981111111113", "3530111333300000", "3566002020360505", "3566111111111113",
    "30569309025904", "38520000023237", "36227206271667", "6200000000000005",
    "6205500000000000004", "6759649826438453", "5018000000000009",
)  # fmt: skip
"""Brands' test card numbers as published in payment gateways' public documentation."""

KINDS = ("gz", "xz", "bz2", "zip", "nested-zip", "tar.gz", "xlsx", "docx", "eml", "html")


def luhn_digit(body: str) -> str:
    """The check digit that makes `body` + digit pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return luhn_digit(number[:-1]) == number[-1]


def masked(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


SCHEME_GROUPS = {13: ((4, 4, 4, 1),), 14: ((4, 6, 4),), 15: ((4, 6, 5),),
                 16: ((4, 4, 4, 4),), 19: ((6, 13), (4, 4, 4, 4, 3), (4, 4, 4, 7))}  # fmt: skip


def _split(number: str, sizes: tuple[int, ...], sep: str) -> str:
    out, i = [], 0
    for n in sizes:
        out.append(number[i:i + n])
        i += n
    return sep.join(out)


def _irregular(rng: random.Random, n: int) -> tuple[int, ...]:
    """2 to 5 groups of 2 to 8 digits adding up to n."""
    while True:
        groups = rng.randint(2, 5)
        cuts = sorted(rng.sample(range(2, n - 1), groups - 1))
        sizes = tuple(b - a for a, b in zip([0, *cuts], [*cuts, n], strict=True))
        if all(2 <= s <= 8 for s in sizes):
            return sizes


def printed(rng: random.Random, number: str) -> str:
    """`number` in a layout a system prints."""
    schemes = SCHEME_GROUPS.get(len(number), ())
    roll = rng.random()
    if roll < 0.25 or not schemes and roll < 0.4:
        return number
    if roll < 0.6 and schemes:
        return _split(number, rng.choice(schemes), rng.choice(" -"))
    dotted = [g for g in schemes if len(g) >= 3]  # "622126.1234567890123" is a decimal
    if roll < 0.7 and dotted:
        return _split(number, rng.choice(dotted), ".")
    return _split(number, _irregular(rng, len(number)), rng.choice(" -"))


class Cards:
    """Distinct card numbers drawn from the public test numbers' prefixes and lengths."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()
        self.fresh = list(PUBLIC_TEST_NUMBERS)
        rng.shuffle(self.fresh)

    def draw(self) -> str:
        while True:
            if self.fresh:
                number = self.fresh.pop()
            else:
                base = self.rng.choice(PUBLIC_TEST_NUMBERS)
                body = base[:6] + "".join(self.rng.choice("0123456789")
                                          for _ in range(len(base) - 7))
                number = body + luhn_digit(body)
            if number not in self.seen:
                self.seen.add(number)
                return number


def _bad_check_digit(number: str) -> str:
    wrong = str((int(number[-1]) + 1 + (int(number[-2]) % 8)) % 10)
    return number[:-1] + wrong


def _luhn_valid(rng: random.Random, prefix: str, n: int) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(n - 1 - len(prefix)))
    return body + luhn_digit(body)


LOOKALIKES: tuple[Callable[[random.Random, str], str], ...] = (
    lambda rng, c: masked(c),
    lambda rng, c: f"{c[:4]} {c[4:6]}** **** {c[-4:]}",
    lambda rng, c: f"XXXX-XXXX-XXXX-{c[-4:]}",
    lambda rng, c: "*" * (len(c) - 4) + c[-4:],
    lambda rng, c: c[:6] + "x" * (len(c) - 10) + c[-4:],
    lambda rng, c: printed(rng, _bad_check_digit(c)),
    lambda rng, c: _luhn_valid(rng, "4", 15),  # no Visa is 15 digits long
    lambda rng, c: _luhn_valid(rng, "37", 16),  # nor an Amex 16
    lambda rng, c: _luhn_valid(rng, rng.choice(["0", "1", "7", "8", "9"]), 16),
    lambda rng, c: f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                   f"{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}{rng.randint(0, 59):02d}"
                   f"{rng.randint(0, 999):03d}",
    lambda rng, c: "GB" + f"{rng.randint(10, 99)} WEST 1234 5698 7654 32",
    lambda rng, c: f"+44 20 7946 {rng.randint(1000, 9999)}",
)  # fmt: skip
"""Text that looks like card data but is not (given a real card number to disguise)."""


@dataclass
class Doc:
    """Lines of text with the card numbers written in them."""

    lines: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def text_doc(rng: random.Random, cards: Cards, n: int, style: str) -> Doc:
    """A document of `style` ("log", "csv", "json", "notes") with `n` card numbers and as
    many look-alikes, one thing per line."""
    doc = Doc()
    if style == "csv":
        doc.lines.append("txn_id;amount;currency;card;status")
    for i in range(n):
        card = cards.draw()
        doc.cards.append(card)
        shown = printed(rng, card)
        fake = rng.choice(LOOKALIKES)(rng, card)
        amount = f"{rng.randint(1, 99999) / 100:.2f}"
        if style == "log":
            doc.lines.append(f"2026-03-01T10:{i % 60:02d}:00Z INFO gw-{rng.randint(1, 9)} "
                             f"auth req id={rng.randint(10**5, 10**6)} amt={amount}")
            doc.lines.append(f"2026-03-01T10:{i % 60:02d}:01Z WARN gw raw pan={shown} rc=05")
            doc.lines.append(f"2026-03-01T10:{i % 60:02d}:02Z INFO gw display card={fake}")
        elif style == "csv":
            doc.lines.append(f"{rng.randint(10**6, 10**7)};{amount};EUR;{shown};settled")
            doc.lines.append(f"{rng.randint(10**6, 10**7)};{amount};EUR;{fake};settled")
        elif style == "json":
            doc.lines.append(f'{{"ref": "{rng.randint(10**6, 10**7)}", "cardNumber": '
                             f'"{shown}", "amount": {amount}}}')
            doc.lines.append(f'{{"ref": "{rng.randint(10**6, 10**7)}", "maskedPan": '
                             f'"{fake}", "amount": {amount}}}')
        else:
            doc.lines.append(f"UAT step {i}: the tester paid with {shown} and it was approved.")
            doc.lines.append(f"The receipt printed {fake} as expected.")
    return doc


# -------------------------------------------------------------------------------- containers


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 3, 1, 0, 0, 0)), data)
    return buf.getvalue()


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1772323200
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _content_types(overrides: dict[str, str]) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{CT_NS}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="/{p}" ContentType="{t}"/>'
                      for p, t in overrides.items()) + "</Types>")


def _rels(*targets: tuple[str, str]) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS_NS}">'
            + "".join(f'<Relationship Id="rId{i}" Type="{OFFICE_REL}/{kind}" Target="{t}"/>'
                      for i, (kind, t) in enumerate(targets, 1)) + "</Relationships>")


def xlsx(rows: list[list[str]]) -> bytes:
    """A workbook of one sheet: odd columns through the shared strings table, even columns as
    inline strings."""
    shared: list[str] = []
    cells = []
    for r, row in enumerate(rows, 1):
        out = []
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if c % 2 == 0:
                out.append(f'<c r="{ref}" t="s"><v>{len(shared)}</v></c>')
                shared.append(value)
            else:
                out.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
        cells.append(f'<row r="{r}">{"".join(out)}</row>')
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return _zip({
        "[Content_Types].xml": _content_types({
            "xl/workbook.xml": f"{main}.sheet.main+xml",
            "xl/worksheets/sheet1.xml": f"{main}.worksheet+xml",
            "xl/sharedStrings.xml": f"{main}.sharedStrings+xml"}).encode(),
        "_rels/.rels": _rels(("officeDocument", "xl/workbook.xml")).encode(),
        "xl/workbook.xml": (f'<workbook xmlns="{ns}" xmlns:r="{OFFICE_REL}"><sheets>'
                            '<sheet name="Sample" sheetId="1" r:id="rId1"/></sheets>'
                            '</workbook>').encode(),
        "xl/_rels/workbook.xml.rels": _rels(("worksheet", "worksheets/sheet1.xml"),
                                            ("sharedStrings", "sharedStrings.xml")).encode(),
        "xl/worksheets/sheet1.xml": (f'<worksheet xmlns="{ns}"><sheetData>{"".join(cells)}'
                                     '</sheetData></worksheet>').encode(),
        "xl/sharedStrings.xml": (f'<sst xmlns="{ns}" count="{len(shared)}">'
                                 + "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
                                 + "</sst>").encode(),
    })  # fmt: skip


def docx(paragraphs: list[list[str]], table: list[list[str]]) -> bytes:
    """A Word document: paragraphs of runs (a number may be split across runs), then a table."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

    def para(runs: list[str]) -> str:
        return "<w:p>" + "".join(f'<w:r><w:t xml:space="preserve">{escape(t)}</w:t></w:r>'
                                 for t in runs) + "</w:p>"

    rows = "".join("<w:tr>" + "".join(f"<w:tc>{para([c])}</w:tc>" for c in row) + "</w:tr>"
                   for row in table)
    body = "".join(para(p) for p in paragraphs) + f"<w:tbl>{rows}</w:tbl>"
    return _zip({
        "[Content_Types].xml": _content_types({
            "word/document.xml": "application/vnd.openxmlformats-officedocument."
                                 "wordprocessingml.document.main+xml"}).encode(),
        "_rels/.rels": _rels(("officeDocument", "word/document.xml")).encode(),
        "word/document.xml": (f'<w:document xmlns:w="{w}"><w:body>{body}</w:body>'
                              "</w:document>").encode(),
    })  # fmt: skip


def eml(plain: str, html: str, attachment: str) -> bytes:
    """A MIME message: a base64 text part, a quoted-printable HTML part, a base64 CSV file."""
    b64 = base64.encodebytes(plain.encode()).decode()
    qp = quopri.encodestring(html.encode()).decode()
    att = base64.encodebytes(attachment.encode()).decode()
    return (
        "From: ops@acquirer.example\r\nTo: assessor@qsa.example\r\n"
        "Subject: samples for 3.4.1\r\nDate: Sun, 01 Mar 2026 10:00:00 +0000\r\n"
        "Message-ID: <samples-341@acquirer.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="OUTER"\r\n\r\n'
        "--OUTER\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n"
        "--OUTER\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{qp}\r\n"
        "--OUTER\r\nContent-Type: text/csv; name=\"sample.csv\"\r\n"
        "Content-Disposition: attachment; filename=\"sample.csv\"\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{att}\r\n--OUTER--\r\n"
    ).encode()


def _entities(text: str, rng: random.Random) -> str:
    """Digits written as character references, some of them (as some exporters do)."""
    return "".join(f"&#{ord(ch)};" if ch.isdigit() and rng.random() < 0.3 else escape(ch)
                   for ch in text)


def html_page(rng: random.Random, cards: Cards, n: int) -> tuple[str, list[str]]:
    """A table of transactions: each card number in a cell, some digits as references, some
    numbers split by tags (a reader still sees one number); look-alikes in other cells."""
    rows, planted = [], []
    for _ in range(n):
        card = cards.draw()
        planted.append(card)
        shown = printed(rng, card)
        if rng.random() < 0.3:  # split by an inline tag where the layout has a break
            cut = shown.find(" ") if " " in shown else len(shown) // 2
            cell = f"{_entities(shown[:cut], rng)}<span>{_entities(shown[cut:], rng)}</span>"
        else:
            cell = _entities(shown, rng)
        fake = escape(rng.choice(LOOKALIKES)(rng, card))
        rows.append(f"<tr><td>{rng.randint(10**6, 10**7)}</td><td>{cell}</td>"
                    f"<td>{fake}</td></tr>")
    page = ("<!DOCTYPE html><html><head><title>Settlement sample</title></head><body>"
            "<table><tr><th>Ref</th><th>Card</th><th>Receipt</th></tr>"
            + "\n".join(rows) + "</table></body></html>\n")
    return page, planted


# -------------------------------------------------------------------------------- the corpus


@dataclass
class Container:
    kind: str
    name: str
    data: bytes
    labels: Counter[str]
    """Masked form of each card number planted -> times written."""


def _labels(*docs: list[str]) -> Counter[str]:
    return Counter(masked(c) for cards in docs for c in cards)


def build(rng: random.Random, per_kind: int) -> list[Container]:
    """One container of each kind of :data:`KINDS`, each with about `per_kind` card numbers."""
    cards = Cards(rng)
    out: list[Container] = []
    n = max(per_kind, 4)

    def doc(style: str, k: int) -> Doc:
        return text_doc(rng, cards, k, style)

    for kind, name, pack in (("gz", "gateway.log.gz", lambda b: gzip.compress(b, mtime=0)),
                             ("xz", "gateway.log.xz", lzma.compress),
                             ("bz2", "gateway.log.bz2", bz2.compress)):
        d = doc(rng.choice(["log", "csv"]), n)
        out.append(Container(kind, name, pack(d.text().encode()), _labels(d.cards)))
    a, b, c = doc("log", n // 3), doc("csv", n // 3), doc("json", n - 2 * (n // 3))
    out.append(Container("zip", "export.zip", _zip({
        "logs/gw.log": a.text().encode(), "settle/sample.csv": b.text().encode("latin-1"),
        "api/dump.json": c.text().encode()}), _labels(a.cards, b.cards, c.cards)))
    a, b = doc("notes", n // 2), doc("csv", n - n // 2)
    inner = _zip({"settle.csv": b.text().encode()})
    out.append(Container("nested-zip", "collection.zip", _zip({
        "uat/notes.txt": a.text().encode("utf-16"), "inner/batch.zip": inner}),
        _labels(a.cards, b.cards)))
    a, b = doc("log", n // 2), doc("json", n - n // 2)
    out.append(Container("tar.gz", "logs.tar.gz", _tar_gz({
        "var/log/gw.log": a.text().encode(), "var/log/api.json": b.text().encode()}),
        _labels(a.cards, b.cards)))
    rows, planted = [["Ref", "Card", "Receipt", "Status"]], []
    for _ in range(n):
        card = cards.draw()
        planted.append(card)
        rows.append([str(rng.randint(10**6, 10**7)), printed(rng, card),
                     rng.choice(LOOKALIKES)(rng, card), "settled"])
    out.append(Container("xlsx", "population.xlsx", xlsx(rows), _labels(planted)))
    paragraphs, table, planted = [], [["Step", "Card used", "Receipt"]], []
    for i in range(n):
        card = cards.draw()
        planted.append(card)
        shown = printed(rng, card)
        fake = rng.choice(LOOKALIKES)(rng, card)
        if i % 2:
            cut = rng.randint(1, len(shown) - 1)  # Word splits runs anywhere
            paragraphs.append([f"Step {i}: paid with ", shown[:cut], shown[cut:],
                               f"; the receipt shows {fake}."])
        else:
            table.append([f"step {i}", shown, fake])
    out.append(Container("docx", "uat-report.docx", docx(paragraphs, table), _labels(planted)))
    a, b, c = doc("notes", n // 3), doc("notes", n // 3), doc("csv", n - 2 * (n // 3))
    html = "<html><body>" + "".join(f"<p>{escape(line)}</p>\n" for line in b.lines) + \
        "</body></html>"
    out.append(Container("eml", "ticket.eml", eml(a.text(), html, c.text()),
                         _labels(a.cards, b.cards, c.cards)))
    page, planted = html_page(rng, cards, n)
    out.append(Container("html", "settlement.html", page.encode(), _labels(planted)))
    return out


def score(labels: Counter[str], found: Counter[str]) -> tuple[int, int, int]:
    """(true positives, false negatives, false positives) of masked card numbers found."""
    tp = sum((labels & found).values())
    return tp, sum(labels.values()) - tp, sum(found.values()) - tp
