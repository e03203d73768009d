"""item_fts: a trigram index of item_search.body for the evidence list's search (SQLite)

A substring search scanned every item_search row of the engagement (~35 ms at 100,000 items)
whenever it matched fewer than a page or a count's cap; the evidence screen runs one per
keystroke. An FTS5 table with the trigram tokenizer finds the items holding a text of three
characters or more from its index instead (vault/search.py).

- item_fts: FTS5, tokenize 'trigram case_sensitive 1' (item_search.body is lower-cased
  already, so the index holds it as it is and a search means exactly what instr() means);
- item_fts_rows: item_search's listing columns keyed by the index's rowids, so that the matches
  are filtered and sorted with one integer-key lookup each.
Both are kept by triggers on item_search (which triggers on evidence_item keep), never by the
application. Neither is a SQLModel table: they exist only on SQLite, and only where SQLite was
built with FTS5 and the trigram tokenizer (3.34+); elsewhere, and on PostgreSQL, this
revision creates nothing and searches keep scanning item_search.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import vault.metadata.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LISTED = "item_id, engagement_id, ingested_at, state, kind, disclosure"
RID = "(SELECT rid FROM item_fts_rows WHERE item_id = {}.item_id)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    try:
        op.execute("CREATE VIRTUAL TABLE item_fts USING fts5("
                   "body, tokenize = 'trigram case_sensitive 1')")
    except sa.exc.OperationalError:  # no FTS5, or no trigram tokenizer: searches scan
        return
    op.create_table(
        "item_fts_rows",
        sa.Column("rid", sa.Integer(), primary_key=True),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False,
                  unique=True),
        sa.Column("engagement_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ingested_at", vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("disclosure", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    )
    new = ", ".join(f"NEW.{c}" for c in LISTED.split(", "))
    assign = ", ".join(f"{c} = NEW.{c}" for c in LISTED.split(", "))
    op.execute(f"""CREATE TRIGGER item_fts_insert AFTER INSERT ON item_search BEGIN
        INSERT INTO item_fts_rows ({LISTED}) VALUES ({new});
        INSERT INTO item_fts (rowid, body) VALUES ({RID.format("NEW")}, NEW.body);
    END""")
    op.execute(f"""CREATE TRIGGER item_fts_update AFTER UPDATE ON item_search BEGIN
        UPDATE item_fts_rows SET {assign} WHERE item_id = OLD.item_id;
    END""")
    op.execute(f"""CREATE TRIGGER item_fts_update_body AFTER UPDATE OF body ON item_search
        WHEN NEW.body IS NOT OLD.body BEGIN
        UPDATE item_fts SET body = NEW.body WHERE rowid = {RID.format("NEW")};
    END""")
    op.execute(f"""CREATE TRIGGER item_fts_delete AFTER DELETE ON item_search BEGIN
        DELETE FROM item_fts WHERE rowid = {RID.format("OLD")};
        DELETE FROM item_fts_rows WHERE item_id = OLD.item_id;
    END""")
    op.execute(f"INSERT INTO item_fts_rows ({LISTED}) SELECT {LISTED} FROM item_search")
    op.execute("INSERT INTO item_fts (rowid, body) SELECT r.rid, s.body FROM item_fts_rows r "
               "JOIN item_search s ON s.item_id = r.item_id")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("item_fts_delete", "item_fts_update_body", "item_fts_update",
                    "item_fts_insert"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS item_fts_rows")
    op.execute("DROP TABLE IF EXISTS item_fts")
