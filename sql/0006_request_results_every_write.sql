-- No column changes: every mutating service now records its answer in request_results
-- (tickets.create, tickets.update, tickets.delete, tickets.restore, jobs.create, jobs.cancel;
-- workers/replay.c), where 0005 had jobs.cancel alone, and this says so where the table
-- lives (psql's \d+), for whoever reads the schema rather than the code.
--
-- Answers below 500 are recorded, errors such as 404 and 409 included, in the same
-- transaction as the write. A re-delivered request runs again, finds its first run's row
-- when it tries to record its own (ON CONFLICT DO NOTHING), rolls back and answers the
-- stored status and body. So the rows grow with every write; the workers' sweep deletes
-- those older than 24 hours in batches of 1,000, again a second later while batches come
-- back full.
COMMENT ON TABLE request_results IS
    'The answer of every mutating request (status, body) by (rid, service), written in the '
    'same transaction as its write and read back when the broker re-delivers the request: '
    'see workers/replay.c. Rows older than 24 hours are swept by the workers.';
