"""Creating and opening a vault: the database, the store and the acting person's identity."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, func, select

from storage_backends import open_store
from vault.age import X25519Identity
from vault.config import Settings
from vault.crypto import keys
from vault.errors import InvalidInput, PermissionDenied, StorageError
from vault.metadata.db import open_database
from vault.metadata.models import User
from vault.people.grants import certify, new_signer_key, new_signing_key
from vault.service.context import Clock, Rng, utcnow
from vault.service.facade import Vault


@dataclass(frozen=True)
class InitResult:
    vault: Vault
    created_vault: bool
    created_identity: bool
    registered: bool


def _store(settings: Settings, clock: Clock):  # type: ignore[no-untyped-def]
    try:
        return open_store(settings.store_url, clock=clock)
    except ValueError as exc:
        raise InvalidInput(f"bad VAULT_STORE_URL: {exc}") from None
    except OSError as exc:
        raise StorageError(f"cannot open the object store: {exc.strerror or exc}") from None


def exists(settings: Settings) -> bool:
    """Whether an embedded vault was created here (other deployments: assumed to exist)."""
    return settings.vault_exists()


def initialise(settings: Settings, passphrase: keys.PassphraseSource, *,
               name: str | None = None, clock: Clock = utcnow,
               rng: Rng = os.urandom) -> InitResult:
    """Create what is missing — vault home, database schema, store, personal identity — and
    register the first person as administrator. Safe to run again: it changes nothing that
    exists."""
    created_vault = not exists(settings)
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    _private_home(settings, repair=True)
    engine = open_database(settings.db_url)
    store = _store(settings, clock)
    created_identity = not settings.identity_path.exists()
    if created_identity:
        identity = keys.create_identity(settings.identity_path, passphrase(True), rng)
    else:
        identity = keys.load_identity(settings.identity_path, passphrase(False))
    registered = _register_first(engine, identity, name or _login_name(), clock, rng)
    vault = Vault(engine, store, identity, tmp_dir=settings.home / "tmp", clock=clock, rng=rng)
    return InitResult(vault, created_vault, created_identity, registered)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "assessor"


def _register_first(engine: sa.Engine, identity: X25519Identity, name: str, clock: Clock,
                    rng: Rng) -> bool:
    recipient = str(identity.recipient)
    with Session(engine) as s:
        if s.exec(select(User).where(User.recipient == recipient)).first():
            return False
        if s.exec(select(func.count()).select_from(User)).one() > 0:
            raise PermissionDenied(
                "this vault has users already and your identity is not one of them",
                hint=f"ask an administrator to add your recipient {recipient}")
        user = User(id=rng(16).hex(), name=name, recipient=recipient, firm_role="admin",
                    created_at=clock())
        s.add(user)
        s.flush()
        now = clock()
        firm_key = new_signing_key(s, [user], now)
        s.flush()
        new_signer_key(s, user, now)  # so that the first administrator can export at once
        s.flush()
        certify(s, user, user, firm_key, now)
        s.commit()
    return True


def open_vault(settings: Settings, passphrase: keys.PassphraseSource, *,
               clock: Clock = utcnow, rng: Rng = os.urandom) -> Vault:
    """Open an existing vault as the person whose identity file is configured."""
    settings.require_vault()
    identity = keys.unlock_in_background(settings.identity_path, passphrase(False))
    return open_unlocking(settings, identity, clock=clock, rng=rng)


def open_with_agent(settings: Settings, agent_sock: str, *, clock: Clock = utcnow,
                    rng: Rng = os.urandom) -> Vault:
    """Open an existing vault as the person whose identity the unlock agent at `agent_sock`
    holds (:mod:`vault.agent`): no passphrase. AgentUnavailable when no agent answers."""
    from pathlib import Path

    from vault.crypto.agent import AgentKey

    settings.require_vault()
    key = AgentKey(Path(agent_sock))
    return open_unlocking(settings, lambda: key, clock=clock, rng=rng)


def open_unlocking(settings: Settings, identity: Callable[[], keys.PersonalKey], *,
                   clock: Clock = utcnow, rng: Rng = os.urandom) -> Vault:
    """:func:`open_vault` for a caller that checked :meth:`Settings.require_vault` and started
    the unlock (:func:`vault.keys.unlock_in_background`, whose waiting function is
    ``identity``) before importing this module: the imports, the database and the store open
    while the passphrase's scrypt runs."""
    _private_home(settings, repair=False)
    engine = open_database(settings.db_url)
    store = _store(settings, clock)
    return Vault(engine, store, identity(), tmp_dir=settings.home / "tmp", clock=clock, rng=rng)


def _private_home(settings: Settings, *, repair: bool) -> None:
    """The vault home holds the database (every item's header) and, on the embedded default,
    the payloads: no one but its owner may enter it. `vault init` tightens it; opening a vault
    whose home others can read is refused, saying how to fix it."""
    try:
        mode = settings.home.stat().st_mode & 0o777
    except FileNotFoundError:
        return  # not created here (a firm's deployment keeps no files in the home)
    except OSError as exc:
        raise StorageError(f"cannot read the vault home {settings.home}: {exc.strerror}"
                           ) from None
    if not mode & 0o077:
        return
    if repair:
        try:
            settings.home.chmod(0o700)
            return
        except OSError:
            pass
    raise PermissionDenied(f"the vault home {settings.home} is open to other users "
                           f"(mode {mode:o})",
                           hint=f"chmod 700 '{settings.home}'")


def create_or_load_identity(settings: Settings, passphrase: keys.PassphraseSource,
                            rng: Rng = os.urandom) -> tuple[X25519Identity, bool]:
    """The personal identity at the configured path, created (passphrase-protected) if absent.
    Returns (identity, created)."""
    if settings.identity_path.exists():
        return keys.load_identity(settings.identity_path, passphrase(False)), False
    return keys.create_identity(settings.identity_path, passphrase(True), rng), True


def is_registered(settings: Settings, identity: X25519Identity) -> bool:
    """Whether the vault (if there is one) knows this identity's recipient."""
    if not exists(settings):
        return False
    engine = open_database(settings.db_url)
    with Session(engine) as s:
        return s.exec(select(User).where(User.recipient == str(identity.recipient))
                      ).first() is not None
