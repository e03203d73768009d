"""The vault's error hierarchy.

Every error a user can cause is a :class:`VaultError`: it carries a one-line, lower-case message
without secrets and an optional hint. The CLI turns it into ``vault: error: ...`` and exit code 2;
anything else escaping the service layer is a bug.
"""

from __future__ import annotations


class VaultError(Exception):
    """Base class: a user-facing failure with a message and an optional hint."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class NotFound(VaultError):
    """The named engagement, item, user or file does not exist."""


class AlreadyExists(VaultError):
    """Something with that name or identity exists already."""


class InvalidInput(VaultError):
    """An argument, a file or a value is not acceptable."""


class PermissionDenied(VaultError):
    """The acting identity may not perform this action."""


class AuthenticationError(VaultError):
    """The personal identity could not be unlocked (missing file, wrong passphrase)."""


class IntegrityError(VaultError):
    """Stored evidence does not match what was recorded: corrupted or tampered with."""


class StorageError(VaultError):
    """The object store or the metadata database failed."""


class NotSupported(VaultError):
    """This machine, platform or store cannot do what was asked."""


class NotInitialised(VaultError):
    """There is no vault (or no identity) where one was expected."""
