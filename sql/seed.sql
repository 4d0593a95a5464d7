-- Seed: the admin and agent from .env, and :tickets demo tickets.
-- Variables (psql -v): admin_email admin_password agent_email agent_password tickets.
-- Users are upserted (a re-seed resets their passwords); tickets are added set-based by
-- seed_tickets.sql, which ./manage.sh also runs alone in batches to show progress.
INSERT INTO users (email, name, role, password_hash) VALUES
    (:'admin_email', 'Admin', 'admin', crypt(:'admin_password', gen_salt('bf', 10))),
    (:'agent_email', 'Agent', 'agent', crypt(:'agent_password', gen_salt('bf', 10)))
ON CONFLICT (lower(email)) DO UPDATE
    SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role;

\set first 1
\set count :tickets
\ir seed_tickets.sql
