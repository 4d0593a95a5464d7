/*  api_jobs: the /api/jobs routes. Shape checks here; the job's transactions, authorization
    per object and idempotency live in the workers (workers/jobs.c, sql/0002_jobs.sql).  */
#include "edge.h"
#include "api.h"
#include "jobbody.h"

#include <stdio.h>
#include <string.h>

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

//  The body as the streaming reader saw it: NULL after answering 400/413/415/422 itself,
//  else the rest of the body (ids removed) parsed, with *ids summarising the ids.
static json_t *
s_job_body (edge_req_t *req, validate_ids_t *ids)
{
    jobbody_t *scan = req->jobbody;
    if (!scan)
        return req_json_body (req);
    //  Empty or not typed JSON: the answers any body gets, before the reader's verdict.
    validate_body_t early = validate_json_envelope (
        req_header_in (req, MHD_HTTP_HEADER_CONTENT_TYPE), req->body_len);
    if (early != VALIDATE_BODY_OK) {
        req_respond_body_error (req, early, NULL);
        return NULL;
    }
    if (jobbody_finish (scan)) {
        if (jobbody_too_big (scan))
            req_respond_error (req, 413, "payload_too_large", "the request body is too large", NULL);
        else
        if (jobbody_out_of_memory (scan)) {
            req_respond_error (req, 503, "overloaded", "no memory for this request, try again", NULL);
            req_header (req, "Retry-After", "1");
        }
        else
            req_respond_body_error (req, VALIDATE_BODY_INVALID_JSON, jobbody_error (scan));
        return NULL;
    }
    size_t len = 0;
    const char *rest = jobbody_rest (scan, &len);
    json_t *body = req_json_text (req, rest, len);
    if (!body)
        return NULL;
    ids->seen = jobbody_ids_seen (scan) && !jobbody_repeated (scan);
    ids->count = jobbody_count (scan);
    ids->bad = jobbody_bad_count (scan);
    for (size_t i = 0; i < ids->bad && i < VALIDATE_JOB_BAD_MAX; i++)
        ids->bad_index [i] = jobbody_bad_index (scan, i);
    return body;
}

void
api_jobs_create (edge_req_t *req)
{
    const char *key = req_header_in (req, "Idempotency-Key");
    if (key && !validate_idempotency_key (key)) {
        json_t *details = json_array ();
        validate_add (details, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
        req_respond_invalid (req, details);
        return;
    }
    validate_ids_t ids = { 0 };
    json_t *body = s_job_body (req, &ids);
    if (!body)
        return;
    //  Deleting and restoring are an admin's (the workers check it too): an agent asking for
    //  either learns it before any detail of the body. An unknown type is the body's 422.
    const char *type = json_string_value (json_object_get (body, "type"));
    if (req->role != SVC_ROLE_ADMIN && type && vocab_index (vocab_job_types, type) >= 0
    &&  strcmp (type, "bulk-update")) {
        json_decref (body);
        req_respond_error (req, 403, "forbidden", "only admins can start this type of job", NULL);
        return;
    }
    json_t *details = json_array ();
    bool ok = validate_job_create (body, &ids, edge_config (req->edge)->max_job_items, details);
    if (!ok) {
        json_decref (body);
        req_respond_invalid (req, details);
        return;
    }
    json_decref (details);
    //  The edge names the job, so a request handed to a second worker creates it once.
    char id [UUID_STRLEN + 1];
    json_t *given = json_object_get (body, "payload");
    json_t *payload = uuid_v4 (id) ? NULL
                    : json_pack ("{s:s, s:O, s:o}", "id", id, "type", json_object_get (body, "type"),
                                 "idempotencyKey", key ? json_string (key) : json_null ());
    static const char *const carried [] = { "filter", "jobId", "set", "expectedTotal" };
    for (size_t i = 0; payload && i < sizeof carried / sizeof carried [0]; i++)
        if (json_object_get (given, carried [i]))
            json_object_set (payload, carried [i], json_object_get (given, carried [i]));
    json_decref (body);
    if (!payload) {
        req_respond_error (req, 500, "internal", "cannot prepare the job", NULL);
        return;
    }
    if (!ids.seen) {
        edge_call (req, SVC_JOBS_CREATE, payload, s_reply_job, 0);
        return;
    }
    size_t count = 0;
    unsigned char *blob = jobbody_take_ids (req->jobbody, &count);
    if (!blob || count != ids.count) {
        free (blob);
        json_decref (payload);
        req_respond_error (req, 500, "internal", "cannot prepare the job", NULL);
        return;
    }
    //  The ids travel as the request's blob, 16 bytes each (proto/svc.h).
    json_object_set_new (payload, "count", json_integer ((json_int_t) count));
    edge_call_blob (req, SVC_JOBS_CREATE, payload, &blob, count * 16, s_reply_job, 0);
}

void
api_jobs_list (edge_req_t *req)
{
    json_t *payload = req_query_checked (req, validate_job_query);
    if (payload)
        edge_call (req, SVC_JOBS_LIST, payload, req_reply_passthrough, 0);
}

void
api_jobs_get (edge_req_t *req)
{
    json_t *payload = req_query_checked (req, validate_job_items_query);
    if (!payload)
        return;
    json_object_set_new (payload, "id", json_string (req->match.params [0]));
    edge_call (req, SVC_JOBS_GET, payload, req_reply_passthrough, 0);
}

//  An action on one job, named by the path: the worker decides everything else.
static void
s_job_action (edge_req_t *req, const char *service)
{
    edge_call (req, service, json_pack ("{s:s}", "id", req->match.params [0]),
               req_reply_passthrough, 0);
}

void
api_jobs_cancel (edge_req_t *req)
{
    s_job_action (req, SVC_JOBS_CANCEL);
}

void
api_jobs_resume (edge_req_t *req)
{
    s_job_action (req, SVC_JOBS_RESUME);
}
