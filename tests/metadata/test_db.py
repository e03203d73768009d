"""Schema: Alembic migrations create exactly the tables the models declare."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from vault.metadata import db


def test_schema_head_constant_matches_the_migration_scripts() -> None:
    assert db.SCHEMA_HEAD == db.head_revision()


def not_fts(name: str | None, type_: str, parent_names: object) -> bool:
    """Leaves out the SQLite-only trigram index (migration 0006): item_fts, its FTS5 shadow
    tables (item_fts_data, _idx, _content, _docsize, _config) and item_fts_rows."""
    return not (type_ == "table" and name is not None and name.startswith("item_fts"))


def test_migrations_match_models(tmp_path: Path) -> None:
    engine = db.open_database(f"sqlite:///{tmp_path / 'v.db'}")
    assert db.current_revision(engine) == db.SCHEMA_HEAD
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        diff = compare_metadata(MigrationContext.configure(
            conn, opts={"include_name": not_fts}), SQLModel.metadata)
    assert diff == []
    assert {"item_fts", "item_fts_rows"} <= set(names)  # this SQLite has FTS5 and trigrams


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = db.open_database(f"sqlite:///{tmp_path / 'v.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_reopening_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    db.open_database(url)
    engine = db.open_database(url)
    assert db.current_revision(engine) == db.SCHEMA_HEAD
