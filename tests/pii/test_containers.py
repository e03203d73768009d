"""Containers: gzip/xz/bzip2 streams, zip and tar archives (nested), hostile member names,
bombs and damaged members, documents through the extractor registry, and the ingest's scan
tap on all of them. Nothing is ever written: every archive is built and read in memory."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import queue
import random
import stat
import struct
import tarfile
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pii.corpus import make_pan
from vault.evidence.sources import Source
from vault.pii import Scanner
from vault.pii import containers as cont
from vault.pii.feed import ScanFeed, _BlockStream
from vault.pii.parts import Embedded, Part, TextPart
from vault.pii.scan import IncompleteScan, ScanHit, scan_source

PAN = "4111111111111111"
MASKED = "411111******1111"


# -- building evidence in memory --------------------------------------------------------------


def card_log(n: int, seed: int = 7, filler: int = 3) -> tuple[bytes, dict[int, str]]:
    """A log with `n` distinct Luhn-valid card numbers, `filler` clean lines before each;
    returns it and {line: masked PAN}."""
    rng = random.Random(seed)
    lines: list[str] = []
    planted: dict[int, str] = {}
    while len(planted) < n:
        for _ in range(filler):
            lines.append(f"2024-03-01T10:00:00Z INFO gw txn={rng.randrange(10**9)} resp=00")
        pan = make_pan(rng, "visa", 16)
        if pan[:6] + "******" + pan[-4:] in planted.values():
            continue
        lines.append(f"2024-03-01T10:00:01Z WARN gw pan={pan} resp=05")
        planted[len(lines)] = pan[:6] + "******" + pan[-4:]
    return ("\n".join(lines) + "\n").encode(), planted


def src(name: str, data: bytes) -> Source:
    """A source read from a seekable file (what `vault scan` opens)."""
    return Source(name=name, size=len(data), open=lambda: io.BytesIO(data))


def stream_src(name: str, data: bytes, block: int = 1 << 16) -> Source:
    """A source read as the ingest reads it: blocks through a queue, rewindable only within
    the first block (feed.py's stream)."""

    def opener() -> Any:
        q: queue.Queue[bytes | None] = queue.Queue()
        for i in range(0, len(data), block):
            q.put(data[i:i + block])
        q.put(None)
        return _BlockStream(q)

    return Source(name=name, size=len(data), open=opener)


def zip_of(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_of(files: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def patch_zip(data: bytes, name: str, *, crc: int | None = None, flags: int | None = None,
              usize: int | None = None, rename: bytes | None = None) -> bytes:
    """`data` with the named member's CRC, flags or declared size changed in its local header
    and in the central directory (or its name replaced by one of the same length)."""
    out = bytearray(data)
    zf = zipfile.ZipFile(io.BytesIO(data))
    at = zf.getinfo(name).header_offset
    pos = zf.start_dir  # type: ignore[attr-defined]
    while data[pos:pos + 4] == b"PK\x01\x02":  # the member's entry in the central directory
        nlen, xlen, clen = struct.unpack_from("<HHH", data, pos + 28)
        if struct.unpack_from("<I", data, pos + 42)[0] == at:
            break
        pos += 46 + nlen + xlen + clen
    if crc is not None:
        struct.pack_into("<I", out, at + 14, crc)
        struct.pack_into("<I", out, pos + 16, crc)
    if flags is not None:
        struct.pack_into("<H", out, at + 6, flags)
        struct.pack_into("<H", out, pos + 8, flags)
    if usize is not None:
        struct.pack_into("<I", out, at + 22, usize)
        struct.pack_into("<I", out, pos + 24, usize)
    if rename is not None:
        raw = name.encode()
        assert len(rename) == len(raw)
        out[at + 30:at + 30 + len(raw)] = rename
        out[pos + 46:pos + 46 + len(raw)] = rename
    return bytes(out)


def hits_and_notes(source: Source, scanner: Scanner) -> tuple[list[ScanHit], list[str]]:
    notes: list[str] = []
    hits = list(scan_source(source, scanner, on_note=lambda _p, n: notes.append(n)))
    return hits, notes


def pans(hits: list[ScanHit]) -> list[tuple[str | None, int | None, str]]:
    return sorted(((h.member, h.finding.line, h.finding.masked) for h in hits
                   if h.finding.kind == "pan"), key=lambda x: (x[0] or "", x[1] or 0))


@pytest.fixture(scope="module")
def sc() -> Scanner:
    return Scanner(b"k")


READERS = [pytest.param(src, id="file"), pytest.param(stream_src, id="stream")]


# -- compressed streams -----------------------------------------------------------------------


COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress, "xz": lzma.compress, "bzip2": bz2.compress}


@pytest.mark.parametrize("fmt", sorted(COMPRESS))
@pytest.mark.parametrize("reader", READERS)
def test_compressed_log_keeps_its_line_numbers(fmt: str, reader: Callable[..., Source],
                                               sc: Scanner) -> None:
    log, planted = card_log(200)
    hits, notes = hits_and_notes(reader("gw.log.x", COMPRESS[fmt](log)), sc)
    assert notes == []
    assert pans(hits) == sorted((None, line, m) for line, m in planted.items())


def test_concatenated_gzip_members_are_read_as_zcat_does(sc: Scanner) -> None:
    log, planted = card_log(20)
    half = log.index(b"\n", len(log) // 2) + 1
    hits, notes = hits_and_notes(src("gw.log.gz", gzip.compress(log[:half])
                                     + gzip.compress(log[half:])), sc)  # fmt: skip
    assert notes == [] and pans(hits) == sorted((None, ln, m) for ln, m in planted.items())


def test_a_big_compressed_log_goes_to_the_worker_processes(sc: Scanner) -> None:
    """Over 16 MiB a decompressed stream is scanned in the worker processes, as a plain file
    is, with the same findings and line numbers."""
    log, planted = card_log(50, filler=8000)  # ~20 MB
    assert len(log) > 17 << 20
    with Scanner(b"k") as scanner:
        hits, notes = hits_and_notes(src("gw.log.gz", gzip.compress(log, 1)), scanner)
        assert scanner._pool is not None
    assert notes == [] and pans(hits) == sorted((None, ln, m) for ln, m in planted.items())


def test_truncated_gzip_keeps_what_it_read_and_says_so(sc: Scanner) -> None:
    log, planted = card_log(200)
    data = gzip.compress(log)
    cut = data[: len(data) // 2]
    hits, notes = hits_and_notes(src("gw.log.gz", cut), sc)
    assert notes == ["gzip stream: truncated"]
    found = pans(hits)
    assert 50 < len(found) < 200
    assert set(found) <= {(None, ln, m) for ln, m in planted.items()}
    # without on_note: the findings first, then IncompleteScan
    got: list[ScanHit] = []
    with pytest.raises(IncompleteScan, match="scanned only in part: gzip stream: truncated"):
        for h in scan_source(src("gw.log.gz", cut), sc):
            got.append(h)
    assert pans(got) == found


@pytest.mark.skipif(cont.HAVE_ZSTD, reason="zstandard is installed")
def test_zstd_without_its_package_is_noted_not_passed_silently(sc: Scanner) -> None:
    frame = bytes.fromhex("28b52ffd2000510000") + b"card 4111111111111111\n"
    _, notes = hits_and_notes(src("x.zst", frame), sc)
    assert notes == ["zstd stream not read (the zstandard package is not installed)"]


# -- archives ---------------------------------------------------------------------------------


def _evidence() -> tuple[dict[str, bytes], dict[int, str]]:
    log, planted = card_log(30)
    return {"logs/": b"", "logs/gw.log": log, "notes.txt": b"nothing here\n",
            "settle.csv": f"id;pan\n1;{PAN}\n".encode()}, planted


def _want(planted: dict[int, str], prefix: str = "") -> list[tuple[str | None, int | None, str]]:
    return sorted([(prefix + "logs/gw.log", ln, m) for ln, m in planted.items()]
                  + [(prefix + "settle.csv", 2, MASKED)], key=lambda x: (x[0] or "", x[1] or 0))


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("streamed", [False, True], ids=["directory", "local-headers"])
def test_zip_members_are_scanned_by_their_own_type(reader: Callable[..., Source],
                                                   streamed: bool, sc: Scanner,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if streamed:  # as a zip too big to hold in memory is read from a stream
        if reader is src:
            pytest.skip("a seekable file is always read by its directory")
        monkeypatch.setattr(cont, "MAX_ZIP_IN_MEMORY", 0)
    files, planted = _evidence()
    for method in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2,
                   zipfile.ZIP_LZMA):
        hits, notes = hits_and_notes(reader("bundle.zip", zip_of(files, method)), sc)
        assert notes == [], method
        assert pans(hits) == _want(planted), method
        assert {h.path for h in hits} == {"bundle.zip"}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("mode", ["w", "w:gz", "w:xz", "w:bz2"])
def test_tar_members_plain_and_compressed(mode: str, reader: Callable[..., Source],
                                          sc: Scanner) -> None:
    files, planted = _evidence()
    del files["logs/"]
    hits, notes = hits_and_notes(reader("bundle.tar.x", tar_of(files, mode)), sc)
    assert notes == []
    assert pans(hits) == _want(planted)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "local-headers"])
def test_nested_archives_name_the_path_inside(reader: Callable[..., Source], streamed: bool,
                                              sc: Scanner,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    if streamed:
        monkeypatch.setattr(cont, "MAX_ZIP_IN_MEMORY", 0)
    files, planted = _evidence()
    del files["logs/"]
    outer = zip_of({"nested.zip": zip_of(files), "dump.tar": tar_of(files),
                    "rotated/gw.log.1.gz": gzip.compress(files["logs/gw.log"]),
                    "deep/a.zip": zip_of({"b.tar.gz": tar_of({"c.csv": files["settle.csv"]},
                                                             "w:gz")})})  # fmt: skip
    hits, notes = hits_and_notes(reader("evidence.zip", outer), sc)
    assert notes == []
    want = (_want(planted, "nested.zip/") + _want(planted, "dump.tar/")
            + [("rotated/gw.log.1.gz", ln, m) for ln, m in planted.items()]
            + [("deep/a.zip/b.tar.gz/c.csv", 2, MASKED)])
    assert pans(hits) == sorted(want, key=lambda x: (x[0] or "", x[1] or 0))


def test_members_by_their_type_not_their_name(sc: Scanner) -> None:
    """A gzip named .txt is decompressed, a log named .zip is read as text, an Office-like
    zip with no extractor registered is walked as a zip."""
    files = {"looks-like.txt": gzip.compress(f"card {PAN}\n".encode()),
             "not-a.zip": f"x\ncard {PAN}\n".encode(),
             "book.xlsx": zip_of({"[Content_Types].xml": b"<Types/>",
                                  "xl/sharedStrings.xml": f"<t>{PAN}</t>".encode()})}
    hits, notes = hits_and_notes(src("b.zip", zip_of(files)), sc)
    assert notes == []
    assert pans(hits) == [("book.xlsx/xl/sharedStrings.xml", 1, MASKED),
                          ("looks-like.txt", 1, MASKED), ("not-a.zip", 2, MASKED)]


def test_card_numbers_in_member_names_are_findings_and_masked(sc: Scanner) -> None:
    data = zip_of({f"cards/{PAN}.txt": b"nothing\n", "ok.txt": f"card {PAN}\n".encode()})
    hits, notes = hits_and_notes(src("b.zip", data), sc)
    assert notes == []
    assert pans(hits) == [(f"cards/{MASKED}.txt", None, MASKED), ("ok.txt", 1, MASKED)]
    assert not any(PAN in (h.member or "") for h in hits)


# -- hostile names: reported, never followed, nothing written -----------------------------------


def _listing(*dirs: Path) -> dict[str, list[str]]:
    return {str(d): sorted(os.listdir(d)) for d in dirs}


def test_hostile_names_are_reported_and_nothing_is_written(sc: Scanner, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:  # fmt: skip
    secret = tmp_path / "target.txt"
    secret.write_text(f"card {PAN}\n")  # what a followed link would read
    monkeypatch.chdir(tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../escape.txt", f"card {PAN}\n")
        zf.writestr("/etc/cron.d/job", "clean\n")
        zf.writestr("nulXname.txt", "clean\n")
        zf.writestr("new\nline.txt", "clean\n")
        link = zipfile.ZipInfo("link")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, str(secret))
        zf.writestr("ok.txt", f"card {PAN}\n")
    data = patch_zip(buf.getvalue(), "nulXname.txt", rename=b"nul\x00name.txt")
    before = _listing(tmp_path, tmp_path.parent, Path(tempfile.gettempdir()))
    hits, notes = hits_and_notes(src("hostile.zip", data), sc)
    assert _listing(tmp_path, tmp_path.parent, Path(tempfile.gettempdir())) == before
    assert sorted(notes) == sorted([
        "member ../escape.txt: name leads outside the archive (reported, never extracted)",
        "member /etc/cron.d/job: absolute name (reported, never extracted)",
        "member nul\\x00name.txt: name holds control characters (reported, never extracted)",
        "member new\\nline.txt: name holds control characters (reported, never extracted)",
    ])  # (the link: reported, holding no data, it leaves nothing unscanned: see below)
    # the content of a member with a hostile name is still scanned; a link's target is not read
    assert pans(hits) == [("../escape.txt", 1, MASKED), ("ok.txt", 1, MASKED)]
    with pytest.raises(IncompleteScan, match=r"scanned only in part: member \.\./escape\.txt"
                                             r": .* \(and 3 more\)"):  # fmt: skip
        list(scan_source(src("hostile.zip", data), sc))


@pytest.mark.parametrize("reader", READERS)
def test_tar_with_escaping_names_links_and_devices(reader: Callable[..., Source], sc: Scanner,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, kind, data in [("../../etc/x.conf", tarfile.REGTYPE, f"pan={PAN}\n"),
                                 ("/abs/y.log", tarfile.REGTYPE, "clean\n"),
                                 ("sym", tarfile.SYMTYPE, ""), ("hard", tarfile.LNKTYPE, ""),
                                 ("dev", tarfile.CHRTYPE, ""), ("fifo", tarfile.FIFOTYPE, ""),
                                 ("z.log", tarfile.REGTYPE, f"card {PAN}\n")]:
            ti = tarfile.TarInfo(name)
            ti.type = kind
            ti.linkname = "/etc/shadow" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data.encode()))
    before = _listing(tmp_path, tmp_path.parent)
    hits, notes = hits_and_notes(reader("t.tgz", buf.getvalue()), sc)
    assert _listing(tmp_path, tmp_path.parent) == before
    assert notes == [
        "member ../../etc/x.conf: name leads outside the archive (reported, never extracted)",
        "member /abs/y.log: absolute name (reported, never extracted)",
    ]
    assert pans(hits) == [("../../etc/x.conf", 1, MASKED), ("z.log", 1, MASKED)]


# -- bombs and damage -------------------------------------------------------------------------


def _bounded(fn: Callable[[], Any], seconds: float, mib: int) -> Any:
    """fn() within `seconds` and `mib` MiB of Python allocations at the peak."""
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        out = fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.monotonic() - t0 < seconds
    assert peak < mib << 20, f"peak {peak >> 20} MiB"
    return out


def _zeros_zip(mib: int, declared: int | None = None) -> bytes:
    """A zip whose first member is `mib` MiB of zeros (declared as `declared` bytes), then
    a member with a card number."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("zeros.bin", "w") as w:
            block = bytes(1 << 20)
            for _ in range(mib):
                w.write(block)
        zf.writestr("after.txt", f"card {PAN}\n")
    data = buf.getvalue()
    return data if declared is None else patch_zip(data, "zeros.bin", usize=declared)


@pytest.mark.parametrize("reader", READERS)
def test_zip_bomb_member_stops_at_the_ratio_and_the_rest_is_scanned(
        reader: Callable[..., Source], sc: Scanner) -> None:
    data = _zeros_zip(200, declared=4_000_000_000)  # 200 MiB of zeros said to be ~4 GB
    assert len(data) < 1 << 20
    hits, notes = _bounded(lambda: hits_and_notes(reader("bomb.zip", data), sc), 20, 48)
    assert notes == ["member zeros.bin: compression ratio over 200:1"]
    assert pans(hits) == [("after.txt", 1, MASKED)]


def test_total_size_limit_stops_the_file(sc: Scanner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cont, "MAX_TOTAL_BYTES", 8 << 20)
    monkeypatch.setattr(cont, "MAX_RATIO", 10**9)
    data = zip_of({"a.txt": f"card {PAN}\n".encode(), "zeros.bin": bytes(64 << 20),
                   "z.txt": f"card {PAN}\n".encode()})  # fmt: skip
    hits, notes = _bounded(lambda: hits_and_notes(src("big.zip", data), sc), 20, 48)
    assert notes == ["member zeros.bin: decompressed size over 8 MiB; the rest of the file "
                     "not scanned"]
    assert pans(hits) == [("a.txt", 1, MASKED)]
    with pytest.raises(IncompleteScan, match="decompressed size over 8 MiB"):
        list(scan_source(src("big.zip", data), sc))


def test_gzip_bomb_stops_at_the_ratio(sc: Scanner) -> None:
    c = zlib_gzip(bytes(1 << 20), 300)
    hits, notes = _bounded(lambda: hits_and_notes(src("z.gz", c), sc), 20, 48)
    assert notes == ["gzip stream: compression ratio over 200:1"] and hits == []


def zlib_gzip(block: bytes, times: int) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as g:
        for _ in range(times):
            g.write(block)
    return buf.getvalue()


def test_nested_zip_bomb_stops_at_the_depth(sc: Scanner) -> None:
    """42.zip at small scale: six levels, 4 copies of the level below in each, 4 MiB of
    zeros at the bottom; a card number at level 2 is still found."""
    level = zip_of({"0.bin": bytes(4 << 20)})
    for depth in range(5):
        files = {f"{i}.zip": level for i in range(4)}
        if depth == 3:
            files["card.txt"] = f"card {PAN}\n".encode()
        level = zip_of(files)
    hits, notes = _bounded(lambda: hits_and_notes(src("42.zip", level), sc), 60, 128)
    assert pans(hits) == [(f"{i}.zip/card.txt", 1, MASKED) for i in range(4)]
    assert notes and all(n.endswith(": nested deeper than 4") for n in notes)
    assert notes[0] == "member 0.zip/0.zip/0.zip/0.zip: nested deeper than 4"
    assert len(notes) == 4 ** 4


def test_member_count_and_time_limits(sc: Scanner, monkeypatch: pytest.MonkeyPatch) -> None:
    data = zip_of({f"f{i:03d}.txt": f"card {PAN}\n".encode() for i in range(50)})
    monkeypatch.setattr(cont, "MAX_MEMBERS", 10)
    hits, notes = hits_and_notes(src("many.zip", data), sc)
    assert len(pans(hits)) == 10
    assert notes == ["more than 10 members; the rest of the file not scanned"]
    monkeypatch.setattr(cont, "MAX_MEMBERS", 100_000)
    monkeypatch.setattr(cont, "MAX_SECONDS", 0)
    hits, notes = hits_and_notes(src("many.zip", data), sc)
    assert notes == ["scan time over 0 s; the rest of the file not scanned"]
    assert len(pans(hits)) < 50


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("streamed", [False, True], ids=["directory", "local-headers"])
def test_wrong_crc_and_encrypted_members(reader: Callable[..., Source], streamed: bool,
                                         sc: Scanner, monkeypatch: pytest.MonkeyPatch) -> None:
    if streamed:
        monkeypatch.setattr(cont, "MAX_ZIP_IN_MEMORY", 0)
    data = zip_of({"bad.txt": f"card {PAN}\n".encode(), "secret.txt": b"x" * 100,
                   "ok.txt": f"card {PAN}\n".encode()})  # fmt: skip
    zi = zipfile.ZipFile(io.BytesIO(data)).getinfo("bad.txt")
    data = patch_zip(data, "bad.txt", crc=zi.CRC ^ 1)
    data = patch_zip(data, "secret.txt", flags=0x1)  # zip's traditional encryption
    hits, notes = hits_and_notes(reader("d.zip", data), sc)
    assert notes == ["member bad.txt: damaged (checksum mismatch)",
                     "member secret.txt: encrypted"]
    # what was read of the damaged member is reported, the other members are scanned
    assert pans(hits) == [("bad.txt", 1, MASKED), ("ok.txt", 1, MASKED)]


def test_truncated_and_damaged_zips(sc: Scanner) -> None:
    data = zip_of({"a.txt": f"card {PAN}\n".encode(), "b.bin": os.urandom(200_000),
                   "c.txt": f"card {PAN}\n".encode()})  # fmt: skip
    cut = data[: zipfile.ZipFile(io.BytesIO(data)).getinfo("b.bin").header_offset + 5000]
    hits, notes = hits_and_notes(src("cut.zip", cut), sc)
    assert pans(hits) == [("a.txt", 1, MASKED)]
    assert notes == ["member b.bin: truncated",
                     "zip archive damaged (no central directory); the rest not scanned"]
    garbage = os.urandom(4096)
    hits, notes = hits_and_notes(src("junk.zip", b"PK\x03\x04" + garbage), sc)
    assert hits == [] and len(notes) == 1 and notes[0].startswith("zip archive ")


def test_a_damaged_member_pdf_is_a_note(sc: Scanner) -> None:
    data = zip_of({"scan.pdf": b"%PDF-1.7\n" + os.urandom(3000), "ok.txt": f"{PAN}\n".encode()})
    hits, notes = hits_and_notes(src("p.zip", data), sc)
    assert pans(hits) == [("ok.txt", 1, MASKED)]
    assert len(notes) == 1 and notes[0].startswith("member scan.pdf: ")


def test_tar_with_an_oversized_extended_header(sc: Scanner,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cont, "MAX_HEADER_BYTES", 1024)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in [("a.txt", f"card {PAN}\n"), ("b" * 3000, "x"), ("c.txt", PAN)]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data.encode()))
    hits, notes = hits_and_notes(src("t.tar", buf.getvalue()), sc)
    assert pans(hits) == [("a.txt", 1, MASKED)]
    assert notes == ["tar archive an extended header over 1 KiB; the rest not scanned"]


# -- documents through the registry -------------------------------------------------------------


def fake_html(data: bytes) -> Iterator[Part]:
    text = data.decode()
    yield TextPart(f"card {PAN}", "paragraph 3")
    yield TextPart("nothing\nat all", None)
    if "attach" in text:
        yield Embedded("inner.zip", zip_of({"x.txt": f"card {PAN}\n".encode()}))
        yield Embedded(f"{PAN}.pdf", b"%PDF-1.4 broken")


def test_extractor_registry(sc: Scanner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cont, "EXTRACTORS", {})
    cont.register(fake_html, "text/html")
    page = b"<html><body><p>attach</p></body></html>\n"
    hits, notes = hits_and_notes(src("page.html", page), sc)
    assert pans(hits) == [(f"{MASKED}.pdf", None, MASKED), ("inner.zip/x.txt", 1, MASKED),
                          ("paragraph 3", 1, MASKED)]
    assert len(notes) == 1 and notes[0].startswith(f"member {MASKED}.pdf: ")
    hits, notes = hits_and_notes(src("b.zip", zip_of({"docs/page.html": page})), sc)
    assert pans(hits) == [("docs/page.html \u203a paragraph 3", 1, MASKED),
                          (f"docs/page.html/{MASKED}.pdf", None, MASKED),
                          ("docs/page.html/inner.zip/x.txt", 1, MASKED)]


# -- the ingest's tap ---------------------------------------------------------------------------


def _feed(name: str, data: bytes, block: int = 1 << 16) -> Any:
    feed = ScanFeed(Scanner(b"k"), name, size=len(data))
    for i in range(0, len(data), block):
        feed.feed(data[i:i + block])
    return feed.finish()


@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "local-headers"])
def test_scan_feed_flags_a_card_in_a_zip_and_quarantines_a_bomb(
        streamed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.evidence.lifecycle import quarantines

    if streamed:
        monkeypatch.setattr(cont, "MAX_ZIP_IN_MEMORY", 0)
    out = _feed("bundle.zip", zip_of({"logs/gw.log": f"ok\npan={PAN}\n".encode(),
                                      "r.tar.gz": tar_of({"x.csv": f"{PAN}\n".encode()},
                                                         "w:gz")}))  # fmt: skip
    assert out.error is None
    [d] = [d for d in out.drafts if d.kind == "pan"]
    assert (d.masked, d.line, d.occurrences, d.member) == (MASKED, 2, 2, "logs/gw.log")
    assert d.value_hash == Scanner(b"k").value_hash(PAN)
    assert quarantines(out.counts())

    out = _feed("bomb.zip", _zeros_zip(100))
    assert "compression ratio over 200:1" in (out.error or "")
    assert {d.kind for d in out.drafts} == {"pan", "unscannable"}
    assert quarantines({"unscannable": 1})


def test_scan_feed_compressed_log_and_mixed_members(monkeypatch: pytest.MonkeyPatch) -> None:
    log, planted = card_log(40)
    out = _feed("gw.log.xz", lzma.compress(log))
    assert out.error is None
    assert sorted((d.line, d.masked) for d in out.drafts if d.kind == "pan") == sorted(
        planted.items())
    assert all(d.member is None for d in out.drafts)
    # the same value in a text member and a member name is one distinct value, hashed once
    out = _feed("m.zip", zip_of({f"{PAN}.txt": f"card {PAN}\n".encode()}))
    [d] = [d for d in out.drafts if d.kind == "pan"]
    assert d.occurrences == 2 and d.value_hash == Scanner(b"k").value_hash(PAN)


class _Pipe(io.RawIOBase):
    """An unseekable output: zipfile writes data descriptors (sizes after the data)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.data += b
        return len(b)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA,
                                    zipfile.ZIP_STORED])
@pytest.mark.parametrize("zip64", [False, True])
def test_zip_written_as_a_stream_read_from_a_stream(method: int, zip64: bool, sc: Scanner,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cont, "MAX_ZIP_IN_MEMORY", 0)
    out = _Pipe()
    with zipfile.ZipFile(out, "w", method) as zf:
        for i in range(3):
            with zf.open(f"m{i}.log", "w", force_zip64=zip64) as w:
                w.write(f"x\ncard {PAN}\n".encode() * 100)
    data = bytes(out.data)
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].flag_bits & 0x8
    hits, notes = hits_and_notes(stream_src("s.zip", data), sc)
    # (a stored member ends where the data descriptor whose CRC and sizes match it is)
    assert notes == [] and len(pans(hits)) == 300
    # the same bytes from a file: by the central directory, every method
    hits, notes = hits_and_notes(src("s.zip", data), sc)
    assert notes == [] and len(pans(hits)) == 300


def test_archives_that_are_not_opened_are_said(sc: Scanner) -> None:
    seven = b"7z\xbc\xaf\x27\x1c\x00\x04" + os.urandom(200)
    rar = b"Rar!\x1a\x07\x01\x00" + os.urandom(200)
    _, notes = hits_and_notes(src("b.zip", zip_of({"x.7z": seven, "y.rar": rar})), sc)
    assert notes == ["member x.7z: 7z archive not opened (not supported)",
                     "member y.rar: rar archive not opened (not supported)"]


def test_streamed_zip_goes_past_members_left_unread(sc: Scanner,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """From a stream, the end of a member the scan stopped reading (a bomb past its ratio, a
    7z not opened, with a wrong checksum too) is found by reading on: the next members are
    scanned."""
    monkeypatch.setattr(cont, "MAX_ZIP_IN_MEMORY", 0)
    out = _Pipe()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("zeros.bin", "w") as w:
            for _ in range(100):
                w.write(bytes(1 << 20))
        with zf.open("x.7z", "w") as w:
            w.write(b"7z\xbc\xaf\x27\x1c\x00\x04" + os.urandom(300_000))  # > the head read
        with zf.open("after.txt", "w") as w:
            w.write(f"card {PAN}\n".encode())
    data = bytes(out.data)
    at = zipfile.ZipFile(io.BytesIO(data)).getinfo("x.7z").header_offset
    end = data.index(b"PK\x07\x08", at)  # its data descriptor: a wrong CRC
    data = data[:end + 4] + bytes(4) + data[end + 8:]
    hits, notes = _bounded(lambda: hits_and_notes(stream_src("s.zip", data), sc), 20, 48)
    assert notes == ["member zeros.bin: compression ratio over 200:1",
                     "member x.7z: 7z archive not opened (not supported)"]
    assert pans(hits) == [("after.txt", 1, MASKED)]


def _stored_streamed(files: dict[str, bytes], zip64: bool = False) -> bytes:
    """A zip written to a pipe, stored: each member's sizes only in a data descriptor."""
    out = _Pipe()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            with zf.open(name, "w", force_zip64=zip64) as w:
                w.write(data)
    return bytes(out.data)


@pytest.mark.parametrize("signature", [True, False], ids=["signed", "unsigned-descriptor"])
@pytest.mark.parametrize("zip64", [False, True])
def test_stored_members_with_data_descriptors_from_a_stream(
        signature: bool, zip64: bool, sc: Scanner, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored member's end is the data descriptor that matches the bytes before it (CRC-32
    and sizes), with or without its signature; a look-alike inside the data is not its end
    (a stored zip inside one holds descriptors of its own)."""
    monkeypatch.setattr(cont, "MAX_ZIP_IN_MEMORY", 0)
    inner = _stored_streamed({"in.txt": f"card {PAN}\n".encode()})
    fake = b"PK\x07\x08" + struct.pack("<III", 0, 5, 5) + b"PK\x03\x04"
    files = {"a.log": f"card {PAN}\n".encode() + b"x\n" * 70_000 + fake + b"\nend\n",
             "inner.zip": inner, "empty.txt": b"", "b.log": f"card {PAN}\n".encode()}
    data = _stored_streamed(files, zip64)
    if not signature:  # the descriptors' signatures are optional
        zf = zipfile.ZipFile(io.BytesIO(data))
        ends = []
        for zi in zf.infolist():
            nlen, xlen = struct.unpack_from("<HH", data, zi.header_offset + 26)
            at = zi.header_offset + 30 + nlen + xlen + zi.compress_size
            assert data[at:at + 4] == b"PK\x07\x08"
            ends.append(at)
        for at in reversed(ends):
            data = data[:at] + data[at + 4:]
    hits, notes = hits_and_notes(stream_src("s.zip", data), sc)
    assert notes == []
    assert pans(hits) == [("a.log", 1, MASKED), ("b.log", 1, MASKED),
                          ("inner.zip/in.txt", 1, MASKED)]


def test_a_stored_member_cut_short_fails_closed(sc: Scanner,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cont, "MAX_ZIP_IN_MEMORY", 0)
    data = _stored_streamed({"a.log": f"card {PAN}\n".encode() + b"y" * 100_000})
    cut = data[:data.index(b"PK\x07\x08")]  # no descriptor, no directory
    hits, notes = hits_and_notes(stream_src("s.zip", cut), sc)
    assert pans(hits) == [("a.log", 1, MASKED)]  # what was read is scanned ...
    assert notes == ["member a.log: truncated",  # ... and the file is scanned only in part
                     "zip archive cannot find where a damaged member ends; the rest not scanned"]
    out = _feed("s.zip", cut)  # at ingest: quarantined as unscannable
    assert [d.kind for d in out.drafts if d.kind == "unscannable"] == ["unscannable"]


# -- Office files libmagic sees as plain zips ----------------------------------------------------


def _reordered(package: bytes, first: str) -> bytes:
    """The same package with `first` as its first member, then a thumbnail picture bigger than
    the head libmagic reads: it sees no Office part name and says application/zip (as for the
    files some exporters write)."""
    zf = zipfile.ZipFile(io.BytesIO(package))
    names = [first] + [n for n in zf.namelist() if n != first]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr(zf.getinfo(first), zf.read(first))
        out.writestr("docProps/thumbnail.jpeg", random.Random(1).randbytes(80_000),
                     zipfile.ZIP_STORED)
        for name in names[1:]:
            out.writestr(zf.getinfo(name), zf.read(name))
    return buf.getvalue()


def _odt(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/manifest.xml", "<manifest/>")
        zf.writestr("Thumbnails/thumbnail.png", random.Random(2).randbytes(80_000),
                    zipfile.ZIP_STORED)
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", (
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
            'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
            f"<office:body><office:text><text:p>{text}</text:p></office:text></office:body>"
            "</office:document-content>"))
    return buf.getvalue()


@pytest.mark.parametrize("reader", READERS)
def test_office_files_seen_as_plain_zips_are_read_as_office(reader: Callable[..., Source],
                                                            sc: Scanner) -> None:
    from tests.pii.container_corpus import docx, xlsx
    from vault.pii.filetype import detect_mime
    book = _reordered(xlsx([["Ref", "Card"], ["1", PAN]]), "_rels/.rels")
    word = _reordered(docx([["paid with ", PAN[:7], PAN[7:]]], []), "_rels/.rels")
    odt = _odt(f"card {PAN}")
    for data in (book, word, odt):
        assert detect_mime(data[:1 << 16]).startswith("application/zip")  # the gap
    found = {}
    for name, data in (("book.xlsx", book), ("report.docx", word), ("note.odt", odt)):
        hits, notes = hits_and_notes(reader(name, data), sc)
        assert notes == [], (name, notes)
        found[name] = pans(hits)
    # read as documents: the cell and the paragraph, not the XML part's line
    assert found == {"book.xlsx": [("sheet Sample cell B2", 1, MASKED)],
                     "report.docx": [("paragraph 1", 1, MASKED)],
                     "note.odt": [("paragraph 1", 1, MASKED)]}
    # inside an archive too (and from the ingest's stream)
    hits, notes = hits_and_notes(reader("all.zip", zip_of({"in/book.xlsx": book})), sc)
    assert notes == [] and pans(hits) == [(f"in/book.xlsx{cont.PART_JOIN}sheet Sample cell B2",
                                           1, MASKED)]



# -- links and special entries: reported, never followed, nothing left unscanned ----------------


def _links_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, kind, data in [("a.log", tarfile.REGTYPE, f"card {PAN}\n"),
                                 ("sym", tarfile.SYMTYPE, ""), ("hard", tarfile.LNKTYPE, ""),
                                 ("fifo", tarfile.FIFOTYPE, ""), ("b.log", tarfile.REGTYPE,
                                                                  "clean\n")]:
            ti = tarfile.TarInfo(name)
            ti.type = kind
            ti.linkname = {"sym": "/etc/shadow", "hard": "a.log"}.get(name, "")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data.encode()))
    return buf.getvalue()


@pytest.mark.parametrize("reader", READERS)
def test_links_are_reported_not_followed_and_leave_nothing_unscanned(
        reader: Callable[..., Source], sc: Scanner) -> None:
    from vault.pii.scan import scan_batches
    members: list[tuple[str, int | None, str | None]] = []
    infos: list[str] = []
    notes: list[str] = []
    batches = list(scan_batches(reader("l.tgz", _links_tar()), sc, on_note=lambda _p, n:
                                notes.append(n), on_info=lambda _p, i: infos.append(i),
                                on_member=lambda w, size, why: members.append((w, size, why))))
    assert notes == []
    assert infos == ["member sym: symbolic link (not followed)",
                     "member hard: hard link (not followed)",
                     "member fifo: device, FIFO or other special entry (not read)"]
    assert members == [("a.log", len(f"card {PAN}\n"), None),
                       ("sym", None, "symbolic link (not followed)"),
                       ("hard", None, "hard link (not followed)"),
                       ("fifo", None, "device, FIFO or other special entry (not read)"),
                       ("b.log", 6, None)]
    assert sum(len(b.rows) for b in batches) == 1  # the card in a.log, once
    # without on_note: complete (no IncompleteScan); at ingest: flagged for the card only
    assert pans(list(scan_source(reader("l.tgz", _links_tar()), sc))) == [("a.log", 1, MASKED)]
    out = _feed("l.tgz", _links_tar())
    assert [d.kind for d in out.drafts] == ["pan"] and out.error is None
    assert [m[0] for m in out.members] == ["a.log", "sym", "hard", "fifo", "b.log"]
