-- Seed: the admin and agent from .env, and :tickets demo tickets.
-- Variables (psql -v): admin_email agent_email tickets. The passwords come from the
-- environment (SEED_ADMIN_PASSWORD, SEED_AGENT_PASSWORD, read with \getenv), never from
-- psql's command line, where every local user could read them in ps; -v admin_password=...
-- and -v agent_password=... still win when given, for a one-off by hand.
-- Users are upserted (a re-seed resets their passwords); tickets are added set-based by
-- seed_tickets.sql, which ./manage.sh also runs alone in batches to show progress.
\if :{?admin_password}
\else
\getenv admin_password SEED_ADMIN_PASSWORD
\endif
\if :{?agent_password}
\else
\getenv agent_password SEED_AGENT_PASSWORD
\endif
\if :{?admin_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'seed.sql: SEED_ADMIN_PASSWORD is not set in the environment'; END $$;
\endif
\if :{?agent_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'seed.sql: SEED_AGENT_PASSWORD is not set in the environment'; END $$;
\endif
INSERT INTO users (email, name, role, password_hash) VALUES
    (:'admin_email', 'Admin', 'admin', crypt(:'admin_password', gen_salt('bf', 10))),
    (:'agent_email', 'Agent', 'agent', crypt(:'agent_password', gen_salt('bf', 10)))
ON CONFLICT (lower(email)) DO UPDATE
    SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role;

\set first 1
\set count :tickets
\ir seed_tickets.sql
