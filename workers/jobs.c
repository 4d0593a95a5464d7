/*  jobs: bulk-delete jobs. The transactions live in sql/0002_jobs.sql (job_create,
    job_process_chunk, job_end, job_sweep, job_items), one statement each, so a chunk is
    one round trip and one transaction. This file validates, calls them, publishes the
    events after commit and keeps each job's window of chunks moving.  */
#include "jobs.h"
#include "dupes.h"
#include "replay.h"
#include "../common/conf.h"
#include "../common/log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Settings (environment, read once in s_init).
static long s_chunk_size;           //  CHUNK_SIZE: ids per chunk (one transaction)
static long s_window;               //  JOB_WINDOW: chunks of one job out at a time
static long s_max_active;           //  MAX_ACTIVE_JOBS: queued + running per user
static long s_max_items;            //  MAX_JOB_ITEMS: ids per job
static long s_lease_ms;             //  CHUNK_LEASE_MS: when a sent chunk is sent again
static long s_max_attempts;         //  CHUNK_MAX_ATTEMPTS: sends before the job fails

#define JOBS_SWEEP_BATCH    100     //  chunks re-sent per sweep and worker
#define JOBS_CHUNK_RETRIES  3       //  a chunk the database rejects is tried this often
#define JOBS_PAGE_MAX       100
#define JOBS_ITEMS_MAX      1000
#define JOBS_CREATE_BATCH   65536   //  ids per create statement: 1.3 MB of binary uuid[]

static const struct { const char *name, *sql; bool idempotent; } s_stmts [] = {
    //  Not retried on a fresh connection by db: a lost answer could hide a commit. It is
    //  idempotent by its id anyway (the edge retries nothing; the broker may re-deliver).
    { "j_create",
      "SELECT outcome, job::text, dispatch::text FROM job_create($1::uuid, $2::uuid, $3, $4::int,"
      " $5::uuid[], $6::text[], $7::int, $8, $9, $10::int, $11::int)", false },
    //  Further batches of a job too big for one statement, in the creator's transaction.
    { "j_add", "SELECT job_add_chunks($1::uuid, $2::int, $3::uuid[], $4::text[], $5::int, $6::int)", false },
    { "j_begin", "BEGIN", false },
    { "j_commit", "COMMIT", false },
    { "j_rollback", "ROLLBACK", false },
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
};

static const char *s_statuses [] = { "queued", "running", "completed", "failed", "canceled", NULL };
static const char *s_item_statuses [] = { "pending", "succeeded", "failed", "canceled", NULL };

static bool
s_in (const char *value, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp (value, *set))
            return true;
    return false;
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

//  Big-endian int32, as PostgreSQL's binary array format wants.
static unsigned char *
s_put32 (unsigned char *p, int32_t v)
{
    uint32_t u = (uint32_t) v;
    p [0] = (unsigned char) (u >> 24);
    p [1] = (unsigned char) (u >> 16);
    p [2] = (unsigned char) (u >> 8);
    p [3] = (unsigned char) u;
    return p + 4;
}

//  PostgreSQL's binary form (array_send) of a one-dimensional array header.
static unsigned char *
s_array_header (unsigned char *p, bool has_nulls, int32_t elem_oid, size_t n)
{
    p = s_put32 (p, 1);
    p = s_put32 (p, has_nulls);
    p = s_put32 (p, elem_oid);
    p = s_put32 (p, (int32_t) n);
    return s_put32 (p, 1);
}

#define JOBS_OID_UUID 2950
#define JOBS_OID_TEXT 25
#define JOBS_ARRAY_HEADER 20

//  A batch of ids as a binary uuid[] (20 bytes an id) into buf; returns its length.
static int
s_uuid_array (unsigned char *buf, const unsigned char *ids, size_t n)
{
    unsigned char *p = s_array_header (buf, false, JOBS_OID_UUID, n);
    for (size_t i = 0; i < n; i++) {
        p = s_put32 (p, 16);
        memcpy (p, ids + 16 * i, 16);
        p += 16;
    }
    return (int) (p - buf);
}

//  The batch's outcomes as a binary text[]: NULL, or 'duplicate' where dup[i]. Needs
//  n * 13 + 20 bytes at most; returns its length.
static int
s_outcome_array (unsigned char *buf, const bool *dup, size_t n)
{
    unsigned char *p = s_array_header (buf, true, JOBS_OID_TEXT, n);
    for (size_t i = 0; i < n; i++)
        if (dup [i]) {
            p = s_put32 (p, 9);
            memcpy (p, "duplicate", 9);
            p += 9;
        }
        else
            p = s_put32 (p, -1);
    return (int) (p - buf);
}

//  What "the same body" means for an Idempotency-Key: the same type and the same ids in
//  the same order, hashed as "type:{id,id,...}" with lower-case ids (whitespace, key order
//  and case in the JSON do not matter). Formatted in blocks, never as one string.
static void
s_hash (const char *type, const unsigned char *ids, size_t n, char out [EVP_MAX_MD_SIZE * 2 + 1])
{
    unsigned char md [EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char block [64 * (UUID_STRLEN + 1) + 2];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
    EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
    EVP_DigestUpdate (ctx, type, strlen (type));
    EVP_DigestUpdate (ctx, ":{", 2);
    for (size_t i = 0; i < n; ) {
        size_t used = 0;
        for (size_t k = 0; k < 64 && i < n; k++, i++) {
            if (i)
                block [used++] = ',';
            uuid_from_bytes (ids + 16 * i, block + used);
            used += UUID_STRLEN;
        }
        EVP_DigestUpdate (ctx, block, used);
    }
    EVP_DigestUpdate (ctx, "}", 1);
    EVP_DigestFinal_ex (ctx, md, &len);
    EVP_MD_CTX_free (ctx);
    for (unsigned int i = 0; i < len; i++)
        snprintf (out + 2 * i, 3, "%02x", md [i]);
}

//  The ids of a jobs.create request: the blob (16 bytes an id, with "count" in the
//  payload: what the edge sends) or, for clients speaking JSON only, a "ticketIds" array
//  of uuid strings. Returns a malloc'd copy in *owned only for the JSON form. 0, or -1
//  with details filled.
static int
s_request_ids (svc_call_t *call, const unsigned char **ids, unsigned char **owned, size_t *n,
               json_t *details)
{
    char msg [96];
    snprintf (msg, sizeof msg, "must be an array of 1 to %ld ticket ids", s_max_items);
    json_t *list = json_object_get (call->payload, "ticketIds");
    json_t *count = json_object_get (call->payload, "count");
    *owned = NULL;
    if (call->blob && !list) {
        if (!json_is_integer (count) || json_integer_value (count) < 1
        ||  json_integer_value (count) > s_max_items
        ||  (size_t) json_integer_value (count) * 16 != call->blob_size) {
            reply_detail (details, "count", "must be the number of 16-byte ids in the blob");
            return -1;
        }
        *ids = call->blob;
        *n = (size_t) json_integer_value (count);
        return 0;
    }
    size_t len = json_array_size (list);
    if (call->blob || !json_is_array (list) || len == 0 || (long) len > s_max_items) {
        reply_detail (details, "payload.ticketIds", msg);
        return -1;
    }
    *owned = (unsigned char *) malloc (16 * len);
    if (!*owned)
        return -1;
    for (size_t i = 0; i < len; i++) {
        json_t *v = json_array_get (list, i);
        if (!json_is_string (v)
        ||  uuid_to_bytes (json_string_value (v), json_string_length (v), *owned + 16 * i)) {
            char field [48];
            snprintf (field, sizeof field, "payload.ticketIds[%zu]", i);
            reply_detail (details, field, "must be a uuid");
            free (*owned);
            *owned = NULL;
            return -1;
        }
    }
    *ids = *owned;
    *n = len;
    return 0;
}

//  Runs one create statement (j_create or j_add): its head parameters, the batch [from,
//  from + n) of ids and their outcomes (binary arrays), then its tail parameters; inside
//  the transaction begun on connection gen when gen is not 0. Returns the result (NULL:
//  the connection is gone).
typedef struct {
    const char *stmt;
    const char *const *head;
    int head_n;
    const char *const *tail;
    int tail_n;
} s_batch_stmt_t;

#define JOBS_BATCH_PARAMS 12

static PGresult *
s_create_batch (svc_call_t *call, uint64_t gen, const s_batch_stmt_t *st,
                const unsigned char *ids, const bool *dup, long dups, size_t from, size_t n,
                unsigned char *buf_ids, unsigned char *buf_outcomes)
{
    const char *params [JOBS_BATCH_PARAMS];
    int lengths [JOBS_BATCH_PARAMS] = { 0 }, formats [JOBS_BATCH_PARAMS] = { 0 };
    int at = 0;
    for (int i = 0; i < st->head_n; i++)
        params [at++] = st->head [i];
    lengths [at] = s_uuid_array (buf_ids, ids + 16 * from, n);
    formats [at] = 1;
    params [at++] = (const char *) buf_ids;
    bool any = false;
    for (size_t i = from; dups > 0 && i < from + n && !any; i++)
        any = dup [i];
    params [at] = NULL;
    if (any) {
        lengths [at] = s_outcome_array (buf_outcomes, dup + from, n);
        formats [at] = 1;
        params [at] = (const char *) buf_outcomes;
    }
    at++;
    for (int i = 0; i < st->tail_n; i++)
        params [at++] = st->tail [i];
    return db_exec_in (call->db, gen, st->stmt, at, params, lengths, formats);
}

//  Ends the transaction of a multi-batch create. True when it committed on the connection
//  it began on (a reconnect in between means the work was lost with the old one).
static bool
s_end_transaction (svc_call_t *call, bool commit, uint64_t gen)
{
    PGresult *res = db_exec_in (call->db, gen, commit ? "j_commit" : "j_rollback", 0, NULL,
                                NULL, NULL);
    bool ok = res && PQresultStatus (res) == PGRES_COMMAND_OK;
    PQclear (res);
    return ok;
}

static void
s_create (svc_call_t *call, reply_t *reply)
{
    if (call->role != SVC_ROLE_ADMIN) {
        reply_error (reply, 403, "forbidden", "Only admins can start jobs.", NULL);
        return;
    }
    json_t *details = json_array ();
    const char *id = s_str (call->payload, "id");
    if (!id || !uuid_valid (id))
        reply_detail (details, "id", "must be a uuid");
    const char *type = s_str (call->payload, "type");
    if (!type || strcmp (type, "bulk-delete"))
        reply_detail (details, "type", "must be \"bulk-delete\"");
    json_t *key_v = json_object_get (call->payload, "idempotencyKey");
    const char *key = json_string_value (key_v);
    if (key_v && !json_is_null (key_v) && (!key || !*key || strlen (key) > 255))
        reply_detail (details, "idempotencyKey", "must be a string of 1 to 255 characters");
    const unsigned char *ids = NULL;
    unsigned char *owned = NULL;
    size_t n = 0;
    if (json_array_size (details) == 0 && s_request_ids (call, &ids, &owned, &n, details)
    &&  json_array_size (details) == 0) {
        json_decref (details);
        reply_internal (reply);
        return;
    }
    if (json_array_size (details)) {
        reply_invalid (reply, details);
        return;
    }
    json_decref (details);

    //  A statement carries at most a batch of whole chunks, and the first batch at least
    //  the window's chunks (job_create leases them).
    size_t chunk = (size_t) s_chunk_size;
    size_t per = JOBS_CREATE_BATCH / chunk * chunk;
    if (per < chunk * (size_t) s_window)
        per = chunk * (size_t) s_window;
    size_t first = n < per ? n : per;
    bool *dup = (bool *) malloc (n);
    unsigned char *buf_ids = (unsigned char *) malloc (JOBS_ARRAY_HEADER + first * 20);
    unsigned char *buf_outcomes = (unsigned char *) malloc (JOBS_ARRAY_HEADER + first * 13);
    long dups = dup ? dupes_mark (ids, n, dup) : -1;
    if (dups < 0 || !buf_ids || !buf_outcomes) {
        reply_internal (reply);
        goto done;
    }
    char hash [EVP_MAX_MD_SIZE * 2 + 1];
    if (key)
        s_hash (type, ids, n, hash);

    char total [24], chunk_s [24], max_active [24], window [24];
    snprintf (total, sizeof total, "%zu", n);
    snprintf (chunk_s, sizeof chunk_s, "%zu", chunk);
    snprintf (max_active, sizeof max_active, "%ld", s_max_active);
    snprintf (window, sizeof window, "%ld", s_window);
    //  More than one batch: one transaction over all of them, so the job is whole or absent.
    bool batched = n > first;
    uint64_t gen = 0;
    if (batched) {
        PGresult *res = db_exec (call->db, "j_begin", 0, NULL);
        bool ok = res && PQresultStatus (res) == PGRES_COMMAND_OK;
        PQclear (res);
        if (!ok) {
            reply_unavailable (reply);
            goto done;
        }
        gen = db_generation (call->db);
    }
    const char *head [] = { id, call->user, type, total };
    const char *tail [] = { chunk_s, key, key ? hash : NULL, max_active, window };
    const s_batch_stmt_t create = { "j_create", head, 4, tail, 5 };
    PGresult *res = s_create_batch (call, gen, &create, ids, dup, dups, 0, first, buf_ids,
                                    buf_outcomes);
    if (!res) {
        reply_unavailable (reply);
        goto done;
    }
    if (PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1) {
        log_error ("event=job_create_failed rid=%s job=%s sqlstate=%s", call->rid, id, db_sqlstate (res));
        PQclear (res);
        if (batched)
            s_end_transaction (call, false, gen);
        reply_internal (reply);
        goto done;
    }
    const char *outcome = PQgetvalue (res, 0, 0);
    bool created = !strcmp (outcome, "created");
    for (size_t from = first; created && batched && from < n; from += per) {
        char seq [24];
        snprintf (seq, sizeof seq, "%zu", from / chunk);
        const char *more_head [] = { id, seq };
        const char *more_tail [] = { chunk_s, window };
        const s_batch_stmt_t more = { "j_add", more_head, 2, more_tail, 2 };
        size_t len = n - from < per ? n - from : per;
        PGresult *add = s_create_batch (call, gen, &more, ids, dup, dups, from, len, buf_ids,
                                        buf_outcomes);
        bool ok = add && PQresultStatus (add) == PGRES_TUPLES_OK;
        if (!ok) {
            log_error ("event=job_create_failed rid=%s job=%s at=%zu sqlstate=%s", call->rid, id,
                       from, add ? db_sqlstate (add) : "connection_lost");
            if (add) {
                s_end_transaction (call, false, gen);
                reply_internal (reply);
            }
            else
                reply_unavailable (reply);      //  the transaction died with the connection
            PQclear (add);
            PQclear (res);
            goto done;
        }
        PQclear (add);
    }
    if (batched && !s_end_transaction (call, created, gen) && created) {
        log_error ("event=job_create_failed rid=%s job=%s msg=\"commit not confirmed\"", call->rid, id);
        PQclear (res);
        reply_unavailable (reply);
        goto done;
    }
    const char *job_text = PQgetvalue (res, 0, 1);
    if (!strcmp (outcome, "too_many_active")) {
        char msg [96];
        snprintf (msg, sizeof msg, "You have %ld jobs queued or running; wait for one to finish.",
                  s_max_active);
        reply_error (reply, 429, "too_many_jobs", msg, NULL);
    }
    else
    if (!strcmp (outcome, "key_reused"))
        reply_error (reply, 422, "idempotency_key_reused",
                     "This Idempotency-Key was used with a different request.", NULL);
    else {
        bool replayed = !strcmp (outcome, "replayed");
        reply_json (reply, replayed ? 200 : 202, s_parse (job_text));
        if (created && !PQgetisnull (res, 0, 2)) {
            //  Announce first, then send the chunks: jobs:created precedes any progress.
            s_publish (call->outbox, EVENT_CREATED, job_text);
            //  dispatch is an int[] in text form: "{0,1,2}"
            const char *p = PQgetvalue (res, 0, 2);
            while (*p) {
                if (*p >= '0' && *p <= '9') {
                    char *end;
                    long seq = strtol (p, &end, 10);
                    outbox_dispatch (call->outbox, id, (int) seq);
                    p = end;
                }
                else
                    p++;
            }
            log_info ("event=job_created rid=%s job=%s items=%zu duplicates=%ld batches=%zu",
                      call->rid, id, n, dups, (n + per - 1) / per);
        }
    }
    PQclear (res);
done:
    free (dup);
    free (buf_ids);
    free (buf_outcomes);
    free (owned);
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
    s_int (call->payload, "itemsLimit", 100, 1, JOBS_ITEMS_MAX, &limit, details);
    const char *status = s_str (call->payload, "itemStatus");
    if (status && !s_in (status, s_item_statuses))
        reply_detail (details, "itemStatus", "must be pending, succeeded, failed or canceled");
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
    s_int (call->payload, "limit", 20, 1, JOBS_PAGE_MAX, &limit, details);
    const char *type = s_str (call->payload, "type");
    if (type && strcmp (type, "bulk-delete"))
        reply_detail (details, "type", "must be bulk-delete");
    const char *status = s_str (call->payload, "status");
    if (status && !s_in (status, s_statuses))
        reply_detail (details, "status", "must be queued, running, completed, failed or canceled");
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
//  The sweeper: re-sends chunks whose lease ran out, announces jobs it failed.

static void
s_idle (db_t *db, outbox_t *outbox)
{
    if (!db_connected (db))
        return;
    char lease [24], batch [24], attempts [24];
    snprintf (lease, sizeof lease, "%ld", s_lease_ms);
    snprintf (batch, sizeof batch, "%d", JOBS_SWEEP_BATCH);
    snprintf (attempts, sizeof attempts, "%ld", s_max_attempts);
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
}

static int
s_init (db_t *db)
{
    if (conf_int ("CHUNK_SIZE", 1000, 1, 100000, &s_chunk_size)
    ||  conf_int ("JOB_WINDOW", 8, 1, 10000, &s_window)
    ||  conf_int ("MAX_ACTIVE_JOBS", 10, 1, 100000, &s_max_active)
    ||  conf_int ("MAX_JOB_ITEMS", 1000000, 1, SVC_JOB_ITEMS_MAX, &s_max_items)
    ||  conf_int ("CHUNK_LEASE_MS", 5000, 200, 3600000, &s_lease_ms)
    ||  conf_int ("CHUNK_MAX_ATTEMPTS", 5, 1, 1000, &s_max_attempts))
        return -1;
    for (size_t i = 0; i < sizeof s_stmts / sizeof s_stmts [0]; i++)
        if (db_register (db, s_stmts [i].name, s_stmts [i].sql, s_stmts [i].idempotent))
            return -1;
    return 0;
}

static const svc_entry_t s_entries [] = {
    { SVC_JOBS_CREATE, s_create, true, true },
    { SVC_JOBS_GET,    s_get,    true, false },
    { SVC_JOBS_LIST,   s_list,   true, false },
    { SVC_JOBS_CANCEL, s_cancel, true, false },
    { SVC_JOBS_CHUNK,  s_chunk,  false, false },
};

const svc_family_t jobs_family = {
    "jobs", s_entries, sizeof s_entries / sizeof s_entries [0], s_init, s_idle
};
