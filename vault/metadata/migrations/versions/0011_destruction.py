"""Destruction runs: destruction_run, destruction (one item's recorded steps),
engagement.destroyed_at

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import vault.metadata.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("engagement") as batch:
        batch.add_column(sa.Column("destroyed_at", vault.metadata.models.UTCDateTime(timezone=True),
                                   nullable=True))
    op.create_table(
        "destruction_run",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("started_at", vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", vault.metadata.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("job_user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("destroyed", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("engagements", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(["job_user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "destruction",
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("engagement_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("claimed_at", vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("object_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("version_ids", sa.Text(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("locked_until", vault.metadata.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("done_at", vault.metadata.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagement.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["evidence_item.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["destruction_run.id"]),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index(op.f("ix_destruction_engagement_id"), "destruction", ["engagement_id"])
    op.create_index(op.f("ix_destruction_run_id"), "destruction", ["run_id"])
    op.create_index(op.f("ix_destruction_step"), "destruction", ["step"])


def downgrade() -> None:
    op.drop_index(op.f("ix_destruction_step"), table_name="destruction")
    op.drop_index(op.f("ix_destruction_run_id"), table_name="destruction")
    op.drop_index(op.f("ix_destruction_engagement_id"), table_name="destruction")
    op.drop_table("destruction")
    op.drop_table("destruction_run")
    op.drop_column("engagement", "destroyed_at")  # in place: a table copy trips foreign keys
