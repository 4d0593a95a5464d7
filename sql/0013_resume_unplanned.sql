-- A job by filter that failed before its plan ran (filter_changed: the filter matched more
-- than expectedTotal) has no chunk but its plan chunk, and 0 of 0 chunks done: 0007's
-- job_resume took it for a job with nothing left and made it 'completed', its error gone,
-- while the plan chunk it re-opened found the job ended and did nothing. Such a job now runs
-- again unplanned: its plan chunk expands the filter anew and checks expectedTotal again
-- (failing again with a new error, or running what matches now). Otherwise as 0007.
CREATE OR REPLACE FUNCTION job_resume(p_job uuid, p_window int,
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
    -- A planned job that failed with every chunk done has nothing left to run.
    UPDATE jobs SET status = CASE WHEN planned AND chunks_done = chunks_total THEN 'completed'
                                  ELSE 'running' END,
                    error = NULL,
                    finished_at = CASE WHEN planned AND chunks_done = chunks_total THEN now() END
    WHERE id = p_job
    RETURNING * INTO j;
    outcome := 'resumed';
    job := job_json(j);
END
$$;
