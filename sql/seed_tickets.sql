-- Adds :count demo tickets numbered from :first (psql -v), in one set-based statement.
-- Needs the agent user of seed.sql (:'agent_email') for the assigned ones.
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
FROM generate_series(:first, :first + :count - 1) AS g;
