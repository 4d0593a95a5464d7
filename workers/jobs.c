/*  jobs: bulk-delete jobs. The transactions live in sql/0002_jobs.sql (job_create,
    job_process_chunk, job_end, job_sweep, job_items), one statement each, so a chunk is
    one round trip and one transaction. This file validates, calls them, publishes the
    events after commit and keeps each job's window of chunks moving. Since events may be
    lost, it also re-publishes the live jobs' state and answers the hub's jobs.live
    (sql/0008_job_versions.sql).  */
#include "jobs.h"
#include "dupes.h"
#include "jobids.h"
#include "pgbin.h"
#include "replay.h"
#include "../common/log.h"
#include "../proto/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOBS_SWEEP_BATCH    100     //  chunks re-sent per sweep and worker
#define JOBS_CHUNK_RETRIES  3       //  a chunk the database rejects is tried this often
#define JOBS_CREATE_BATCH   65536   //  ids per create statement: 1.3 MB of binary uuid[]
#define JOBS_DUPLICATE      "duplicate" //  the outcome of an id that repeats an earlier one
//  Re-publication: one round for the whole cluster every 2 s, of at most 500 jobs, covering
//  jobs that finished in the last 10 s too (a lost final event is the one that matters).
#define JOBS_REPUBLISH_MS           2000
#define JOBS_REPUBLISH_BATCH        500
#define JOBS_REPUBLISH_FINISHED_MS  10000
//  jobs.live answers at most this many jobs (< 1 KiB each), finished within at most an hour.
#define JOBS_LIVE_MAX               1000
#define JOBS_LIVE_FINISHED_MAX_MS   3600000

static const db_stmt_t s_stmts [] = {
    //  Not retried on a fresh connection by db: a lost answer could hide a commit. It is
    //  idempotent by its id anyway (the edge retries nothing; the broker may re-deliver).
    { "j_create",
      "SELECT outcome, job::text, dispatch::text FROM job_create($1::uuid, $2::uuid, $3, $4::int,"
      " $5::uuid[], $6::text[], $7::int, $8, $9, $10::int, $11::int)", false },
    //  Further batches of a job too big for one statement, in the creator's transaction.
    { "j_add", "SELECT job_add_chunks($1::uuid, $2::int, $3::uuid[], $4::text[], $5::int, $6::int)", false },
    //  Exactly-once effect (the chunk row must still be pending), so retrying is safe.
    { "j_chunk", "SELECT state, job::text, next_seq FROM job_process_chunk($1::uuid, $2::int)", true },
    { "j_end", "SELECT outcome, job::text FROM job_end($1::uuid, $2, $3::jsonb)", true },
    { "j_sweep", "SELECT job_id, seq, failed_job::text FROM job_sweep($1::int, $2::int, $3::int)", true },
    { "j_get",
      "SELECT job_json(j)::text, i.items::text, i.total FROM jobs j,"
      " LATERAL job_items(j.id, $2, $3::int, $4::int) i"
      " WHERE j.id = $1::uuid AND ($5::bool OR j.created_by = $6::uuid)", true },
    { "j_count",
      "SELECT count(*) FROM jobs WHERE ($1::text IS NULL OR type = $1)"
      " AND ($2::text IS NULL OR status = $2) AND ($3::bool OR created_by = $4::uuid)", true },
    { "j_page",
      "SELECT job_json(j)::text FROM jobs j WHERE ($1::text IS NULL OR type = $1)"
      " AND ($2::text IS NULL OR status = $2) AND ($3::bool OR created_by = $4::uuid)"
      " ORDER BY created_at DESC, id DESC LIMIT $5::int OFFSET $6::int", true },
    { "j_live", "SELECT data::text, more FROM job_live($1::int, $2::int)", true },
    //  Not retried: a lost answer may hide a round that was taken (the next one comes 2 s later).
    { "j_republish", "SELECT job_id, job_status, job::text FROM job_republish_round($1::int, $2::int, $3::int)",
      false },
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

//  An integer field in [min, max], dflt when absent; -1 (and a detail) when bad.
static int
s_int (json_t *payload, const char *key, long dflt, long min, long max, long *out, json_t *details)
{
    json_t *v = json_object_get (payload, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer (v) || json_integer_value (v) < min || json_integer_value (v) > max) {
        char msg [80];
        snprintf (msg, sizeof msg, "must be a whole number from %ld to %ld", min, max);
        reply_detail (details, key, msg);
        return -1;
    }
    *out = (long) json_integer_value (v);
    return 0;
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
    bool *dup;                      //  n marks: this id repeats an earlier one
    long dups;
    unsigned char *buf_ids;         //  one statement's binary uuid[]
    unsigned char *buf_marks;       //  and its binary text[] of outcomes
    uint64_t gen;                   //  the transaction's connection when batched, else 0
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
}

//  Validates the request into c. 0, or -1 with reply filled.
static int
s_create_read (svc_call_t *call, s_create_t *c, reply_t *reply)
{
    if (call->role != SVC_ROLE_ADMIN) {
        reply_error (reply, 403, "forbidden", "Only admins can start jobs.", NULL);
        return -1;
    }
    json_t *details = json_array ();
    c->id = s_str (call->payload, "id");
    if (!c->id || !uuid_valid (c->id))
        reply_detail (details, "id", "must be a uuid");
    c->type = s_str (call->payload, "type");
    s_check_in (details, "type", c->type ? c->type : "", vocab_job_types);
    json_t *key_v = json_object_get (call->payload, "idempotencyKey");
    c->key = json_string_value (key_v);
    if (key_v && !json_is_null (key_v) && (!c->key || !*c->key || strlen (c->key) > VOCAB_IDEMPOTENCY_KEY_MAX)) {
        char msg [64];
        snprintf (msg, sizeof msg, "must be a string of 1 to %d characters", VOCAB_IDEMPOTENCY_KEY_MAX);
        reply_detail (details, "idempotencyKey", msg);
    }
    if (json_array_size (details) == 0
    &&  jobids_read (call, call->jobs->max_items, &c->ids, &c->owned, &c->n, details)
    &&  json_array_size (details) == 0) {
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
    if (c->key)
        jobids_hash (c->type, c->ids, c->n, c->hash);
    snprintf (c->total, sizeof c->total, "%zu", c->n);
    snprintf (c->chunk_s, sizeof c->chunk_s, "%zu", c->chunk);
    snprintf (c->max_active, sizeof c->max_active, "%ld", cfg->max_active);
    snprintf (c->window, sizeof c->window, "%ld", cfg->window);
    return 0;
}

#define JOBS_BATCH_PARAMS 12

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
    lengths [at] = pgbin_uuid_array (c->buf_ids, c->ids + 16 * from, n);
    formats [at] = 1;
    params [at++] = (const char *) c->buf_ids;
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
//  (the transaction rolled back, or died with its connection).
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
            if (add) {
                db_rollback (c->call->db, c->gen);
                reply_internal (reply);
            }
            else
                reply_unavailable (reply);
            PQclear (add);
            return -1;
        }
        PQclear (add);
    }
    return 0;
}

//  Inserts the job: one statement, or, for more ids than one carries, one transaction over
//  all of them, so the job is whole or absent. Returns job_create's row (the caller
//  PQclears it), or NULL with reply filled.
static PGresult *
s_create_insert (s_create_t *c, reply_t *reply)
{
    size_t first = c->n < c->per ? c->n : c->per;
    bool batched = c->n > first;
    if (batched && !(c->gen = db_begin (c->call->db))) {
        reply_unavailable (reply);
        return NULL;
    }
    const char *head [] = { c->id, c->call->user, c->type, c->total };
    const char *tail [] = { c->chunk_s, c->key, c->key ? c->hash : NULL, c->max_active, c->window };
    PGresult *res = s_create_batch (c, "j_create", head, 4, tail, 5, 0, first);
    if (!res) {
        reply_unavailable (reply);          //  a transaction died with the connection
        return NULL;
    }
    if (PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1) {
        log_error ("event=job_create_failed rid=%s job=%s sqlstate=%s", c->call->rid, c->id,
                   db_sqlstate (res));
        PQclear (res);
        db_rollback (c->call->db, c->gen);
        reply_internal (reply);
        return NULL;
    }
    if (!batched)
        return res;
    //  Only a created job has more batches; any other outcome wrote nothing to keep.
    bool created = !strcmp (PQgetvalue (res, 0, 0), "created");
    if (!created)
        db_rollback (c->call->db, c->gen);
    else
    if (s_create_rest (c, first, reply))
        goto fail;
    else
    if (db_commit (c->call->db, c->gen)) {
        log_error ("event=job_create_failed rid=%s job=%s msg=\"commit not confirmed\"",
                   c->call->rid, c->id);
        reply_unavailable (reply);
        goto fail;
    }
    return res;
fail:
    PQclear (res);
    return NULL;
}

//  Answers from job_create's row; a job created now is announced, then its first chunks go out.
static void
s_create_answer (s_create_t *c, PGresult *res, reply_t *reply)
{
    const char *outcome = PQgetvalue (res, 0, 0);
    const char *job_text = PQgetvalue (res, 0, 1);
    if (!strcmp (outcome, "too_many_active")) {
        char msg [96];
        snprintf (msg, sizeof msg, "You have %ld jobs queued or running; wait for one to finish.",
                  c->call->jobs->max_active);
        reply_error (reply, 429, "too_many_jobs", msg, NULL);
        return;
    }
    if (!strcmp (outcome, "key_reused")) {
        reply_error (reply, 422, "idempotency_key_reused",
                     "This Idempotency-Key was used with a different request.", NULL);
        return;
    }
    reply_json (reply, !strcmp (outcome, "replayed") ? 200 : 202, s_parse (job_text));
    if (strcmp (outcome, "created") || PQgetisnull (res, 0, 2))
        return;
    //  Announce first, then send the chunks: jobs:created precedes any progress.
    s_publish (c->call->outbox, EVENT_CREATED, job_text);
    int seq;
    for (const char *p = PQgetvalue (res, 0, 2); (p = pgbin_int_next (p, &seq)); )
        outbox_dispatch (c->call->outbox, c->id, seq);
    log_info ("event=job_created rid=%s job=%s items=%zu duplicates=%ld batches=%zu",
              c->call->rid, c->id, c->n, c->dups, (c->n + c->per - 1) / c->per);
}

static void
s_create (svc_call_t *call, reply_t *reply)
{
    s_create_t c = { .call = call };
    if (s_create_read (call, &c, reply) == 0) {
        if (s_create_prepare (&c))
            reply_internal (reply);
        else {
            PGresult *res = s_create_insert (&c, reply);
            if (res)
                s_create_answer (&c, res, reply);
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

static void
s_chunk (svc_call_t *call, reply_t *reply)
{
    const char *job_id = s_str (call->payload, "jobId");
    json_t *seq_v = json_object_get (call->payload, "seq");
    if (!job_id || !uuid_valid (job_id) || !json_is_integer (seq_v)
    ||  json_integer_value (seq_v) < 0 || json_integer_value (seq_v) > 10000000) {
        reply_error (reply, 400, "bad_request", "A chunk request names a jobId and a seq.", NULL);
        return;
    }
    char seq [24];
    snprintf (seq, sizeof seq, "%lld", (long long) json_integer_value (seq_v));
    const char *params [] = { job_id, seq };
    PGresult *res = NULL;
    int delay_ms = 100;
    for (int attempt = 1; ; attempt++) {
        res = db_exec (call->db, "j_chunk", 2, params);
        if (!res) {
            //  The database is away: the chunk stays pending and its lease brings it back.
            reply_unavailable (reply);
            return;
        }
        if (PQresultStatus (res) == PGRES_TUPLES_OK)
            break;
        log_warn ("event=chunk_rejected rid=%s job=%s seq=%s attempt=%d sqlstate=%s",
                  call->rid, job_id, seq, attempt, db_sqlstate (res));
        PQclear (res);
        res = NULL;
        if (attempt == JOBS_CHUNK_RETRIES) {
            char msg [128];
            snprintf (msg, sizeof msg, "The database rejected chunk %s %d times.", seq, attempt);
            s_fail_job (call, job_id, "chunk_failed", msg);
            reply_error (reply, 500, "chunk_failed", "The chunk could not be processed.", NULL);
            return;
        }
        zclock_sleep (delay_ms);
        delay_ms *= 3;
    }
    const char *state = PQgetvalue (res, 0, 0);
    if (!strcmp (state, "missing"))
        reply_error (reply, 404, "not_found", "No such chunk.", NULL);
    else {
        if (!strcmp (state, "done")) {
            const char *job_text = PQgetvalue (res, 0, 1);
            s_publish (call->outbox, EVENT_PROGRESS, job_text);
            if (!PQgetisnull (res, 0, 2))
                outbox_dispatch (call->outbox, job_id, atoi (PQgetvalue (res, 0, 2)));
        }
        reply_json (reply, 200, json_pack ("{s:s}", "state", state));
    }
    PQclear (res);
}

//  ---------------------------------------------------------------------------------
//  jobs.get, jobs.list, jobs.cancel

static void
s_get (svc_call_t *call, reply_t *reply)
{
    json_t *details = json_array ();
    const char *id = s_str (call->payload, "id");
    long page, limit;
    s_int (call->payload, "itemsPage", 1, 1, 1000000000, &page, details);
    s_int (call->payload, "itemsLimit", VOCAB_ITEMS_LIMIT_DEFAULT, 1, VOCAB_ITEMS_LIMIT_MAX, &limit, details);
    const char *status = s_str (call->payload, "itemStatus");
    s_check_in (details, "itemStatus", status, vocab_job_item_statuses);
    if (json_array_size (details) == 0 && (page - 1) * limit > 2000000000L)
        reply_detail (details, "itemsPage", "is past any job's last item");
    if (json_array_size (details)) {
        reply_invalid (reply, details);
        return;
    }
    json_decref (details);
    if (!id || !uuid_valid (id)) {
        reply_error (reply, 404, "not_found", "No such job.", NULL);
        return;
    }
    char lim [24], off [24];
    snprintf (lim, sizeof lim, "%ld", limit);
    snprintf (off, sizeof off, "%ld", (page - 1) * limit);
    const char *params [] = { id, status, lim, off,
                              call->role == SVC_ROLE_ADMIN ? "true" : "false", call->user };
    PGresult *res = db_exec (call->db, "j_get", 6, params);
    if (!res)
        reply_unavailable (reply);
    else
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("event=job_get_failed rid=%s sqlstate=%s", call->rid, db_sqlstate (res));
        reply_internal (reply);
    }
    else
    if (PQntuples (res) == 0)
        reply_error (reply, 404, "not_found", "No such job.", NULL);
    else {
        json_t *job = s_parse (PQgetvalue (res, 0, 0));
        json_object_set_new (job, "items", s_parse (PQgetvalue (res, 0, 1)));
        json_object_set_new (job, "itemsTotal", json_integer (PQgetisnull (res, 0, 2)
                                                              ? 0 : atoll (PQgetvalue (res, 0, 2))));
        json_object_set_new (job, "itemsPage", json_integer (page));
        json_object_set_new (job, "itemsLimit", json_integer (limit));
        reply_json (reply, 200, job);
    }
    PQclear (res);
}

static void
s_list (svc_call_t *call, reply_t *reply)
{
    json_t *details = json_array ();
    long page, limit;
    s_int (call->payload, "page", 1, 1, 10000000, &page, details);
    s_int (call->payload, "limit", VOCAB_LIMIT_DEFAULT, 1, VOCAB_LIMIT_MAX, &limit, details);
    const char *type = s_str (call->payload, "type");
    s_check_in (details, "type", type, vocab_job_types);
    const char *status = s_str (call->payload, "status");
    s_check_in (details, "status", status, vocab_job_statuses);
    if (json_array_size (details)) {
        reply_invalid (reply, details);
        return;
    }
    json_decref (details);
    const char *admin = call->role == SVC_ROLE_ADMIN ? "true" : "false";
    const char *cparams [] = { type, status, admin, call->user };
    PGresult *res = db_exec (call->db, "j_count", 4, cparams);
    if (!res || PQresultStatus (res) != PGRES_TUPLES_OK) {
        res ? reply_internal (reply) : reply_unavailable (reply);
        PQclear (res);
        return;
    }
    long long total = atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    json_t *data = json_array ();
    if ((page - 1) * limit < total) {
        char lim [24], off [24];
        snprintf (lim, sizeof lim, "%ld", limit);
        snprintf (off, sizeof off, "%ld", (page - 1) * limit);
        const char *params [] = { type, status, admin, call->user, lim, off };
        res = db_exec (call->db, "j_page", 6, params);
        if (!res || PQresultStatus (res) != PGRES_TUPLES_OK) {
            res ? reply_internal (reply) : reply_unavailable (reply);
            PQclear (res);
            json_decref (data);
            return;
        }
        for (int i = 0; i < PQntuples (res); i++)
            json_array_append_new (data, s_parse (PQgetvalue (res, i, 0)));
        PQclear (res);
    }
    reply_json (reply, 200, json_pack ("{s:o,s:i,s:i,s:I,s:I}", "data", data, "page", (int) page,
                                       "limit", (int) limit, "total", (json_int_t) total,
                                       "totalPages", (json_int_t) ((total + limit - 1) / limit)));
}

//  One transaction: the cancel and the record of its answer (replay.c), so a cancel the
//  broker re-delivers after its worker died past COMMIT finds the job canceled by this very
//  request and answers its 200 again; any other cancel of a finished job is 409.
static void
s_cancel (svc_call_t *call, reply_t *reply)
{
    if (call->role != SVC_ROLE_ADMIN) {
        reply_error (reply, 403, "forbidden", "Only admins can cancel jobs.", NULL);
        return;
    }
    const char *id = s_str (call->payload, "id");
    if (!id || !uuid_valid (id)) {
        reply_error (reply, 404, "not_found", "No such job.", NULL);
        return;
    }
    uint64_t gen = replay_begin (call, reply);
    if (!gen)
        return;
    const char *params [] = { id, "canceled", NULL };
    PGresult *res = db_exec_in (call->db, gen, "j_end", 3, params, NULL, NULL);
    if (!res) {
        reply_unavailable (reply);          //  the transaction died with the connection
        return;
    }
    if (PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1) {
        log_error ("event=job_cancel_failed rid=%s job=%s sqlstate=%s", call->rid, id, db_sqlstate (res));
        replay_rollback (call, gen);
        reply_internal (reply);
    }
    else
    if (!strcmp (PQgetvalue (res, 0, 0), "ended")) {
        reply_json (reply, 200, s_parse (PQgetvalue (res, 0, 1)));
        if (replay_commit (call, gen, reply) == 0) {
            s_publish (call->outbox, EVENT_CANCELED, PQgetvalue (res, 0, 1));
            log_info ("event=job_canceled rid=%s job=%s", call->rid, id);
        }
    }
    else {
        replay_rollback (call, gen);        //  job_end wrote nothing
        if (!strcmp (PQgetvalue (res, 0, 0), "not_found"))
            reply_error (reply, 404, "not_found", "No such job.", NULL);
        else {
            int found = replay_lookup (call, reply);
            if (found == 0)
                reply_error (reply, 409, "job_finished", "The job has already finished.", NULL);
            else
            if (found > 0)
                log_info ("event=job_cancel_replayed rid=%s job=%s", call->rid, id);
        }
    }
    PQclear (res);
}

//  ---------------------------------------------------------------------------------
//  jobs.live and re-publication: the state of the live jobs, for whoever missed events

//  Every user's live jobs, for the hub's cache (it scopes them per WebSocket user); the
//  broker takes this request from the hub's key only. Read-only and bounded.
static void
s_live (svc_call_t *call, reply_t *reply)
{
    json_t *details = json_array ();
    long within, limit;
    s_int (call->payload, "finishedWithinMs", 60000, 0, JOBS_LIVE_FINISHED_MAX_MS, &within, details);
    s_int (call->payload, "limit", JOBS_LIVE_MAX, 1, JOBS_LIVE_MAX, &limit, details);
    if (json_array_size (details)) {
        reply_invalid (reply, details);
        return;
    }
    json_decref (details);
    char within_s [24], limit_s [24];
    snprintf (within_s, sizeof within_s, "%ld", within);
    snprintf (limit_s, sizeof limit_s, "%ld", limit);
    const char *params [] = { within_s, limit_s };
    PGresult *res = db_exec (call->db, "j_live", 2, params);
    if (!res || PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1) {
        if (res)
            log_error ("event=jobs_live_failed rid=%s sqlstate=%s", call->rid, db_sqlstate (res));
        res ? reply_internal (reply) : reply_unavailable (reply);
    }
    else
        reply_json (reply, 200, json_pack ("{s:o,s:b}", "data", s_parse (PQgetvalue (res, 0, 0)),
                                           "more", PQgetvalue (res, 0, 1) [0] == 't'));
    PQclear (res);
}

//  Publishes the state of live jobs again, the cluster's round when it is due (any
//  worker's idle call may take it; the others find it taken), so that a subscriber that
//  missed events, a final one above all, has the current state within seconds.
static void
s_republish (db_t *db, outbox_t *outbox)
{
    char every [24], batch [24], finished [24];
    snprintf (every, sizeof every, "%d", JOBS_REPUBLISH_MS);
    snprintf (batch, sizeof batch, "%d", JOBS_REPUBLISH_BATCH);
    snprintf (finished, sizeof finished, "%d", JOBS_REPUBLISH_FINISHED_MS);
    const char *params [] = { every, batch, finished };
    PGresult *res = db_exec (db, "j_republish", 3, params);
    if (res && PQresultStatus (res) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples (res); i++)
            outbox_publish (outbox, event_kind_of_status (PQgetvalue (res, i, 1)),
                            PQgetvalue (res, i, 0), PQgetvalue (res, i, 2));
        if (PQntuples (res))
            log_debug ("event=jobs_republished jobs=%d", PQntuples (res));
    }
    else
    if (res)
        log_warn ("event=republish_failed sqlstate=%s", db_sqlstate (res));
    PQclear (res);
}

//  ---------------------------------------------------------------------------------
//  The sweeper: re-sends chunks whose lease ran out, announces jobs it failed.

static void
s_idle (db_t *db, outbox_t *outbox, const jobs_config_t *jobs)
{
    if (!db_connected (db))
        return;
    char lease [24], batch [24], attempts [24];
    snprintf (lease, sizeof lease, "%ld", jobs->lease_ms);
    snprintf (batch, sizeof batch, "%d", JOBS_SWEEP_BATCH);
    snprintf (attempts, sizeof attempts, "%ld", jobs->max_attempts);
    const char *params [] = { lease, batch, attempts };
    PGresult *res = db_exec (db, "j_sweep", 3, params);
    if (res && PQresultStatus (res) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples (res); i++) {
            const char *job_id = PQgetvalue (res, i, 0);
            if (PQgetisnull (res, i, 1)) {
                log_error ("event=job_failed job=%s code=chunk_failed", job_id);
                s_publish (outbox, EVENT_FAILED, PQgetvalue (res, i, 2));
            }
            else {
                log_warn ("event=chunk_lease_expired job=%s seq=%s", job_id, PQgetvalue (res, i, 1));
                outbox_dispatch (outbox, job_id, atoi (PQgetvalue (res, i, 1)));
            }
        }
    }
    else
    if (res)
        log_warn ("event=sweep_failed sqlstate=%s", db_sqlstate (res));
    PQclear (res);
    s_republish (db, outbox);
}

static const svc_entry_t s_entries [] = {
    { SVC_JOBS_CREATE, s_create, true, true },
    { SVC_JOBS_GET,    s_get,    true, false },
    { SVC_JOBS_LIST,   s_list,   true, false },
    { SVC_JOBS_CANCEL, s_cancel, true, false },
    { SVC_JOBS_CHUNK,  s_chunk,  false, false },
    { SVC_JOBS_LIVE,   s_live,   false, false },
};

const svc_family_t jobs_family = {
    "jobs", s_entries, sizeof s_entries / sizeof s_entries [0],
    s_stmts, sizeof s_stmts / sizeof s_stmts [0], NULL, s_idle
};
