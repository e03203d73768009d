"""Requirement catalogues a firm loads: firm_catalogue, one row per standard it extends

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import vault.metadata.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "firm_catalogue",
        sa.Column("standard", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("requirements", sa.Integer(), nullable=False),
        sa.Column("loaded_at", vault.metadata.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("loaded_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(["loaded_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("standard"),
    )


def downgrade() -> None:
    op.drop_table("firm_catalogue")
