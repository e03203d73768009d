"""Schema: Alembic migrations create exactly the tables the models declare."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from vault import db


def test_schema_head_constant_matches_the_migration_scripts() -> None:
    assert db.SCHEMA_HEAD == db.head_revision()


def test_migrations_match_models(tmp_path: Path) -> None:
    engine = db.open_database(f"sqlite:///{tmp_path / 'v.db'}")
    assert db.current_revision(engine) == db.SCHEMA_HEAD
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


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
