-- A per-job sequence number, so that whoever holds a job's state (the progress hub, a
-- browser, a ZeroMQ subscriber) can tell a newer state from an older or repeated one, see
-- that it missed some, and ask for the current one (docs/ARCHITECTURE.md, "Events are
-- lossy, state converges"). Job events are at-most-once; this makes losing one harmless.

-- Rises by one with every change of the row, in the transaction that makes it: a trigger,
-- so every function that writes a job (0002, 0003 and any later one) counts without
-- knowing it. A statement that changes nothing does not count.
ALTER TABLE jobs ADD COLUMN version bigint NOT NULL DEFAULT 1 CHECK (version >= 1);

CREATE FUNCTION job_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER jobs_version_bump BEFORE UPDATE ON jobs
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION job_version_bump();

-- The job as every service and event shows it gains "seq". The object itself stays
-- whatever the migrations before this one made it (renamed, then wrapped), so a field
-- another migration adds to it is kept.
ALTER FUNCTION job_json(jobs) RENAME TO job_json_fields;

CREATE FUNCTION job_json(j jobs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT job_json_fields(j) || jsonb_build_object('seq', j.version)
$$;

-- Finished jobs are found by when they finished (the live set below), without a scan.
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- The live set: jobs queued or running, and jobs that finished within p_finished_ms. Each
-- arm reads its own index (jobs_active_idx, jobs_finished_idx); a job is in one arm only.
CREATE FUNCTION job_live_set(p_finished_ms int) RETURNS SETOF jobs
LANGUAGE sql STABLE AS $$
    SELECT * FROM jobs WHERE status IN ('queued', 'running')
    UNION ALL
    SELECT * FROM jobs
    WHERE finished_at > now() - make_interval(secs => p_finished_ms / 1000.0)
$$;

-- jobs.live: at most p_limit jobs of the live set, the active ones first, then the most
-- recently finished; and whether more were left out.
CREATE FUNCTION job_live(p_finished_ms int, p_limit int, OUT data jsonb, OUT more boolean)
LANGUAGE sql STABLE AS $$
    WITH picked AS (
        SELECT j, row_number() OVER (ORDER BY j.finished_at DESC NULLS FIRST, j.id) AS n
        FROM job_live_set(p_finished_ms) j)
    SELECT coalesce((SELECT jsonb_agg(job_json(p.j) ORDER BY p.n) FROM picked p WHERE p.n <= p_limit),
                    '[]'),
           EXISTS (SELECT 1 FROM picked p WHERE p.n > p_limit)
$$;

-- One re-publication round for the whole cluster every p_every_ms, whichever worker asks
-- first: the row is taken with SKIP LOCKED, so the others neither wait nor repeat it.
-- A round is at most p_limit jobs of the live set in id order, from where the last round
-- stopped, so any number of live jobs is covered, p_limit at a time.
CREATE TABLE job_republish (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    at       timestamptz NOT NULL DEFAULT '-infinity',
    after_id uuid                           -- the next round starts after this job; NULL: from the start
);
INSERT INTO job_republish DEFAULT VALUES;

CREATE FUNCTION job_republish_round(p_every_ms int, p_limit int, p_finished_ms int)
RETURNS TABLE (job_id uuid, job_status text, job jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    r job_republish;
    j jobs;
    n int := 0;
BEGIN
    SELECT * INTO r FROM job_republish
    WHERE at <= clock_timestamp() - make_interval(secs => p_every_ms / 1000.0)
    FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    FOR j IN SELECT * FROM job_live_set(p_finished_ms) s
             WHERE r.after_id IS NULL OR s.id > r.after_id ORDER BY s.id LIMIT p_limit LOOP
        n := n + 1;
        job_id := j.id;
        job_status := j.status;
        job := job_json(j);
        RETURN NEXT;
    END LOOP;
    UPDATE job_republish SET at = clock_timestamp(),
                             after_id = CASE WHEN n = p_limit THEN job_id END
    WHERE one;
END
$$;
