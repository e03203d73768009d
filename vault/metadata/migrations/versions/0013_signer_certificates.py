"""People's own signing keys and their X.509 certificates; the firm key's CA certificate

Revision ID: 0013
Revises: 0009
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import vault.metadata.models

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("signing_key", sa.Column("ca_pem", sa.Text(), nullable=True))
    op.create_table(
        "signer_key",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("public_pem", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", vault.metadata.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_signer_key_user_id"), "signer_key", ["user_id"])
    op.create_table(
        "signer_certificate",
        sa.Column("serial", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ca_key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("not_before", vault.metadata.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("not_after", vault.metadata.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("issued_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(["ca_key_id"], ["signing_key.id"]),
        sa.ForeignKeyConstraint(["issued_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["key_id"], ["signer_key.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_index(op.f("ix_signer_certificate_key_id"), "signer_certificate", ["key_id"])
    op.create_index(op.f("ix_signer_certificate_user_id"), "signer_certificate", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_signer_certificate_user_id"), table_name="signer_certificate")
    op.drop_index(op.f("ix_signer_certificate_key_id"), table_name="signer_certificate")
    op.drop_table("signer_certificate")
    op.drop_index(op.f("ix_signer_key_user_id"), table_name="signer_key")
    op.drop_table("signer_key")
    op.drop_column("signing_key", "ca_pem")  # in place: a table copy trips the foreign keys
