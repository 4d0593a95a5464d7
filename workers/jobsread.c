/*  jobsread: jobs.get (a job with a page of its items) and jobs.list (a page of jobs).
    Agents see their own jobs only: the statements take the role and the user.  */
#include "jobsread.h"
#include "check.h"
#include "../common/log.h"

#include <stdio.h>
#include <stdlib.h>

static json_t *
s_parse (const char *text)
{
    json_error_t err;
    return json_loads (text, 0, &err);
}

void
jobsread_get (svc_call_t *call, reply_t *reply)
{
    json_t *details = json_array ();
    const char *id = json_string_value (json_object_get (call->payload, "id"));
    long page = 1, limit = VOCAB_ITEMS_LIMIT_DEFAULT;
    check_int (call->payload, "itemsPage", false, 1, 1000000000, details, &page, NULL);
    check_int (call->payload, "itemsLimit", false, 1, VOCAB_ITEMS_LIMIT_MAX, details, &limit, NULL);
    const char *status;
    check_enum (call->payload, "itemStatus", false, vocab_job_item_statuses, details, &status);
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

void
jobsread_list (svc_call_t *call, reply_t *reply)
{
    json_t *details = json_array ();
    long page = 1, limit = VOCAB_LIMIT_DEFAULT;
    check_int (call->payload, "page", false, 1, 10000000, details, &page, NULL);
    check_int (call->payload, "limit", false, 1, VOCAB_LIMIT_MAX, details, &limit, NULL);
    const char *type;
    check_enum (call->payload, "type", false, vocab_job_types, details, &type);
    const char *status;
    check_enum (call->payload, "status", false, vocab_job_statuses, details, &status);
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
