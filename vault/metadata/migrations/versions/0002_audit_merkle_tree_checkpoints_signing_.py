"""audit merkle tree, checkpoints, signing keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 01:17:15.479165
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import vault.metadata.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_checkpoint',
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('root', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('size')
    )
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('audit_node',
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('idx', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('level', 'idx')
    )
    op.create_table('signing_key',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('public_pem', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('created_at', vault.metadata.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', vault.metadata.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    _backfill_audit_tree()
    op.create_table('signing_grant',
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['signing_key.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('key_id', 'user_id')
    )


def _backfill_audit_tree() -> None:
    """Existing events become the first leaves; the head row records them."""
    import json
    from datetime import UTC

    from vault.audit import merkle

    conn = op.get_bind()
    frontier = merkle.Frontier()
    last = "0" * 64
    rows = conn.execute(sa.text(
        "SELECT at, actor, action, object, outcome, engagement_id, detail, prev_hash, hash "
        "FROM audit_event ORDER BY seq"))
    for at, actor, action, obj, outcome, eng, detail, prev, digest in rows:
        if isinstance(at, str):
            from datetime import datetime
            at = datetime.fromisoformat(at)
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        doc = json.dumps({"prev": prev, "at": at.isoformat(), "actor": actor, "action": action,
                          "object": obj, "outcome": outcome, "engagement": eng,
                          "detail": detail}, sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False).encode("utf-8")
        for level, idx, h in frontier.append(merkle.leaf_hash(doc)):
            conn.execute(sa.text("INSERT INTO audit_node (level, idx, hash) VALUES (:l, :i, :h)"),
                         {"l": level, "i": idx, "h": h})
        last = digest  # the recorded chain as it is: `vault audit verify` judges it
    conn.execute(sa.text("INSERT INTO audit_head (id, size, last_hash) VALUES (1, :n, :h)"),
                 {"n": frontier.size, "h": last})


def downgrade() -> None:
    op.drop_table('signing_grant')
    op.drop_table('signing_key')
    op.drop_table('audit_node')
    op.drop_table('audit_head')
    op.drop_table('audit_checkpoint')
