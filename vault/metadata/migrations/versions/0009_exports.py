"""Exports: ROC references on items, the recipients registry, and the exports made

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import vault.metadata.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _s(n: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=n)


def upgrade() -> None:
    op.create_table(
        "item_roc_ref",
        sa.Column("item_id", _s(32), nullable=False),
        sa.Column("ref", _s(64), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["evidence_item.id"]),
        sa.PrimaryKeyConstraint("item_id", "ref"),
    )
    op.create_index(op.f("ix_item_roc_ref_ref"), "item_roc_ref", ["ref"], unique=False)
    op.create_table(
        "export_recipient",
        sa.Column("id", _s(32), nullable=False),
        sa.Column("name", _s(200), nullable=False),
        sa.Column("type", _s(20), nullable=False),
        sa.Column("age_recipient", _s(100), nullable=False),
        sa.Column("client", _s(500), nullable=True),
        sa.Column("fingerprint", _s(64), nullable=False),
        sa.Column("created_at", vault.metadata.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("created_by", _s(32), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "export_record",
        sa.Column("id", _s(32), nullable=False),
        sa.Column("engagement_id", _s(32), nullable=False),
        sa.Column("recipient", _s(200), nullable=False),
        sa.Column("recipient_type", _s(20), nullable=False),
        sa.Column("recipient_fingerprint", _s(64), nullable=False),
        sa.Column("request_ref", _s(200), nullable=False),
        sa.Column("bag_name", _s(200), nullable=False),
        sa.Column("bundle_sha256", _s(64), nullable=False),
        sa.Column("bundle_size", sa.BigInteger(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("payload_bytes", sa.BigInteger(), nullable=False),
        sa.Column("withheld", sa.Integer(), nullable=False),
        sa.Column("created_at", vault.metadata.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("created_by", _s(32), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagement.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_export_record_engagement_id"), "export_record",
                    ["engagement_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_export_record_engagement_id"), table_name="export_record")
    op.drop_table("export_record")
    op.drop_table("export_recipient")
    op.drop_index(op.f("ix_item_roc_ref_ref"), table_name="item_roc_ref")
    op.drop_table("item_roc_ref")
