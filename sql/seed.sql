-- Seed: the admin and agent from .env, and :tickets demo tickets.
-- Variables (psql -v): admin_email admin_password agent_email agent_password tickets.
-- Users are upserted (a re-seed resets their passwords); tickets are added set-based.
INSERT INTO users (email, name, role, password_hash) VALUES
    (:'admin_email', 'Admin', 'admin', crypt(:'admin_password', gen_salt('bf', 10))),
    (:'agent_email', 'Agent', 'agent', crypt(:'agent_password', gen_salt('bf', 10)))
ON CONFLICT (lower(email)) DO UPDATE
    SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role;

INSERT INTO tickets (subject, description, status, priority, requester_email, assignee_id, created_at, updated_at)
SELECT 'Ticket #' || g || ': ' || (ARRAY['Cannot log in', 'Billing question', 'Feature request',
                                         'Bug report', 'Password reset', 'Slow dashboard'])[1 + g % 6],
       'Seeded ticket ' || g || '.',
       (ARRAY['open', 'pending', 'resolved', 'closed'])[1 + g % 4],
       (ARRAY['low', 'normal', 'high', 'urgent'])[1 + (g / 4) % 4],
       'customer' || g || '@example.com',
       CASE WHEN g % 3 = 0 THEN (SELECT id FROM users WHERE lower(email) = lower(:'agent_email')) END,
       now() - make_interval(secs => g),
       now() - make_interval(secs => g)
FROM generate_series(1, :tickets) AS g;
