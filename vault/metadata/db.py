"""The metadata database: SQLite (WAL) by default, PostgreSQL by URL; schema by Alembic."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vault.errors import StorageError

_MIGRATIONS = Path(__file__).with_name("migrations")

SCHEMA_HEAD = "0013"
"""The newest migration's revision id (a test checks it against Alembic): knowing it here lets
an up-to-date database open without importing Alembic."""


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    """The newest revision according to the migration scripts."""
    from alembic.script import ScriptDirectory

    head: str | None = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision, None for an empty database."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is there already)."""
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def driver_value(column: sa.Column[Any], value: Any, dialect: sa.Dialect) -> Any:
    """``value`` for ``column`` as SQLAlchemy would hand it to the DB driver (for statements
    run with ``exec_driver_sql``): a TypeDecorator's conversion, then its dialect impl's."""
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):
        value = kind.process_bind_param(value, dialect)
        kind = kind.impl_instance
    process = dialect.type_descriptor(kind).bind_processor(dialect)
    return process(value) if process is not None else value


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA secure_delete=ON")  # freed cells and pages are zeroed, not left behind
    # statement journals and sorts in memory: on disk (/var/tmp, unlinked at once) their
    # blocks would keep the pages an erasing statement changed, an erased header among them
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


ERASED_TABLES = ("evidence_item", "item_search", "item_member", "item_requirement", "flag",
                 "item_roc_ref",
                 "key_grant", "engagement", "destruction")
"""Tables whose rows a redaction or a destruction erases or empties (what VACUUM cleans)."""


def forget_deleted(engine: Engine) -> None:
    """Make what was just erased gone from the database files too, not merely unlinked.

    SQLite (``secure_delete`` is on for every connection): merge the search index's segments
    (so an old file name's trigrams are not left in a superseded one) and checkpoint the WAL
    with TRUNCATE, so the pages that held an erased header are neither in the WAL nor in free
    pages of the file. PostgreSQL: VACUUM the affected tables (dead tuples are cleared; WAL
    archives and backups keep them until they expire — the README says so). Call it after the
    erasing transaction committed; a busy checkpoint is retried on the next call."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            has_fts = conn.execute(sa.text(
                "SELECT 1 FROM sqlite_master WHERE name = 'item_fts'")).first()
            if has_fts:
                conn.execute(sa.text("INSERT INTO item_fts(item_fts) VALUES ('optimize')"))
                conn.commit()
            conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
            conn.commit()
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ERASED_TABLES:
                conn.execute(sa.text(f"VACUUM {table}"))


def _private_file(url: str) -> None:
    """Create an SQLite database file 0600 (its WAL and shared-memory files take the same
    mode), and take group and world access away from one that has it."""
    u = sa.engine.make_url(url)
    if not u.database or u.database == ":memory:" or u.database.startswith("file:"):
        return
    path = Path(u.database)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return  # SQLite will say what is wrong, in its words
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
        for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if side.exists() and side.stat().st_mode & 0o077:
                side.chmod(0o600)
    finally:
        os.close(fd)


def make_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite the file's directory must exist, and the file is made
    private (0600)."""
    if url.startswith("sqlite"):
        _private_file(url)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def open_database(url: str, *, migrate: bool = True) -> Engine:
    """Open the metadata DB, migrating it to the current schema; StorageError if unreachable."""
    engine = make_engine(url)
    try:
        if migrate and current_revision(engine) != SCHEMA_HEAD:
            upgrade(engine)
    except sa.exc.OperationalError as exc:
        raise StorageError(f"cannot open the metadata database: {_redact_url(url)}",
                           hint=str(exc.orig).splitlines()[0] if exc.orig else None) from None
    except sa.exc.DatabaseError as exc:  # not a database at all, or a damaged one
        reason = str(exc.orig).splitlines()[0] if exc.orig else "unreadable"
        raise StorageError(f"the metadata database {_redact_url(url)} is damaged: {reason}",
                           hint="restore it from a backup (the README's \"How evidence is "
                                "stored\" says how)") from None
    return engine


def _redact_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid URL>"
