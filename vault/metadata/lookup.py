"""Finding a row by an unambiguous prefix of its hex id (items, flags)."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from vault.errors import InvalidInput, NotFound

T = TypeVar("T")


def by_id_prefix(s: Session, model: type[T], ref: str, what: str,
                 *where: sa.ColumnElement[bool], hint: str | None = None) -> T:
    """The one `model` row whose id starts with `ref` (at least 4 hex digits)."""
    ref = ref.strip().lower()
    article = "an" if what[0] in "aeiou" else "a"
    if len(ref) < 4 or any(c not in "0123456789abcdef" for c in ref):
        raise InvalidInput(f"not {article} {what} id: {ref!r}")
    ident: Any = col(model.id)  # type: ignore[attr-defined]
    found = s.exec(select(model).where(ident.startswith(ref), *where)).all()
    if not found:
        raise NotFound(f"no {what} {ref}", hint=hint)
    if len(found) > 1:
        raise InvalidInput(f"{what} id {ref} is ambiguous", hint="give more characters")
    return found[0]
