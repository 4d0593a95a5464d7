/*  jobscope: scopes (filters, undo), sets and the plan statement of jobs.create and of a
    job's plan chunk.  */
#include "jobscope.h"
#include "check.h"
#include "../common/log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  What a filter may name: GET /api/tickets' filters, no paging, sorting or deletion (a
//  bulk-restore's filter is over deleted tickets, every other over live ones).
static const char *const s_filter_keys [] = {
    "status", "priority", "assigneeId", "q", "requesterEmail", "createdAfter", "createdBefore", NULL
};
static const char *const s_set_keys [] = { "status", "priority", "assigneeId", NULL };

//  Every key of obj is in keys; else a detail per stranger, named under prefix.
static int
s_known_keys (json_t *obj, const char *const *keys, const char *prefix, json_t *details)
{
    int bad = 0;
    const char *key;
    json_t *value;
    json_object_foreach (obj, key, value) {
        if (vocab_index (keys, key) < 0) {
            char field [80];
            snprintf (field, sizeof field, "%s.%.60s", prefix, key);
            reply_detail (details, field, "unknown field");
            bad = -1;
        }
    }
    return bad;
}

//  Moves the details of a check of a payload member (named by its own fields) to details,
//  each field under prefix. Takes own.
static void
s_details_under (json_t *own, const char *prefix, json_t *details)
{
    size_t i;
    json_t *d;
    json_array_foreach (own, i, d) {
        char field [80];
        snprintf (field, sizeof field, "%s.%s", prefix, json_string_value (json_object_get (d, "field")));
        reply_detail (details, field, json_string_value (json_object_get (d, "message")));
    }
    json_decref (own);
}

static int
s_read_filter (json_t *filter, json_t *details)
{
    if (!json_is_object (filter)) {
        reply_detail (details, "payload.filter", "must be an object of GET /api/tickets' filters");
        return -1;
    }
    if (s_known_keys (filter, s_filter_keys, "payload.filter", details))
        return -1;
    //  A query string has no null: a null here would read as "no filter" and widen the set
    //  to every ticket, which is never what was meant.
    int bad = 0;
    const char *key;
    json_t *value;
    json_object_foreach (filter, key, value) {
        if (json_is_null (value)) {
            char field [80];
            snprintf (field, sizeof field, "payload.filter.%.60s", key);
            reply_detail (details, field, "must not be null (leave the field out for no filter)");
            bad = -1;
        }
    }
    if (bad)
        return -1;
    tickets_query_t q;
    json_t *own = json_array ();
    bad = tickets_query_parse (filter, &q, own);
    s_details_under (own, "payload.filter", details);
    return bad;
}

static int
s_read_set (json_t *set, json_t *details)
{
    if (!json_is_object (set) || json_object_size (set) == 0) {
        reply_detail (details, "payload.set", "must be an object with status, priority or assigneeId");
        return -1;
    }
    if (s_known_keys (set, s_set_keys, "payload.set", details))
        return -1;
    const char *s;
    json_t *own = json_array ();
    int bad = check_enum (set, "status", false, vocab_ticket_statuses, own, &s);
    bad |= check_enum (set, "priority", false, vocab_ticket_priorities, own, &s);
    bad |= check_uuid (set, "assigneeId", false, true, own, &s, NULL);
    s_details_under (own, "payload.set", details);
    return bad;
}

int
jobscope_read (const svc_call_t *call, const char *type, bool has_ids, jobscope_t *self,
               json_t *details)
{
    json_t *p = call->payload;
    json_t *filter = json_object_get (p, "filter");
    json_t *job = json_object_get (p, "jobId");
    bool restore = !strcmp (type, "bulk-restore"), update = !strcmp (type, "bulk-update");
    self->expected = -1;
    if ((has_ids ? 1 : 0) + (filter ? 1 : 0) + (job ? 1 : 0) != 1) {
        reply_detail (details, "payload", restore
                      ? "must hold exactly one of ticketIds, filter or jobId"
                      : "must hold exactly one of ticketIds or filter");
        return -1;
    }
    int bad = 0;
    if (job && (!restore || !json_is_string (job) || !uuid_valid (json_string_value (job)))) {
        reply_detail (details, "payload.jobId", restore ? "must be a uuid"
                      : "only a bulk-restore undoes a job");
        bad = -1;
    }
    if (filter)
        bad |= s_read_filter (filter, details);
    self->set = json_object_get (p, "set");
    if (update)
        bad |= s_read_set (self->set, details);
    else
    if (self->set) {
        reply_detail (details, "payload.set", "only a bulk-update sets fields");
        bad = -1;
    }
    bool present = false;
    json_t *own = json_array ();
    bad |= check_int (p, "expectedTotal", false, 0, 2147483647L, own, &self->expected, &present);
    s_details_under (own, "payload", details);
    if (!present)
        self->expected = -1;
    else
    if (has_ids) {
        reply_detail (details, "payload.expectedTotal", "goes with a filter or a jobId");
        bad = -1;
    }
    if (bad)
        return -1;
    if (!has_ids)
        self->scope = filter ? json_pack ("{s:O}", "filter", filter)
                             : json_pack ("{s:O}", "jobId", job);
    self->scope_text = self->scope ? json_dumps (self->scope, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    self->set_text = self->set ? json_dumps (self->set, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (self->expected >= 0)
        snprintf (self->expected_text, sizeof self->expected_text, "%ld", self->expected);
    return (!has_ids && !self->scope_text) || (self->set && !self->set_text) ? -2 : 0;
}

void
jobscope_free (jobscope_t *self)
{
    json_decref (self->scope);
    free (self->scope_text);
    free (self->set_text);
    self->scope = NULL;
    self->scope_text = self->set_text = NULL;
}

//  One lookup of the creator's transaction: 1 when it found a row, 0 when none, -1 failed.
static int
s_exists (const svc_call_t *call, uint64_t gen, const char *stmt, const char *id, PGresult **out)
{
    const char *params [] = { id };
    PGresult *res = db_exec_in (call->db, gen, stmt, 1, params, NULL, NULL);
    if (!res || PQresultStatus (res) != PGRES_TUPLES_OK) {
        if (res)
            log_error ("event=job_check_failed rid=%s stmt=%s sqlstate=%s", call->rid, stmt,
                       db_sqlstate (res));
        PQclear (res);
        return -1;
    }
    int found = PQntuples (res) > 0;
    if (out)
        *out = res;
    else
        PQclear (res);
    return found;
}

int
jobscope_check (const svc_call_t *call, uint64_t gen, const char *type,
                const jobscope_t *self, json_t *details, reply_t *reply)
{
    int bad = 0;
    const char *assignee = self->set ? json_string_value (json_object_get (self->set, "assigneeId")) : NULL;
    if (assignee) {
        int found = s_exists (call, gen, "js_user", assignee, NULL);
        if (found < 0)
            goto failed;
        if (!found) {
            reply_detail (details, "payload.set.assigneeId", "no user has this id");
            bad = 1;
        }
    }
    const char *source = self->scope ? json_string_value (json_object_get (self->scope, "jobId")) : NULL;
    if (source) {
        PGresult *res = NULL;
        int found = s_exists (call, gen, "js_source", source, &res);
        if (found < 0)
            goto failed;
        if (!found || strcmp (PQgetvalue (res, 0, 0), "bulk-delete")) {
            reply_detail (details, "payload.jobId", "must name a bulk-delete job");
            bad = 1;
        }
        else
        if (!strcmp (PQgetvalue (res, 0, 1), "queued") || !strcmp (PQgetvalue (res, 0, 1), "running")) {
            //  What it deleted is not known until it ends: an undo now would miss the rest.
            reply_error (reply, 409, "job_not_finished",
                         "That job has not finished yet; undo it once it has (or cancel it first).", NULL);
            PQclear (res);
            return -1;
        }
        PQclear (res);
    }
    return bad;
failed:
    if (db_connected (call->db))
        reply_internal (reply);
    else
        reply_unavailable (reply);
    return -1;
}

void
jobscope_hash (const char *type, const jobscope_t *self, char out [JOBIDS_HASH_LEN + 1])
{
    unsigned char md [EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
    EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
    const char *parts [] = { type, " scope ", self->scope_text, " set ", self->set_text,
                             " expected ", self->expected_text };
    for (size_t i = 0; i < sizeof parts / sizeof parts [0]; i++)
        if (parts [i])
            EVP_DigestUpdate (ctx, parts [i], strlen (parts [i]));
    EVP_DigestFinal_ex (ctx, md, &len);
    EVP_MD_CTX_free (ctx);
    out [0] = 0;
    for (unsigned int i = 0; i < len && i * 2 < JOBIDS_HASH_LEN; i++)
        snprintf (out + 2 * i, 3, "%02x", md [i]);
}

char *
jobscope_ids_label (const char *type, const jobscope_t *self)
{
    size_t len = strlen (type) + 1 + (self->set_text ? strlen (self->set_text) : 0) + 1;
    char *label = (char *) malloc (len);
    if (label)
        snprintf (label, len, "%s%s%s", type, self->set_text ? " " : "",
                  self->set_text ? self->set_text : "");
    return label;
}

//  A filter's plan statement: the expanded ids are the tickets matching now that existed
//  when the job was created ($4), in the table's physical order: a chunk's thousand ids
//  then sit on a few pages instead of a thousand, which made chunks about 30% cheaper than
//  in id order (1,000-id chunks on 100,000 tickets, 20 chunks one after the other: 244 ms
//  against 348 ms).
static int
s_filter_stmt (const svc_call_t *call, json_t *filter, bool deleted, char name [32],
               const char **params, char **owned)
{
    tickets_query_t q;
    json_t *details = json_array ();
    int bad = tickets_query_parse (filter, &q, details);
    json_decref (details);
    if (bad)
        return -1;
    tickets_deleted_t which = deleted ? TICKETS_DELETED_ONLY : TICKETS_DELETED_EXCLUDE;
    snprintf (name, 32, "js_plan_%u_%d", q.filters, (int) which);
    if (!db_registered (call->db, name)) {
        char where [512], sql [1024];
        int n = tickets_where_sql (q.filters, which, 5, where, sizeof where);
        if (n < 0 || snprintf (sql, sizeof sql,
                               "SELECT state, job::text, dispatch::text FROM job_plan($1::uuid,"
                               " ARRAY(SELECT id FROM tickets WHERE %s AND created_at <= $4::timestamptz"
                               " ORDER BY ctid), $2::int, $3::int)", where) >= (int) sizeof sql)
            return -1;
        db_register (call->db, name, sql, false);
    }
    return tickets_filter_params (&q, params, owned);
}

int
jobscope_plan_prepare (const svc_call_t *call, const char *job_id, jobscope_plan_t *plan)
{
    memset (plan, 0, sizeof *plan);
    const char *id [] = { job_id };
    PGresult *res = db_exec (call->db, "js_info", 1, id);
    if (!res || PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("event=plan_failed job=%s sqlstate=%s", job_id, res ? db_sqlstate (res) : "connection_lost");
        PQclear (res);
        return -1;
    }
    if (PQntuples (res) == 0) {
        PQclear (res);
        return 0;
    }
    json_error_t err;
    plan->scope = json_loads (PQgetvalue (res, 0, 1), 0, &err);
    bool restore = !strcmp (PQgetvalue (res, 0, 0), "bulk-restore");
    snprintf (plan->text, 32, "%ld", call->jobs->chunk_size);
    snprintf (plan->text + 32, 32, "%ld", call->jobs->window);
    snprintf (plan->text + 64, 32, "%s", PQgetvalue (res, 0, 2));
    PQclear (res);
    plan->params [0] = job_id;
    plan->params [1] = plan->text;
    plan->params [2] = plan->text + 32;
    plan->params [3] = plan->text + 64;
    json_t *filter = json_object_get (plan->scope, "filter");
    if (json_is_string (json_object_get (plan->scope, "jobId"))) {
        snprintf (plan->name, sizeof plan->name, "js_plan_job");
        plan->nparams = 3;
    }
    else
    if (json_is_object (filter)) {
        int k = s_filter_stmt (call, filter, restore, plan->name, plan->params + 4, &plan->like);
        plan->nparams = k < 0 ? 0 : 4 + k;
    }
    if (plan->nparams == 0) {
        log_error ("event=plan_failed job=%s msg=\"scope not expandable\"", job_id);
        return -1;
    }
    return 1;
}

void
jobscope_plan_free (jobscope_plan_t *plan)
{
    free (plan->like);
    json_decref (plan->scope);
    plan->like = NULL;
    plan->scope = NULL;
}
