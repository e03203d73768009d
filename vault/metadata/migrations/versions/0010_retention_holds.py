"""Retention and legal holds: engagement.retention_years, legal_hold

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import vault.metadata.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (a batch copy of `engagement` would trip SQLite's foreign keys)
    op.add_column("engagement", sa.Column("retention_years", sa.Integer(), server_default="3",
                                          nullable=False))
    op.create_table(
        "legal_hold",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("engagement_id", sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("placed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("placed_at", vault.metadata.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("released_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("released_at", vault.metadata.models.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column("release_reason", sqlmodel.sql.sqltypes.AutoString(length=2000),
                  nullable=True),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagement.id"]),
        sa.ForeignKeyConstraint(["placed_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["released_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_legal_hold_engagement_id"), "legal_hold", ["engagement_id"])
    op.create_index(op.f("ix_legal_hold_item_id"), "legal_hold", ["item_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_legal_hold_item_id"), table_name="legal_hold")
    op.drop_index(op.f("ix_legal_hold_engagement_id"), table_name="legal_hold")
    op.drop_table("legal_hold")
    op.drop_column("engagement", "retention_years")  # SQLite >= 3.35 drops it in place
