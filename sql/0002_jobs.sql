-- Background jobs (bulk delete) and their chunks. docs/ARCHITECTURE.md "Jobs" explains
-- the lifecycle; the invariants the code relies on are written next to each column.

CREATE TABLE jobs (
    id               uuid PRIMARY KEY,
    type             text NOT NULL CHECK (type IN ('bulk-delete')),
    status           text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'completed', 'failed', 'canceled')),
    total            integer NOT NULL CHECK (total >= 0),
    -- Counters are stored, never counted from events: each chunk adds its own in the
    -- transaction that records its items, so processed = succeeded + failed always.
    processed        integer NOT NULL DEFAULT 0,
    succeeded        integer NOT NULL DEFAULT 0,
    failed           integer NOT NULL DEFAULT 0,
    chunks_total     integer NOT NULL CHECK (chunks_total >= 0),
    chunks_done      integer NOT NULL DEFAULT 0,
    created_by       uuid NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    error            jsonb,                  -- {"code","message"} when status = 'failed'
    idempotency_key  text,
    request_hash     text,                   -- sha256 of the canonical request, for key reuse checks
    CHECK (processed = succeeded + failed AND processed <= total),
    CHECK ((status IN ('completed', 'failed', 'canceled')) = (finished_at IS NOT NULL))
);
-- Idempotency keys are scoped to the user who sent them.
CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (created_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_created_idx       ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_user_created_idx  ON jobs (created_by, created_at DESC, id DESC);
CREATE INDEX jobs_active_idx        ON jobs (created_by) WHERE status IN ('queued', 'running');

-- A chunk is the unit of work and of transaction: its ticket ids travel as one array, and
-- its item outcomes are written back as one parallel array when it is done, so a million
-- items cost a thousand rows rather than a million.
CREATE TABLE job_chunks (
    job_id         uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq            integer NOT NULL CHECK (seq >= 0),
    first_item     integer NOT NULL CHECK (first_item >= 0),   -- position of ticket_ids[1] in the job
    ticket_ids     uuid[] NOT NULL,
    -- One code per item, parallel to ticket_ids: NULL = not yet processed, 'succeeded', or a
    -- failure code ('not_found', 'already_deleted', 'duplicate'). Set when the chunk is done;
    -- 'duplicate' may be set at creation for an id that appears earlier in the job.
    outcomes       text[] NOT NULL,
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'canceled')),
    -- The lease: when a chunk request was last sent to the broker. A pending chunk whose
    -- lease ran out (its request was lost with a broker or a worker) is sent again.
    dispatched_at  timestamptz,
    attempts       integer NOT NULL DEFAULT 0,
    done_at        timestamptz,
    PRIMARY KEY (job_id, seq),
    CHECK (cardinality(ticket_ids) = cardinality(outcomes))
);
CREATE INDEX job_chunks_pending_idx ON job_chunks (dispatched_at NULLS FIRST)
    WHERE status = 'pending';

-- Per-chunk counts, so that item totals by status never need to unnest a million ids.
ALTER TABLE job_chunks
    ADD COLUMN succeeded integer NOT NULL DEFAULT 0,
    ADD COLUMN failed    integer NOT NULL DEFAULT 0;

-- The job as API.md shows it (without items): one definition for every service and event.
CREATE FUNCTION job_json(j jobs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', j.id, 'type', j.type, 'status', j.status,
        'progress', CASE WHEN j.total = 0 THEN 100 ELSE (j.processed * 100) / j.total END,
        'total', j.total, 'processed', j.processed, 'succeeded', j.succeeded, 'failed', j.failed,
        'createdBy', j.created_by,
        'createdAt',  to_char(j.created_at  AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'startedAt',  to_char(j.started_at  AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'finishedAt', to_char(j.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'error', j.error)
$$;

-- Creates a job in one transaction: the row, its chunks (ids in request order) and the
-- lease on the first p_window chunks, which the caller sends once this commits.
-- p_outcomes is NULL, or parallel to p_ids with 'duplicate' where an id appears earlier in
-- the same request (the worker finds those in C, in linear time). p_hash identifies the
-- request for Idempotency-Key (the worker hashes the type and the ids in order).
-- p_id is chosen by the edge, so a request handed to a second worker after the first died
-- finds its job and creates nothing twice (the chunks' leases take care of dispatch).
-- outcome: 'created' | 'replayed' (same key, same request) | 'key_reused' (same key, other
-- request) | 'too_many_active' (the user has p_max_active queued or running jobs).
CREATE FUNCTION job_create(p_id uuid, p_user uuid, p_type text, p_ids uuid[], p_outcomes text[],
                           p_chunk_size int, p_key text, p_hash text, p_max_active int,
                           p_window int, OUT outcome text, OUT job jsonb, OUT dispatch int[])
LANGUAGE plpgsql AS $$
DECLARE
    j jobs;
    n int := cardinality(p_ids);
    chunks int := (cardinality(p_ids) + p_chunk_size - 1) / p_chunk_size;
BEGIN
    IF p_outcomes IS NOT NULL AND cardinality(p_outcomes) <> n THEN
        RAISE EXCEPTION 'job_create: % outcomes for % ids', cardinality(p_outcomes), n;
    END IF;
    -- One creator per user at a time: makes the active-job cap and key lookup race-free.
    PERFORM pg_advisory_xact_lock(hashtextextended('job_create:' || p_user::text, 0));
    SELECT * INTO j FROM jobs WHERE id = p_id AND created_by = p_user;
    IF FOUND THEN
        outcome := 'created';
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
    VALUES (p_id, p_type, n, chunks, p_user, p_key, p_hash)
    RETURNING * INTO j;
    -- Slicing keeps this linear in the number of ids.
    INSERT INTO job_chunks (job_id, seq, first_item, ticket_ids, outcomes, dispatched_at, attempts)
    SELECT p_id, s, s * p_chunk_size,
           p_ids[s * p_chunk_size + 1 : (s + 1) * p_chunk_size],
           CASE WHEN p_outcomes IS NULL
                THEN array_fill(NULL::text, ARRAY[least(p_chunk_size, n - s * p_chunk_size)])
                ELSE p_outcomes[s * p_chunk_size + 1 : (s + 1) * p_chunk_size] END,
           CASE WHEN s < p_window THEN now() END,
           CASE WHEN s < p_window THEN 1 ELSE 0 END
    FROM generate_series(0, chunks - 1) AS s;
    outcome := 'created';
    job := job_json(j);
    dispatch := ARRAY(SELECT s FROM generate_series(0, least(p_window, chunks) - 1) s);
END
$$;

-- Processes one chunk in the caller's transaction (one statement: one transaction).
-- Exactly-once effect: the chunk row is locked and must still be 'pending'; otherwise it
-- was done (or canceled) already and nothing changes. Returns the job after the chunk,
-- whether this call did the work, and the next chunk (if any) whose lease it took.
CREATE FUNCTION job_process_chunk(p_job uuid, p_seq int,
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
    IF cardinality(deleted) < coalesce(cardinality(live), 0) THEN
        -- Only when something failed: tell 'already_deleted' from 'not_found'.
        SELECT coalesce(array_agg(id), '{}') INTO gone
        FROM tickets WHERE id = ANY (live) AND NOT (id = ANY (deleted));
    END IF;
    SELECT array_agg(CASE WHEN u.o IS NOT NULL THEN u.o
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

-- Ends a job that is still queued or running: 'canceled' (by a user) or 'failed' (with an
-- error). Takes the chunk rows before the job row, the order job_process_chunk takes them,
-- so the two never deadlock; a chunk in flight either commits first (and is counted) or
-- finds its chunk closed. outcome: 'ended' | 'not_found' | 'finished' (already terminal).
CREATE FUNCTION job_end(p_job uuid, p_status text, p_error jsonb,
                        OUT outcome text, OUT job jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    j jobs;
BEGIN
    IF p_status NOT IN ('canceled', 'failed') THEN
        RAISE EXCEPTION 'job_end: bad status %', p_status;
    END IF;
    SELECT * INTO j FROM jobs WHERE id = p_job;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF j.status NOT IN ('queued', 'running') THEN
        outcome := 'finished';
        job := job_json(j);
        RETURN;
    END IF;
    UPDATE job_chunks SET status = 'canceled' WHERE job_id = p_job AND status = 'pending';
    UPDATE jobs SET status = p_status, error = p_error, finished_at = now()
    WHERE id = p_job AND status IN ('queued', 'running')
    RETURNING * INTO j;
    IF NOT FOUND THEN
        -- The last chunk committed while we waited for its row.
        outcome := 'finished';
        SELECT job_json(x) INTO job FROM jobs x WHERE x.id = p_job;
        RETURN;
    END IF;
    outcome := 'ended';
    job := job_json(j);
END
$$;

-- Takes the lease again on pending chunks whose lease ran out (their request was lost) and
-- returns them for sending. SKIP LOCKED: concurrent sweepers split the work. A chunk sent
-- p_max_attempts times without being done fails its job (a poison chunk must not loop):
-- such a job comes back as a row with seq NULL and the failed job in failed_job, so the
-- caller can announce it.
CREATE FUNCTION job_sweep(p_lease_ms int, p_limit int, p_max_attempts int)
RETURNS TABLE (job_id uuid, seq int, failed_job jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    poisoned uuid;
    r record;
    expired timestamptz := now() - make_interval(secs => p_lease_ms / 1000.0);
BEGIN
    FOR poisoned IN
        SELECT DISTINCT k.job_id FROM job_chunks k
        WHERE k.status = 'pending' AND k.attempts >= p_max_attempts AND k.dispatched_at < expired
    LOOP
        SELECT * INTO r FROM job_end(poisoned, 'failed', jsonb_build_object('code', 'chunk_failed',
            'message', format('a chunk was sent %s times without completing', p_max_attempts)));
        IF r.outcome = 'ended' THEN
            job_id := poisoned; seq := NULL; failed_job := r.job;
            RETURN NEXT;
        END IF;
    END LOOP;
    RETURN QUERY
    UPDATE job_chunks c SET dispatched_at = now(), attempts = c.attempts + 1
    FROM (SELECT k.job_id, k.seq FROM job_chunks k JOIN jobs jj ON jj.id = k.job_id
          WHERE k.status = 'pending' AND k.dispatched_at < expired
            AND jj.status IN ('queued', 'running')
          ORDER BY k.dispatched_at LIMIT p_limit FOR UPDATE OF k SKIP LOCKED) s
    WHERE c.job_id = s.job_id AND c.seq = s.seq
    RETURNING c.job_id, c.seq, NULL::jsonb;
END
$$;

-- A page of a job's items in request order, optionally of one status, and how many match.
-- Item status: the chunk's when it is pending or canceled, else the recorded outcome.
CREATE FUNCTION job_items(p_job uuid, p_status text, p_limit int, p_offset int,
                          OUT items jsonb, OUT total bigint)
LANGUAGE sql STABLE AS $$
    WITH cs AS (
        SELECT c.* FROM job_chunks c
        WHERE c.job_id = p_job
          AND (p_status IS NULL
               OR (p_status = 'pending'   AND c.status = 'pending')
               OR (p_status = 'canceled'  AND c.status = 'canceled')
               OR (p_status = 'succeeded' AND c.status = 'done' AND c.succeeded > 0)
               OR (p_status = 'failed'    AND c.status = 'done' AND c.failed > 0))),
    it AS (
        SELECT cs.first_item + u.ord AS pos, u.id,
               CASE cs.status WHEN 'pending' THEN 'pending' WHEN 'canceled' THEN 'canceled'
                    ELSE CASE WHEN u.o = 'succeeded' THEN 'succeeded' ELSE 'failed' END END AS st,
               CASE WHEN cs.status = 'done' AND u.o <> 'succeeded' THEN u.o END AS code
        FROM cs, unnest(cs.ticket_ids, cs.outcomes) WITH ORDINALITY AS u(id, o, ord)),
    page AS (
        SELECT * FROM it WHERE p_status IS NULL OR st = p_status
        ORDER BY pos LIMIT p_limit OFFSET p_offset)
    SELECT
        coalesce((SELECT jsonb_agg(jsonb_build_object(
                      'ticketId', page.id, 'status', page.st,
                      'error', CASE WHEN page.code IS NULL THEN NULL ELSE jsonb_build_object(
                          'code', page.code,
                          'message', CASE page.code
                              WHEN 'not_found' THEN 'no ticket has this id'
                              WHEN 'already_deleted' THEN 'the ticket was already deleted'
                              WHEN 'duplicate' THEN 'this id appears earlier in the job'
                              ELSE page.code END) END) ORDER BY page.pos) FROM page), '[]'),
        (SELECT CASE p_status
                    WHEN 'succeeded' THEN sum(c.succeeded)
                    WHEN 'failed'    THEN sum(c.failed)
                    ELSE sum(cardinality(c.ticket_ids)) END
         FROM cs c)
$$;
