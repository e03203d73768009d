"""What every verb group shares: the parsed arguments, the settings, --json and opening the vault.

A group is a :class:`Command` subclass with one method per verb (``signing-key`` becomes
``signing_key``) that returns the exit code; :mod:`vault.cli.main` picks the group by ``VERBS``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from vault.config import Settings
from vault.crypto.keys import passphrase_from_env_or_tty, unlock_in_background

if TYPE_CHECKING:  # the database layers load only for commands that open the vault
    from vault.service import Vault

EXIT_FOUND = 1
"""`verify`, `audit verify`, `doctor` and `scan` found something."""
EXIT_ERROR = 2
"""A VaultError (or a usage error, as argparse exits)."""
ENV_AGENT_SOCK = "VAULT_AGENT_SOCK"  # vault.crypto.agent.ENV_SOCK, without importing it


class Command:
    """One group of verbs, run once for one parsed command line."""

    VERBS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings
        self.json: bool = args.json

    @property
    def unlocks(self) -> str:
        """What a passphrase prompt unlocks, in its words."""
        return f"your identity {self.settings.identity_path}"

    def out(self, data: Any, human: Callable[[], None]) -> None:
        """`data` as one JSON document with --json, else whatever `human` prints."""
        if self.json:
            # dumps, not dump: dump encodes in Python, piece by piece (a folder's ingest
            # prints thousands of records)
            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        else:
            human()

    def open(self) -> Vault:
        """The vault, as the unlock agent's identity or by unlocking the personal identity."""
        self.settings.require_vault()
        agent_sock = os.environ.get(ENV_AGENT_SOCK)
        if agent_sock:  # the unlock agent holds the identity: no passphrase, no scrypt
            from vault.service import bootstrap
            return bootstrap.open_with_agent(self.settings, agent_sock)
        identity = unlock_in_background(self.settings.identity_path,
                                        passphrase_from_env_or_tty(what=self.unlocks)(False))
        from vault.service import bootstrap  # the ORM, models and service import while scrypt runs
        return bootstrap.open_unlocking(self.settings, identity)
