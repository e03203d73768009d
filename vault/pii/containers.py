"""Opening containers for scanning: compressed streams (gzip, xz/lzma, bzip2, and zstd when the
``zstandard`` package is installed), zip and tar archives, and documents through
:data:`EXTRACTORS`; within the limits below. Nothing here scans: :mod:`vault.pii.scan` walks
what this module opens, choosing each member's reader by the type libmagic sees in it.

Nothing is ever extracted to disk: members are streamed (or, for a zip that is not a seekable
file, read into memory up to :data:`MAX_ZIP_IN_MEMORY`). Member names are data: they are never
used as paths, and names that lead outside an archive, absolute names, names with control
characters, links and device entries are reported (:func:`name_problems`, :attr:`Member.kind`).

The limits (module-level settings; one :class:`Budget` per file scanned):

- :data:`MAX_TOTAL_BYTES`: bytes produced by decompression, summed over the whole file (every
  compressed stream and compressed zip member, at any depth; tar members are not counted again);
- :data:`MAX_RATIO`: decompressed/compressed bytes of one stream or member, once past
  :data:`RATIO_FREE_BYTES`;
- :data:`MAX_DEPTH`: levels of nesting: each archive, each document with files embedded in it,
  and each compressed stream directly inside another compressed stream is one level (so
  ``x.tar.gz`` is one level, and a zip inside a zip is two);
- :data:`MAX_MEMBERS`: archive members and embedded files, summed over the whole file;
- :data:`MAX_SECONDS`: time spent reading containers of one file.

Past the total, member or time limit the rest of the file is not scanned; past the ratio or
the depth limit only that member is not (any further). Either way the file is reported as
scanned only in part, with a reason a reviewer can read and never its content.
"""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import io
import lzma
import stat
import struct
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from .encoding import read_full
from .extract import UnreadableFile
from .parts import Extractor

MAX_TOTAL_BYTES = 4 << 30
"""Decompressed bytes of one file, all streams and members together."""
MAX_RATIO = 200
"""Decompressed bytes per compressed byte of one stream or member ..."""
RATIO_FREE_BYTES = 1 << 20
"""... once it has produced this many bytes."""
MAX_DEPTH = 4
"""Levels of nesting opened (see the module's documentation)."""
MAX_MEMBERS = 100_000
"""Archive members and embedded files of one file, at any depth."""
MAX_SECONDS = 600.0
"""Time spent reading the containers of one file."""
MAX_ZIP_IN_MEMORY = 64 << 20
"""A zip that is not a seekable file (the ingest's stream, a zip inside an archive) is read
into memory up to this size to use its central directory; a bigger one is read member by
member from its local headers (:func:`zip_members`)."""
MAX_DOCUMENT_BYTES = 256 << 20
"""The largest document handed to an extractor of :data:`EXTRACTORS` (read into memory)."""
MAX_HEADER_BYTES = 1 << 20
"""The largest tar extended header (pax, GNU long name) read (tarfile keeps it in memory)."""
MAX_LINK_BYTES = 4096
"""The most of a zip symbolic link's target read (to report it)."""

MEMBER_JOIN = "/"
"""Between the names of nested members, and before a file embedded in a document:
``nested.zip/settle.csv``, ``mail.eml/invoice.pdf``."""
PART_JOIN = " \u203a "
"""Before where in a document a text was found, and between a file and its member in
displays: ``reports/book.xlsx \u203a sheet Q1 cell B7``, ``archive.zip \u203a logs/gw.log``."""

EXTRACTORS: dict[str, Extractor] = {}
"""MIME type (as libmagic names it) -> the extractor of documents of that type (Office and
OpenDocument files, e-mail, HTML/XML: see :mod:`vault.pii.parts`). Consulted before any other
reader, so an entry also replaces the plain text reading of a text type. A type may be
registered under several names (``register``)."""


def register(extractor: Extractor, *mimes: str) -> Extractor:
    """Register `extractor` for each MIME type of `mimes`; returns it (usable as a decorator
    factory's result: ``register(read_docx, DOCX_MIME)``)."""
    for mime in mimes:
        EXTRACTORS[mime] = extractor
    return extractor


HAVE_ZSTD = importlib.util.find_spec("zstandard") is not None

GZIP_MIMES = frozenset({"application/gzip", "application/x-gzip"})
BZIP2_MIMES = frozenset({"application/x-bzip2", "application/bzip2"})
XZ_MIMES = frozenset({"application/x-xz", "application/x-lzma"})
ZSTD_MIMES = frozenset({"application/zstd", "application/x-zstd"})
COMPRESSED_MIMES = GZIP_MIMES | BZIP2_MIMES | XZ_MIMES | (ZSTD_MIMES if HAVE_ZSTD else frozenset())
"""Compressed streams that are decompressed (zstd only with ``zstandard`` installed)."""
TAR_MIMES = frozenset({"application/x-tar", "application/x-gtar", "application/x-ustar"})
ZIP_MIMES = frozenset({"application/zip", "application/x-zip-compressed"})
UNSUPPORTED_MIMES = {
    "application/x-7z-compressed": "7z archive", "application/vnd.rar": "rar archive",
    "application/x-rar": "rar archive", "application/x-rar-compressed": "rar archive",
    "application/x-compress": "compress (.Z) stream", "application/x-lz4": "lz4 stream",
    "application/x-lzip": "lzip stream", "application/vnd.ms-cab-compressed": "cab archive",
    "application/x-arj": "arj archive"}  # fmt: skip
"""Containers that are not opened: said in a note (their content is not scanned), never
passed as if read."""
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
"""How a zip starts: what libmagic names as an Office file, a jar, an epub... is walked as a
zip when no extractor is registered for its type."""

_STEP = 1 << 20  # a guarded stream checks its limits at least this often


class LimitReached(UnreadableFile):
    """A limit of this module was passed (raised only where no stream can just end)."""


class ArchiveDamaged(UnreadableFile):
    """The archive cannot be read (any further): members after this point are not scanned."""


def human(n: int) -> str:
    """A byte count as a reviewer reads it: "4 GiB", "64 MiB", "900 bytes"."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            v = n / (1 << shift)
            return f"{v:.0f} {unit}" if v == int(v) or v >= 10 else f"{v:.1f} {unit}"
    return f"{n} bytes"


class Budget:
    """What one file may still use: decompressed bytes, members, time. When a file-wide limit
    is passed, :attr:`stopped` says which, and every guarded stream of the file ends."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_SECONDS
        self.total = 0
        self.members = 0
        self.stopped: str | None = None

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason

    def out_of_time(self) -> bool:
        if self.stopped is None and time.monotonic() > self.deadline:
            self.stop(f"scan time over {MAX_SECONDS:g} s")
        return self.stopped is not None

    def charge(self, n: int) -> bool:
        """Count `n` decompressed bytes; False (and stopped) past :data:`MAX_TOTAL_BYTES`."""
        self.total += n
        if self.total > MAX_TOTAL_BYTES:
            self.stop(f"decompressed size over {human(MAX_TOTAL_BYTES)}")
            return False
        return True

    def count_member(self) -> bool:
        """Count one member; False (and stopped) past :data:`MAX_MEMBERS`."""
        self.members += 1
        if self.members > MAX_MEMBERS:
            self.stop(f"more than {MAX_MEMBERS} members")
            return False
        return True


def reason_of(exc: BaseException) -> str:
    """Why a stream or member could not be read, in words that carry no content (the
    libraries' messages may quote names or bytes: only our own errors' text is kept)."""
    if isinstance(exc, UnreadableFile):
        return exc.message
    if isinstance(exc, EOFError):
        return "truncated"
    if isinstance(exc, zipfile.BadZipFile):
        return "damaged (checksum mismatch)" if "CRC" in str(exc) else "damaged"
    if isinstance(exc, gzip.BadGzipFile):
        return "damaged (checksum mismatch)" if "CRC" in str(exc) else "damaged"
    if isinstance(exc, tarfile.TarError):
        text = str(exc)
        return "truncated" if "unexpected end" in text or "truncated" in text else "damaged"
    if isinstance(exc, (zlib.error, lzma.LZMAError)):
        return "damaged"
    if isinstance(exc, NotImplementedError):
        return "stored in a way that is not supported"
    if isinstance(exc, MemoryError):
        return "too large to read"
    if isinstance(exc, OSError):  # bz2's "Invalid data stream", a read error
        return "damaged" if exc.errno is None else f"read error ({exc.strerror or exc.errno})"
    return f"internal error ({type(exc).__name__})"


# -------------------------------------------------------------------------------- streams


class Guarded(io.RawIOBase):
    """Bytes read through the limits: a stream that never raises on read. A failure (the
    source's error, or a limit passed) ends it, and :attr:`failure` says why; the bytes read
    before were returned (and are scanned). ``read(n)`` returns `n` bytes, fewer only at the
    end."""

    def __init__(self, read: Callable[[int], bytes], budget: Budget, *,
                 compressed: Callable[[], int] | None = None, decompressed: bool = False,
                 close: Callable[[], None] | None = None) -> None:  # fmt: skip
        """`compressed`: how many compressed bytes were consumed so far (the ratio limit
        applies); `decompressed`: the bytes count towards :data:`MAX_TOTAL_BYTES`."""
        super().__init__()
        self._read = read
        self._budget = budget
        self._compressed = compressed
        self._charge = decompressed
        self._close = close
        self.out = 0
        self.failure: str | None = None
        self._ended = False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._close is not None:
            close, self._close = self._close, None
            try:
                close()
            except Exception:  # noqa: BLE001 - closing a broken member says nothing more
                pass
        super().close()

    def _fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
        self._ended = True

    def read(self, size: int | None = -1) -> bytes:
        if self._ended:
            return b""
        n = (1 << 62) if size is None or size < 0 else size
        parts: list[bytes] = []
        got = 0
        budget = self._budget
        while got < n:
            if budget.out_of_time():
                self._ended = True
                break
            try:
                data = self._read(min(n - got, _STEP))
            except Exception as exc:  # noqa: BLE001 - any failure of the source ends it
                self._fail(reason_of(exc))
                break
            if not data:
                self._ended = True
                break
            parts.append(data)
            got += len(data)
            self.out += len(data)
            if self._charge and not budget.charge(len(data)):
                self._ended = True
                break
            if self._compressed is not None and self.out > RATIO_FREE_BYTES \
                    and self.out > MAX_RATIO * max(self._compressed(), 1):
                self._fail(f"compression ratio over {MAX_RATIO}:1")
                break
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class Prefixed(io.RawIOBase):
    """`head` (already read from `f`, to detect its type), then the rest of `f`. ``read(n)``
    returns `n` bytes, fewer only at the end; :attr:`failure` is `f`'s."""

    def __init__(self, head: bytes, f: Any) -> None:
        super().__init__()
        self._head = head
        self._f = f

    @property
    def failure(self) -> str | None:
        return getattr(self._f, "failure", None)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        head = self._head
        if size is None or size < 0:
            self._head = b""
            rest = self._f.read()
            return head + rest if head else rest
        if head:
            if len(head) >= size:
                self._head = head[size:]
                return head[:size]
            self._head = b""
            return head + read_full(self._f, size - len(head))
        return read_full(self._f, size)

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class _Counting:
    """A source's reads, counted (the compressed side of a ratio)."""

    def __init__(self, f: Any) -> None:
        self.f = f
        self.n = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.n += len(data)
        return bytes(data)

    def close(self) -> None:
        pass


def decompress(f: Any, mime: str, budget: Budget) -> Guarded:
    """The decompressed bytes of `f`, a stream of a type of :data:`COMPRESSED_MIMES`
    (concatenated streams one after another, as ``zcat`` reads them), through the limits."""
    src = _Counting(f)
    reader: Any
    if mime in GZIP_MIMES:
        reader = gzip.GzipFile(fileobj=src, mode="rb")  # type: ignore[call-overload]
    elif mime in BZIP2_MIMES:
        reader = bz2.BZ2File(src)  # type: ignore[call-overload]
    elif mime in XZ_MIMES:
        reader = lzma.LZMAFile(src)  # type: ignore[arg-type]
    elif mime in ZSTD_MIMES and HAVE_ZSTD:
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(src, read_across_frames=True)
    else:
        raise ValueError(f"not a compressed stream: {mime}")
    # read1: one step of decompression a call, so that what came before a damaged or missing
    # end is returned before the error (read(n) would drop the bytes it had gathered)
    return Guarded(reader.read1, budget, compressed=lambda: src.n, decompressed=True,
                   close=reader.close)  # fmt: skip


def format_name(mime: str) -> str:
    """"gzip", "bzip2", "xz", "zstd", "zip", "tar" for a container's MIME type."""
    if mime in GZIP_MIMES:
        return "gzip"
    if mime in BZIP2_MIMES:
        return "bzip2"
    if mime in XZ_MIMES:
        return "xz"
    if mime in ZSTD_MIMES:
        return "zstd"
    if mime in TAR_MIMES:
        return "tar"
    return "zip"


# -------------------------------------------------------------------------------- names


def name_problems(name: str) -> list[str]:
    """What is hostile in a member's name (it is reported; nothing is ever written)."""
    out = []
    if any(not c.isprintable() for c in name):
        out.append("name holds control characters")
    slashed = name.replace("\\", "/")
    if slashed.startswith("/") or (len(slashed) > 1 and slashed[1] == ":"
                                   and slashed[0].isalpha()):  # fmt: skip
        out.append("absolute name")
    if ".." in slashed.split("/"):
        out.append("name leads outside the archive")
    return out


def printable(name: str, limit: int = 512) -> str:
    """A member's name as it may be shown and stored: undecodable bytes as ``\\xNN``, control
    characters escaped (``\\n``, ``\\x00``), at most `limit` characters."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") \
            if _escaped_only(name) else name.encode("utf-8", "backslashreplace").decode()
    if not name.isprintable():
        name = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"


def _escaped_only(name: str) -> bool:
    try:
        name.encode("utf-8", "surrogateescape")
        return True
    except UnicodeEncodeError:
        return False


# -------------------------------------------------------------------------------- archives


@dataclass
class Member:
    """One entry of an archive. `name` is data (never a path to write to); `kind` is "file",
    "dir", "symlink", "hardlink" or "device" (FIFOs and other special entries too); `problem`
    says why a file's content cannot be read (encrypted, an unsupported method...); `open`
    gives its content through the limits (call it once, while this member is current)."""

    name: str
    kind: str = "file"
    size: int | None = None
    target: str | None = None
    problem: str | None = None
    open: Callable[[], Guarded] | None = None


def kind_note(m: Member) -> str:
    """The note for a member that is not a regular file (never followed, never read)."""
    if m.kind == "symlink":
        return "symbolic link (not followed)"
    if m.kind == "hardlink":
        return "hard link (not followed)"
    return "device, FIFO or other special entry (not read)"


# tar ---------------------------------------------------------------------------------------

_tar: Any = tarfile  # its header errors and TarInfo._proc_member are not in the type stubs
_TAR_HEADERS = {tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE,
                tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE}  # fmt: skip


class _TarInfo(tarfile.TarInfo):
    """tarfile's headers, read with a bound on extended headers (tarfile reads one whole into
    memory) and a damaged or missing header reported (tarfile ends the archive silently)."""

    @classmethod
    def frombuf(cls, buf: bytes | bytearray, encoding: str, errors: str) -> Any:
        try:
            return super().frombuf(buf, encoding, errors)
        except _tar.EOFHeaderError:
            raise  # the end-of-archive marker
        except _tar.EmptyHeaderError:
            raise ArchiveDamaged("truncated (no end-of-archive marker)") from None
        except _tar.TruncatedHeaderError:
            raise ArchiveDamaged("truncated") from None
        except tarfile.HeaderError:
            raise ArchiveDamaged("damaged (a header's checksum does not match)") from None

    def _proc_member(self, tf: tarfile.TarFile) -> Any:
        if self.type in _TAR_HEADERS and self.size > MAX_HEADER_BYTES:
            raise ArchiveDamaged(f"an extended header over {human(MAX_HEADER_BYTES)}")
        return _tar.TarInfo._proc_member(self, tf)


def tar_members(f: Any, budget: Budget) -> Iterator[Member]:
    """The members of a tar stream, in order (read as a stream: nothing is seeked)."""
    try:
        tf = tarfile.open(fileobj=f, mode="r|", bufsize=1 << 20, tarinfo=_TarInfo)
    except ArchiveDamaged:
        raise
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveDamaged(reason_of(exc)) from None
    with tf:
        while True:
            try:
                ti = tf.next()
            except ArchiveDamaged:
                raise
            except Exception as exc:  # noqa: BLE001 - a damaged archive ends here
                raise ArchiveDamaged(reason_of(exc)) from None
            if ti is None:
                return
            cast(Any, tf).members.clear()  # else tarfile keeps every header (for links)
            if ti.isreg():
                yield Member(ti.name, "file", ti.size, open=_tar_opener(tf, ti, budget))
            elif ti.isdir():
                yield Member(ti.name, "dir")
            elif ti.issym():
                yield Member(ti.name, "symlink", target=ti.linkname)
            elif ti.islnk():
                yield Member(ti.name, "hardlink", target=ti.linkname)
            else:
                yield Member(ti.name, "device")


def _tar_opener(tf: tarfile.TarFile, ti: tarfile.TarInfo,
                budget: Budget) -> Callable[[], Guarded]:  # fmt: skip
    def opener() -> Guarded:
        data = tf.extractfile(ti)
        if data is None:  # pragma: no cover - regular files always have data
            raise ArchiveDamaged("member without data")
        reader = cast(io.BufferedReader, data)  # tarfile's ExFileObject
        return Guarded(reader.read1, budget, close=reader.close)  # read1: see decompress()

    return opener


# zip ---------------------------------------------------------------------------------------

_LOCAL = b"PK\x03\x04"
_CENTRAL = (b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b"PK\x05\x05")
_DESCRIPTOR = b"PK\x07\x08"
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
            zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}  # fmt: skip
_AES = 99


class _Input:
    """A stream with bytes put back (what a decompressor read past its member's end)."""

    def __init__(self, f: Any) -> None:
        self.f = f
        self.back = b""

    def read(self, n: int) -> bytes:
        """`n` bytes, fewer only at the end."""
        if self.back:
            out, self.back = self.back[:n], self.back[n:]
            return out if len(out) == n else out + read_full(self.f, n - len(out))
        return read_full(self.f, n)

    def unread(self, data: bytes) -> None:
        if data:
            self.back = data + self.back

    def skip(self, n: int, budget: Budget) -> bool:
        """Skip `n` bytes; False if the stream ended (or time ran out) before."""
        while n > 0:
            if budget.out_of_time():
                return False
            data = self.read(min(n, _STEP))
            if not data:
                return False
            n -= len(data)
        return True


class _Inflater:
    """zlib, bzip2 and LZMA decompressors behind one interface, output bounded per call."""

    def __init__(self, method: int, head: bytes = b"") -> None:
        self.method = method
        self.tail = b""
        self.d: Any
        if method == zipfile.ZIP_DEFLATED:
            self.d = zlib.decompressobj(-15)
        elif method == zipfile.ZIP_BZIP2:
            self.d = bz2.BZ2Decompressor()
        elif method == zipfile.ZIP_LZMA:  # zip's LZMA: version (2), size (2), properties
            props = head[4:]
            if len(props) != 5:
                raise ArchiveDamaged("damaged (LZMA header)")
            lc_lp_pb = props[0]
            pb, rest = divmod(lc_lp_pb, 45)
            lp, lc = divmod(rest, 9)
            dict_size = int.from_bytes(props[1:5], "little")
            self.d = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[
                {"id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": lc, "lp": lp, "pb": pb}])
        else:  # pragma: no cover - checked by the caller
            raise NotImplementedError(method)
        self.hungry = True

    def step(self, data: bytes, n: int) -> bytes:
        d = self.d
        if self.method == zipfile.ZIP_DEFLATED:
            buf = self.tail + data if self.tail else data
            out: bytes = d.decompress(buf, n)
            self.tail = d.unconsumed_tail
            self.hungry = not self.tail and len(out) < n
            return out
        if d.eof:
            return b""
        out = d.decompress(data, n)
        self.hungry = d.needs_input
        return out

    @property
    def eof(self) -> bool:
        return bool(self.d.eof)

    @property
    def leftover(self) -> bytes:
        return bytes(self.d.unused_data) + self.tail


class _Entry:
    """One zip member's data: decompressed (bounded output per read), its CRC-32 and size
    checked at its end. `csize` None: a data descriptor follows the data (read at its end)."""

    def __init__(self, inp: _Input, method: int, csize: int | None, crc: int | None,
                 usize: int | None, *, zip64: bool = False) -> None:  # fmt: skip
        self.inp = inp
        self.method = method
        self.left = csize
        self.crc = crc
        self.usize = usize
        self.zip64 = zip64
        self.consumed = 0
        self.out = 0
        self.sum = 0
        self.done = False
        self.pending: Exception | None = None
        self.ready = b""  # a stored member with a data descriptor: data found, not yet read
        self.window = b""  # ... and bytes that may be its descriptor
        self.inflater: _Inflater | None = None
        if method == zipfile.ZIP_LZMA:
            head = self._take(4)
            props = self._take(int.from_bytes(head[2:4], "little")) if len(head) == 4 else b""
            self.inflater = _Inflater(method, head + props)
        elif method != zipfile.ZIP_STORED:
            self.inflater = _Inflater(method)

    def _take(self, n: int) -> bytes:
        if self.left is not None:
            n = min(n, self.left)
        data = self.inp.read(n)
        self.consumed += len(data)
        if self.left is not None:
            self.left -= len(data)
        return data

    def read(self, n: int) -> bytes:
        if self.pending is not None:
            exc, self.pending = self.pending, None
            raise exc
        if self.done or n <= 0:
            return b""
        inf = self.inflater
        if inf is None and self.left is None:  # stored, its end said by a data descriptor
            return self._stored_to_descriptor(n)
        if inf is None:  # stored: the size is known
            assert self.left is not None
            data = self._take(min(n, self.left))
            if not data and self.left:
                raise EOFError
            self._got(data)
            if not self.left:
                self._end_soon()
            return data
        while True:
            data = b""
            if inf.hungry and not inf.eof:
                data = self._take(_STEP)
                if not data:
                    raise EOFError
            out = inf.step(data, n)
            if inf.eof:
                rest = inf.leftover
                if self.left is None:  # what the decompressor read past the data: the descriptor
                    self.inp.unread(rest)
                    self.consumed -= len(rest)
                self._got(out)
                self._end_soon()
                return out
            if out:
                self._got(out)
                return out
            if self.left == 0 and inf.hungry:
                raise EOFError

    def _stored_to_descriptor(self, n: int) -> bytes:
        """Up to `n` bytes of a stored member whose size is only in the data descriptor after
        it: its data ends where a descriptor follows whose CRC-32 and sizes are those of the
        bytes before it (with or without the descriptor's signature, then followed by the next
        header), as streaming unzippers find it."""
        while not self.ready and not self.done:
            self._seek_descriptor()
        out, self.ready = self.ready[:n], self.ready[n:]
        if out:
            self._got(out)
        if self.pending is None and not self.ready and self.left == 0 and not self.done:
            self._end_soon()
        return out

    def _seek_descriptor(self) -> None:
        chunk = self.inp.read(_STEP)
        self.consumed += len(chunk)
        w = self.window + chunk
        width = 8 if self.zip64 else 4
        hold = 4 + 4 + 2 * width + 4  # a descriptor, and the signature after one without its own
        base, crc0 = self.out, self.sum  # (what was found before was all read)
        found: tuple[int, int, int] | None = None
        at = w.find(b"PK")
        while at >= 0 and found is None:
            for p, sig in ((at, True), (at - 4 - 2 * width, False)):
                if p < 0 or (sig and w[at:at + 4] != _DESCRIPTOR) \
                        or (not sig and w[at:at + 4] not in (_LOCAL, *_CENTRAL)):
                    continue
                q = p + 4 if sig else p
                if len(w) < q + 4 + 2 * width:
                    continue
                crc = int.from_bytes(w[q:q + 4], "little")
                csize = int.from_bytes(w[q + 4:q + 4 + width], "little")
                usize = int.from_bytes(w[q + 4 + width:q + 4 + 2 * width], "little")
                if csize == usize == base + p and crc == zlib.crc32(w[:p], crc0):
                    found = (p, q + 4 + 2 * width, crc)
                    break
            at = w.find(b"PK", at + 1)
        if found is not None:
            p, end, crc = found
            self.ready, self.window = w[:p], b""
            self.inp.unread(w[end:])
            self.consumed -= len(w) - end
            self.crc, self.usize, self.left = crc, base + p, 0
            if not p:
                self._end_soon()
            return
        if not chunk:  # the stream ended before a descriptor: the member is cut short
            self.window = b""
            self.ready = w
            self.pending = EOFError()
            if not w:
                raise EOFError
            return
        keep = min(len(w), hold)
        self.ready, self.window = w[:len(w) - keep], w[len(w) - keep:]

    def _got(self, data: bytes) -> None:
        self.out += len(data)
        self.sum = zlib.crc32(data, self.sum)

    def _end_soon(self) -> None:
        """The data ended: check it now; an error is raised on the next read (this read's
        bytes are returned first)."""
        self.done = True
        try:
            self._end()
        except Exception as exc:  # noqa: BLE001 - raised on the next read
            self.pending = exc

    def _end(self) -> None:
        if self.left is None:
            sig = self.inp.read(4)
            crc = self.inp.read(4) if sig == _DESCRIPTOR else sig
            sizes = self.inp.read(16 if self.zip64 else 8)
            if len(crc) < 4 or len(sizes) < (16 if self.zip64 else 8):
                raise EOFError
            self.crc = int.from_bytes(crc, "little")
            self.usize = int.from_bytes(sizes[len(sizes) // 2:], "little")
        elif self.left:
            self.inp.skip(self.left, Budget())  # bytes after the end of the compressed data
        if self.crc is not None and self.sum != self.crc:
            raise ArchiveDamaged("damaged (checksum mismatch)")
        if self.usize is not None and self.out != self.usize:
            raise ArchiveDamaged("damaged (size mismatch)")

    def drain(self, budget: Budget) -> bool:
        """Read to the member's end (what the scan left unread); False if it cannot be found
        (the rest of a streamed archive is then unreadable)."""
        if self.done:
            return True
        if self.left is not None:  # the size is known: skip the compressed bytes
            ok = self.inp.skip(self.left, budget)
            self.left = 0
            self.done = True
            return ok
        try:
            while not self.done:
                if budget.out_of_time() or not self.read(_STEP):
                    break
        except Exception:  # noqa: BLE001 - a damaged member: its end may not be found
            pass
        return self.done  # (a damaged end, a checksum mismatch: the next header says)


def _zip64_sizes(extra: bytes, usize: int, csize: int) -> tuple[int, int, bool]:
    """The sizes from a local header's zip64 extra field, where the header says 0xFFFFFFFF."""
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        if tag == 1:
            field = extra[i + 4:i + 4 + size]
            j = 0
            if usize == 0xFFFFFFFF and j + 8 <= len(field):
                usize = int.from_bytes(field[j:j + 8], "little")
                j += 8
            if csize == 0xFFFFFFFF and j + 8 <= len(field):
                csize = int.from_bytes(field[j:j + 8], "little")
            return usize, csize, True
        i += 4 + size
    return usize, csize, False


def _is_symlink(zi: zipfile.ZipInfo) -> bool:
    return zi.create_system == 3 and stat.S_ISLNK(zi.external_attr >> 16)  # made on Unix


def _problem(flags: int, method: int) -> str | None:
    if flags & 0x1 or method == _AES:
        return "encrypted"
    if method not in _METHODS:
        return f"compression method {method} not supported"
    return None


def _entry_guard(entry: _Entry, budget: Budget) -> Guarded:
    return Guarded(entry.read, budget, compressed=lambda: entry.consumed,
                   decompressed=entry.method != zipfile.ZIP_STORED)  # fmt: skip


MAX_PACKAGE_HINT = 1 << 20
"""The most of an Office package's ``[Content_Types].xml`` (or ODF ``mimetype``) read to tell
which document it is."""
_OOXML_MAIN = (
    ("wordprocessingml.document.main+xml", "application/vnd.openxmlformats-officedocument."
                                           "wordprocessingml.document"),
    ("wordprocessingml.template.main+xml", "application/vnd.openxmlformats-officedocument."
                                           "wordprocessingml.template"),
    ("ms-word.document.macroenabled.main+xml", "application/vnd.ms-word.document.macroEnabled.12"),
    ("ms-word.template.macroenabledtemplate.main+xml",
     "application/vnd.ms-word.template.macroEnabled.12"),
    ("spreadsheetml.sheet.main+xml", "application/vnd.openxmlformats-officedocument."
                                     "spreadsheetml.sheet"),
    ("spreadsheetml.template.main+xml", "application/vnd.openxmlformats-officedocument."
                                        "spreadsheetml.template"),
    ("ms-excel.sheet.macroenabled.main+xml", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    ("ms-excel.template.macroenabled.main+xml",
     "application/vnd.ms-excel.template.macroEnabled.12"),
    ("presentationml.presentation.main+xml", "application/vnd.openxmlformats-officedocument."
                                             "presentationml.presentation"),
    ("presentationml.slideshow.main+xml", "application/vnd.openxmlformats-officedocument."
                                          "presentationml.slideshow"),
    ("presentationml.template.main+xml", "application/vnd.openxmlformats-officedocument."
                                         "presentationml.template"),
    ("ms-powerpoint.presentation.macroenabled.main+xml",
     "application/vnd.ms-powerpoint.presentation.macroEnabled.12"),
)  # fmt: skip
"""An OOXML package's main part's content type (lower case, as in ``[Content_Types].xml``)
-> the document's MIME type."""


def buffer_zip(f: Any) -> tuple[Any, bool]:
    """A zip that is not a seekable file, read into memory when it is at most
    :data:`MAX_ZIP_IN_MEMORY` (then seekable: True), else the stream as it was (False)."""
    data = read_full(f, MAX_ZIP_IN_MEMORY + 1)
    if len(data) > MAX_ZIP_IN_MEMORY:
        return Prefixed(data, f), False
    return io.BytesIO(data), True


def package_mime(f: Any) -> str | None:
    """The MIME type of the Office Open XML or OpenDocument file that seekable zip `f` is, by
    its members (``[Content_Types].xml`` naming the main part, or ODF's ``mimetype``), or None
    (a plain zip, a damaged one): libmagic names an Office file only when its members come in
    the order Office writes them. `f` is left at its start."""
    try:
        end = zipfile._EndRecData(f)  # type: ignore[attr-defined]
        if end is None or end[4] > MAX_MEMBERS:
            return None
        with zipfile.ZipFile(f) as zf:
            names = {zi.filename: zi for zi in zf.infolist()}
            types = names.get("[Content_Types].xml")
            if types is not None and not types.flag_bits & 0x1:
                with zf.open(types) as part:
                    text = part.read(MAX_PACKAGE_HINT).decode("utf-8", "replace").lower()
                for main, mime in _OOXML_MAIN:
                    if main in text:
                        return mime
            kind = names.get("mimetype")
            if kind is not None and not kind.flag_bits & 0x1 and kind.file_size <= 200:
                with zf.open(kind) as part:
                    value = part.read(200).decode("ascii", "replace").strip()
                if value.startswith("application/vnd.oasis.opendocument."):
                    return value
    except Exception:  # noqa: BLE001 - not a package: walked as the zip it is
        return None
    finally:
        f.seek(0)
    return None


def zip_members(f: Any, budget: Budget, *, seekable: bool,
                buffered: bool = False) -> Iterator[Member]:  # fmt: skip
    """The members of a zip. A seekable file, or one of at most :data:`MAX_ZIP_IN_MEMORY`
    (read into memory), is read by its central directory (what ``unzip`` lists), members'
    data from their local headers; a bigger stream, or a zip whose directory is damaged or
    lists more than :data:`MAX_MEMBERS` entries, member by member from its local headers.
    `buffered`: `f` is what :func:`buffer_zip` returned (not seekable: too big for memory)."""
    if not seekable:
        if not buffered:
            f, seekable = buffer_zip(f)
        if not seekable:
            yield from _streamed_zip(_Input(f), budget)
            return
    try:
        end = zipfile._EndRecData(f)  # type: ignore[attr-defined]
        if end is not None and end[4] > MAX_MEMBERS:
            raise zipfile.LargeZipFile
        zf = zipfile.ZipFile(f)
    except zipfile.LargeZipFile:
        f.seek(0)
        yield from _streamed_zip(_Input(f), budget)
        return
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        f.seek(0)  # no (readable) directory: a truncated download, say; read what is there
        yield from _streamed_zip(_Input(f), budget, damaged="damaged (no central directory)")
        return
    yield from _directory_zip(f, zf, budget)


def _directory_zip(f: Any, zf: zipfile.ZipFile, budget: Budget) -> Iterator[Member]:
    infos = zf.infolist()
    starts = sorted({zi.header_offset for zi in infos} | {zf.start_dir})  # type: ignore[attr-defined]
    seen_offsets: set[int] = set()
    for zi in infos:
        name = zi.orig_filename
        if zi.is_dir() and not zi.file_size:
            yield Member(name, "dir")
            continue
        problem = _problem(zi.flag_bits, zi.compress_type)
        overlap = zi.header_offset in seen_offsets
        seen_offsets.add(zi.header_offset)
        if problem is not None:
            yield Member(name, "file", zi.file_size, problem=problem)
            continue
        try:
            f.seek(zi.header_offset)
            head = read_full(f, _LOCAL_HEADER.size)
            if len(head) < _LOCAL_HEADER.size or head[:4] != _LOCAL:
                raise ArchiveDamaged("damaged (a member's local header is missing)")
            nlen, xlen = _LOCAL_HEADER.unpack(head)[9:]
            data_at = zi.header_offset + _LOCAL_HEADER.size + nlen + xlen
            nxt = next((s for s in starts if s > zi.header_offset), zf.start_dir)  # type: ignore[attr-defined]
            if overlap or data_at + zi.compress_size > nxt:
                raise ArchiveDamaged("overlaps another member (a zip bomb?)")
        except ArchiveDamaged as exc:
            yield Member(name, "file", zi.file_size, problem=exc.message)
            continue
        if _is_symlink(zi):
            f.seek(data_at)
            entry = _Entry(_Input(f), zi.compress_type, zi.compress_size, None, None)
            target = _read_target(entry, budget)
            yield Member(name, "symlink", target=target)
            continue

        def opener(zi: zipfile.ZipInfo = zi, at: int = data_at) -> Guarded:
            f.seek(at)
            entry = _Entry(_Input(f), zi.compress_type, zi.compress_size, zi.CRC, zi.file_size)
            return _entry_guard(entry, budget)

        yield Member(name, "file", zi.file_size, open=opener)


def _read_target(entry: _Entry, budget: Budget) -> str | None:
    try:
        data = Guarded(entry.read, budget).read(MAX_LINK_BYTES)
    except Exception:  # noqa: BLE001 - a damaged link target is not worth more
        return None
    return data.decode("utf-8", "surrogateescape")


def _streamed_zip(inp: _Input, budget: Budget, damaged: str | None = None) -> Iterator[Member]:
    """A zip's members from their local headers, in order (the ingest's stream, a big zip
    inside an archive, a zip without its directory). A member whose end cannot be found (an
    encrypted member followed by a data descriptor, a damaged one) ends the walk; a stored one
    followed by a data descriptor ends where that descriptor is found."""
    while True:
        head = inp.read(_LOCAL_HEADER.size)
        if not head:
            raise ArchiveDamaged(damaged or "truncated (no central directory)")
        if head[:4] in _CENTRAL:
            if damaged is not None:
                raise ArchiveDamaged(damaged)
            return  # the central directory: every member was read
        if head[:4] != _LOCAL:
            raise ArchiveDamaged(damaged or "damaged (data between members)")
        if len(head) < _LOCAL_HEADER.size:
            raise ArchiveDamaged("truncated")
        _, _, flags, method, _, _, crc, csize, usize, nlen, xlen = _LOCAL_HEADER.unpack(head)
        raw_name = inp.read(nlen)
        extra = inp.read(xlen)
        if len(raw_name) < nlen or len(extra) < xlen:
            raise ArchiveDamaged("truncated")
        name = raw_name.decode("utf-8", "surrogateescape") if flags & 0x800 \
            else raw_name.decode("cp437")
        usize, csize, zip64 = _zip64_sizes(extra, usize, csize)
        descriptor = bool(flags & 0x8)
        problem = _problem(flags, method)
        if problem is not None:
            yield Member(name, "file", None if descriptor else usize, problem=problem)
            if descriptor:
                raise ArchiveDamaged(f"cannot find the end of a member that is {problem}")
            if not inp.skip(csize, budget):
                raise ArchiveDamaged("truncated")
            continue
        entry = _Entry(inp, method, None if descriptor else csize,
                       None if descriptor else crc, None if descriptor else usize,
                       zip64=zip64)  # fmt: skip
        if name.endswith("/") and not descriptor and not usize:
            yield Member(name, "dir")
        else:
            yield Member(name, "file", None if descriptor else usize,
                         open=lambda entry=entry: _entry_guard(entry, budget))  # type: ignore[misc]
        if not entry.drain(budget):
            if budget.stopped is not None:
                return
            raise ArchiveDamaged(damaged or "cannot find where a damaged member ends")
