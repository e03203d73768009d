"""A BagIt bag (RFC 8493) written as one deterministic tar stream and age-encrypted as it goes.

Nothing is ever in clear on disk: each payload's plaintext comes block by block from its
source (the vault's authenticated decryption), is hashed (SHA-256 and SHA-512) and put into the
tar, and the tar is encrypted to the recipient with the vault's streaming age encryptor and
written to ``FILE.partial-XXXXXXXX`` beside the output, which becomes ``FILE`` (fsynced, then
renamed) only once everything was written. Memory stays constant whatever the sizes.

A tar needs each entry's size before its content and the manifests need the content's hashes,
so the entries come in groups, each sorted: the directories and payload files, then the tag
files, then the two manifests, then the two tag manifests and the tag manifest's detached
Ed25519 signature. The tar is deterministic — the same bag gives the same bytes: POSIX pax
format, owner 0:0 with empty names, one fixed mtime (the export's), modes 0755/0644, one top
directory named like the bag.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vault.age import X25519Recipient, encrypt_payload, new_file_key, write_header
from vault.crypto.feeder import Feeder, tune_malloc
from vault.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound, StorageError
from vault.evidence import retrieve

BLOCK = 512
RECORD = 20 * BLOCK

MANIFESTS = ("manifest-sha256.txt", "manifest-sha512.txt")
TAG_MANIFESTS = ("tagmanifest-sha256.txt", "tagmanifest-sha512.txt")
SIGNATURE = "tagmanifest-sha256.txt.sig"
SIGNED = "tagmanifest-sha256.txt"
PARTIAL = ".partial-"
"""An unfinished bundle is ``FILE.partial-XXXXXXXX``: it never looks complete."""


class Signer(Protocol):
    """Who signs the bag: their certified Ed25519 key (``vault.crypto.certs.Signer``)."""

    @property
    def name(self) -> str: ...

    @property
    def certificate_pem(self) -> str: ...

    @property
    def ca_pem(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class Payload:
    """One file under ``data/``: its bag path, its size (known before its content) and its
    plaintext blocks (which raise if the content does not authenticate)."""

    path: str
    size: int
    blocks: Callable[[], Iterable[bytes]]
    sha256: str | None = None
    """The content's SHA-256 when `blocks` itself checks it (raising after the last block if
    it differs, as the vault's decryption does): not computed twice."""


@dataclass
class Bag:
    name: str
    """The top directory (and the bag's name)."""
    mtime: int
    info: list[tuple[str, str]]
    """bag-info.txt's fields, in order (Payload-Oxum is added)."""
    payloads: list[Payload]
    tag_files: list[tuple[str, bytes]]
    """Further tag files (path relative to the bag: ``custody.csv``, ``audit/events.jsonl``)."""
    signer: Signer
    hashes: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Filled while streaming: bag path -> (sha256, sha512) of every file written."""


def check_path(path: str) -> None:
    """ValueError for a bag path that is not plain: relative, '/'-separated, no '.' or '..'
    part, no control character, backslash or '%' (manifests would have to escape it)."""
    parts = path.split("/")
    if (not path or any(p in ("", ".", "..") for p in parts)
            or any(ord(c) < 32 or c in "\x7f\\%" for c in path)):
        raise ValueError(f"not a plain bag path: {path!r}")


def _tarinfo(name: str, size: int, mtime: int, *, directory: bool = False) -> bytes:
    ti = tarfile.TarInfo(name + ("/" if directory else ""))
    ti.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    ti.mode = 0o755 if directory else 0o644
    ti.size = 0 if directory else size
    ti.mtime = mtime
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "strict")


INLINE = 4 << 20
"""Files up to this size are hashed on the streaming thread."""


class _Inline:
    """A Feeder's interface, feeding the sinks at once."""

    def __init__(self, sinks: Sequence[Callable[[bytes], object]]) -> None:
        self._sinks = sinks

    def update(self, block: bytes) -> None:
        for sink in self._sinks:
            sink(block)

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _pad(n: int) -> bytes:
    return b"\0" * (-n % BLOCK)


def _manifest(hashes: dict[str, tuple[str, str]], paths: Iterable[str], which: int) -> bytes:
    return "".join(f"{hashes[p][which]}  {p}\n" for p in sorted(paths)).encode("utf-8")


def bag_info(bag: Bag) -> bytes:
    octets = sum(p.size for p in bag.payloads)
    fields = bag.info + [("Payload-Oxum", f"{octets}.{len(bag.payloads)}")]
    lines = []
    for label, value in fields:
        value = " ".join(value.split())  # one line per field
        lines.append(f"{label}: {value}\n")
    return "".join(lines).encode("utf-8")


BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


def tar_stream(bag: Bag, progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The bag as a tar, piece by piece (see the module docstring for the order)."""
    top, m = bag.name, bag.mtime
    check_path(top)
    paths = [p.path for p in bag.payloads]
    for p in paths:
        check_path(p)
        if not p.startswith("data/"):
            raise ValueError(f"a payload outside data/: {p!r}")
    if len(set(paths)) != len(paths):
        raise ValueError("two payloads with one path")
    written = 0

    def entry(path: str, data: bytes) -> Iterator[bytes]:
        nonlocal written
        bag.hashes[path] = (hashlib.sha256(data).hexdigest(), hashlib.sha512(data).hexdigest())
        head = _tarinfo(f"{top}/{path}", len(data), m)
        written += len(head) + len(data) + len(_pad(len(data)))
        yield head + data + _pad(len(data))

    def dirs_of(group: Iterable[str], seen: set[str]) -> list[str]:
        out = set()
        for p in group:
            parts = p.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in seen:
                    out.add(d)
        seen.update(out)
        return sorted(out)

    seen: set[str] = set()
    head = _tarinfo(top, 0, m, directory=True)
    written += len(head)
    yield head
    for d in dirs_of(paths + ["data/x"], seen):
        head = _tarinfo(f"{top}/{d}", 0, m, directory=True)
        written += len(head)
        yield head
    digests: list[tuple[str, Any, Any, str | None]] = []
    for pl in sorted(bag.payloads, key=lambda x: x.path):
        head = _tarinfo(f"{top}/{pl.path}", pl.size, m)
        written += len(head)
        yield head
        h256 = None if pl.sha256 else hashlib.sha256()
        h512, n = hashlib.sha512(), 0
        sinks = [h.update for h in (h256, h512) if h is not None]
        # a big file is hashed on a helper thread while the stream goes on (hashlib releases
        # the GIL); a small one (most of them) inline, without a thread to start
        with Feeder(sinks, name="bag-hash") if pl.size > INLINE else _Inline(sinks) as hashing:
            for block in pl.blocks():
                n += len(block)
                if n > pl.size:
                    raise IntegrityError(f"{pl.path}: more content than its recorded size")
                hashing.update(block)
                written += len(block)
                yield block
                if progress is not None:
                    progress(len(block))
            if n != pl.size:
                raise IntegrityError(f"{pl.path}: less content than its recorded size")
        # the digests are read once the helper is done with them (before the manifests)
        digests.append((pl.path, h256, h512, pl.sha256))
        written += len(_pad(n))
        yield _pad(n)
    for path, h256, h512, known in digests:
        bag.hashes[path] = (h256.hexdigest() if h256 is not None else str(known),
                            h512.hexdigest())
    tags = [("bagit.txt", BAGIT_TXT), ("bag-info.txt", bag_info(bag))] + sorted(bag.tag_files)
    tag_paths = [t for t, _ in tags]
    reserved = set(MANIFESTS) | set(TAG_MANIFESTS) | {SIGNATURE}
    for t in tag_paths:
        check_path(t)
        if t.startswith("data/") or t in reserved:
            raise ValueError(f"not a tag file's path: {t!r}")
    if len(set(tag_paths)) != len(tag_paths):
        raise ValueError("two tag files with one path")
    for d in dirs_of(tag_paths, seen):
        head = _tarinfo(f"{top}/{d}", 0, m, directory=True)
        written += len(head)
        yield head
    for t, data in sorted(tags):
        yield from entry(t, data)
    for i, name in enumerate(MANIFESTS):
        yield from entry(name, _manifest(bag.hashes, paths, i))
    listed = tag_paths + list(MANIFESTS)
    for i, name in enumerate(TAG_MANIFESTS):
        yield from entry(name, _manifest(bag.hashes, listed, i))
    signed = _manifest(bag.hashes, listed, 0)
    yield from entry(SIGNATURE, bag.signer.sign(signed))
    end = b"\0" * (2 * BLOCK)
    written += len(end)
    yield end + b"\0" * (-written % RECORD)


@dataclass(frozen=True)
class Written:
    path: Path
    sha256: str
    size: int


def check_output(dest: Path, force: bool, vault_dirs: Iterable[Path] = ()) -> Path:
    """The absolute output path, refused before anything is read: a missing directory, a
    directory, an existing file without `force`, anything inside the vault's own directories
    (`vault_dirs`: its home, where ``--force`` could replace the database, or its store),
    links resolved."""
    dest = dest.absolute()
    where = dest.parent.resolve()
    if any(where.is_relative_to(d.resolve()) for d in vault_dirs):
        raise InvalidInput(f"output is inside the vault home: {dest}",
                           hint="write the bundle outside the vault's own directories")
    if not dest.parent.is_dir():
        raise NotFound(f"no such directory: {dest.parent}")
    if dest.is_dir():
        raise InvalidInput(f"output is a directory: {dest}", hint="name a file")
    if os.path.lexists(dest) and not force:
        raise AlreadyExists(f"output file exists: {dest}", hint="use --force to replace it")
    return dest


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """No cyclic garbage collection while the bag streams: its blocks, futures and lists make
    no cycles, and each collection would walk the whole heap (the plan's rows and events) for
    nothing, again and again. Restored afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def write_partial(pieces: Iterable[bytes], recipient: X25519Recipient, dest: Path, *,
                  rng: Callable[[int], bytes]) -> Written:
    """Encrypt `pieces` to `recipient` into ``dest.partial-XXXXXXXX`` (0600) beside `dest` and
    fsync it; :func:`install` makes it `dest`. On any failure the partial file is removed (a
    SIGKILL leaves it behind, by its name never taken for a bundle)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=dest.name + PARTIAL, dir=dest.parent)
    except OSError as exc:
        raise StorageError(f"cannot write in {dest.parent}: {exc.strerror or exc}") from None
    digest, size = hashlib.sha256(), 0
    tune_malloc()
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as f, _no_gc():
            file_key = new_file_key(rng)
            header = write_header(file_key, [recipient], rng)
            digest.update(header)
            size += len(header)
            f.write(header)
            # hashed and written on a helper thread while the next pieces are encrypted
            with Feeder([digest.update, f.write], name="bag-write") as out:
                for piece in encrypt_payload(file_key, pieces, rng=rng):
                    size += len(piece)
                    out.update(piece)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StorageError(f"cannot write {dest}: {exc.strerror or exc}") from None
        raise
    return Written(Path(tmp), digest.hexdigest(), size)


def install(tmp: Path, dest: Path, force: bool) -> None:
    """Make the finished partial file `dest` as `vault get` makes its output (renamed over it
    with `force`, else hard-linked, which fails if something appeared there meanwhile); then
    the directory is fsynced."""
    retrieve.install(tmp, dest, force)
    with contextlib.suppress(OSError):
        dfd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
