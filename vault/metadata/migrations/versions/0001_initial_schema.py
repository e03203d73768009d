"""Initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 00:37:04.914296
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import vault.metadata.models

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('object', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('engagement_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('hash')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_engagement_id'), ['engagement_id'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('firm_role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('created_at', vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('recipient')
    )
    op.create_table('engagement',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('standard', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('created_at', vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('engagement_key',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('engagement_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', vault.metadata.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagement.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('engagement_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagement_key_engagement_id'), ['engagement_id'], unique=False)

    op.create_table('member',
    sa.Column('engagement_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('added_at', vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagement.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('engagement_id', 'user_id')
    )
    op.create_table('evidence_item',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('engagement_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('original_name', sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=False),
    sa.Column('declared_mime', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('detected_mime', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('ingested_at', vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ingested_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('system', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('disclosure', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('supersedes_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('object_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('age_header', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagement.id'], ),
    sa.ForeignKeyConstraint(['ingested_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['key_id'], ['engagement_key.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['evidence_item.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('engagement_id', 'sha256', name='uq_item_sha256'),
    sa.UniqueConstraint('object_key')
    )
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_item_engagement_id'), ['engagement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_item_state'), ['state'], unique=False)

    op.create_table('key_grant',
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('granted_at', vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['engagement_key.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('key_id', 'user_id')
    )
    op.create_table('item_requirement',
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('requirement_id', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['evidence_item.id'], ),
    sa.PrimaryKeyConstraint('item_id', 'requirement_id')
    )
    with op.batch_alter_table('item_requirement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_requirement_requirement_id'), ['requirement_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('item_requirement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_requirement_requirement_id'))

    op.drop_table('item_requirement')
    op.drop_table('key_grant')
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_item_state'))
        batch_op.drop_index(batch_op.f('ix_evidence_item_engagement_id'))

    op.drop_table('evidence_item')
    op.drop_table('member')
    with op.batch_alter_table('engagement_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagement_key_engagement_id'))

    op.drop_table('engagement_key')
    op.drop_table('engagement')
    op.drop_table('user_account')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_engagement_id'))

    op.drop_table('audit_event')
