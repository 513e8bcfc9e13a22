-- fiscal-warehouse bi-setup: the PostgreSQL mirror's schemas and its two reader roles.
-- {public_role} reads marts_public only; {internal_role} reads marts and marts_public.
-- Run by the loader's own role (the one in FISCAL_BI_POSTGRES_DSN), which owns the tables:
-- the default privileges below apply to the tables it creates later.
-- Placeholders are filled with psycopg.sql (identifiers quoted), never by string formatting.
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS marts_public;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {public_name}) THEN CREATE ROLE {public_role} LOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {internal_name}) THEN CREATE ROLE {internal_role} LOGIN; END IF;
END $$;
REVOKE ALL ON SCHEMA marts FROM PUBLIC;
REVOKE ALL ON SCHEMA marts_public FROM PUBLIC;
REVOKE ALL ON SCHEMA marts FROM {public_role};
REVOKE ALL ON ALL TABLES IN SCHEMA marts FROM {public_role};
GRANT USAGE ON SCHEMA marts_public TO {public_role}, {internal_role};
GRANT USAGE ON SCHEMA marts TO {internal_role};
GRANT SELECT ON ALL TABLES IN SCHEMA marts_public TO {public_role}, {internal_role};
GRANT SELECT ON ALL TABLES IN SCHEMA marts TO {internal_role};
ALTER DEFAULT PRIVILEGES IN SCHEMA marts_public GRANT SELECT ON TABLES TO {public_role}, {internal_role};
ALTER DEFAULT PRIVILEGES IN SCHEMA marts GRANT SELECT ON TABLES TO {internal_role};
