"""Parsing what people type into date fields (a user error is an InvalidInput, as elsewhere)."""

from __future__ import annotations

from datetime import date

from vault.errors import InvalidInput


def parse_date(value: str | None, what: str = "date") -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"the {what} must be a date YYYY-MM-DD, not {value.strip()!r}"
                           ) from None
