/*  jobs: bulk-delete, bulk-restore and bulk-update jobs. The transactions live in sql/
    (0002_jobs.sql: job_end; 0007_job_outages.sql: job_chunk_start, job_resend, job_resume;
    0009_bulk_scope.sql: job_create, job_plan, job_process_chunk, job_items), one statement
    each, so a chunk is one round trip and one transaction after its start. This file
    validates, calls them, publishes the events after commit and keeps each job's window of
    chunks moving; jobscope.c reads scopes and builds the statement that expands one.  */
#include "jobs.h"
#include "dupes.h"
#include "jobids.h"
#include "jobscope.h"
#include "jobsread.h"
#include "pgbin.h"
#include "replay.h"
#include "../common/log.h"
#include "../proto/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOBS_SWEEP_BATCH    100     //  chunks re-sent per sweep and worker
#define JOBS_RESEND_MAX_MS  60000   //  the longest re-send back-off (never below the lease)
#define JOBS_CHUNK_RETRIES  3       //  a chunk the database rejects is tried this often
#define JOBS_CREATE_BATCH   65536   //  ids per create statement: 1.3 MB of binary uuid[]
#define JOBS_DUPLICATE      "duplicate" //  the outcome of an id that repeats an earlier one

static const db_stmt_t s_stmts [] = {
    //  Run in the creator's transaction, with the record of its answer (replay.c). It is
    //  idempotent by its id anyway: a re-run creates nothing twice.
    { "j_create",
      "SELECT outcome, job::text, dispatch::text FROM job_create($1::uuid, $2::uuid, $3, $4::int,"
      " $5::uuid[], $6::text[], $7::int, $8, $9, $10::int, $11::int, $12::jsonb, $13::jsonb,"
      " $14::int)", false },
    //  Further batches of a job too big for one statement, in the creator's transaction.
    { "j_add", "SELECT job_add_chunks($1::uuid, $2::int, $3::uuid[], $4::text[], $5::int, $6::int)", false },
    //  Counts a start: not retried, since a lost answer may hide its commit.
    { "j_start", "SELECT state, job::text FROM job_chunk_start($1::uuid, $2::int, $3::int)", false },
    //  Exactly-once effect (the chunk row must still be pending), so retrying is safe.
    { "j_chunk", "SELECT state, job::text, next_seq FROM job_process_chunk($1::uuid, $2::int)", true },
    { "j_end", "SELECT outcome, job::text FROM job_end($1::uuid, $2, $3::jsonb)", true },
    { "j_resend", "SELECT job_id, seq, sends FROM job_resend($1::int, $2::int, $3::int, $4::bool)", true },
    //  In the transaction that records its answer (replay.c).
    { "j_resume", "SELECT outcome, job::text, dispatch::text FROM job_resume($1::uuid, $2::int)", false },
    JOBSREAD_STMTS,
    { "j_owner", "SELECT 1 FROM jobs WHERE id = $1::uuid AND created_by = $2::uuid", true },
    JOBSCOPE_STMTS,
};

//  A detail naming the vocab list value is not in; nothing when it is absent or in it.
static void
s_check_in (json_t *details, const char *key, const char *value, const char *const *set)
{
    char msg [160];
    if (value && vocab_index (set, value) < 0)
        reply_detail (details, key, vocab_must_be (set, msg, sizeof msg));
}

//  The payload's string field, NULL when absent or not a string.
static const char *
s_str (json_t *payload, const char *key)
{
    return json_string_value (json_object_get (payload, key));
}

static json_t *
s_parse (const char *text)
{
    json_error_t err;
    return json_loads (text, 0, &err);
}

//  Publishes a job's event after commit. The progress of a chunk that completed its job
//  is the job's completed event.
static void
s_publish (outbox_t *outbox, event_kind_t kind, const char *job_text)
{
    json_t *job = s_parse (job_text);
    const char *id = json_string_value (json_object_get (job, "id"));
    const char *status = json_string_value (json_object_get (job, "status"));
    if (kind == EVENT_PROGRESS && status && !strcmp (status, "completed"))
        kind = EVENT_COMPLETED;
    if (id)
        outbox_publish (outbox, kind, id, job_text);
    json_decref (job);
}

//  ---------------------------------------------------------------------------------
//  jobs.create

//  One jobs.create as it goes: what the request asked for, then what it takes to insert it.
typedef struct {
    svc_call_t *call;
    const char *id, *type, *key;    //  borrowed from the payload; key NULL when none
    const unsigned char *ids;       //  n ids, 16 bytes each: the blob's or owned
    unsigned char *owned;           //  the JSON form's ids, decoded
    size_t n;
    size_t chunk;                   //  ids per chunk
    size_t per;                     //  ids per statement: whole chunks, at least a window
    jobscope_t scope;               //  a filter or an undone job instead of ids; the set
    bool *dup;                      //  n marks: this id repeats an earlier one
    long dups;
    unsigned char *buf_ids;         //  one statement's binary uuid[]
    unsigned char *buf_marks;       //  and its binary text[] of outcomes
    uint64_t gen;                   //  the transaction's connection (replay_begin)
    char hash [JOBIDS_HASH_LEN + 1];
    char total [24], chunk_s [24], max_active [24], window [24];
} s_create_t;

static void
s_create_free (s_create_t *c)
{
    free (c->dup);
    free (c->buf_ids);
    free (c->buf_marks);
    free (c->owned);
    jobscope_free (&c->scope);
}

//  Validates the request into c. 0, or -1 with reply filled.
static int
s_create_read (svc_call_t *call, s_create_t *c, reply_t *reply)
{
    json_t *details = json_array ();
    c->id = s_str (call->payload, "id");
    if (!c->id || !uuid_valid (c->id))
        reply_detail (details, "id", "must be a uuid");
    c->type = s_str (call->payload, "type");
    s_check_in (details, "type", c->type ? c->type : "", vocab_job_types);
    //  Deleting and restoring are an admin's; setting fields is anyone's who may edit.
    if (json_array_size (details) == 0 && call->role != SVC_ROLE_ADMIN
    &&  strcmp (c->type, "bulk-update")) {
        json_decref (details);
        reply_error (reply, 403, "forbidden", "Only admins can start this type of job.", NULL);
        return -1;
    }
    json_t *key_v = json_object_get (call->payload, "idempotencyKey");
    c->key = json_string_value (key_v);
    if (key_v && !json_is_null (key_v) && (!c->key || !*c->key || strlen (c->key) > VOCAB_IDEMPOTENCY_KEY_MAX)) {
        char msg [64];
        snprintf (msg, sizeof msg, "must be a string of 1 to %d characters", VOCAB_IDEMPOTENCY_KEY_MAX);
        reply_detail (details, "idempotencyKey", msg);
    }
    bool has_ids = call->blob || json_object_get (call->payload, "ticketIds");
    int rc = json_array_size (details) ? 0 : jobscope_read (call, c->type, has_ids, &c->scope, details);
    if (json_array_size (details) == 0 && has_ids && rc == 0)
        rc = jobids_read (call, call->jobs->max_items, &c->ids, &c->owned, &c->n, details);
    if (rc && json_array_size (details) == 0) {
        json_decref (details);
        reply_internal (reply);             //  out of memory
        return -1;
    }
    if (json_array_size (details)) {
        reply_invalid (reply, details);
        return -1;
    }
    json_decref (details);
    return 0;
}

//  Sizes the statements, marks duplicates, hashes the key's body. 0, or -1 out of memory.
static int
s_create_prepare (s_create_t *c)
{
    const jobs_config_t *cfg = c->call->jobs;
    snprintf (c->chunk_s, sizeof c->chunk_s, "%ld", cfg->chunk_size);
    snprintf (c->max_active, sizeof c->max_active, "%ld", cfg->max_active);
    snprintf (c->window, sizeof c->window, "%ld", cfg->window);
    snprintf (c->total, sizeof c->total, "%zu", c->n);
    if (c->scope.scope) {
        if (c->key)
            jobscope_hash (c->type, &c->scope, c->hash);
        return 0;                           //  no ids: its plan chunk expands the scope
    }
    //  A statement carries at most a batch of whole chunks, and the first batch at least
    //  the window's chunks (job_create leases them).
    c->chunk = (size_t) cfg->chunk_size;
    c->per = JOBS_CREATE_BATCH / c->chunk * c->chunk;
    if (c->per < c->chunk * (size_t) cfg->window)
        c->per = c->chunk * (size_t) cfg->window;
    size_t first = c->n < c->per ? c->n : c->per;
    c->dup = (bool *) malloc (c->n);
    c->buf_ids = (unsigned char *) malloc (PGBIN_UUID_ARRAY_SIZE (first));
    c->buf_marks = (unsigned char *) malloc (PGBIN_MARK_ARRAY_SIZE (first, strlen (JOBS_DUPLICATE)));
    c->dups = c->dup ? dupes_mark (c->ids, c->n, c->dup) : -1;
    if (c->dups < 0 || !c->buf_ids || !c->buf_marks)
        return -1;
    if (c->key) {
        char *label = jobscope_ids_label (c->type, &c->scope);
        if (!label)
            return -1;
        jobids_hash (label, c->ids, c->n, c->hash);
        free (label);
    }
    return 0;
}

#define JOBS_BATCH_PARAMS 16

//  Runs one create statement (j_create or j_add): its head parameters, the ids [from,
//  from + n) and their outcomes as binary arrays, then its tail parameters; inside the
//  transaction when there is one. Returns the result (NULL: the connection is gone).
static PGresult *
s_create_batch (s_create_t *c, const char *stmt, const char *const *head, int head_n,
                const char *const *tail, int tail_n, size_t from, size_t n)
{
    const char *params [JOBS_BATCH_PARAMS];
    int lengths [JOBS_BATCH_PARAMS] = { 0 }, formats [JOBS_BATCH_PARAMS] = { 0 };
    int at = 0;
    for (int i = 0; i < head_n; i++)
        params [at++] = head [i];
    params [at] = NULL;                     //  a scope job: no ids
    if (c->buf_ids) {
        lengths [at] = pgbin_uuid_array (c->buf_ids, c->ids + 16 * from, n);
        formats [at] = 1;
        params [at] = (const char *) c->buf_ids;
    }
    at++;
    bool any = false;
    for (size_t i = from; c->dups > 0 && i < from + n && !any; i++)
        any = c->dup [i];
    params [at] = NULL;                     //  no duplicates: outcomes NULL, not n NULLs
    if (any) {
        lengths [at] = pgbin_mark_array (c->buf_marks, c->dup + from, n, JOBS_DUPLICATE);
        formats [at] = 1;
        params [at] = (const char *) c->buf_marks;
    }
    at++;
    for (int i = 0; i < tail_n; i++)
        params [at++] = tail [i];
    return db_exec_in (c->call->db, c->gen, stmt, at, params, lengths, formats);
}

//  The batches after the first, in the creator's transaction. 0, or -1 with reply filled
//  (the caller rolls back).
static int
s_create_rest (s_create_t *c, size_t first, reply_t *reply)
{
    for (size_t from = first; from < c->n; from += c->per) {
        char seq [24];
        snprintf (seq, sizeof seq, "%zu", from / c->chunk);
        const char *head [] = { c->id, seq };
        const char *tail [] = { c->chunk_s, c->window };
        size_t len = c->n - from < c->per ? c->n - from : c->per;
        PGresult *add = s_create_batch (c, "j_add", head, 2, tail, 2, from, len);
        bool ok = add && PQresultStatus (add) == PGRES_TUPLES_OK;
        if (!ok) {
            log_error ("event=job_create_failed rid=%s job=%s at=%zu sqlstate=%s", c->call->rid,
                       c->id, from, add ? db_sqlstate (add) : "connection_lost");
            if (add)
                reply_internal (reply);
            else
                reply_unavailable (reply);
            PQclear (add);
            return -1;
        }
        PQclear (add);
    }
    return 0;
}

//  Inserts the job in the transaction c->gen: its first batch with job_create and, for more
//  ids than one statement carries, the rest with job_add_chunks, so the job is whole or
//  absent. Returns job_create's row (the caller PQclears it), or NULL with reply filled
//  (the caller rolls back).
static PGresult *
s_create_insert (s_create_t *c, reply_t *reply)
{
    size_t first = c->n < c->per ? c->n : c->per;
    const char *head [] = { c->id, c->call->user, c->type, c->total };
    const char *tail [] = { c->chunk_s, c->key, c->key ? c->hash : NULL, c->max_active, c->window,
                            c->scope.scope_text, c->scope.set_text,
                            c->scope.expected >= 0 ? c->scope.expected_text : NULL };
    PGresult *res = s_create_batch (c, "j_create", head, 4, tail, 8, 0, first);
    if (!res) {
        reply_unavailable (reply);          //  the transaction died with the connection
        return NULL;
    }
    if (PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1) {
        log_error ("event=job_create_failed rid=%s job=%s sqlstate=%s", c->call->rid, c->id,
                   db_sqlstate (res));
        PQclear (res);
        reply_internal (reply);
        return NULL;
    }
    //  Only a created job has more batches; any other outcome wrote nothing.
    if (c->n > first && !strcmp (PQgetvalue (res, 0, 0), "created")
    &&  s_create_rest (c, first, reply)) {
        PQclear (res);
        return NULL;
    }
    return res;
}

//  The checks that need the database, then the insert; NULL with reply filled when the
//  request is refused (422) or the database failed.
static PGresult *
s_create_checked (s_create_t *c, reply_t *reply)
{
    json_t *details = json_array ();
    int rc = jobscope_check (c->call, c->gen, c->type, &c->scope, details, reply);
    if (rc > 0)
        reply_invalid (reply, details);
    else
        json_decref (details);
    return rc == 0 ? s_create_insert (c, reply) : NULL;
}

//  Answers from job_create's row.
static void
s_create_answer (s_create_t *c, PGresult *res, reply_t *reply)
{
    const char *outcome = PQgetvalue (res, 0, 0);
    if (!strcmp (outcome, "too_many_active")) {
        char msg [96];
        snprintf (msg, sizeof msg, "You have %ld jobs queued or running; wait for one to finish.",
                  c->call->jobs->max_active);
        reply_error (reply, 429, "too_many_jobs", msg, NULL);
    }
    else
    if (!strcmp (outcome, "key_reused"))
        reply_error (reply, 422, "idempotency_key_reused",
                     "This Idempotency-Key was used with a different request.", NULL);
    else
        reply_json (reply, !strcmp (outcome, "replayed") ? 200 : 202, s_parse (PQgetvalue (res, 0, 1)));
}

//  After the commit: a job created now is announced, then its first chunks go out.
static void
s_create_announce (s_create_t *c, PGresult *res)
{
    if (strcmp (PQgetvalue (res, 0, 0), "created") || PQgetisnull (res, 0, 2))
        return;
    //  Announce first, then send the chunks: jobs:created precedes any progress.
    s_publish (c->call->outbox, EVENT_CREATED, PQgetvalue (res, 0, 1));
    int seq;
    for (const char *p = PQgetvalue (res, 0, 2); (p = pgbin_int_next (p, &seq)); )
        outbox_dispatch (c->call->outbox, c->id, seq);
    if (c->scope.scope)
        log_info ("event=job_created rid=%s job=%s type=%s scope=%s", c->call->rid, c->id,
                  c->type, c->scope.scope_text);
    else
        log_info ("event=job_created rid=%s job=%s type=%s items=%zu duplicates=%ld batches=%zu",
                  c->call->rid, c->id, c->type, c->n, c->dups, (c->n + c->per - 1) / c->per);
}

//  One transaction: the job and the record of the answer (replay.c), so a create the
//  broker re-delivers after its worker died past COMMIT answers as its first run did (the
//  job as it was then, queued), rather than with the job as it is by the re-run.
static void
s_create (svc_call_t *call, reply_t *reply)
{
    s_create_t c = { .call = call };
    if (s_create_read (call, &c, reply) == 0) {
        if (s_create_prepare (&c))
            reply_internal (reply);
        else
        if ((c.gen = replay_begin (call, reply))) {
            PGresult *res = s_create_checked (&c, reply);
            if (res)
                s_create_answer (&c, res, reply);
            if (replay_end (call, c.gen, res != NULL, reply) == 0 && res)
                s_create_announce (&c, res);
            PQclear (res);
        }
    }
    s_create_free (&c);
}

//  ---------------------------------------------------------------------------------
//  jobs.chunk

//  Ends a job as failed and says so.
static void
s_fail_job (svc_call_t *call, const char *job_id, const char *code, const char *message)
{
    json_t *err = json_pack ("{s:s,s:s}", "code", code, "message", message);
    char *err_text = json_dumps (err, JSON_COMPACT);
    json_decref (err);
    const char *params [] = { job_id, "failed", err_text };
    PGresult *res = db_exec (call->db, "j_end", 3, params);
    free (err_text);
    if (res && PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1
    &&  !strcmp (PQgetvalue (res, 0, 0), "ended")) {
        log_error ("event=job_failed rid=%s job=%s code=%s", call->rid, job_id, code);
        s_publish (call->outbox, EVENT_FAILED, PQgetvalue (res, 0, 1));
    }
    PQclear (res);
}

//  A chunk's answer to its sender (who reads it for nothing: the outcome is in PostgreSQL).
static void
s_chunk_state (reply_t *reply, const char *state)
{
    if (!strcmp (state, "missing"))
        reply_error (reply, 404, "not_found", "No such chunk.", NULL);
    else
        reply_json (reply, 200, json_pack ("{s:s}", "state", state));
}

//  Counts the chunk's start in a transaction of its own, committed before the work: a chunk
//  whose processing kills its worker every time fails its job instead of looping, while
//  sending a chunk (again) counts nothing. 1: go on with the chunk; 0: reply filled
//  (skipped, no such chunk, its starts used up and the job failed here, database away).
static int
s_chunk_start (svc_call_t *call, const char *job_id, const char *seq, reply_t *reply)
{
    char max [24];
    snprintf (max, sizeof max, "%ld", call->jobs->max_attempts);
    const char *params [] = { job_id, seq, max };
    PGresult *res = db_exec (call->db, "j_start", 3, params);
    const char *state = res && PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1
                      ? PQgetvalue (res, 0, 0) : NULL;
    int go = 0;
    if (!res)
        reply_unavailable (reply);          //  the chunk stays pending; its lease brings it back
    else
    if (!state) {
        log_error ("event=chunk_start_failed rid=%s job=%s seq=%s sqlstate=%s", call->rid,
                   job_id, seq, db_sqlstate (res));
        reply_internal (reply);
    }
    else
    if (!strcmp (state, "started"))
        go = 1;
    else
    if (!strcmp (state, "exhausted")) {
        log_error ("event=job_failed rid=%s job=%s seq=%s code=chunk_failed max_starts=%s",
                   call->rid, job_id, seq, max);
        s_publish (call->outbox, EVENT_FAILED, PQgetvalue (res, 0, 1));
        reply_error (reply, 500, "chunk_failed", "The chunk could not be processed.", NULL);
    }
    else
        s_chunk_state (reply, state);
    PQclear (res);
    return go;
}

//  Runs a started chunk's statement (job_process_chunk, or job_plan for the plan chunk):
//  one transaction, tried again a few times when PostgreSQL rejects it, and then the job
//  fails naming the chunk. Returns the statement's row, or NULL with reply filled.
static PGresult *
s_chunk_run (svc_call_t *call, const char *job_id, const char *seq, const char *stmt,
             int nparams, const char *const *params, reply_t *reply)
{
    int delay_ms = 100;
    for (int attempt = 1; ; attempt++) {
        PGresult *res = db_exec (call->db, stmt, nparams, params);
        if (!res) {
            //  The database is away: the chunk stays pending and its lease brings it back.
            reply_unavailable (reply);
            return NULL;
        }
        if (PQresultStatus (res) == PGRES_TUPLES_OK)
            return res;
        log_warn ("event=chunk_rejected rid=%s job=%s seq=%s attempt=%d sqlstate=%s",
                  call->rid, job_id, seq, attempt, db_sqlstate (res));
        PQclear (res);
        if (attempt == JOBS_CHUNK_RETRIES) {
            char msg [128];
            snprintf (msg, sizeof msg, "chunk %s was rejected by the database %d times", seq, attempt);
            s_fail_job (call, job_id, "chunk_failed", msg);
            reply_error (reply, 500, "chunk_failed", "The chunk could not be processed.", NULL);
            return NULL;
        }
        db_pause (call->db, delay_ms);    //  heartbeats go on meanwhile
        delay_ms *= 3;
    }
}

//  The plan chunk (seq -1) of a job by scope: expands the scope into the job's chunks in
//  one transaction (job_plan), then announces the job running with its total (or failed:
//  the set outgrew expectedTotal) and sends its first chunks.
static void
s_plan (svc_call_t *call, const char *job_id, const char *seq, reply_t *reply)
{
    jobscope_plan_t plan;
    int ready = jobscope_plan_prepare (call, job_id, &plan);
    PGresult *res = NULL;
    if (ready < 0) {
        if (db_connected (call->db))
            s_fail_job (call, job_id, "plan_failed", "the job's scope could not be expanded");
        reply_unavailable (reply);
    }
    else
    if (ready == 0)
        s_chunk_state (reply, "skipped");
    else
        res = s_chunk_run (call, job_id, seq, plan.name, plan.nparams, plan.params, reply);
    jobscope_plan_free (&plan);
    if (!res)
        return;
    const char *state = PQgetvalue (res, 0, 0);
    if (!strcmp (state, "planned")) {
        s_publish (call->outbox, EVENT_PROGRESS, PQgetvalue (res, 0, 1));
        int next, sent = 0;
        for (const char *p = PQgetvalue (res, 0, 2); (p = pgbin_int_next (p, &next)); sent++)
            outbox_dispatch (call->outbox, job_id, next);
        log_info ("event=job_planned rid=%s job=%s chunks_sent=%d", call->rid, job_id, sent);
    }
    else
    if (!strcmp (state, "failed")) {
        log_warn ("event=job_failed rid=%s job=%s code=filter_changed", call->rid, job_id);
        s_publish (call->outbox, EVENT_FAILED, PQgetvalue (res, 0, 1));
    }
    s_chunk_state (reply, !strcmp (state, "missing") ? "missing" : "done");
    PQclear (res);
}

static void
s_chunk (svc_call_t *call, reply_t *reply)
{
    const char *job_id = s_str (call->payload, "jobId");
    json_t *seq_v = json_object_get (call->payload, "seq");
    if (!job_id || !uuid_valid (job_id) || !json_is_integer (seq_v)
    ||  json_integer_value (seq_v) < -1 || json_integer_value (seq_v) > 10000000) {
        reply_error (reply, 400, "bad_request", "A chunk request names a jobId and a seq.", NULL);
        return;
    }
    char seq [24];
    snprintf (seq, sizeof seq, "%lld", (long long) json_integer_value (seq_v));
    if (!s_chunk_start (call, job_id, seq, reply))
        return;
    if (json_integer_value (seq_v) < 0) {
        s_plan (call, job_id, seq, reply);
        return;
    }
    const char *params [] = { job_id, seq };
    PGresult *res = s_chunk_run (call, job_id, seq, "j_chunk", 2, params, reply);
    if (!res)
        return;
    const char *state = PQgetvalue (res, 0, 0);
    if (!strcmp (state, "done")) {
        //  Which worker (inst=, and the host its log lives on) did which chunk: nothing in
        //  PostgreSQL says, and a job spread over hosts is checked by it (tests/scale).
        log_debug ("event=chunk_done rid=%s job=%s seq=%s", call->rid, job_id, seq);
        s_publish (call->outbox, EVENT_PROGRESS, PQgetvalue (res, 0, 1));
        if (!PQgetisnull (res, 0, 2))
            outbox_dispatch (call->outbox, job_id, atoi (PQgetvalue (res, 0, 2)));
    }
    s_chunk_state (reply, state);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------
//  jobs.cancel, jobs.resume (jobs.get and jobs.list: jobsread.c)

//  A job action that answers once per request: cancel, resume.
typedef struct {
    const char *verb;               //  in messages and log events
    const char *stmt;               //  (id, extra...) -> outcome, job [, ...]
    int extra_n;
    const char *done;               //  the outcome of a call that changed the job
    const char *conflict;           //  409's code, for a job not in the state the action needs
    const char *conflict_msg;       //  its message; %s is the job's status
    bool owner_may;                 //  its creator may, not only an admin
} s_action_t;

//  For a creator's action: 0 when job id is the caller's; else 1 with the reply filled
//  (404 as for anyone else's job, which agents cannot see).
static int
s_not_theirs (svc_call_t *call, uint64_t gen, const char *id, reply_t *reply)
{
    const char *params [] = { id, call->user };
    PGresult *res = db_exec_in (call->db, gen, "j_owner", 2, params, NULL, NULL);
    int rc = 1;
    if (!res)
        reply_unavailable (reply);
    else
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        reply_internal (reply);
    else
    if (PQntuples (res) == 0)
        reply_error (reply, 404, "not_found", "No such job.", NULL);
    else
        rc = 0;
    PQclear (res);
    return rc;
}

//  Fills reply with the 404 or 409 for a job the action did not change. res: its row.
static void
s_action_refused (reply_t *reply, const s_action_t *a, PGresult *res)
{
    if (!strcmp (PQgetvalue (res, 0, 0), "not_found")) {
        reply_error (reply, 404, "not_found", "No such job.", NULL);
        return;
    }
    json_t *job = s_parse (PQgetvalue (res, 0, 1));
    const char *status = json_string_value (json_object_get (job, "status"));
    char msg [128];
    snprintf (msg, sizeof msg, a->conflict_msg, status ? status : "not in that state");
    reply_error (reply, 409, a->conflict, msg, NULL);
    json_decref (job);
}

//  Runs an admin's job action in one transaction with the record of its answer (replay.c),
//  so an action the broker re-delivers after its worker died past COMMIT finds the job
//  changed by this very request and answers its 200 again; any other request for a job
//  not in the state the action needs is 409. Returns the statement's row when this call
//  changed the job and its answer committed (the caller announces it, then PQclears);
//  else NULL with reply filled.
static PGresult *
s_action (svc_call_t *call, reply_t *reply, const s_action_t *a, const char *const *extra)
{
    bool admin = call->role == SVC_ROLE_ADMIN;
    if (!admin && !a->owner_may) {
        char msg [64];
        snprintf (msg, sizeof msg, "Only admins can %s jobs.", a->verb);
        reply_error (reply, 403, "forbidden", msg, NULL);
        return NULL;
    }
    const char *id = s_str (call->payload, "id");
    if (!id || !uuid_valid (id)) {
        reply_error (reply, 404, "not_found", "No such job.", NULL);
        return NULL;
    }
    uint64_t gen = replay_begin (call, reply);
    if (!gen)
        return NULL;
    if (!admin && s_not_theirs (call, gen, id, reply)) {
        replay_end (call, gen, false, reply);
        return NULL;
    }
    const char *params [3] = { id };
    for (int i = 0; i < a->extra_n; i++)
        params [i + 1] = extra [i];
    PGresult *res = db_exec_in (call->db, gen, a->stmt, a->extra_n + 1, params, NULL, NULL);
    bool ok = res && PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1;
    bool changed = ok && !strcmp (PQgetvalue (res, 0, 0), a->done);
    if (!res)
        reply_unavailable (reply);          //  the transaction died with the connection
    else
    if (!ok) {
        log_error ("event=job_%s_failed rid=%s job=%s sqlstate=%s", a->verb, call->rid, id,
                   db_sqlstate (res));
        reply_internal (reply);
    }
    else
    if (changed)
        reply_json (reply, 200, s_parse (PQgetvalue (res, 0, 1)));
    else
        s_action_refused (reply, a, res);
    //  A re-delivered action finds the job changed by its own first run: replay_end
    //  answers that run's 200 rather than this 409.
    if (replay_end (call, gen, ok, reply) == 0 && changed)
        return res;
    PQclear (res);
    return NULL;
}

static const s_action_t s_cancel_action = {
    "cancel", "j_end", 2, "ended", "job_finished", "The job has already finished (%s).", true
};

static void
s_cancel (svc_call_t *call, reply_t *reply)
{
    const char *extra [] = { "canceled", NULL };
    PGresult *res = s_action (call, reply, &s_cancel_action, extra);
    if (res) {
        s_publish (call->outbox, EVENT_CANCELED, PQgetvalue (res, 0, 1));
        log_info ("event=job_canceled rid=%s job=%s", call->rid, s_str (call->payload, "id"));
    }
    PQclear (res);
}

static const s_action_t s_resume_action = {
    "resume", "j_resume", 1, "resumed", "job_not_failed",
    "Only a failed job can be resumed; this one is %s.", false
};

//  Re-opens a failed job's unfinished chunks (sql/0007, job_resume), then announces the job
//  running again and sends the first window of them.
static void
s_resume (svc_call_t *call, reply_t *reply)
{
    char window [24];
    snprintf (window, sizeof window, "%ld", call->jobs->window);
    const char *extra [] = { window };
    PGresult *res = s_action (call, reply, &s_resume_action, extra);
    if (!res)
        return;
    const char *id = s_str (call->payload, "id");
    s_publish (call->outbox, EVENT_PROGRESS, PQgetvalue (res, 0, 1));
    int seq, sent = 0;
    for (const char *p = PQgetvalue (res, 0, 2); (p = pgbin_int_next (p, &seq)); sent++)
        outbox_dispatch (call->outbox, id, seq);
    log_info ("event=job_resumed rid=%s job=%s chunks_sent=%d", call->rid, id, sent);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------
//  The sweeper: re-sends chunks whose lease ran out. It counts no start and fails no job,
//  so no outage of any length can fail one.

static void
s_resend (db_t *db, outbox_t *outbox, const jobs_config_t *jobs)
{
    //  While the link has no broker a re-send would only wait in the DEALER, to reach the
    //  broker later as a duplicate; once it is back, every lease that ran out meanwhile is
    //  sent at once rather than after its back-off.
    outbox_broker_t broker = outbox_broker (outbox);
    if (broker == OUTBOX_BROKER_AWAY)
        return;
    char lease [24], max [24], batch [24];
    snprintf (lease, sizeof lease, "%ld", jobs->lease_ms);
    snprintf (max, sizeof max, "%d", JOBS_RESEND_MAX_MS);
    snprintf (batch, sizeof batch, "%d", JOBS_SWEEP_BATCH);
    const char *params [] = { lease, max, batch, broker == OUTBOX_BROKER_BACK ? "true" : "false" };
    PGresult *res = db_exec (db, "j_resend", 4, params);
    if (res && PQresultStatus (res) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples (res); i++) {
            const char *job_id = PQgetvalue (res, i, 0);
            log_warn ("event=chunk_resent job=%s seq=%s sends=%s", job_id,
                      PQgetvalue (res, i, 1), PQgetvalue (res, i, 2));
            outbox_dispatch (outbox, job_id, atoi (PQgetvalue (res, i, 1)));
        }
        if (PQntuples (res) < JOBS_SWEEP_BATCH)
            outbox_broker_caught_up (outbox);
    }
    else
    if (res)
        log_warn ("event=sweep_failed sqlstate=%s", db_sqlstate (res));
    PQclear (res);
}

static void
s_idle (db_t *db, outbox_t *outbox, const jobs_config_t *jobs)
{
    if (!db_connected (db))
        return;
    s_resend (db, outbox, jobs);
}

static const svc_entry_t s_entries [] = {
    { SVC_JOBS_CREATE, s_create, true, true, NULL, NULL, false },
    { SVC_JOBS_GET,    jobsread_get,  true, false, NULL, NULL, false },
    { SVC_JOBS_LIST,   jobsread_list, true, false, NULL, NULL, false },
    { SVC_JOBS_CANCEL, s_cancel, true, false, NULL, NULL, false },
    { SVC_JOBS_RESUME, s_resume, true, false, NULL, NULL, false },
    { SVC_JOBS_CHUNK,  s_chunk,  false, false, NULL, NULL, true },
};

const svc_family_t jobs_family = {
    "jobs", s_entries, sizeof s_entries / sizeof s_entries [0],
    s_stmts, sizeof s_stmts / sizeof s_stmts [0], NULL, s_idle
};
