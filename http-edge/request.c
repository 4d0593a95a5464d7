/*  request: answering a request: JSON bodies, standard headers and CORS, errors, body
    parsing, queueing the answer.  */
#include "request.h"
#include "../common/jsonscan.h"
#include "../common/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Every step of a request's life and why it happens; any other is a bug. The edge is one
//  thread, so no step races another.
static const bool s_steps [REQ_STATES][REQ_STATES] = {
    //  Answered from its headers (a refusal, a preflight, 413 from Content-Length), by a
    //  handler at once, or by the static UI.
    [REQ_READING][REQ_QUEUED] = true,
    //  Refused from its headers with a body small enough to read, or while its body comes
    //  in (413, the body budget): a client reads the answer only once it has sent its body.
    [REQ_READING][REQ_DROPPING] = true,
    //  libmicrohttpd 0.9 takes an answer only once the body is in (dropped, here).
    [REQ_DROPPING][REQ_QUEUED] = true,
    //  The handler sent it to the broker (broker_link_call).
    [REQ_READING][REQ_WAITING] = true,
    //  The handler returned without an answer: the connection sleeps until one comes, so
    //  a slow request never holds the loop.
    [REQ_WAITING][REQ_SUSPENDED] = true,
    //  The reply, the deadline's 504 or the broker's loss (503) wakes the connection.
    [REQ_SUSPENDED][REQ_ANSWERED] = true,
    //  The woken connection's next call hands the answer over.
    [REQ_ANSWERED][REQ_QUEUED] = true,
};

static const char *s_state_names [REQ_STATES] = {
    "reading", "dropping", "waiting", "suspended", "answered", "queued", "closed"
};

bool
req_state_allowed (req_state_t from, req_state_t to)
{
    if (from >= REQ_STATES || to >= REQ_STATES)
        return false;
    //  libmicrohttpd ends a request in any state: the client may leave at any time.
    if (to == REQ_CLOSED)
        return from != REQ_CLOSED;
    return s_steps [from][to];
}

void
req_state_set (edge_req_t *req, req_state_t state)
{
    if (!req_state_allowed (req->state, state))
        PANIC ("event=bad_request_state rid=%s from=%s to=%s", req->rid,
               req->state < REQ_STATES ? s_state_names [req->state] : "?",
               state < REQ_STATES ? s_state_names [state] : "?");
    req->state = state;
}

bool
req_state_waiting (const edge_req_t *req)
{
    return req->state == REQ_WAITING || req->state == REQ_SUSPENDED;
}

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
        //  The origin itself is chosen when the answer is queued (req_queue): one edge
        //  serves several.
        MHD_add_response_header (response, "Access-Control-Expose-Headers",
                                 "ETag, Location, X-Request-Id, Idempotent-Replayed, Retry-After");
        MHD_add_response_header (response, "Vary", "Origin");
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

json_t *
req_query_checked (edge_req_t *req, json_t *(*check) (const validate_kv_t *, size_t, json_t *))
{
    validate_kv_t kv [VALIDATE_QUERY_PAIRS_MAX];
    int n = req_query (req, kv, VALIDATE_QUERY_PAIRS_MAX);
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

//  Checks a reply: a status we pass on, and a JSON payload (empty allowed for 204). The
//  payload is scanned, not parsed: it goes out as the bytes that came. Returns 0, or -1
//  after answering 502/504 itself.
static int
s_reply_check (edge_req_t *req, int status, const char *payload, size_t len,
               jsonscan_top_t *top)
{
    if (!payload) {
        req_respond_error (req, 504, "gateway_timeout", "the backend did not answer in time", NULL);
        return -1;
    }
    if (status < 200 || (status >= 300 && status < 400) || status > 599) {
        log_error ("event=bad_reply rid=%s status=%d msg=\"status not allowed\"", req->rid, status);
        req_respond_error (req, 502, "bad_gateway", "the backend gave an invalid answer", NULL);
        return -1;
    }
    if (jsonscan_check (payload, len, top)) {
        log_error ("event=bad_reply rid=%s status=%d msg=\"payload is not JSON\" len=%zu",
                   req->rid, status, len);
        req_respond_error (req, 502, "bad_gateway", "the backend gave an invalid answer", NULL);
        return -1;
    }
    return 0;
}

//  Answers a reply as it came (a 204 without its body). Returns 0 when it answered the
//  payload, whose top level is then in top, for a handler that adds headers from it.
static int
s_reply_pass (edge_req_t *req, int status, const char *payload, size_t len,
              jsonscan_top_t *top)
{
    if (status == 204 && payload) {
        req_respond_empty (req, 204);
        return -1;
    }
    if (s_reply_check (req, status, payload, len, top))
        return -1;
    req_respond_json (req, status, payload, len);
    //  A 401 from a worker (the token's user no longer exists) carries the challenge any
    //  401 must (RFC 9110), as the edge's own do. A 503 from behind (no worker, the
    //  database down, a full queue) says when to try again, as the edge's own do.
    if (status == 401)
        req_header (req, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"");
    if (status == 503)
        req_header (req, "Retry-After", "1");
    return 0;
}

void
req_reply_passthrough (edge_req_t *req, int status, const char *payload, size_t len)
{
    s_reply_pass (req, status, payload, len, NULL);
}

void
req_reply_ticket (edge_req_t *req, int status, const char *payload, size_t len)
{
    jsonscan_top_t top;
    if (s_reply_pass (req, status, payload, len, &top) || status < 200 || status >= 300
    ||  !top.is_object)
        return;
    if (top.has_version) {
        char etag [32];
        snprintf (etag, sizeof etag, "\"%lld\"", top.version);
        req_header (req, MHD_HTTP_HEADER_ETAG, etag);
    }
    if (status == 201 && top.has_id && uuid_valid (top.id)) {
        char location [sizeof "/api/tickets/" + JSONSCAN_ID_MAX];
        snprintf (location, sizeof location, "/api/tickets/%s", top.id);
        req_header (req, MHD_HTTP_HEADER_LOCATION, location);
    }
}

bool
req_cors_allowed (const char *allowed, long web_port, const char *origin)
{
    if (!origin || !*origin)
        return false;
    size_t olen = strlen (origin);
    for (const char *p = allowed; p && *p; ) {
        const char *end = strchr (p, ',');
        size_t n = end ? (size_t) (end - p) : strlen (p);
        const char *b = p, *e = p + n;
        while (b < e && *b == ' ')
            b++;
        while (e > b && (e [-1] == ' ' || e [-1] == '/'))
            e--;
        if ((size_t) (e - b) == olen && !memcmp (b, origin, olen))
            return true;
        p = end ? end + 1 : NULL;
    }
    static const char *loopback [] = { "localhost", "127.0.0.1", "[::1]" };
    for (size_t i = 0; web_port && i < sizeof loopback / sizeof loopback [0]; i++) {
        char own [64];
        snprintf (own, sizeof own, "http://%s:%ld", loopback [i], web_port);
        if (!strcmp (own, origin))
            return true;
    }
    return false;
}

enum MHD_Result
req_queue (edge_req_t *req)
{
    if (req->is_api && !MHD_get_response_header (req->response, "Access-Control-Allow-Origin")) {
        //  Echo an allowed Origin (the UI may be opened as localhost or as 127.0.0.1);
        //  any other gets the configured one, which its browser then refuses.
        const char *origin = req_header_in (req, "Origin");
        bool ok = req_cors_allowed (req->cfg->frontend_url, req->cfg->web_port, origin);
        MHD_add_response_header (req->response, "Access-Control-Allow-Origin",
                                 ok ? origin : req->cfg->cors_origin);
    }
    enum MHD_Result rc = MHD_queue_response (req->conn, (unsigned) req->status, req->response);
    if (rc == MHD_YES)
        req_state_set (req, REQ_QUEUED);
    return rc;
}

void
req_respond_overloaded (edge_req_t *req, const char *message)
{
    req_respond_error (req, 503, "overloaded", message, NULL);
    req_header (req, "Retry-After", "1");
}

const char *
req_address (edge_req_t *req)
{
    if (*req->addr)
        return req->addr;
    snprintf (req->addr, sizeof req->addr, "?");
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return req->addr;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop (AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, req->addr,
                   (socklen_t) sizeof req->addr);
    else
    if (sa->sa_family == AF_INET6)
        inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, req->addr,
                   (socklen_t) sizeof req->addr);
    return req->addr;
}
