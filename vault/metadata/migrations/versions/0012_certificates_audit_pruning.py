"""Destruction certificates (destruction_certificate, certificate_engagement; append-only) and
audit retention: audit_event.pruned, with an UPDATE trigger that permits only the prune

Revision ID: 0012
Revises: 0011

The audit log stays append-only except for one change: an event older than the retention
period may have its content cleared (actor, action, object and outcome to '', engagement and
detail to NULL) and `pruned` set, while its sequence number, time and hashes stay. Any other
UPDATE (or a DELETE) is still refused, on SQLite and on PostgreSQL.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import vault.metadata.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PRUNE_ONLY = ("OLD.pruned = {f} AND NEW.pruned = {t} AND NEW.seq = OLD.seq "
              "AND NEW.at = OLD.at AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash "
              "AND NEW.actor = '' AND NEW.action = '' AND NEW.object = '' "
              "AND NEW.outcome = '' AND NEW.engagement_id IS NULL AND NEW.detail IS NULL")
"""The one UPDATE of audit_event that is allowed: the prune."""

CERT_TABLES = ("destruction_certificate", "certificate_engagement")


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("pruned", sa.Boolean(), server_default=sa.false(),
                                           nullable=False))
    op.create_index(op.f("ix_audit_event_at"), "audit_event", ["at"], unique=False)
    op.create_table(
        "destruction_certificate",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", vault.metadata.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("items", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["signing_key.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_destruction_certificate_run_id"), "destruction_certificate",
                    ["run_id"], unique=False)
    op.create_table(
        "certificate_engagement",
        sa.Column("certificate_id", sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column("engagement_id", sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column("items", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["certificate_id"], ["destruction_certificate.id"]),
        sa.PrimaryKeyConstraint("certificate_id", "engagement_id"),
    )
    op.create_index(op.f("ix_certificate_engagement_engagement_id"), "certificate_engagement",
                    ["engagement_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("CREATE TRIGGER audit_event_append_only BEFORE DELETE OR TRUNCATE "
                   "ON audit_event FOR EACH STATEMENT "
                   "EXECUTE FUNCTION vault_audit_append_only()")
        op.execute(f"""
            CREATE FUNCTION vault_audit_prune_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF {PRUNE_ONLY.format(f="false", t="true")} THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'the audit log is append-only (UPDATE on audit_event)'
                    USING ERRCODE = 'insufficient_privilege';
            END $$""")
        op.execute("CREATE TRIGGER audit_event_prune_only BEFORE UPDATE ON audit_event "
                   "FOR EACH ROW EXECUTE FUNCTION vault_audit_prune_only()")
        # The application role holds no UPDATE on audit_event (infra/postgres/roles.sql): it
        # prunes through this function, which runs as the owner and can only prune (the
        # trigger above still checks every row).
        op.execute("""
            CREATE FUNCTION vault_audit_prune(seqs bigint[]) RETURNS bigint
            LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
                WITH done AS (
                    UPDATE audit_event SET actor = '', action = '', object = '', outcome = '',
                        engagement_id = NULL, detail = NULL, pruned = true
                    WHERE seq = ANY(seqs) AND NOT pruned RETURNING 1)
                SELECT count(*) FROM done
            $$""")
        op.execute("""
            CREATE FUNCTION vault_certificate_kept() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'destruction certificates are never changed or deleted '
                    '(% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END $$""")
        for t in CERT_TABLES:
            op.execute(f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                       f"ON {t} FOR EACH STATEMENT EXECUTE FUNCTION vault_certificate_kept()")
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {t} FROM PUBLIC")
    else:
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute("CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                   f"WHEN NOT ({PRUNE_ONLY.format(f='0', t='1')}) "
                   "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
        for t in CERT_TABLES:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {t}_no_{verb.lower()} BEFORE {verb} ON {t} "
                           "BEGIN SELECT RAISE(ABORT, 'destruction certificates are "
                           "never changed or deleted'); END")


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        for t in CERT_TABLES:
            op.execute(f"DROP TRIGGER {t}_append_only ON {t}")
        op.execute("DROP FUNCTION vault_certificate_kept()")
        op.execute("DROP FUNCTION vault_audit_prune(bigint[])")
        op.execute("DROP TRIGGER audit_event_prune_only ON audit_event")
        op.execute("DROP FUNCTION vault_audit_prune_only()")
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                   "ON audit_event FOR EACH STATEMENT "
                   "EXECUTE FUNCTION vault_audit_append_only()")
    else:
        for t in CERT_TABLES:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER {t}_no_{verb}")
        op.execute("DROP TRIGGER audit_event_no_update")
    op.drop_index(op.f("ix_certificate_engagement_engagement_id"),
                  table_name="certificate_engagement")
    op.drop_table("certificate_engagement")
    op.drop_index(op.f("ix_destruction_certificate_run_id"),
                  table_name="destruction_certificate")
    op.drop_table("destruction_certificate")
    op.drop_index(op.f("ix_audit_event_at"), table_name="audit_event")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("pruned")
    if not pg:  # SQLite's batch copy of the table dropped its triggers: migration 0003's again
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_event_no_{verb.lower()}")
            op.execute(f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON "
                       "audit_event BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); "
                       "END")
