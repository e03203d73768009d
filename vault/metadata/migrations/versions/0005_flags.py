"""PII and card-data flags (one row per distinct value found in an item)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import vault.metadata.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flag",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("engagement_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("detector", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("occurrences", sa.BigInteger(), nullable=False),
        sa.Column("masked", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("value_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("resolved_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("resolved_at", vault.metadata.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagement.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["evidence_item.id"]),
        sa.ForeignKeyConstraint(["resolved_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("flag", schema=None) as batch_op:
        for column in ("item_id", "engagement_id", "value_hash", "state"):
            batch_op.create_index(batch_op.f(f"ix_flag_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flag", schema=None) as batch_op:
        for column in ("item_id", "engagement_id", "value_hash", "state"):
            batch_op.drop_index(batch_op.f(f"ix_flag_{column}"))
    op.drop_table("flag")
