"""Interop of vault.age with the age CLI and pyrage; tamper detection; streaming behaviour."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest

from vault.age import (
    CHUNK_SIZE,
    AgeError,
    HeaderError,
    HMACError,
    NoIdentityMatch,
    PayloadError,
    X25519Identity,
    X25519Recipient,
    decrypt_file,
    decrypt_payload,
    decrypt_with_passphrase,
    encrypt_file,
    encrypt_payload,
    new_file_key,
    read_header,
    unwrap_file_key,
    write_header,
)

AGE = shutil.which("age") or "/usr/bin/age"
AGE_KEYGEN = shutil.which("age-keygen") or "/usr/bin/age-keygen"
SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, (1 << 20) + 5]


def _run(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(args, input=data, capture_output=True, check=True, timeout=60).stdout


def _encrypt(plaintext: bytes, recipients: list[X25519Recipient]) -> tuple[bytes, bytes]:
    """Our encryption, as separately stored (header, payload)."""
    file_key = new_file_key()
    header = write_header(file_key, recipients)
    payload = b"".join(encrypt_payload(file_key, [plaintext]))
    return header, payload


def _decrypt(data: bytes, identities: list[X25519Identity]) -> bytes:
    header, length = read_header(data)
    file_key = unwrap_file_key(header, identities)
    return b"".join(decrypt_payload(file_key, [data[length:]]))


@pytest.fixture(scope="module")
def identity() -> X25519Identity:
    return X25519Identity.generate()


@pytest.fixture
def keyfile(identity: X25519Identity, tmp_path: Path) -> Path:
    path = tmp_path / "key.txt"
    path.write_text(f"{identity}\n")
    return path


@pytest.mark.parametrize("size", SIZES)
def test_we_encrypt_age_decrypts(size: int, identity: X25519Identity, keyfile: Path) -> None:
    plaintext = os.urandom(size)
    other = X25519Identity.generate().recipient
    header, payload = _encrypt(plaintext, [other, identity.recipient])
    assert _run(AGE, "-d", "-i", str(keyfile), data=header + payload) == plaintext


@pytest.mark.parametrize("size", SIZES)
def test_age_encrypts_we_decrypt(size: int, identity: X25519Identity, tmp_path: Path) -> None:
    plaintext = os.urandom(size)
    data = _run(AGE, "-r", str(identity.recipient), data=plaintext)
    # split as the vault stores it, then re-join
    header, length = read_header(data)
    payload = data[length:]
    assert header + payload == data
    file_key = unwrap_file_key(header, [X25519Identity.generate(), identity])
    pieces = [payload[i : i + 4097] for i in range(0, len(payload), 4097)]
    assert b"".join(decrypt_payload(file_key, pieces)) == plaintext
    src, dst = tmp_path / "f.age", tmp_path / "f.out"
    src.write_bytes(header + payload)
    with src.open("rb") as fin, dst.open("wb") as fout:
        decrypt_file(fin, fout, [identity])
    assert dst.read_bytes() == plaintext


@pytest.mark.parametrize("size", [0, 1, 65536, 3 * 65536 + 7])
def test_encrypt_file_age_cli_roundtrip(
    size: int, identity: X25519Identity, keyfile: Path, tmp_path: Path
) -> None:
    plaintext = os.urandom(size)
    src, enc = tmp_path / "p", tmp_path / "p.age"
    src.write_bytes(plaintext)
    with src.open("rb") as fin, enc.open("wb") as fout:
        encrypt_file(fin, fout, [identity.recipient])
    assert _run(AGE, "-d", "-i", str(keyfile), str(enc)) == plaintext


@pytest.mark.parametrize("size", [0, 65536, (1 << 20) + 5])
def test_pyrage_both_ways(size: int, identity: X25519Identity) -> None:
    plaintext = os.urandom(size)
    theirs = pyrage.x25519.Identity.from_str(str(identity))
    header, payload = _encrypt(plaintext, [identity.recipient])
    assert pyrage.decrypt(header + payload, [theirs]) == plaintext
    data = pyrage.encrypt(plaintext, [theirs.to_public()])
    assert _decrypt(data, [identity]) == plaintext


def test_key_strings_interop(identity: X25519Identity, keyfile: Path) -> None:
    assert str(identity).startswith("AGE-SECRET-KEY-1") and str(identity).isupper()
    assert str(identity.recipient).startswith("age1")
    # ours -> age-keygen / pyrage
    assert _run(AGE_KEYGEN, "-y", str(keyfile)).decode().strip() == str(identity.recipient)
    theirs = pyrage.x25519.Identity.from_str(str(identity))
    assert str(theirs.to_public()) == str(identity.recipient)
    # age-keygen / pyrage -> ours
    out = _run(AGE_KEYGEN).decode()
    secret = next(line for line in out.splitlines() if line.startswith("AGE-SECRET-KEY-1"))
    public = next(line.split(": ")[1] for line in out.splitlines() if "public key" in line)
    parsed = X25519Identity.from_str(secret)
    assert str(parsed) == secret and str(parsed.recipient) == public
    assert str(X25519Recipient.from_str(public)) == public
    generated = pyrage.x25519.Identity.generate()
    assert str(X25519Identity.from_str(str(generated))) == str(generated)
    assert X25519Identity.from_str(str(generated)).recipient == X25519Recipient.from_str(
        str(generated.to_public())
    )


def test_bad_key_strings(identity: X25519Identity) -> None:
    good = str(identity)
    bad = [
        good[:-1] + ("q" if good[-1] != "Q" else "P"),
        good.lower()[:20] + good[20:],
        "",
        str(identity.recipient),
        "AGE-SECRET-KEY-1",
        "age1qqqq",
    ]
    for s in bad:
        with pytest.raises(ValueError) as info:
            X25519Identity.from_str(s)
        assert good not in str(info.value)
    with pytest.raises(ValueError):
        X25519Recipient.from_str(good)
    rec = str(identity.recipient)
    with pytest.raises(ValueError):  # a changed last character breaks the bech32 checksum
        X25519Recipient.from_str(rec[:-1] + ("x" if rec[-1] != "x" else "y"))
    assert good not in repr(identity) and identity.secret.hex() not in repr(identity)
    with pytest.raises((AttributeError, TypeError)):
        identity.recipient.public = bytes(32)  # type: ignore[misc]


def _sealed(size: int, identity: X25519Identity) -> tuple[bytes, bytes, bytes]:
    plaintext = os.urandom(size)
    header, payload = _encrypt(plaintext, [identity.recipient])
    return plaintext, header, payload


def _open(header: bytes, payload: bytes, identity: X25519Identity) -> bytes:
    return b"".join(decrypt_payload(unwrap_file_key(header, [identity]), [payload]))


@pytest.mark.parametrize("offset", [0, 15, 16, 100, 65552 + 16 + 5, -1])
def test_flipped_payload_bit(offset: int, identity: X25519Identity) -> None:
    _, header, payload = _sealed(3 * 65536 + 100, identity)
    tampered = bytearray(payload)
    tampered[offset] ^= 0x10
    with pytest.raises(PayloadError):
        _open(header, bytes(tampered), identity)


@pytest.mark.parametrize("cut", [1, 16, 65552, 65552 * 2, 3 * 65552 + 100])
def test_truncated_payload(cut: int, identity: X25519Identity) -> None:
    # 3 full chunks + 100 bytes: cutting at chunk boundaries leaves full, unmarked chunks
    plaintext, header, payload = _sealed(3 * 65536 + 100, identity)
    assert _open(header, payload, identity) == plaintext
    with pytest.raises(PayloadError):
        _open(header, payload[: len(payload) - cut], identity)


@pytest.mark.parametrize("extra", [b"\x00", os.urandom(16), os.urandom(65552), os.urandom(70000)])
@pytest.mark.parametrize("size", [0, 65536, 100000])
def test_appended_payload(extra: bytes, size: int, identity: X25519Identity) -> None:
    _, header, payload = _sealed(size, identity)
    with pytest.raises(PayloadError):
        _open(header, payload + extra, identity)


def test_flipped_header_mac(identity: X25519Identity) -> None:
    _, header, payload = _sealed(10, identity)
    mac_pos = header.rindex(b"--- ") + 4
    tampered = bytearray(header)
    tampered[mac_pos] = ord("A") if tampered[mac_pos] != ord("A") else ord("B")
    with pytest.raises(HMACError):
        _open(bytes(tampered), payload, identity)
    # a flipped bit that makes the base64 non-canonical is a header failure
    trailing = bytearray(header)
    trailing[-2] = ord("B") if trailing[-2] != ord("B") else ord("C")
    with pytest.raises((HeaderError, HMACError)):
        _open(bytes(trailing), payload, identity)


def test_header_errors(identity: X25519Identity) -> None:
    _, header, payload = _sealed(10, identity)
    with pytest.raises(NoIdentityMatch):
        _open(header, payload, X25519Identity.generate())
    with pytest.raises(HeaderError):
        read_header(header[:-1])
    with pytest.raises(HeaderError):
        unwrap_file_key(header + b"x", [identity])
    with pytest.raises(HeaderError):
        read_header(header.replace(b"/v1", b"/v2"))
    assert read_header(header + payload) == (header, len(header))


def test_payload_framing_errors(identity: X25519Identity) -> None:
    file_key = new_file_key()
    for payload in (b"", b"x" * 15):
        with pytest.raises(PayloadError):
            list(decrypt_payload(file_key, [payload]))
    nonce_only = next(encrypt_payload(file_key, []))
    with pytest.raises(PayloadError):
        list(decrypt_payload(file_key, [nonce_only]))
    assert issubclass(PayloadError, AgeError)


def test_encrypt_payload_is_lazy_and_chunking_independent() -> None:
    file_key = new_file_key()
    pulled = 0
    block = os.urandom(100_003)

    def blocks() -> Iterator[bytes]:
        nonlocal pulled
        for _ in range(2_000):  # ~200 MB if consumed eagerly
            pulled += 1
            yield block

    out = encrypt_payload(file_key, blocks())
    assert pulled == 0
    assert len(next(out)) == 16 and pulled == 0
    next(out)
    # at most the in-flight batches (2 * workers * 4 MiB) plus one batch of look-ahead
    assert pulled < (5 * 64 * CHUNK_SIZE) // len(block) + 3
    out.close()


def test_odd_block_sizes(identity: X25519Identity, keyfile: Path) -> None:
    data = os.urandom(5 * CHUNK_SIZE + 12345)
    sizes = [0, 1, 65535, 7, 0, 65537, 3 * 65536 + 1, 13, 100_000]
    blocks, pos = [], 0
    for size in sizes:
        blocks.append(data[pos : pos + size])
        pos += size
    blocks.append(data[pos:])
    rng_state = os.urandom(16)
    file_key = new_file_key()
    odd = b"".join(encrypt_payload(file_key, iter(blocks), rng=lambda n: rng_state[:n]))
    whole = b"".join(encrypt_payload(file_key, [data], rng=lambda n: rng_state[:n], workers=3))
    assert odd == whole  # ciphertext does not depend on how the plaintext was cut
    header = write_header(file_key, [identity.recipient])
    assert _run(AGE, "-d", "-i", str(keyfile), data=header + odd) == data
    assert b"".join(decrypt_payload(file_key, [odd], workers=1)) == data


def test_block_iterator_errors_propagate() -> None:
    class Boom(Exception):
        pass

    def blocks() -> Iterator[bytes]:
        yield os.urandom(5 * 64 * CHUNK_SIZE)
        raise Boom

    with pytest.raises(Boom):
        list(encrypt_payload(new_file_key(), blocks()))


def test_encrypt_decrypt_file_objects(identity: X25519Identity) -> None:
    plaintext = os.urandom(200_000)
    enc = io.BytesIO()
    encrypt_file(io.BytesIO(plaintext), enc, [identity.recipient])
    out = io.BytesIO()
    decrypt_file(io.BytesIO(enc.getvalue()), out, [identity])
    assert out.getvalue() == plaintext


def test_passphrase_files_from_rage_decrypt() -> None:
    """rage (pyrage) writes the personal identity files; the vault reads them itself."""
    secret = b"AGE-SECRET-KEY-1" + os.urandom(40)
    blob = pyrage.passphrase.encrypt(secret, "correct horse")
    assert decrypt_with_passphrase(blob, "correct horse") == secret
    with pytest.raises(NoIdentityMatch):
        decrypt_with_passphrase(blob, "wrong horse")
    with pytest.raises(NoIdentityMatch):  # an X25519 file is not a passphrase file
        decrypt_with_passphrase(pyrage.encrypt(secret, [pyrage.x25519.Identity.generate()
                                                       .to_public()]), "correct horse")


def test_passphrase_file_with_an_absurd_work_factor_is_a_header_error() -> None:
    """A work factor of thousands of digits (int() would raise ValueError on it) is refused as
    a malformed header, like any other over the maximum."""
    blob = pyrage.passphrase.encrypt(b"x", "pw")
    head, _, rest = blob.partition(b"\n-> scrypt ")
    salt, _, after = rest.partition(b" ")
    for factor in (b"9" * 5000, b"23", b"0", b"-1"):
        bad = head + b"\n-> scrypt " + salt + b" " + factor + b"\n" + after.partition(b"\n")[2]
        with pytest.raises(HeaderError):
            decrypt_with_passphrase(bad, "pw")
