"""E-mail (.eml built with the standard library's email package; .msg faked as an OLE2 file
of MAPI property streams): headers, decoded bodies, HTML bodies, attachments, attached
messages."""

from __future__ import annotations

import struct
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.pii.test_office import make_cfb, mime
from vault.pii.extract import UnreadableFile
from vault.pii.mail import (
    MIME_TYPES,
    extract_eml,
    extract_msg,
    looks_like_message,
)
from vault.pii.parts import Embedded, Part, TextPart

VISA = "4111111111111111"
MC = "5555555555554444"
AMEX = "378282246310005"
DISC = "6011111111111117"
JCB = "3530111333300000"

MSG_CLSID = "00020d0b-0000-0000-c000-000000000046"


def texts(parts: list[Part]) -> list[tuple[str | None, str]]:
    return [(p.where, p.text) for p in parts if isinstance(p, TextPart)]


def embedded(parts: list[Part]) -> list[tuple[str, bytes]]:
    return [(p.name, p.data) for p in parts if isinstance(p, Embedded)]


def make_eml() -> bytes:
    m = EmailMessage()
    m["From"] = "Jane Doe <jane@example.com>"
    m["To"] = "qsa@example.org"
    m["Subject"] = f"Card {VISA[:4]} ending {VISA[-4:]} – résumé"  # non-ASCII: encoded word
    m["DKIM-Signature"] = "v=1; a=rsa-sha256; b=4111111111111111AAAA"
    m.set_content(f"Hello,\nthe card is {VISA}.\n", cte="base64")
    m.add_alternative("<html><body><p>Card <b>5555</b> 5555 5555 4444</p>"
                      "<p>&#51;&#55;&#56;&#50;82246310005</p></body></html>",
                      subtype="html", cte="quoted-printable")
    m.add_attachment(b"%PDF-1.4 attachment bytes", maintype="application", subtype="pdf",
                     filename="report.pdf")
    inner = EmailMessage()
    inner["From"] = "ops@example.net"
    inner["Subject"] = f"forwarded {DISC}"
    inner.set_content(f"inner body {JCB}\n", charset="utf-8", cte="quoted-printable")
    m.add_attachment(inner)
    return bytes(m)


def test_eml_headers_bodies_attachments_nested() -> None:
    data = make_eml()
    assert mime(data) == "message/rfc822" and MIME_TYPES["message/rfc822"] is extract_eml
    parts = list(extract_eml(data))
    t = texts(parts)
    assert ("header From", "Jane Doe <jane@example.com>") in t
    assert ("header Subject", "Card 4111 ending 1111 – résumé") in t
    assert not [w for w, _ in t if w == "header DKIM-Signature"]
    # base64 text/plain, decoded
    assert ("part 1 text/plain", f"Hello,\nthe card is {VISA}.\n") in t
    # quoted-printable HTML: tags and entities gone
    html = [(w, s) for w, s in t if w and w.startswith("part 2 text/html")]
    assert html and html[0][0].startswith("part 2 text/html line")
    assert "Card 5555 5555 5555 4444" in html[0][1] and AMEX in html[0][1]
    assert embedded(parts) == [("report.pdf", b"%PDF-1.4 attachment bytes")]
    # the attached message read in place
    assert ("part 4 message/rfc822 > header Subject", f"forwarded {DISC}") in t
    assert ("part 4 message/rfc822 > part 1 text/plain", f"inner body {JCB}\n") in t


def test_eml_quoted_printable_and_charset() -> None:
    data = (b"From: a@example.com\r\nSubject: qp\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=iso-8859-15\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            b"Kartennummer: 5555 5555 =\r\n5555 4444 - Gr=FC=DFe =A4\r\n")
    t = texts(list(extract_eml(data)))
    assert ("part 1 text/plain", "Kartennummer: 5555 5555 5555 4444 - Grüße €\r\n") in t


def test_eml_attachment_without_filename_and_text_attachment() -> None:
    outer = MIMEMultipart()
    outer["From"] = "a@example.com"
    outer.attach(MIMEText("see attached"))
    outer.attach(MIMEApplication(b"\x00\x01binary"))  # no file name
    notes = MIMEText(f"notes {VISA}")
    notes.add_header("Content-Disposition", "attachment", filename="notes.txt")
    outer.attach(notes)
    parts = list(extract_eml(outer.as_bytes()))
    assert embedded(parts) == [("part 2.bin", b"\x00\x01binary"),
                               ("notes.txt", f"notes {VISA}".encode())]
    assert ("part 1 text/plain", "see attached") in texts(parts)


def test_eml_deeply_attached_messages_become_files() -> None:
    m = EmailMessage()
    m["Subject"] = f"bottom {VISA}"
    m.set_content("x")
    for i in range(12):
        outer = EmailMessage()
        outer["From"] = f"level{i}@example.com"
        outer["Subject"] = f"level {i}"
        outer.set_content("wrapper")
        outer.add_attachment(m)
        m = outer
    parts = list(extract_eml(bytes(m)))
    files = [e for e in parts if isinstance(e, Embedded)]
    assert len(files) == 1 and f"bottom {VISA}".encode() in files[0].data


def test_eml_encrypted_content_is_reported_after_headers() -> None:
    m = EmailMessage()
    m["From"] = "a@example.com"
    m["Subject"] = f"secret {VISA}"
    m.set_content(b"\x30\x80encrypted", maintype="application", subtype="pkcs7-mime",
                  params={"smime-type": "enveloped-data", "name": "smime.p7m"})
    seen: list[Part] = []
    with pytest.raises(UnreadableFile, match=r"^eml: encrypted content \(S/MIME\)"):
        for p in extract_eml(bytes(m)):
            seen.append(p)
    assert ("header Subject", f"secret {VISA}") in texts(seen)


def test_looks_like_message() -> None:
    m = EmailMessage()
    m["Subject"] = "hi"  # libmagic: text/plain when Subject comes first
    m["To"] = "x@example.com"
    m.set_content("body")
    data = bytes(m)
    assert mime(data) == "text/plain"
    assert looks_like_message(data)
    assert not looks_like_message(b"just some text\nwith: colons\n")
    assert not looks_like_message(b"Note: one line\n\nbody")


def _looks_like_message_by_definition(head: bytes) -> bool:
    """The docstring's rule, line by line (the function itself skips most texts early)."""
    import re
    fields: list[bytes] = []
    for line in head[:16384].replace(b"\r\n", b"\n").split(b"\n")[:200]:
        if not line:
            break
        if line[:1] in (b" ", b"\t") and fields:
            continue
        if not re.match(rb"[!-9;-~]+:[ \t]?\S", line):
            return False
        fields.append(line.split(b":", 1)[0].lower())
    known = {b"from", b"to", b"subject", b"date", b"message-id", b"mime-version"}
    return len(fields) >= 2 and bool(known.intersection(fields))


_LINES = st.sampled_from([
    b"From: a@example.com", b"to: b@example.com", b"SUBJECT: x", b"Date: today",
    b"Message-ID: <1@x>", b"MIME-Version: 1.0", b"Received: by x", b"X-Note: y",
    b"2026-12-07T10:00:00Z sw-01 login accepted", b" continued", b"\tfolded", b"",
    b"plain words here", b"From : spaced", b"from:x", b"to:", b"\r", b"Subject: a\r"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINES, max_size=30), st.sampled_from([b"\n", b"\r\n"]))
def test_looks_like_message_follows_its_definition(lines: list[bytes], eol: bytes) -> None:
    head = eol.join(lines)
    assert looks_like_message(head) == _looks_like_message_by_definition(head)


def test_a_long_log_is_not_a_message() -> None:
    log = b"".join(b"2026-12-07T10:%02d:00Z sw-%02d login accepted\n" % (i % 60, i % 9)
                   for i in range(1000))
    assert not looks_like_message(log)
    assert looks_like_message(b"Subject: logs\nFrom: a@example.com\n\n" + log)


# --- .msg -------------------------------------------------------------------------------------


def u16(s: str) -> bytes:
    return s.encode("utf-16-le")


def prop(pid: int, ptype: int) -> str:
    return f"__substg1.0_{pid:04X}{ptype:04X}"


def properties(header: int, codepage: int = 1252) -> bytes:
    return b"\0" * header + struct.pack("<IIQ", (0x3FFD << 16) | 0x0003, 0, codepage)


def make_msg() -> bytes:
    inner = {
        "__properties_version1.0": properties(24),
        prop(0x0037, 0x001F): u16(f"inner subject {DISC}"),
        prop(0x1000, 0x001F): u16(f"inner body {JCB}"),
    }
    return make_cfb({
        "__properties_version1.0": properties(32),
        prop(0x0037, 0x001F): u16(f"Subject with {VISA}"),
        prop(0x0C1A, 0x001F): u16("Jane Doe"),
        prop(0x0E04, 0x001F): u16("QSA Team"),
        prop(0x1000, 0x001E): f"Plain body, card {MC} – cp1252".encode("cp1252"),
        prop(0x1013, 0x0102): b"<html><body><p>html <b>3782</b> 822463 10005</p></body></html>",
        prop(0x3A06, 0x001F): u16("Given name"),
        "__recip_version1.0_#00000000": {
            prop(0x3001, 0x001F): u16("Auditor"),
            prop(0x39FE, 0x001F): u16("auditor@example.org"),
        },
        "__attach_version1.0_#00000000": {
            prop(0x3707, 0x001F): u16("evidence.xlsx"),
            prop(0x3701, 0x0102): b"PK\x03\x04 attachment",
        },
        "__attach_version1.0_#00000001": {
            prop(0x3701, 0x000D): inner,
        },
    }, MSG_CLSID)


def test_msg_properties_recipients_attachments() -> None:
    data = make_msg()
    assert mime(data) == "application/vnd.ms-outlook"
    assert MIME_TYPES["application/vnd.ms-outlook"] is extract_msg
    parts = list(extract_msg(data))
    t = texts(parts)
    assert ("header Subject", f"Subject with {VISA}") in t
    assert ("header From", "Jane Doe") not in t and ("header Sender", "Jane Doe") in t
    assert ("header To", "QSA Team") in t
    assert ("body text/plain", f"Plain body, card {MC} – cp1252") in t
    assert ("body text/html line 1", "html 3782 822463 10005") in t
    assert ("property 0x3A06", "Given name") in t
    assert ("recipient 1", "Auditor <auditor@example.org>") in t
    assert embedded(parts) == [("evidence.xlsx", b"PK\x03\x04 attachment")]
    assert ("attachment 2 message > header Subject", f"inner subject {DISC}") in t
    assert ("attachment 2 message > body text/plain", f"inner body {JCB}") in t


def test_msg_rtf_body_decompressed_when_alone() -> None:
    rtf = b"{\\rtf1\\ansi card 4111111111111111}"
    stored = struct.pack("<IIII", len(rtf) + 12, len(rtf), 0x414C454D, 0) + rtf  # "MELA"
    data = make_cfb({"__properties_version1.0": properties(32),
                     prop(0x1009, 0x0102): stored}, MSG_CLSID)
    assert ("body text/rtf", rtf.decode()) in texts(list(extract_msg(data)))


def test_msg_rtf_lzfu_compressed() -> None:
    from vault.pii.mail import _lzfu

    # MS-OXRTFCP's own example: "{\rtf1\ansi\ansicpg1252\pard hello world}\r\n"
    comp = bytes.fromhex(
        "2d0000002b0000004c5a4675f1c5c7a703000a007263706731323542320af32068656c090020"
        "627705b06c647d0a800fa0")
    assert _lzfu(comp) == b"{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"


def test_msg_damaged_is_read_by_strings_then_refused() -> None:
    data = make_msg()
    bad = data[:0x30] + struct.pack("<I", 0x7FFFFFF0) + data[0x34:]
    seen: list[Part] = []
    with pytest.raises(UnreadableFile, match="^msg: damaged OLE2 structure"):
        for p in extract_msg(bad):
            seen.append(p)
    assert any(VISA in s for _, s in texts(seen))


def test_msg_typed_as_plain_ole2_is_read_as_msg() -> None:
    from vault.pii.documents import extractor_for

    data = make_cfb({"__properties_version1.0": properties(32),
                     prop(0x0037, 0x001F): u16(f"Subject with {VISA}")})  # no CLSID
    # (libmagic names this one by its streams; a large .msg cut at the head it reads is not)
    read = extractor_for("application/x-ole-storage", data[:4096])
    assert read is not None
    assert ("header Subject", f"Subject with {VISA}") in texts(list(read(data)))
