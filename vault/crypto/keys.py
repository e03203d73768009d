"""Personal identities and engagement-key grants.

Key hierarchy (DESIGN.md): payloads are encrypted to the engagement's X25519 recipient; the
engagement identity is stored only age-encrypted to each member's personal recipient; a personal
identity lives in its owner's config directory as an age file protected by a passphrase (scrypt).
There is no master key: without a grant there is no key.
"""

from __future__ import annotations

import getpass
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Union

import pyrage

from vault.age import (
    AgeError,
    NoIdentityMatch,
    X25519Identity,
    X25519Recipient,
    decrypt_with_passphrase,
)
from vault.errors import AlreadyExists, AuthenticationError, InvalidInput

if TYPE_CHECKING:
    from vault.crypto.agent import AgentKey

PersonalKey = Union[X25519Identity, "AgentKey"]
"""The acting person's identity: unlocked here, or held by the unlock agent (vault.agent)."""

PassphraseSource = Callable[[bool], str]
"""Returns a passphrase; the argument says whether a new one is being chosen (confirm it)."""


def passphrase_from_env_or_tty(env: Mapping[str, str] | None = None, *,
                               what: str = "your personal identity") -> PassphraseSource:
    """`VAULT_PASSPHRASE` when set, else a masked prompt on the terminal that names `what` it
    unlocks, else an error."""
    env = os.environ if env is None else env

    def source(new: bool) -> str:
        value = env.get("VAULT_PASSPHRASE")
        if value:
            return value
        if not sys.stdin.isatty():
            raise AuthenticationError(
                "no passphrase: set VAULT_PASSPHRASE or run on a terminal")
        first = getpass.getpass(f"New passphrase for {what}: " if new
                                else f"Passphrase for {what}: ")
        if new:
            if len(first) < 8:
                raise InvalidInput("passphrase too short: use at least 8 characters")
            if getpass.getpass("Repeat the passphrase: ") != first:
                raise InvalidInput("the passphrases do not match")
        if not first:
            raise AuthenticationError("empty passphrase")
        return first

    return source


def create_identity(path: Path, passphrase: str,
                    rng: Callable[[int], bytes] = os.urandom) -> X25519Identity:
    """Generate a personal identity and write it, passphrase-protected, to `path` (0600).

    Never overwrites: AlreadyExists if the file is there. The file is a standard age file
    (scrypt recipient), so `age -d` recovers the identity with the passphrase.
    """
    identity = X25519Identity.generate(rng)
    blob = pyrage.passphrase.encrypt(str(identity).encode("ascii"), passphrase)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AlreadyExists(f"an identity exists already at {path}",
                            hint="use it, or point VAULT_IDENTITY to another file") from None
    with os.fdopen(fd, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    return identity


def load_identity(path: Path, passphrase: str) -> X25519Identity:
    """Unlock the personal identity at `path`; AuthenticationError when that is impossible."""
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise AuthenticationError(f"no identity file at {path}",
                                  hint="run `vault init` (or set VAULT_IDENTITY)") from None
    except OSError as exc:
        raise AuthenticationError(f"cannot read identity file {path}: {exc.strerror}") from None
    try:
        text = decrypt_with_passphrase(blob, passphrase)
    except NoIdentityMatch:
        raise AuthenticationError(f"wrong passphrase for identity {path}") from None
    except AgeError:
        raise AuthenticationError(f"identity file {path} is not a vault identity") from None
    try:
        return X25519Identity.from_str(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise AuthenticationError(f"identity file {path} is not a vault identity") from None


def unlock_in_background(path: Path, passphrase: str) -> Callable[[], X25519Identity]:
    """Start :func:`load_identity` on a thread and return the function that waits for it.

    The passphrase's scrypt (seconds, by design) runs without the GIL, so the caller's imports
    and database opening go on meanwhile. The waiting function returns the identity or raises
    what ``load_identity`` raised."""
    result: list[X25519Identity] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(load_identity(path, passphrase))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            error.append(exc)

    thread = threading.Thread(target=run, name="vault-unlock", daemon=True)
    thread.start()

    def wait() -> X25519Identity:
        thread.join()
        if error:
            raise error[0]
        return result[0]

    return wait


def wrap_identity(identity: X25519Identity, to: X25519Recipient) -> bytes:
    """The engagement identity as an age file to one member's recipient."""
    return wrap_bytes(str(identity).encode("ascii"), [str(to)])


def unwrap_identity(blob: bytes, personal: PersonalKey) -> X25519Identity:
    """Reverse of wrap_identity; AuthenticationError if `personal` cannot open it."""
    text = _unwrap(blob, personal, "your identity cannot open this engagement's key")
    try:
        return X25519Identity.from_str(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise AuthenticationError("this engagement's key grant is malformed") from None


def _unwrap(blob: bytes, personal: PersonalKey, refused: str) -> bytes:
    if not isinstance(personal, X25519Identity):
        return personal.unwrap(blob)  # the agent's own AuthenticationError when it cannot
    try:
        return pyrage.decrypt(blob, [pyrage.x25519.Identity.from_str(str(personal))])
    except (pyrage.DecryptError, OSError, ValueError):
        raise AuthenticationError(refused) from None


def wrap_bytes(secret: bytes, to: Sequence[str]) -> bytes:
    """`secret` as an age file to the given recipients (``age1...`` strings)."""
    return pyrage.encrypt(secret, [pyrage.x25519.Recipient.from_str(r) for r in to])


def unwrap_bytes(blob: bytes, personal: PersonalKey) -> bytes:
    """Reverse of wrap_bytes; AuthenticationError if `personal` cannot open it."""
    return _unwrap(blob, personal, "your identity cannot open this key")


def unwrap_bytes_ok(blob: bytes, personal: X25519Identity) -> bool:
    """Whether `personal` can open the age file `blob` (for checks and tests)."""
    try:
        unwrap_bytes(blob, personal)
    except AuthenticationError:
        return False
    return True
