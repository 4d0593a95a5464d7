/*  request: answering a request: JSON bodies, standard headers, errors, body parsing.  */
#include "request.h"
#include "edge.h"
#include "../common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_set_response (edge_req_t *req, int status, struct MHD_Response *response, size_t len)
{
    if (!response)
        PANIC ("event=oom where=create_response");
    if (req->response)
        MHD_destroy_response (req->response);
    req->response = response;
    req->status = status;
    req->bytes = len;
    if (req->is_api) {
        MHD_add_response_header (response, "X-Request-Id", *req->client_rid ? req->client_rid : req->rid);
        edge_add_cors_headers (req->edge, response);
    }
}

void
req_respond_json (edge_req_t *req, int status, const char *json, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer (len, (void *) json,
                                                              MHD_RESPMEM_MUST_COPY);
    s_set_response (req, status, r, len);
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
}

void
req_respond_json_owned (edge_req_t *req, int status, char *json, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer (len, json, MHD_RESPMEM_MUST_FREE);
    s_set_response (req, status, r, len);
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
}

void
req_respond_error (edge_req_t *req, int status, const char *code, const char *message,
                   json_t *details)
{
    size_t len;
    char *json = svc_error_text (code, message, details, &len);
    req_respond_json_owned (req, status, json, len);
}

void
req_respond_invalid (edge_req_t *req, json_t *details)
{
    req_respond_error (req, 422, "validation_failed", "the request has invalid fields", details);
}

void
req_respond_empty (edge_req_t *req, int status)
{
    struct MHD_Response *r = MHD_create_response_from_buffer (0, (void *) "",
                                                              MHD_RESPMEM_PERSISTENT);
    s_set_response (req, status, r, 0);
}

void
req_header (edge_req_t *req, const char *name, const char *value)
{
    if (req->response)
        MHD_add_response_header (req->response, name, value);
}

const char *
req_header_in (edge_req_t *req, const char *name)
{
    return MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, name);
}

json_t *
req_json_body (edge_req_t *req)
{
    return req_json_text (req, req->body, req->body_len);
}

json_t *
req_json_text (edge_req_t *req, const char *text, size_t len)
{
    json_t *root = NULL;
    char why [200];
    const char *ctype = req_header_in (req, MHD_HTTP_HEADER_CONTENT_TYPE);
    validate_body_t verdict = validate_json_body (ctype, text, len, &root, why, sizeof why);
    if (verdict != VALIDATE_BODY_OK)
        req_respond_body_error (req, verdict, why);
    return root;
}

void
req_respond_body_error (edge_req_t *req, validate_body_t verdict, const char *why)
{
    switch (verdict) {
        case VALIDATE_BODY_OK:
            break;
        case VALIDATE_BODY_EMPTY:
            req_respond_error (req, 400, "bad_request", "a JSON object body is required", NULL);
            break;
        case VALIDATE_BODY_NOT_JSON_TYPE:
            req_respond_error (req, 415, "unsupported_media_type",
                               "the body must be JSON (Content-Type: application/json)", NULL);
            break;
        case VALIDATE_BODY_INVALID_JSON: {
            char msg [260];
            snprintf (msg, sizeof msg, "the body is not valid JSON: %s", why);
            req_respond_error (req, 400, "invalid_json", msg, NULL);
            break;
        }
        case VALIDATE_BODY_NOT_OBJECT: {
            json_t *details = json_array ();
            validate_add (details, "body", "must be a JSON object");
            req_respond_invalid (req, details);
            break;
        }
    }
}

typedef struct {
    validate_kv_t *kv;
    size_t max, n;
    bool overflow;
} s_query_t;

static enum MHD_Result
s_query_iter (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    s_query_t *q = (s_query_t *) cls;
    if (q->n >= q->max) {
        q->overflow = true;
        return MHD_NO;
    }
    q->kv [q->n].key = key;
    q->kv [q->n].value = value;
    q->n++;
    return MHD_YES;
}

int
req_query (edge_req_t *req, validate_kv_t *kv, size_t max)
{
    s_query_t q = { kv, max, 0, false };
    MHD_get_connection_values (req->conn, MHD_GET_ARGUMENT_KIND, s_query_iter, &q);
    return q.overflow ? -1 : (int) q.n;
}

//  Checks a reply: a status we pass on, and a JSON payload (empty allowed for 204).
//  Returns the parsed payload (new reference) or NULL after answering 502/504 itself.
static json_t *
s_reply_check (edge_req_t *req, int status, const char *payload, size_t len)
{
    if (!payload) {
        req_respond_error (req, 504, "gateway_timeout", "the backend did not answer in time", NULL);
        return NULL;
    }
    if (status < 200 || (status >= 300 && status < 400) || status > 599) {
        log_error ("event=bad_reply rid=%s status=%d msg=\"status not allowed\"", req->rid, status);
        req_respond_error (req, 502, "bad_gateway", "the backend gave an invalid answer", NULL);
        return NULL;
    }
    json_error_t err;
    json_t *root = json_loadb (payload, len, JSON_DECODE_ANY, &err);
    if (!root) {
        log_error ("event=bad_reply rid=%s status=%d msg=\"payload is not JSON\" len=%zu",
                   req->rid, status, len);
        req_respond_error (req, 502, "bad_gateway", "the backend gave an invalid answer", NULL);
    }
    return root;
}

void
req_reply_passthrough (edge_req_t *req, int status, const char *payload, size_t len)
{
    if (status == 204 && payload) {
        req_respond_empty (req, 204);
        return;
    }
    json_t *root = s_reply_check (req, status, payload, len);
    if (!root)
        return;
    json_decref (root);
    req_respond_json (req, status, payload, len);
}

void
req_reply_ticket (edge_req_t *req, int status, const char *payload, size_t len)
{
    if (status == 204 && payload) {
        req_respond_empty (req, 204);
        return;
    }
    json_t *root = s_reply_check (req, status, payload, len);
    if (!root)
        return;
    req_respond_json (req, status, payload, len);
    if (status >= 200 && status < 300 && json_is_object (root)) {
        json_t *version = json_object_get (root, "version");
        if (json_is_integer (version)) {
            char etag [32];
            snprintf (etag, sizeof etag, "\"%lld\"", (long long) json_integer_value (version));
            req_header (req, MHD_HTTP_HEADER_ETAG, etag);
        }
        const char *id = json_string_value (json_object_get (root, "id"));
        if (status == 201 && id && uuid_valid (id)) {
            char location [64];
            snprintf (location, sizeof location, "/api/tickets/%s", id);
            req_header (req, MHD_HTTP_HEADER_LOCATION, location);
        }
    }
    json_decref (root);
}
