"""E-mail messages as the text a reviewer reads, and their attachments.

``.eml`` (RFC 5322 / MIME, parsed by the standard library's :mod:`email`): every header
(``where`` = ``"header Subject"``; signature headers such as DKIM-Signature left out), every
text part decoded from base64 or quoted-printable and from its charset (``"part 2
text/plain"``; HTML through :mod:`vault.pii.markup`, ``"part 3 text/html line 12"``),
attachments and non-text parts as :class:`~vault.pii.parts.Embedded` (named by their file
name, else ``"part 4.png"``), and attached messages (``message/rfc822``) read in place,
their ``where`` prefixed by the part that holds them (``"part 2 message/rfc822 > header
Subject"``) down to :data:`MAX_DEPTH` levels, and yielded as an ``.eml`` file below that.
S/MIME or PGP encrypted content cannot be read: the message raises
:class:`~vault.pii.extract.UnreadableFile` after what it could read.

``.msg`` (Outlook, an OLE2 compound file read by :class:`vault.pii.office.CompoundFile`):
its MAPI properties: subject, sender and recipients as ``"header Subject"``, ``"header
From"``, ``"header To"``..., the transport headers as ``"header NAME"``, the body
(``"body text/plain"``, ``"body text/html line 3"``, the compressed RTF body decompressed as
``"body text/rtf"`` when there is no plain body), every other string property as ``"property
0x3A06"``, recipients (``"recipient 1"``), attachments as ``Embedded`` (attached messages in
place, ``"attachment 1 message > header Subject"``). A damaged or unrecognised ``.msg`` is
read by its strings.
"""

from __future__ import annotations

import codecs
import email.parser
import email.policy
import mimetypes
import re
import struct
from collections.abc import Iterator
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message

from .encoding import detect_encoding
from .extract import UnreadableFile
from .markup import decode_html, html_parts, text_codec
from .office import CompoundFile, CompoundFileError, strings_parts
from .parts import Embedded, Extractor, Part, TextPart

MAX_MESSAGE_BYTES = 256 << 20
"""A larger message is refused."""
MAX_DEPTH = 8
"""Attached messages are read in place down to this depth, then yielded as files."""
MAX_PARTS = 10_000
"""A message with more MIME parts (or .msg attachments and recipients) is refused."""
MAX_NESTING = 64
"""Multiparts nested deeper than this are refused."""

SKIPPED_HEADERS = frozenset({"dkim-signature", "arc-seal", "arc-message-signature",
                             "domainkey-signature", "x-google-dkim-signature"})
"""Header fields of signatures and seals (base64 noise) that are not yielded."""

_EXTENSIONS = mimetypes.MimeTypes()  # Python's own table only: the same on every machine
_HEADER_START = re.compile(rb"[!-9;-~]+:[ \t]?\S")
_KNOWN_FIELD = re.compile(rb"(?im)^(?:from|to|subject|date|message-id|mime-version):")


def looks_like_message(head: bytes) -> bool:
    """Whether ``head`` starts like an RFC 5322 message: libmagic calls a message
    ``text/plain`` unless its first header is one it knows (From:, Received:, Date:...), so a
    walker can ask this of text files. True when the first lines up to the first blank line
    are at least two header fields, one of them From, To, Subject, Date, Message-ID or
    MIME-Version."""
    head = head[:16384]
    if not _KNOWN_FIELD.search(head):  # a log's lines look like fields: most texts end here
        return False
    fields: list[bytes] = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n", 200)[:200]:
        if not line:
            break
        if line[:1] in (b" ", b"\t") and fields:
            continue
        if not _HEADER_START.match(line):
            return False
        fields.append(line.split(b":", 1)[0].lower())
    known = {b"from", b"to", b"subject", b"date", b"message-id", b"mime-version"}
    return len(fields) >= 2 and bool(known.intersection(fields))


def _text(value: object) -> str:
    """A header value as text: RFC 2047 encoded words decoded; raw 8-bit as UTF-8 or
    Latin-1."""
    s = re.sub(r"\r?\n(?=[ \t])", "", str(value))  # unfolded
    if any("\udc80" <= c <= "\udcff" for c in s):
        raw = s.encode("ascii", "surrogateescape")
        try:
            s = raw.decode("utf-8")
        except UnicodeDecodeError:
            s = raw.decode("latin-1")
    try:
        pieces = decode_header(s)
    except (ValueError, LookupError, UnicodeError, AssertionError, MessageError):
        return s
    try:
        return str(make_header(pieces))
    except (ValueError, LookupError, UnicodeError, AssertionError, MessageError):
        # an unknown charset in an encoded word: decode each piece as well as can be
        return "".join(p if isinstance(p, str) else _decode(p, cs) for p, cs in pieces)


def _decode(payload: bytes, charset: str | None) -> str:
    enc = text_codec(charset)
    if enc is None or enc == "ascii":
        enc = detect_encoding(payload, complete=True)
    return payload.decode(enc, errors="replace")


class _Walk:
    def __init__(self, label: str) -> None:
        self.label = label
        self.parts = 0
        self.encrypted: str | None = None

    def message(self, msg: Message, prefix: str, depth: int) -> Iterator[Part]:
        for name, value in msg.raw_items():  # raw: 8-bit values undamaged by the policy
            if name.lower() in SKIPPED_HEADERS:
                continue
            text = _text(value).strip()
            if text:
                yield TextPart(text, f"{prefix}header {name}")
        yield from self.body(msg, prefix, depth, [0], 0)

    def body(self, part: Message, prefix: str, depth: int, counter: list[int],
             nesting: int) -> Iterator[Part]:
        if nesting > MAX_NESTING:
            raise UnreadableFile(f"{self.label}: MIME parts nested more than {MAX_NESTING} deep")
        ctype = part.get_content_type()
        if ctype == "multipart/encrypted":
            self.encrypted = "PGP/MIME"
        payload = part.get_payload()
        if isinstance(payload, list) and not ctype.startswith("message/"):  # multipart/*
            for sub in payload:
                if isinstance(sub, Message):
                    yield from self.body(sub, prefix, depth, counter, nesting + 1)
            return
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise UnreadableFile(f"{self.label}: more than {MAX_PARTS} MIME parts")
        counter[0] += 1
        n = counter[0]
        where = f"{prefix}part {n} {ctype}"
        filename = part.get_filename()
        name = _text(filename).strip() if filename else ""
        if ctype == "message/rfc822" and isinstance(payload, list) and payload:
            inner = payload[0]
            if isinstance(inner, Message):
                if depth + 1 >= MAX_DEPTH:
                    yield Embedded(name or f"part {n}.eml", inner.as_bytes())
                else:
                    yield from self.message(inner, f"{where} > ", depth + 1)
                return
        if ctype.startswith("message/") and isinstance(payload, list):  # delivery status...
            lines = [f"{k}: {_text(v)}" for sub in payload if isinstance(sub, Message)
                     for k, v in sub.items()]
            if lines:
                yield TextPart("\n".join(lines), where)
            return
        if ctype == "application/pkcs7-mime" or name.lower().endswith(".p7m"):
            if (part.get_param("smime-type") or "enveloped-data") == "enveloped-data":
                self.encrypted = "S/MIME"
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        disposition = part.get_content_disposition()
        if name or disposition == "attachment" or not ctype.startswith("text/"):
            # a name without "/": the walker joins names with it
            yield Embedded(name or f"part {n}{_EXTENSIONS.guess_extension(ctype) or '.bin'}", data)
        elif ctype == "text/html":
            for p in html_parts(decode_html(data, part.get_content_charset())):
                if isinstance(p, TextPart):
                    yield TextPart(p.text, f"{where} {p.where}" if p.where else where)
                else:
                    yield p
        else:
            text = _decode(data, part.get_content_charset())
            if text.strip():
                yield TextPart(text, where)


def extract_eml(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for RFC 5322 / MIME messages (.eml)."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise UnreadableFile(f"eml larger than {MAX_MESSAGE_BYTES >> 20} MiB: not scanned")
    walk = _Walk("eml")
    try:
        msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)
        yield from walk.message(msg, "", 0)
    except RecursionError:
        raise UnreadableFile("eml: MIME parts nested too deeply") from None
    except (LookupError, UnicodeError, ValueError, TypeError, IndexError, MessageError) as e:
        if isinstance(e, UnreadableFile):
            raise
        raise UnreadableFile("eml: damaged message") from None
    if walk.encrypted:
        raise UnreadableFile(f"eml: encrypted content ({walk.encrypted}): not scanned")


# --------------------------------------------------------------------------------------------
# Outlook .msg

_PROP = re.compile(r"__substg1\.0_([0-9A-Fa-f]{4})([0-9A-Fa-f]{4})(?:-[0-9A-Fa-f]{8})?")
_NAMED = {
    0x0037: "header Subject",
    0x0042: "header From",
    0x0C1A: "header Sender",
    0x0C1F: "header Sender address",
    0x5D01: "header Sender address",
    0x0065: "header From address",
    0x0E04: "header To",
    0x0E03: "header Cc",
    0x0E02: "header Bcc",
    0x1000: "body text/plain",
}
_BODY_HTML, _BODY_RTF, _TRANSPORT_HEADERS = 0x1013, 0x1009, 0x007D
_ATTACH_DATA, _ATTACH_LONG_NAME, _ATTACH_NAME, _DISPLAY_NAME = 0x3701, 0x3707, 0x3704, 0x3001
_EMAIL, _SMTP = 0x3003, 0x39FE
_CODEPAGE, _INTERNET_CPID = 0x3FFD, 0x3FDE
_UNICODE, _STRING8, _BINARY, _OBJECT = 0x001F, 0x001E, 0x0102, 0x000D


def _codepage(cf: CompoundFile, storage: int, header: int) -> str:
    """The string-8 codec of a message, from its fixed-length properties."""
    i = cf.find(storage, "__properties_version1.0")
    found: dict[int, int] = {}
    if i is not None:
        raw = cf.stream(i, 1 << 20)
        for off in range(header, len(raw) - 15, 16):
            tag, _, value = struct.unpack_from("<IIQ", raw, off)
            if tag & 0xFFFF == 0x0003 and tag >> 16 in (_CODEPAGE, _INTERNET_CPID):
                found[tag >> 16] = value & 0xFFFFFFFF
    for key in (_CODEPAGE, _INTERNET_CPID):
        cp = found.get(key)
        if cp:
            name = {65001: "utf-8", 28591: "latin-1", 20127: "ascii"}.get(cp, f"cp{cp}")
            try:
                return codecs.lookup(name).name
            except LookupError:
                continue
    return "cp1252"


def _props(cf: CompoundFile, storage: int, codec: str
           ) -> dict[int, list[tuple[int, bytes | str | int]]]:
    """prop id -> [(type, value)]: strings decoded, binaries as bytes, storages (objects)
    as their directory index."""
    out: dict[int, list[tuple[int, bytes | str | int]]] = {}
    for i in cf.children(storage):
        e = cf.entries[i]
        m = _PROP.fullmatch(e.name)
        if m is None:
            continue
        pid, ptype = int(m.group(1), 16), int(m.group(2), 16)
        value: bytes | str | int
        if e.type == 1:
            value = i
        elif e.type == 2:
            raw = cf.stream(i)
            if ptype & 0x0FFF == _UNICODE:
                value = raw.decode("utf-16-le", "replace").rstrip("\0")
            elif ptype & 0x0FFF == _STRING8:
                value = raw.decode(codec, "replace").rstrip("\0")
            else:
                value = raw
        else:
            continue
        out.setdefault(pid, []).append((ptype, value))
    return out


def _first_text(props: dict[int, list[tuple[int, bytes | str | int]]], *pids: int) -> str:
    for pid in pids:
        for _, v in props.get(pid, []):
            if isinstance(v, str) and v.strip():
                return v.strip()
    return ""


def _lzfu(data: bytes) -> bytes:
    """Decompress an RTF body compressed as in MS-OXRTFCP ("LZFu"; "MELA" is stored)."""
    if len(data) < 16:
        raise ValueError("short")
    _, raw_size, magic, _ = struct.unpack_from("<IIII", data, 0)
    if magic == 0x414C454D:  # MELA: not compressed
        return data[16:16 + raw_size]
    if magic != 0x75465A4C:
        raise ValueError("not LZFu")
    prebuf = (b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman "
              b"\\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New "
              b"RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par "
              b"\\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx")
    dictionary = bytearray(prebuf.ljust(4096, b" "))
    write = len(prebuf)
    out = bytearray()
    pos = 16
    n = len(data)
    limit = min(raw_size, 64 << 20)
    while pos < n and len(out) < limit:
        flags = data[pos]
        pos += 1
        for bit in range(8):
            if pos >= n or len(out) >= limit:
                break
            if flags & (1 << bit):
                if pos + 1 >= n:
                    pos = n
                    break
                ref = (data[pos] << 8) | data[pos + 1]
                pos += 2
                offset, length = ref >> 4, (ref & 0xF) + 2
                if offset == write:
                    return bytes(out)
                for k in range(length):
                    c = dictionary[(offset + k) & 0xFFF]
                    out.append(c)
                    dictionary[write] = c
                    write = (write + 1) & 0xFFF
            else:
                c = data[pos]
                pos += 1
                out.append(c)
                dictionary[write] = c
                write = (write + 1) & 0xFFF
    return bytes(out)


class _MsgWalk:
    def __init__(self, cf: CompoundFile) -> None:
        self.cf = cf
        self.count = 0

    def _more(self) -> None:
        self.count += 1
        if self.count > MAX_PARTS:
            raise UnreadableFile(f"msg: more than {MAX_PARTS} recipients and attachments")

    def message(self, storage: int, prefix: str, depth: int, header: int) -> Iterator[Part]:
        cf = self.cf
        codec = _codepage(cf, storage, header)
        props = _props(cf, storage, codec)
        used = {_BODY_HTML, _BODY_RTF, _TRANSPORT_HEADERS}
        for pid, label in _NAMED.items():
            for _, v in props.get(pid, []):
                if isinstance(v, str) and v.strip():
                    yield TextPart(v, prefix + label)
            used.add(pid)
        headers = _first_text(props, _TRANSPORT_HEADERS)
        if headers:
            parsed = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(headers)
            for name, value in parsed.items():
                text = _text(value).strip()
                if name.lower() not in SKIPPED_HEADERS and text:
                    yield TextPart(text, f"{prefix}header {name}")
        for _, v in props.get(_BODY_HTML, []):
            html = v if isinstance(v, str) else (decode_html(v) if isinstance(v, bytes)
                                                 else "")
            for p in html_parts(html):
                if isinstance(p, TextPart):
                    yield TextPart(p.text, f"{prefix}body text/html {p.where}")
                else:
                    yield p
        if not props.get(0x1000) and not props.get(_BODY_HTML):
            for _, v in props.get(_BODY_RTF, []):
                if isinstance(v, bytes):
                    try:
                        rtf = _lzfu(v).decode(codec, "replace")
                        yield TextPart(rtf, f"{prefix}body text/rtf")
                    except (ValueError, IndexError, struct.error):
                        yield from strings_parts(v, f"{prefix}body text/rtf")
        for pid, values in sorted(props.items()):
            if pid in used or pid in (_ATTACH_DATA,):
                continue
            for _, v in values:
                if isinstance(v, str) and v.strip():
                    yield TextPart(v, f"{prefix}property 0x{pid:04X}")
        recipients = attachments = 0
        for i in cf.children(storage):
            e = cf.entries[i]
            if e.type != 1:
                continue
            low = e.name.lower()
            if low.startswith("__recip_version1.0_"):
                self._more()
                recipients += 1
                rp = _props(cf, i, codec)
                name = _first_text(rp, _DISPLAY_NAME)
                addr = _first_text(rp, _SMTP, _EMAIL)
                text = f"{name} <{addr}>" if name and addr else name or addr
                if text:
                    yield TextPart(text, f"{prefix}recipient {recipients}")
            elif low.startswith("__attach_version1.0_"):
                self._more()
                attachments += 1
                yield from self.attachment(i, attachments, prefix, depth, codec)

    def attachment(self, storage: int, n: int, prefix: str, depth: int, codec: str
                   ) -> Iterator[Part]:
        cf = self.cf
        ap = _props(cf, storage, codec)
        name = _first_text(ap, _ATTACH_LONG_NAME, _ATTACH_NAME, _DISPLAY_NAME)
        where = f"{prefix}attachment {n}"
        for _, v in ap.get(_ATTACH_DATA, []):
            if isinstance(v, bytes):
                yield Embedded(name or f"attachment {n}", v)
            elif isinstance(v, int):  # a storage: an attached message, or an OLE object
                if cf.find(v, "__properties_version1.0") is not None or any(
                        _PROP.fullmatch(cf.entries[c].name) for c in cf.children(v)):
                    if depth + 1 >= MAX_DEPTH:
                        yield from self._strings_of(v, f"{where} message")
                    else:
                        yield from self.message(v, f"{where} message > ", depth + 1, 24)
                else:
                    yield from self._strings_of(v, f"{where} {name}".strip())

    def _strings_of(self, storage: int, where: str) -> Iterator[Part]:
        for _, i in self.cf.walk(storage):
            if self.cf.entries[i].type == 2:
                yield from strings_parts(self.cf.stream(i), where)


def extract_msg(data: bytes) -> Iterator[Part]:
    """:data:`~vault.pii.parts.Extractor` for Outlook messages (.msg)."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise UnreadableFile(f"msg larger than {MAX_MESSAGE_BYTES >> 20} MiB: not scanned")
    try:
        cf = CompoundFile(data)
        is_msg = any(_PROP.fullmatch(cf.entries[i].name) for i in cf.children(0))
    except (CompoundFileError, struct.error, IndexError):
        yield from strings_parts(data)
        raise UnreadableFile("msg: damaged OLE2 structure (read by its strings only)"
                             ) from None
    if not is_msg:
        yield from strings_parts(data)
        return
    try:
        yield from _MsgWalk(cf).message(0, "", 0, 32)
    except (CompoundFileError, struct.error, IndexError):
        raise UnreadableFile("msg: damaged OLE2 structure") from None


MIME_TYPES: dict[str, Extractor] = {
    "message/rfc822": extract_eml,
    "application/vnd.ms-outlook": extract_msg,
}
"""libmagic MIME types (:func:`vault.pii.filetype.detect_mime`) these extractors read; a
message whose first header libmagic does not know is ``text/plain``: see
:func:`looks_like_message`."""
