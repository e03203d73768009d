"""The bag as a deterministic tar stream, checked with bagit-python."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.export.pki import make_signer
from vault.errors import IntegrityError
from vault.export.bag import Bag, Payload, check_path, tar_stream

SIGNER = make_signer()


def _bag(data: bytes = b"x" * 200_000, size: int | None = None) -> Bag:
    return Bag("bag-1", 1_700_000_000, [("Source-Organization", "Firm\nwith a newline")],
               [Payload("data/logs/a.log", len(data) if size is None else size,
                        lambda: [data[:70_000], data[70_000:]]),
                Payload("data/b.txt", 3, lambda: [b"abc"])],
               [("custody.csv", b"a,b\n"), ("audit/events.jsonl", b"{}\n")], SIGNER)


def test_same_bag_same_bytes_and_a_valid_bag(tmp_path: Path) -> None:
    one, two = b"".join(tar_stream(_bag())), b"".join(tar_stream(_bag()))
    assert one == two and len(one) % 10240 == 0
    with tarfile.open(fileobj=io.BytesIO(one)) as tf:
        members = tf.getmembers()
        names = [m.name for m in members]
        assert all((m.uid, m.gid, m.uname, m.gname, m.mtime) == (0, 0, "", "", 1_700_000_000)
                   for m in members)
        assert all(m.mode == (0o755 if m.isdir() else 0o644) for m in members)
        tf.extractall(tmp_path, filter="data")
    assert names[0] == "bag-1" and all(n.startswith("bag-1/") for n in names[1:])
    assert names[-3:] == ["bag-1/tagmanifest-sha256.txt", "bag-1/tagmanifest-sha512.txt",
                          "bag-1/tagmanifest-sha256.txt.sig"]
    bag = tmp_path / "bag-1"
    info = (bag / "bag-info.txt").read_text()
    assert "Payload-Oxum: 200003.2\n" in info and "Firm with a newline" in info
    r = subprocess.run([sys.executable, "-m", "bagit", "--validate", str(bag)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    key = SIGNER.key.public_key()
    assert isinstance(key, Ed25519PublicKey)
    key.verify((bag / "tagmanifest-sha256.txt.sig").read_bytes(),
               (bag / "tagmanifest-sha256.txt").read_bytes())
    tagged = (bag / "tagmanifest-sha256.txt").read_text()
    for t in ("bagit.txt", "bag-info.txt", "custody.csv", "audit/events.jsonl",
              "manifest-sha256.txt", "manifest-sha512.txt"):
        assert f"  {t}\n" in tagged


@pytest.mark.parametrize("path", ["", "/abs", "data/../x", "data/./x", "data//x", "a\nb",
                                  "data/a\\b", "data/100%", "data/\x00"])
def test_paths_that_are_not_plain_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        check_path(path)


def test_content_that_does_not_match_its_size_stops_the_stream() -> None:
    with pytest.raises(IntegrityError, match="more content"):
        b"".join(tar_stream(_bag(size=10)))
    with pytest.raises(IntegrityError, match="less content"):
        b"".join(tar_stream(_bag(size=300_000)))


def test_malloc_is_tuned_for_the_stream_with_glibc_only() -> None:
    import platform

    from vault.crypto.feeder import tune_malloc
    glibc = platform.libc_ver()[0] == "glibc"
    assert tune_malloc() is glibc
    assert tune_malloc() is glibc  # once per process
