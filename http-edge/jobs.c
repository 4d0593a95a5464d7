/*  jobs: the /api/jobs routes. Shape checks here; the job's transactions, authorization
    per object and idempotency live in the workers (workers/jobs.c, sql/0002_jobs.sql).  */
#include "edge.h"
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#define JOBS_QUERY_MAX 16

//  Answers with Location, and Idempotent-Replayed on a replay (200) or Retry-After on 429.
static void
s_reply_job (edge_req_t *req, int status, const char *payload, size_t len)
{
    req_reply_passthrough (req, status, payload, len);
    if (status == 202 || status == 200) {
        json_error_t err;
        json_t *root = json_loadb (payload, len, 0, &err);
        const char *id = json_string_value (json_object_get (root, "id"));
        if (id && uuid_valid (id)) {
            char location [64];
            snprintf (location, sizeof location, "/api/jobs/%s", id);
            req_header (req, MHD_HTTP_HEADER_LOCATION, location);
        }
        json_decref (root);
        if (status == 200)
            req_header (req, "Idempotent-Replayed", "true");
    }
    else
    if (status == 429)
        req_header (req, "Retry-After", "5");
}

//  Parses the query with check; answers 422 itself and returns NULL on bad input.
static json_t *
s_query (edge_req_t *req, json_t *(*check) (const validate_kv_t *, size_t, json_t *))
{
    validate_kv_t kv [JOBS_QUERY_MAX];
    int n = req_query (req, kv, JOBS_QUERY_MAX);
    json_t *details = json_array ();
    json_t *payload = NULL;
    if (n < 0)
        validate_add (details, "query", "too many query parameters");
    else
        payload = check (kv, (size_t) n, details);
    if (!payload) {
        req_respond_invalid (req, details);
        return NULL;
    }
    json_decref (details);
    return payload;
}

void
jobs_create (edge_req_t *req)
{
    const char *key = req_header_in (req, "Idempotency-Key");
    if (key && !validate_idempotency_key (key)) {
        json_t *details = json_array ();
        validate_add (details, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
        req_respond_invalid (req, details);
        return;
    }
    json_t *body = req_json_body (req);
    if (!body)
        return;
    json_t *details = json_array ();
    json_t *ids = validate_job_create (body, edge_config (req->edge)->max_job_items, details);
    json_decref (body);
    if (!ids) {
        req_respond_invalid (req, details);
        return;
    }
    json_decref (details);
    //  The edge names the job, so a request handed to a second worker creates it once.
    char id [UUID_STRLEN + 1];
    if (uuid_v4 (id)) {
        json_decref (ids);
        req_respond_error (req, 500, "internal", "cannot generate an id", NULL);
        return;
    }
    json_t *payload = json_pack ("{s:s, s:s, s:o, s:o}", "id", id, "type", "bulk-delete",
                                 "ticketIds", ids,
                                 "idempotencyKey", key ? json_string (key) : json_null ());
    edge_call (req, SVC_JOBS_CREATE, payload, s_reply_job, 0);
}

void
jobs_list (edge_req_t *req)
{
    json_t *payload = s_query (req, validate_job_query);
    if (payload)
        edge_call (req, SVC_JOBS_LIST, payload, req_reply_passthrough, 0);
}

void
jobs_get (edge_req_t *req)
{
    json_t *payload = s_query (req, validate_job_items_query);
    if (!payload)
        return;
    json_object_set_new (payload, "id", json_string (req->match.params [0]));
    edge_call (req, SVC_JOBS_GET, payload, req_reply_passthrough, 0);
}

void
jobs_cancel (edge_req_t *req)
{
    edge_call (req, SVC_JOBS_CANCEL, json_pack ("{s:s}", "id", req->match.params [0]),
               req_reply_passthrough, 0);
}
