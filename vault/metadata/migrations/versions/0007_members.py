"""Containers: where in an item a flag was found (flag.member), and each item's members

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("flag", sa.Column("member", sqlmodel.sql.sqltypes.AutoString(length=1000),
                                    nullable=True))
    op.create_table(
        "item_member",
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("mime", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["evidence_item.id"]),
        sa.PrimaryKeyConstraint("item_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("item_member")
    with op.batch_alter_table("flag") as batch:
        batch.drop_column("member")
