-- Two holes an outside test of 0009 found.
--
-- 1. An undo restored a ticket that was deleted again after its job, by someone else: the
--    job's succeeded items are the tickets it deleted then, not the tickets deleted now. A
--    bulk-restore of a job now restores a ticket only while that job's delete is the
--    ticket's latest deletion (its history says so); a ticket deleted again since fails
--    with 'changed_since'. (Restoring by ids or by filter is unchanged: there the
--    user names the deleted tickets themselves.)
--
-- 2. A job's items showed the subject of a soft-deleted ticket to an agent, who may not
--    see deleted tickets anywhere else: job_items now shows it to admins only.

CREATE OR REPLACE FUNCTION job_chunk_act(j jobs, p_ids uuid[], OUT done uuid[], OUT fail text)
LANGUAGE plpgsql AS $$
DECLARE
    s jsonb := coalesce(j.set_fields, '{}');
    source uuid := (j.scope ->> 'jobId')::uuid;
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
        -- An undo leaves alone a deleted ticket whose latest deletion is not its job's
        -- (job_item_failure tells that one from a live ticket). A ticket with no deletion
        -- in its history was deleted before the history existed: its job's, then.
        fail := CASE WHEN source IS NULL THEN 'not_deleted' ELSE 'changed_since' END;
        WITH d AS (
            UPDATE tickets t SET deleted_at = NULL, updated_at = now(), version = t.version + 1
            WHERE t.id = ANY (p_ids) AND t.deleted_at IS NOT NULL
              AND (source IS NULL
                   OR coalesce((SELECT h.job_id IS NOT DISTINCT FROM source FROM ticket_history h
                                WHERE h.ticket_id = t.id AND h.action IN ('deleted', 'restored')
                                ORDER BY h.id DESC LIMIT 1), true))
            RETURNING t.id),
        h AS (
            INSERT INTO ticket_history (ticket_id, actor, job_id, action)
            SELECT d.id, j.created_by, j.id, 'restored' FROM d)
        SELECT coalesce(array_agg(id), '{}') INTO done FROM d;
    ELSE
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

-- job_process_chunk tells a type's failure from not_found by the ticket existing; an
-- undo's failure is changed_since for a ticket deleted again, not_deleted for a live one.
CREATE FUNCTION job_item_failure(p_fail text, p_deleted boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_fail = 'changed_since' AND NOT p_deleted THEN 'not_deleted' ELSE p_fail END
$$;

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
    gone_deleted uuid[] := '{}';
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
        SELECT coalesce(array_agg(id), '{}'),
               coalesce(array_agg(id) FILTER (WHERE deleted_at IS NOT NULL), '{}')
        INTO gone, gone_deleted
        FROM tickets WHERE id = ANY (live) AND NOT (id = ANY (done));
    END IF;
    SELECT array_agg(CASE WHEN u.o IS NOT NULL THEN u.o
                          WHEN all_ok THEN 'succeeded'
                          WHEN u.id = ANY (done) THEN 'succeeded'
                          WHEN u.id = ANY (gone) THEN job_item_failure(fail, u.id = ANY (gone_deleted))
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
    UPDATE job_chunks SET dispatched_at = now(), attempts = attempts + 1
    WHERE (job_id, seq) = (SELECT k.job_id, k.seq FROM job_chunks k
                           WHERE k.job_id = p_job AND k.status = 'pending' AND k.dispatched_at IS NULL
                           ORDER BY k.seq LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING seq INTO next_seq;
END
$$;

DROP FUNCTION job_items(uuid, text, int, int);

-- 0009's job_items; p_all (an admin asks) shows the subject of deleted tickets too.
CREATE FUNCTION job_items(p_job uuid, p_status text, p_limit int, p_offset int, p_all boolean,
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
        SELECT it.*, CASE WHEN p_all OR t.deleted_at IS NULL THEN t.subject END AS subject
        FROM it LEFT JOIN tickets t ON t.id = it.id
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
                              WHEN 'changed_since' THEN 'the ticket was deleted again after this job; restore it on its own'
                              WHEN 'deleted' THEN 'the ticket is deleted'
                              WHEN 'duplicate' THEN 'this id appears earlier in the job'
                              ELSE page.code END) END) ORDER BY page.pos) FROM page), '[]'),
        (SELECT CASE p_status
                    WHEN 'succeeded' THEN sum(c.succeeded)
                    WHEN 'failed'    THEN sum(c.failed)
                    ELSE sum(cardinality(c.ticket_ids)) END
         FROM cs c)
$$;
