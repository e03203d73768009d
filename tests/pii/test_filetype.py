"""Type detection: libmagic's answer for a file's head, with a plain text's head typed from its
first 8 KiB (libmagic's text rules cost ~0.1 ms a KiB) only where the whole head would get the
same answer."""

from __future__ import annotations

import json
import random

import magic
import pytest

from vault.pii import filetype
from vault.pii.filetype import MAGIC_BYTES, TEXT_BYTES, detect_mime


def _log(n: int, seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    lines = [f"2026-12-0{rnd.randint(1, 7)}T12:{rnd.randrange(60):02d}:00Z sw-{i % 40:02d} "
             f"interface vlan {rnd.randrange(4096)} accepted\n" for i in range(n)]
    return "".join(lines).encode()


def _samples() -> dict[str, bytes]:
    log = _log(400)
    assert len(log) > TEXT_BYTES
    return {
        "a long log": log,
        "a short log": log[:4000],
        "a log with a binary tail": log + b"\x00\x01\x02" * 50,
        "a log with an escape-free control byte late": log + b"\x1a end",
        "a log with Latin-1 bytes late": log + "caf\u00e9 na\u00efve\n".encode("latin-1"),
        "a log with UTF-8 late": log + "\u00fcber \u2013 \u20ac\n".encode(),
        "a long JSON document": json.dumps([{"host": f"sw-{i}", "vlan": i, "state": "up"}
                                            for i in range(600)]).encode(),
        "JSON after a byte-order mark": b"\xef\xbb\xbf" + json.dumps(
            {"rules": [f"permit {i}" for i in range(1500)]}).encode(),
        "an HTML page": b"<!DOCTYPE html>\n<html><body>\n" + log + b"</body></html>\n",
        "an XML export": b'<?xml version="1.0"?>\n<config>\n' + log + b"</config>\n",
        "a mail message": (b"From: a@example.com\nTo: b@example.com\nSubject: logs\n"
                           b"Date: Mon, 7 Dec 2026 10:00:00 +0000\n\n" + log),
        "a PDF": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + log,
        "a shell script": b"#!/bin/sh\nset -e\n" + b"echo configured\n" * 800,
        "UTF-16 text": "\ufeff".encode("utf-16-le") + log.decode().encode("utf-16-le"),
        "a CSV export": b"time,host,event\n" + b"".join(
            b"2026-12-07T10:%02d:00Z,sw-%02d,login\n" % (i % 60, i % 40) for i in range(500)),
        # rows of 3.5 KB: the first 8 KiB hold two lines, too few for libmagic's CSV test,
        # which the whole head passes (libmagic decides on the first 10 lines)
        "a CSV export of wide rows": b"\n".join(
            b",".join(b"field%d" % i for i in range(400)) for _ in range(15)) + b"\n",
        "a CSV of wide rows with a quoted field": b"\n".join(
            b'"a, b",' + b",".join(b"v%d" % i for i in range(1200)) for _ in range(15)) + b"\n",
    }


@pytest.mark.parametrize("name", list(_samples()))
def test_the_answer_is_libmagics_for_the_whole_head(name: str) -> None:
    head = _samples()[name][:MAGIC_BYTES]
    assert detect_mime(head) == magic.Magic(mime=True).from_buffer(head)


def test_a_long_plain_text_is_typed_from_its_first_8_kib(
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    class Spy:
        def __init__(self) -> None:
            self.real = magic.Magic(mime=True)

        def from_buffer(self, data: bytes) -> str:
            asked.append(len(data))
            return str(self.real.from_buffer(data))
    monkeypatch.setattr(filetype._local, "magic", Spy(), raising=False)
    monkeypatch.setattr(filetype._local, "last", None, raising=False)
    log = _log(1000)[:MAGIC_BYTES]
    assert detect_mime(log) == "text/plain" and asked == [TEXT_BYTES]
    asked.clear()  # quotes, as in a web server's log, keep the shortcut
    access = b"".join(b'10.0.0.%d - - [07/Dec/2026:10:00:%02d +0000] "GET / HTTP/1.1" 200 '
                      b'512 "-" "curl/8"\n' % (i % 250, i % 60) for i in range(1000))
    assert detect_mime(access[:MAGIC_BYTES]) == "text/plain" and asked == [TEXT_BYTES]
    asked.clear()  # a binary tail: only the whole head is asked about
    tail = log[:20000] + b"\x01\x02\x03 and more"
    assert detect_mime(tail) == "application/octet-stream"
    assert asked == [len(tail)]
    asked.clear()  # JSON: typed by parsing the whole document
    doc = json.dumps([{"n": i} for i in range(2000)]).encode()
    assert detect_mime(doc) == "application/json" and asked == [len(doc)]
