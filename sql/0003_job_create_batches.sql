-- Job creation in batches. A job of a million ids used to be one job_create call with a
-- million-element array: ~37 MB of text built by the worker, copied again by libpq, parsed
-- by the server. Now the worker opens a transaction, calls job_create with the first batch
-- of ids (binary uuid[], 16 bytes an id) and job_add_chunks for each further batch, and
-- commits: no statement carries more than a batch, and the job appears whole or not at all.
-- A job that fits one batch is still one job_create call in autocommit (one round trip).

DROP FUNCTION job_create(uuid, uuid, text, uuid[], text[], int, text, text, int, int);

-- Adds the chunks of p_ids (ids in request order, the job's items from p_first_seq *
-- p_chunk_size on), taking the lease of those below p_window (the caller sends them after
-- commit). Every batch but the last holds whole chunks. Returns the chunks added.
CREATE FUNCTION job_add_chunks(p_id uuid, p_first_seq int, p_ids uuid[], p_outcomes text[],
                               p_chunk_size int, p_window int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce(cardinality(p_ids), 0);
    chunks int := (coalesce(cardinality(p_ids), 0) + p_chunk_size - 1) / p_chunk_size;
    total_chunks int;
BEGIN
    IF p_outcomes IS NOT NULL AND cardinality(p_outcomes) <> n THEN
        RAISE EXCEPTION 'job_add_chunks: % outcomes for % ids', cardinality(p_outcomes), n;
    END IF;
    SELECT chunks_total INTO total_chunks FROM jobs WHERE id = p_id;
    IF NOT FOUND OR p_first_seq < 0 OR p_first_seq + chunks > total_chunks
       OR (p_first_seq + chunks < total_chunks AND n % p_chunk_size <> 0) THEN
        RAISE EXCEPTION 'job_add_chunks: % ids at chunk % do not fit job %', n, p_first_seq, p_id;
    END IF;
    -- Slicing keeps this linear in the number of ids.
    INSERT INTO job_chunks (job_id, seq, first_item, ticket_ids, outcomes, dispatched_at, attempts)
    SELECT p_id, p_first_seq + s, (p_first_seq + s) * p_chunk_size,
           p_ids[s * p_chunk_size + 1 : (s + 1) * p_chunk_size],
           CASE WHEN p_outcomes IS NULL
                THEN array_fill(NULL::text, ARRAY[least(p_chunk_size, n - s * p_chunk_size)])
                ELSE p_outcomes[s * p_chunk_size + 1 : (s + 1) * p_chunk_size] END,
           CASE WHEN p_first_seq + s < p_window THEN now() END,
           CASE WHEN p_first_seq + s < p_window THEN 1 ELSE 0 END
    FROM generate_series(0, chunks - 1) AS s;
    RETURN chunks;
END
$$;

-- Creates a job of p_total items with its first batch of ids (see job_add_chunks; the
-- first batch holds at least p_window chunks or all of them). p_outcomes is NULL, or
-- parallel to p_ids with 'duplicate' where an id appears earlier in the same request (the
-- worker finds those in C, in linear time). p_hash identifies the request for
-- Idempotency-Key (the worker hashes the type and the ids in order).
-- p_id is chosen by the edge, so a request handed to a second worker after the first died
-- finds its job ('exists') and creates nothing twice (the chunks' leases take care of
-- dispatch). outcome: 'created' | 'exists' | 'replayed' (same key, same request) |
-- 'key_reused' (same key, other request) | 'too_many_active' (the user has p_max_active
-- queued or running jobs). The advisory lock is held to the end of the caller's
-- transaction, so concurrent creators of one user are serialised across every batch.
CREATE FUNCTION job_create(p_id uuid, p_user uuid, p_type text, p_total int, p_ids uuid[],
                           p_outcomes text[], p_chunk_size int, p_key text, p_hash text,
                           p_max_active int, p_window int,
                           OUT outcome text, OUT job jsonb, OUT dispatch int[])
LANGUAGE plpgsql AS $$
DECLARE
    j jobs;
    chunks int := (p_total + p_chunk_size - 1) / p_chunk_size;
BEGIN
    IF p_total < 1 OR coalesce(cardinality(p_ids), 0) > p_total THEN
        RAISE EXCEPTION 'job_create: % ids for a job of %', cardinality(p_ids), p_total;
    END IF;
    -- One creator per user at a time: makes the active-job cap and key lookup race-free.
    PERFORM pg_advisory_xact_lock(hashtextextended('job_create:' || p_user::text, 0));
    SELECT * INTO j FROM jobs WHERE id = p_id AND created_by = p_user;
    IF FOUND THEN
        outcome := 'exists';
        job := job_json(j);
        RETURN;
    END IF;
    IF p_key IS NOT NULL THEN
        SELECT * INTO j FROM jobs WHERE created_by = p_user AND idempotency_key = p_key;
        IF FOUND THEN
            outcome := CASE WHEN j.request_hash = p_hash THEN 'replayed' ELSE 'key_reused' END;
            job := job_json(j);
            RETURN;
        END IF;
    END IF;
    IF (SELECT count(*) FROM jobs WHERE created_by = p_user AND status IN ('queued', 'running'))
       >= p_max_active THEN
        outcome := 'too_many_active';
        RETURN;
    END IF;
    INSERT INTO jobs (id, type, total, chunks_total, created_by, idempotency_key, request_hash)
    VALUES (p_id, p_type, p_total, chunks, p_user, p_key, p_hash)
    RETURNING * INTO j;
    PERFORM job_add_chunks(p_id, 0, p_ids, p_outcomes, p_chunk_size, p_window);
    outcome := 'created';
    job := job_json(j);
    dispatch := ARRAY(SELECT s FROM generate_series(0, least(p_window, chunks) - 1) s);
END
$$;

-- A chunk whose live ids were all deleted needs no per-item lookup: 'succeeded' for every
-- item without an outcome. The lookups (O(n) each, so O(n^2) per chunk) now run only when
-- something failed; at 1000 ids a chunk they were most of a chunk's time.
CREATE OR REPLACE FUNCTION job_process_chunk(p_job uuid, p_seq int,
                                  OUT state text, OUT job jsonb, OUT next_seq int)
LANGUAGE plpgsql AS $$
DECLARE
    c job_chunks;
    j jobs;
    live uuid[];
    deleted uuid[];
    gone uuid[] := '{}';
    result text[];
    n_ok int;
    n_bad int;
    all_ok boolean;
BEGIN
    SELECT * INTO c FROM job_chunks WHERE job_id = p_job AND seq = p_seq FOR UPDATE;
    IF NOT FOUND THEN
        state := 'missing';
        RETURN;
    END IF;
    IF c.status <> 'pending' THEN
        state := 'skipped';
        SELECT job_json(x) INTO job FROM jobs x WHERE x.id = p_job;
        RETURN;
    END IF;
    SELECT * INTO j FROM jobs WHERE id = p_job;
    IF j.status NOT IN ('queued', 'running') THEN
        -- Cannot happen through our functions (cancel and fail close every pending chunk in
        -- their transaction), only by a hand-edited database: close the chunk rather than
        -- count into a finished job or be sent again forever.
        UPDATE job_chunks SET status = 'canceled' WHERE job_id = p_job AND seq = p_seq;
        state := 'skipped';
        job := job_json(j);
        RETURN;
    END IF;

    SELECT array_agg(u.id) INTO live
    FROM unnest(c.ticket_ids, c.outcomes) AS u(id, o) WHERE u.o IS NULL;
    WITH d AS (
        UPDATE tickets SET deleted_at = now(), updated_at = now(), version = version + 1
        WHERE id = ANY (live) AND deleted_at IS NULL
        RETURNING id)
    SELECT coalesce(array_agg(id), '{}') INTO deleted FROM d;
    all_ok := cardinality(deleted) = coalesce(cardinality(live), 0);
    IF NOT all_ok THEN
        -- Only when something failed: tell 'already_deleted' from 'not_found'.
        SELECT coalesce(array_agg(id), '{}') INTO gone
        FROM tickets WHERE id = ANY (live) AND NOT (id = ANY (deleted));
    END IF;
    SELECT array_agg(CASE WHEN u.o IS NOT NULL THEN u.o
                          WHEN all_ok THEN 'succeeded'
                          WHEN u.id = ANY (deleted) THEN 'succeeded'
                          WHEN u.id = ANY (gone) THEN 'already_deleted'
                          ELSE 'not_found' END ORDER BY u.ord)
    INTO result
    FROM unnest(c.ticket_ids, c.outcomes) WITH ORDINALITY AS u(id, o, ord);
    n_ok := cardinality(deleted);
    n_bad := cardinality(c.ticket_ids) - n_ok;

    UPDATE job_chunks SET status = 'done', outcomes = result, done_at = now(),
                          succeeded = n_ok, failed = n_bad
    WHERE job_id = p_job AND seq = p_seq;
    UPDATE jobs SET processed = processed + n_ok + n_bad,
                    succeeded = succeeded + n_ok,
                    failed = failed + n_bad,
                    chunks_done = chunks_done + 1,
                    status = CASE WHEN chunks_done + 1 = chunks_total THEN 'completed' ELSE 'running' END,
                    started_at = coalesce(started_at, now()),
                    finished_at = CASE WHEN chunks_done + 1 = chunks_total THEN now() END
    WHERE id = p_job AND status IN ('queued', 'running')
    RETURNING * INTO j;
    IF NOT FOUND THEN
        -- The job row was checked above and cancel/fail wait for our chunk row: only a
        -- hand edit in between gets here. Roll everything back rather than count into it.
        RAISE EXCEPTION 'job % stopped being active while chunk % was processed', p_job, p_seq;
    END IF;
    state := 'done';
    job := job_json(j);
    -- Keep the window full: take the lease of the next chunk nobody was sent yet.
    UPDATE job_chunks SET dispatched_at = now(), attempts = attempts + 1
    WHERE (job_id, seq) = (SELECT k.job_id, k.seq FROM job_chunks k
                           WHERE k.job_id = p_job AND k.status = 'pending' AND k.dispatched_at IS NULL
                           ORDER BY k.seq LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING seq INTO next_seq;
END
$$;
