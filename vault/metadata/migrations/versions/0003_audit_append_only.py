"""Audit tables reject UPDATE and DELETE (triggers on PostgreSQL and SQLite)

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("audit_event", "audit_node", "audit_checkpoint")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION vault_audit_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the audit log is append-only (% on %)', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END $$""")
        for t in TABLES:
            op.execute(f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                       f"ON {t} FOR EACH STATEMENT EXECUTE FUNCTION vault_audit_append_only()")
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {t} FROM PUBLIC")
    else:
        for t in TABLES:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {t}_no_{verb.lower()} BEFORE {verb} ON {t} "
                           "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for t in TABLES:
            op.execute(f"DROP TRIGGER {t}_append_only ON {t}")
        op.execute("DROP FUNCTION vault_audit_append_only()")
    else:
        for t in TABLES:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER {t}_no_{verb}")
