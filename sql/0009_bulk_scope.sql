-- Bulk work by filter, undo and bulk edit (docs/ARCHITECTURE.md, "Jobs by filter"), and
-- each ticket's history.
--
-- A job now covers either an id list (as before: its chunks are written when it is
-- created) or a scope: a filter over tickets, or the tickets another job deleted. A scope
-- is expanded by a worker after the 202, so that creating a job over a million matches
-- costs a row and not a million: the job is created with one plan chunk (seq -1, no ids)
-- on the usual lease, and the worker that takes it runs job_plan, which writes the real
-- chunks from the expanded set in one transaction. The plan chunk rides on everything a
-- chunk already has: lease and re-send, counted starts, cancel, resume.

ALTER TABLE jobs DROP CONSTRAINT jobs_type_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_type_check
    CHECK (type IN ('bulk-delete', 'bulk-restore', 'bulk-update'));

ALTER TABLE jobs
    -- {"filter": {...}} (GET /api/tickets' fields) or {"jobId": "<bulk-delete job>"}; NULL
    -- for an id list.
    ADD COLUMN scope          jsonb,
    -- bulk-update: the fields every item gets, {"status","priority","assigneeId"} (any of).
    ADD COLUMN set_fields     jsonb,
    -- The count the user was shown: a scope that expands to more fails the job instead.
    ADD COLUMN expected_total integer CHECK (expected_total >= 0),
    -- false while a scope is not expanded yet: total and chunks_total are not known.
    ADD COLUMN planned        boolean NOT NULL DEFAULT true,
    ADD CHECK (planned OR scope IS NOT NULL);

ALTER TABLE job_chunks DROP CONSTRAINT job_chunks_seq_check;
ALTER TABLE job_chunks ADD CONSTRAINT job_chunks_seq_check CHECK (seq >= -1);

-- What happened to a ticket, written in the transaction of the change itself, so the
-- history can never disagree with the ticket. changes: for 'updated', the fields that
-- changed, {"status": {"from": "open", "to": "closed"}, "description": {"changed": true}}.
CREATE TABLE ticket_history (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id uuid NOT NULL,                -- no FK: the history outlives nothing, but a
                                            -- bulk insert must not pay a lookup per row
    at        timestamptz NOT NULL DEFAULT now(),
    actor     uuid,                         -- NULL only when the user was removed
    job_id    uuid,                         -- the bulk job that made the change, if any
    action    text NOT NULL CHECK (action IN ('created', 'updated', 'deleted', 'restored')),
    changes   jsonb
);
CREATE INDEX ticket_history_ticket_idx ON ticket_history (ticket_id, id);

-- requesterEmail filters compare case-insensitively (tickets.list, job filters).
CREATE INDEX tickets_requester_idx ON tickets (lower(requester_email));

-- The job as API.md shows it. total is null and progress 0 while a scope is expanded.
CREATE OR REPLACE FUNCTION job_json_fields(j jobs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', j.id, 'type', j.type, 'status', j.status,
        'progress', CASE WHEN NOT j.planned THEN 0 WHEN j.total = 0 THEN 100
                         ELSE (j.processed * 100) / j.total END,
        'total', CASE WHEN j.planned THEN j.total END,
        'processed', j.processed, 'succeeded', j.succeeded, 'failed', j.failed,
        'createdBy', j.created_by,
        'createdAt',  to_char(j.created_at  AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'startedAt',  to_char(j.started_at  AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'finishedAt', to_char(j.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'error', j.error,
        'filter', j.scope -> 'filter', 'sourceJobId', j.scope -> 'jobId',
        'set', j.set_fields, 'expectedTotal', j.expected_total)
$$;

DROP FUNCTION job_create(uuid, uuid, text, int, uuid[], text[], int, text, text, int, int);

-- As 0003's job_create, plus: p_scope (NULL for an id list) makes a job of unknown size
-- with one plan chunk, leased and returned in dispatch like a first chunk; p_set and
-- p_expected are stored as given.
CREATE FUNCTION job_create(p_id uuid, p_user uuid, p_type text, p_total int, p_ids uuid[],
                           p_outcomes text[], p_chunk_size int, p_key text, p_hash text,
                           p_max_active int, p_window int, p_scope jsonb, p_set jsonb,
                           p_expected int,
                           OUT outcome text, OUT job jsonb, OUT dispatch int[])
LANGUAGE plpgsql AS $$
DECLARE
    j jobs;
    chunks int := (p_total + p_chunk_size - 1) / p_chunk_size;
BEGIN
    IF p_scope IS NULL AND (p_total < 1 OR coalesce(cardinality(p_ids), 0) > p_total) THEN
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
    IF p_scope IS NOT NULL THEN
        INSERT INTO jobs (id, type, total, chunks_total, created_by, idempotency_key,
                          request_hash, scope, set_fields, expected_total, planned)
        VALUES (p_id, p_type, 0, 0, p_user, p_key, p_hash, p_scope, p_set, p_expected, false)
        RETURNING * INTO j;
        INSERT INTO job_chunks (job_id, seq, first_item, ticket_ids, outcomes, dispatched_at, attempts)
        VALUES (p_id, -1, 0, '{}', '{}', now(), 1);
        outcome := 'created';
        job := job_json(j);
        dispatch := ARRAY[-1];
        RETURN;
    END IF;
    INSERT INTO jobs (id, type, total, chunks_total, created_by, idempotency_key, request_hash,
                      set_fields)
    VALUES (p_id, p_type, p_total, chunks, p_user, p_key, p_hash, p_set)
    RETURNING * INTO j;
    PERFORM job_add_chunks(p_id, 0, p_ids, p_outcomes, p_chunk_size, p_window);
    outcome := 'created';
    job := job_json(j);
    dispatch := ARRAY(SELECT s FROM generate_series(0, least(p_window, chunks) - 1) s);
END
$$;

-- Expands a job's scope: p_ids is the set, expanded by the caller's statement in this
-- transaction (ids in the order the job will show them). Writes the chunks, makes the job
-- running (or completed when the set is empty) with its total, closes the plan chunk and
-- leases the first p_window chunks, returned in dispatch. A set larger than the count the
-- user was shown fails the job (filter_changed) and touches nothing.
-- state: 'planned' | 'failed' (filter_changed: job holds it) | 'skipped' (planned already,
-- or the job ended meanwhile) | 'missing'.
CREATE FUNCTION job_plan(p_job uuid, p_ids uuid[], p_chunk_size int, p_window int,
                         OUT state text, OUT job jsonb, OUT dispatch int[])
LANGUAGE plpgsql AS $$
DECLARE
    c job_chunks;
    j jobs;
    n int := coalesce(cardinality(p_ids), 0);
    chunks int := (coalesce(cardinality(p_ids), 0) + p_chunk_size - 1) / p_chunk_size;
    r record;
BEGIN
    -- The chunk row before the job row, the order of every other job function.
    SELECT * INTO c FROM job_chunks WHERE job_id = p_job AND seq = -1 FOR UPDATE;
    IF NOT FOUND THEN
        state := 'missing';
        RETURN;
    END IF;
    SELECT * INTO j FROM jobs WHERE id = p_job;
    IF c.status <> 'pending' OR j.planned OR j.status NOT IN ('queued', 'running') THEN
        state := 'skipped';
        job := job_json(j);
        RETURN;
    END IF;
    IF j.expected_total IS NOT NULL AND n > j.expected_total THEN
        SELECT * INTO r FROM job_end(p_job, 'failed', jsonb_build_object('code', 'filter_changed',
            'message', format('%s tickets match now, more than the %s expected: nothing was changed',
                              n, j.expected_total)));
        state := 'failed';
        job := r.job;
        RETURN;
    END IF;
    UPDATE job_chunks SET status = 'done', done_at = now() WHERE job_id = p_job AND seq = -1;
    UPDATE jobs SET total = n, chunks_total = chunks, planned = true,
                    status = CASE WHEN n = 0 THEN 'completed' ELSE 'running' END,
                    started_at = coalesce(started_at, now()),
                    finished_at = CASE WHEN n = 0 THEN now() END
    WHERE id = p_job;
    PERFORM job_add_chunks(p_job, 0, p_ids, NULL, p_chunk_size, p_window);
    SELECT * INTO j FROM jobs WHERE id = p_job;
    state := 'planned';
    job := job_json(j);
    dispatch := ARRAY(SELECT s FROM generate_series(0, least(p_window, chunks) - 1) s);
END
$$;

-- The tickets a bulk-delete job deleted, in its order: what its undo restores.
CREATE FUNCTION job_succeeded_ids(p_job uuid) RETURNS uuid[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(u.id ORDER BY c.seq, u.ord), '{}')
    FROM job_chunks c, unnest(c.ticket_ids, c.outcomes) WITH ORDINALITY AS u(id, o, ord)
    WHERE c.job_id = p_job AND c.status = 'done' AND c.succeeded > 0 AND u.o = 'succeeded'
$$;

-- One chunk's action on its live ids, by the job's type, with each changed ticket's
-- history row. Returns the ids it acted on; an id it did not act on failed with p_fail
-- when the ticket exists, not_found when it does not.
CREATE FUNCTION job_chunk_act(j jobs, p_ids uuid[], OUT done uuid[], OUT fail text)
LANGUAGE plpgsql AS $$
DECLARE
    s jsonb := coalesce(j.set_fields, '{}');
BEGIN
    IF j.type = 'bulk-delete' THEN
        fail := 'already_deleted';
        WITH d AS (
            UPDATE tickets SET deleted_at = now(), updated_at = now(), version = version + 1
            WHERE id = ANY (p_ids) AND deleted_at IS NULL
            RETURNING id),
        h AS (
            INSERT INTO ticket_history (ticket_id, actor, job_id, action)
            SELECT d.id, j.created_by, j.id, 'deleted' FROM d)
        SELECT coalesce(array_agg(id), '{}') INTO done FROM d;
    ELSIF j.type = 'bulk-restore' THEN
        fail := 'not_deleted';
        WITH d AS (
            UPDATE tickets SET deleted_at = NULL, updated_at = now(), version = version + 1
            WHERE id = ANY (p_ids) AND deleted_at IS NOT NULL
            RETURNING id),
        h AS (
            INSERT INTO ticket_history (ticket_id, actor, job_id, action)
            SELECT d.id, j.created_by, j.id, 'restored' FROM d)
        SELECT coalesce(array_agg(id), '{}') INTO done FROM d;
    ELSE
        -- bulk-update: every live ticket succeeds; only one whose fields differ is
        -- written (its version rises once), so running it twice changes nothing more.
        fail := 'deleted';
        WITH o AS (
            SELECT t.id, t.status, t.priority, t.assignee_id FROM tickets t
            WHERE t.id = ANY (p_ids) AND t.deleted_at IS NULL ORDER BY t.id FOR UPDATE),
        ch AS (
            SELECT o.*,
                   (s ? 'status' AND o.status <> (s ->> 'status')) AS c_status,
                   (s ? 'priority' AND o.priority <> (s ->> 'priority')) AS c_priority,
                   (s ? 'assigneeId' AND o.assignee_id IS DISTINCT FROM (s ->> 'assigneeId')::uuid) AS c_assignee
            FROM o),
        u AS (
            UPDATE tickets t
            SET status = CASE WHEN ch.c_status THEN s ->> 'status' ELSE t.status END,
                priority = CASE WHEN ch.c_priority THEN s ->> 'priority' ELSE t.priority END,
                assignee_id = CASE WHEN ch.c_assignee THEN (s ->> 'assigneeId')::uuid ELSE t.assignee_id END,
                version = t.version + 1, updated_at = now()
            FROM ch WHERE t.id = ch.id AND (ch.c_status OR ch.c_priority OR ch.c_assignee)
            RETURNING t.id),
        h AS (
            INSERT INTO ticket_history (ticket_id, actor, job_id, action, changes)
            SELECT ch.id, j.created_by, j.id, 'updated',
                   CASE WHEN ch.c_status THEN jsonb_build_object('status',
                        jsonb_build_object('from', ch.status, 'to', s -> 'status')) ELSE '{}' END
                || CASE WHEN ch.c_priority THEN jsonb_build_object('priority',
                        jsonb_build_object('from', ch.priority, 'to', s -> 'priority')) ELSE '{}' END
                || CASE WHEN ch.c_assignee THEN jsonb_build_object('assigneeId',
                        jsonb_build_object('from', ch.assignee_id, 'to', s -> 'assigneeId')) ELSE '{}' END
            FROM ch WHERE ch.c_status OR ch.c_priority OR ch.c_assignee)
        SELECT coalesce(array_agg(ch.id), '{}') INTO done FROM ch;
    END IF;
END
$$;

-- 0003's job_process_chunk, with the action by type (job_chunk_act).
CREATE OR REPLACE FUNCTION job_process_chunk(p_job uuid, p_seq int,
                                  OUT state text, OUT job jsonb, OUT next_seq int)
LANGUAGE plpgsql AS $$
DECLARE
    c job_chunks;
    j jobs;
    live uuid[];
    done uuid[];
    fail text;
    gone uuid[] := '{}';
    result text[];
    n_ok int;
    n_bad int;
    all_ok boolean;
BEGIN
    SELECT * INTO c FROM job_chunks WHERE job_id = p_job AND seq = p_seq FOR UPDATE;
    IF NOT FOUND OR p_seq < 0 THEN
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
        -- Only a hand-edited database gets here (cancel and fail close every pending
        -- chunk in their transaction): close the chunk rather than count into a finished job.
        UPDATE job_chunks SET status = 'canceled' WHERE job_id = p_job AND seq = p_seq;
        state := 'skipped';
        job := job_json(j);
        RETURN;
    END IF;

    SELECT array_agg(u.id) INTO live
    FROM unnest(c.ticket_ids, c.outcomes) AS u(id, o) WHERE u.o IS NULL;
    SELECT a.done, a.fail INTO done, fail FROM job_chunk_act(j, coalesce(live, '{}')) a;
    all_ok := cardinality(done) = coalesce(cardinality(live), 0);
    IF NOT all_ok THEN
        -- Only when something failed: tell the type's failure from 'not_found'.
        SELECT coalesce(array_agg(id), '{}') INTO gone
        FROM tickets WHERE id = ANY (live) AND NOT (id = ANY (done));
    END IF;
    SELECT array_agg(CASE WHEN u.o IS NOT NULL THEN u.o
                          WHEN all_ok THEN 'succeeded'
                          WHEN u.id = ANY (done) THEN 'succeeded'
                          WHEN u.id = ANY (gone) THEN fail
                          ELSE 'not_found' END ORDER BY u.ord)
    INTO result
    FROM unnest(c.ticket_ids, c.outcomes) WITH ORDINALITY AS u(id, o, ord);
    n_ok := cardinality(done);
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

-- 0002's job_items, with the new failure codes and each item's ticket subject (NULL when
-- the ticket is gone); the plan chunk holds no items.
CREATE OR REPLACE FUNCTION job_items(p_job uuid, p_status text, p_limit int, p_offset int,
                          OUT items jsonb, OUT total bigint)
LANGUAGE sql STABLE AS $$
    WITH cs AS (
        SELECT c.* FROM job_chunks c
        WHERE c.job_id = p_job AND c.seq >= 0
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
        SELECT it.*, t.subject FROM it LEFT JOIN tickets t ON t.id = it.id
        WHERE p_status IS NULL OR it.st = p_status
        ORDER BY it.pos LIMIT p_limit OFFSET p_offset)
    SELECT
        coalesce((SELECT jsonb_agg(jsonb_build_object(
                      'ticketId', page.id, 'status', page.st, 'subject', page.subject,
                      'error', CASE WHEN page.code IS NULL THEN NULL ELSE jsonb_build_object(
                          'code', page.code,
                          'message', CASE page.code
                              WHEN 'not_found' THEN 'no ticket has this id'
                              WHEN 'already_deleted' THEN 'the ticket was already deleted'
                              WHEN 'not_deleted' THEN 'the ticket is not deleted'
                              WHEN 'deleted' THEN 'the ticket is deleted'
                              WHEN 'duplicate' THEN 'this id appears earlier in the job'
                              ELSE page.code END) END) ORDER BY page.pos) FROM page), '[]'),
        (SELECT CASE p_status
                    WHEN 'succeeded' THEN sum(c.succeeded)
                    WHEN 'failed'    THEN sum(c.failed)
                    ELSE sum(cardinality(c.ticket_ids)) END
         FROM cs c)
$$;

-- A page of a ticket's history, oldest first, each entry with its actor's name.
CREATE FUNCTION ticket_history_page(p_ticket uuid, p_limit int, p_offset int,
                                    OUT data jsonb, OUT total bigint)
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT jsonb_agg(jsonb_build_object(
               'at', to_char(h.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'action', h.action,
               'actor', CASE WHEN h.actor IS NULL THEN NULL
                             ELSE jsonb_build_object('id', h.actor, 'name', u.name) END,
               'jobId', h.job_id, 'changes', h.changes) ORDER BY h.id)
           FROM (SELECT * FROM ticket_history WHERE ticket_id = p_ticket
                 ORDER BY id LIMIT p_limit OFFSET p_offset) h
           LEFT JOIN users u ON u.id = h.actor), '[]'),
           (SELECT count(*) FROM ticket_history WHERE ticket_id = p_ticket)
$$;

-- The fields an update changes, as ticket_history.changes holds them: p_old and p_new are
-- rows as jsonb (column names); a field absent from p_new is not compared.
CREATE FUNCTION ticket_changes(p_old jsonb, p_new jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(f.api,
               CASE WHEN f.col = 'description' THEN '{"changed": true}'::jsonb
                    ELSE jsonb_build_object('from', p_old -> f.col, 'to', p_new -> f.col) END), '{}')
    FROM (VALUES ('subject', 'subject'), ('description', 'description'), ('status', 'status'),
                 ('priority', 'priority'), ('requester_email', 'requesterEmail'),
                 ('assignee_id', 'assigneeId')) AS f(col, api)
    WHERE p_new ? f.col AND (p_old -> f.col) IS DISTINCT FROM (p_new -> f.col)
$$;
