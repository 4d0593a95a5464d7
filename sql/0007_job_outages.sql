-- Outages fail no job; a failed job can be resumed (docs/ARCHITECTURE.md, "Outages and
-- resume"). Every send of a chunk used to count toward CHUNK_MAX_ATTEMPTS, so a broker away
-- for lease x attempts failed every running job for good, with nothing to resume it. Now:
--   starts     the starts that count against a chunk: a worker takes one, in a transaction
--              committed before the chunk's work (job_chunk_start). Only starts fail a job.
--   started_at when the last start was: a start older than the server itself was cut short
--              by PostgreSQL going away, and is not counted against the chunk.
--   attempts   as the functions of 0002 and 0003 count it, every send; job_chunk_start
--              resets it, so it is the sends since the chunk was last started. It sets the
--              re-send back-off (job_resend) and fails nothing.

ALTER TABLE job_chunks
    ADD COLUMN starts     integer NOT NULL DEFAULT 0 CHECK (starts >= 0),
    ADD COLUMN started_at timestamptz;

-- Replaced by job_resend, which re-sends without counting and without failing.
DROP FUNCTION job_sweep(int, int, int);

-- A worker begins a chunk: counts the start and renews the lease, in its own transaction,
-- before job_process_chunk. So a chunk whose processing kills its worker (or the worker's
-- connection) every time is counted even though nothing else of it ever commits, and fails
-- its job at the start after p_max_starts, instead of being processed again.
-- SKIP LOCKED: a chunk that another worker is processing right now (this request is a
-- duplicate, e.g. a re-send delivered late) is 'skipped' and costs no start.
-- state: 'started' (go on) | 'skipped' (done, canceled, or in another worker's hands) |
-- 'missing' | 'exhausted' (its starts were used up: this call failed the job, job holds it).
CREATE FUNCTION job_chunk_start(p_job uuid, p_seq int, p_max_starts int,
                                OUT state text, OUT job jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    c job_chunks;
    counted int;
    r record;
BEGIN
    SELECT * INTO c FROM job_chunks k WHERE k.job_id = p_job AND k.seq = p_seq
    FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        state := CASE WHEN EXISTS (SELECT 1 FROM job_chunks k WHERE k.job_id = p_job AND k.seq = p_seq)
                      THEN 'skipped' ELSE 'missing' END;
        RETURN;
    END IF;
    IF c.status <> 'pending' THEN
        state := 'skipped';
        RETURN;
    END IF;
    counted := c.starts - CASE WHEN c.started_at < pg_postmaster_start_time() THEN 1 ELSE 0 END;
    IF counted >= p_max_starts THEN
        SELECT * INTO r FROM job_end(p_job, 'failed', jsonb_build_object('code', 'chunk_failed',
            'message', format('chunk %s was started %s times and never finished: its worker, '
                              'or the worker''s database connection, died each time', p_seq, counted)));
        state := CASE WHEN r.outcome = 'ended' THEN 'exhausted' ELSE 'skipped' END;
        job := r.job;
        RETURN;
    END IF;
    UPDATE job_chunks k SET starts = counted + 1, started_at = now(), attempts = 0,
                            dispatched_at = now()
    WHERE k.job_id = p_job AND k.seq = p_seq;
    state := 'started';
END
$$;

-- Re-sends the pending chunks whose lease ran out (their request was lost with a broker or a
-- worker, or refused by a full queue) and takes their lease again; it counts no start and
-- fails nothing. It backs off: a chunk sent k times since it was last started waits
-- p_lease_ms x 2^(k-1), at most p_max_ms (and never less than the lease), so a chunk that
-- nobody starts is not re-sent every lease for as long as that lasts. p_fresh (the broker
-- has just come back): every lease older than p_lease_ms counts as run out, whatever its
-- back-off, and the series starts over; nothing waits out a long back-off after an outage.
-- SKIP LOCKED: concurrent sweepers split the work.
CREATE FUNCTION job_resend(p_lease_ms int, p_max_ms int, p_limit int, p_fresh boolean)
RETURNS TABLE (job_id uuid, seq int, sends int)
LANGUAGE sql AS $$
    UPDATE job_chunks c
    SET dispatched_at = now(), attempts = CASE WHEN p_fresh THEN 1 ELSE c.attempts + 1 END
    FROM (SELECT k.job_id, k.seq FROM job_chunks k JOIN jobs j ON j.id = k.job_id
          WHERE k.status = 'pending' AND j.status IN ('queued', 'running')
            AND k.dispatched_at < now() - make_interval(secs => p_lease_ms / 1000.0)
            AND (p_fresh OR k.dispatched_at < now() - make_interval(secs => greatest(p_lease_ms,
                     least(p_max_ms, p_lease_ms * power(2, least(greatest(k.attempts - 1, 0), 30))))
                     / 1000.0))
          ORDER BY k.dispatched_at LIMIT p_limit FOR UPDATE OF k SKIP LOCKED) s
    WHERE c.job_id = s.job_id AND c.seq = s.seq
    RETURNING c.job_id, c.seq, c.attempts
$$;

-- Resumes a failed job: the chunks its failure closed (every 'canceled' chunk of a 'failed'
-- job: a cancel leaves a job 'canceled') are pending again with fresh counts, the job runs
-- again without its error, and every recorded outcome stays. Takes the lease of the first
-- p_window of them, which the caller sends after commit. Chunk rows before the job row, the
-- order of job_process_chunk and job_end, so they never deadlock; a second resume waits for
-- the first and finds the job running. outcome: 'resumed' | 'not_found' | 'not_failed' (job
-- as it is).
CREATE FUNCTION job_resume(p_job uuid, p_window int,
                           OUT outcome text, OUT job jsonb, OUT dispatch int[])
LANGUAGE plpgsql AS $$
DECLARE
    j jobs;
BEGIN
    PERFORM 1 FROM job_chunks k WHERE k.job_id = p_job AND k.status = 'canceled' FOR UPDATE;
    SELECT * INTO j FROM jobs WHERE id = p_job FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF j.status <> 'failed' THEN
        outcome := 'not_failed';
        job := job_json(j);
        RETURN;
    END IF;
    UPDATE job_chunks k SET status = 'pending', starts = 0, started_at = NULL, attempts = 0,
                            dispatched_at = NULL
    WHERE k.job_id = p_job AND k.status = 'canceled';
    WITH w AS (
        UPDATE job_chunks c SET dispatched_at = now(), attempts = 1
        FROM (SELECT k.seq FROM job_chunks k WHERE k.job_id = p_job AND k.status = 'pending'
              ORDER BY k.seq LIMIT p_window) s
        WHERE c.job_id = p_job AND c.seq = s.seq
        RETURNING c.seq)
    SELECT coalesce(array_agg(w.seq ORDER BY w.seq), '{}') INTO dispatch FROM w;
    -- A job that failed with every chunk done has nothing left to run.
    UPDATE jobs SET status = CASE WHEN chunks_done = chunks_total THEN 'completed' ELSE 'running' END,
                    error = NULL,
                    finished_at = CASE WHEN chunks_done = chunks_total THEN now() END
    WHERE id = p_job
    RETURNING * INTO j;
    outcome := 'resumed';
    job := job_json(j);
END
$$;
