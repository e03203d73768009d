"""The one way the command line reports an error: ``vault: error: MESSAGE`` on stderr, then
``vault: hint: HINT`` when the error has a hint. Untrusted text is escaped (:func:`safe`)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from vault.cli.termout import safe
from vault.errors import VaultError


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def report_error(error: VaultError | str, *, about: str | None = None,
                 out: Callable[[str], None] | None = None) -> None:
    """Print `error` (a VaultError, or the message of an error that is not one and so has no
    hint), after ``about: `` when given, with `out` (one call per line; default: stderr)."""
    write = out or _stderr
    message, hint = (error.message, error.hint) if isinstance(error, VaultError) else (error, None)
    if about is not None:
        message = f"{about}: {message}"
    write(f"vault: error: {safe(message)}")
    if hint:
        write(f"vault: hint: {safe(hint)}")
