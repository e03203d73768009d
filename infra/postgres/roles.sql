-- Least-privilege roles for a firm's PostgreSQL metadata database.
-- Run as the database owner after `vault init` has migrated the schema (the owner runs
-- migrations; the application connects as vault_app). The audit tables are append-only:
-- vault_app may INSERT and SELECT them, never UPDATE, DELETE or TRUNCATE (and a trigger refuses
-- those for every role, the owner included, unless a superuser disables it — which is what
-- `vault audit verify` would then detect).
CREATE ROLE vault_app LOGIN;  -- set a password or use certificate authentication
DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO vault_app', current_database()); END $$;
GRANT USAGE ON SCHEMA public TO vault_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO vault_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_event, audit_node, audit_checkpoint FROM vault_app;
GRANT UPDATE ON audit_head TO vault_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO vault_app;
-- Pruning the audit log (the destruction job, three years on) goes through this function only,
-- which runs as the owner and can do nothing but the prune: no other role may call it.
REVOKE EXECUTE ON FUNCTION vault_audit_prune(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vault_audit_prune(bigint[]) TO vault_app;
-- Destruction certificates outlive what they describe: never changed or deleted.
REVOKE UPDATE, DELETE, TRUNCATE ON destruction_certificate, certificate_engagement FROM vault_app;
