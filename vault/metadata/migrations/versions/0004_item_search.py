"""item_search: a narrow copy of each evidence item's listing columns, kept by triggers

The evidence list filters, sorts and searches on these columns; evidence_item rows are wide
(they hold the age header), so scanning them for a substring search took ~170 ms at 100,000
items. Triggers on evidence_item write item_search (insert and update of the copied columns;
deleting an item cascades), on SQLite and PostgreSQL alike: the application never writes it.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import vault.metadata.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COPIED = ("engagement_id", "ingested_at", "state", "kind", "disclosure",
          "original_name", "description", "system")
COLUMNS = "engagement_id, ingested_at, item_id, state, kind, disclosure, body"


def _values(new: str, sep: str) -> list[str]:
    """The item_search values (in COLUMNS order) for evidence_item row `new` (NEW in a
    trigger). The searched body is lower(name, description, system) joined by `sep`, U+001F
    (unit separator), so that no search can match across two fields."""
    body = (f"lower({new}.original_name || {sep} || coalesce({new}.description, '') "
            f"|| {sep} || coalesce({new}.system, ''))")
    return [f"{new}.engagement_id", f"{new}.ingested_at", f"{new}.id", f"{new}.state",
            f"{new}.kind", f"{new}.disclosure", body]


def _row(new: str, sep: str) -> str:
    return ", ".join(_values(new, sep))


def _assign(new: str, sep: str) -> str:
    return ", ".join(f"{c} = {v}" for c, v in
                     zip(COLUMNS.split(", "), _values(new, sep), strict=True))


def upgrade() -> None:
    op.create_table(
        "item_search",
        sa.Column("engagement_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ingested_at", vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("disclosure", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["evidence_item.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("engagement_id", "ingested_at", "item_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_item_search_item_id", "item_search", ["item_id"], unique=True)
    copied = ", ".join(COPIED)
    if op.get_bind().dialect.name == "postgresql":
        sep = "chr(31)"
        op.execute(f"""
            CREATE FUNCTION vault_item_search_sync() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO item_search ({COLUMNS}) VALUES ({_row("NEW", sep)});
                ELSE
                    UPDATE item_search SET {_assign("NEW", sep)} WHERE item_id = OLD.id;
                END IF;
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER item_search_insert AFTER INSERT ON evidence_item "
                   "FOR EACH ROW EXECUTE FUNCTION vault_item_search_sync()")
        op.execute(f"CREATE TRIGGER item_search_update AFTER UPDATE OF {copied} "
                   "ON evidence_item FOR EACH ROW EXECUTE FUNCTION vault_item_search_sync()")
    else:
        sep = "char(31)"
        op.execute(f"CREATE TRIGGER item_search_insert AFTER INSERT ON evidence_item BEGIN "
                   f"INSERT INTO item_search ({COLUMNS}) VALUES ({_row('NEW', sep)}); END")
        op.execute(f"CREATE TRIGGER item_search_update AFTER UPDATE OF {copied} "
                   f"ON evidence_item BEGIN UPDATE item_search SET {_assign('NEW', sep)} "
                   "WHERE item_id = OLD.id; END")
    op.execute(f"INSERT INTO item_search ({COLUMNS}) "
               f"SELECT {_row('evidence_item', sep)} FROM evidence_item")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER item_search_update ON evidence_item")
        op.execute("DROP TRIGGER item_search_insert ON evidence_item")
        op.execute("DROP FUNCTION vault_item_search_sync()")
    else:
        op.execute("DROP TRIGGER item_search_update")
        op.execute("DROP TRIGGER item_search_insert")
    op.drop_index("ix_item_search_item_id", table_name="item_search")
    op.drop_table("item_search")
