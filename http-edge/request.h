/*  request: one HTTP request as the edge holds it from the first MHD callback to the
    access log line, and the helpers handlers use to answer it. The edge (edge.c) owns
    every edge_req_t; handlers only fill in its response.  */
#ifndef EDGE_REQUEST_H
#define EDGE_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "routes.h"
#include "validate.h"
#include "../proto/svc.h"
#include "../common/rand.h"

typedef struct edge_s edge_t;

//  Called once per broker call with the worker's (or broker's) status and payload, or
//  with status 504 and payload NULL when the call timed out. Must answer the request.
typedef void (req_reply_fn) (edge_req_t *req, int status, const char *payload, size_t len);

//  A request's life, from its headers to libmicrohttpd taking its answer. It changes only
//  through req_state_set, whose table in request.c lists every allowed step and why.
typedef enum {
    REQ_READING,        //  headers in; its body, if any, is being read and held
    REQ_DROPPING,       //  refused, its answer set: the rest of its body is read and dropped
    REQ_WAITING,        //  sent to the broker: in broker_link's pending table
    REQ_SUSPENDED,      //  waiting, its connection suspended until the reply or a 504/503
    REQ_ANSWERED,       //  the reply (or its 504/503) is set and the connection resumed
    REQ_QUEUED,         //  libmicrohttpd has taken its answer
    REQ_CLOSED,         //  libmicrohttpd is done with it (answered, or the client left)
    REQ_STATES
} req_state_t;

struct edge_req_s {
    edge_t *edge;
    const edge_config_t *cfg;
    struct MHD_Connection *conn;
    const char *method;                 //  borrowed from MHD, valid for the connection
    const char *url;                    //  path without query, MHD-unescaped
    bool is_api;                        //  API daemon (JSON, CORS) or the static UI
    route_match_t match;
    //  Ours, from the CSPRNG, never from the client: it alone correlates the broker's reply
    //  with this request, so nobody can guess or choose it to receive another's answer.
    char rid [RAND_ID_STRLEN + 1];
    //  The client's X-Request-Id when valid, else "": echoed and logged, never matched.
    char client_rid [SVC_RID_MAX + 1];
    char user [UUID_STRLEN + 1];        //  from the verified token; "" when anonymous
    svc_role_t role;
    int64_t start_us;

    //  Upload, bounded by the route's limit, the edge's EDGE_BODY_BUDGET_BYTES and an
    //  absolute deadline (EDGE_BODY_TIMEOUT_S from the headers).
    char *body;
    size_t body_len, body_cap;
    size_t body_max;                    //  this route's limit (413 beyond)
    size_t drop_max;                    //  dropped up to this many bytes, then the connection closes
    int64_t body_deadline_ms;
    char addr [48];                     //  req_address: "" until asked
    //  Slots it holds (guard.c): of EDGE_ANON_PER_ADDRESS, EDGE_UPLOADS_PER_USER (until its
    //  body is in) and EDGE_MAX_SLOW_INFLIGHT.
    bool anon_slot, upload_slot, slow_slot;
    size_t body_declared;               //  Content-Length, 0 when none was sent
    size_t budget_bytes;                //  what it holds of EDGE_BODY_BUDGET_BYTES
    //  Routes with ROUTE_BIG_BODY read their body through this instead of body: the ids
    //  become 16 bytes each as they arrive, never a 40 MB string and a JSON tree.
    struct _jobbody_t *jobbody;
    bool big_upload;                    //  holds one of EDGE_MAX_JOB_UPLOADS slots

    //  Waiting for the broker (broker_link's pending table and deadline list).
    const char *service;                //  the service called (a constant): a reply must match it
    int64_t deadline_ms;
    edge_req_t *prev, *next;
    req_reply_fn *on_reply;
    size_t broker;                      //  which of BROKER_ENDPOINTS holds it
    //  The payload text sent, kept to send it again (same rid, same frames) to another
    //  broker if this one goes down; NULL when it went with a blob (never sent again).
    char *sent;
    size_t sent_len;
    bool resent;                        //  sent again once already: never twice

    //  The answer.
    struct MHD_Response *response;
    int status;
    size_t bytes;

    req_state_t state;
};

//  Moves the request to state; a step the table does not allow is a bug in the edge
//  (never the client's doing): PANIC.
void req_state_set (edge_req_t *req, req_state_t state);
//  True when the table allows the step from one state to the other.
bool req_state_allowed (req_state_t from, req_state_t to);
//  True while the request is in broker_link's pending table.
bool req_state_waiting (const edge_req_t *req);

//  Answer with a JSON body (copied) and the API's standard headers.
void req_respond_json (edge_req_t *req, int status, const char *json, size_t len);
//  Same, taking ownership of a malloc'd body.
void req_respond_json_owned (edge_req_t *req, int status, char *json, size_t len);
//  The contract's error object; steals details (NULL for none).
void req_respond_error (edge_req_t *req, int status, const char *code, const char *message,
                        json_t *details);
//  422 validation_failed naming every entry of details (stolen).
void req_respond_invalid (edge_req_t *req, json_t *details);
//  Answer with no body (204, 304).
void req_respond_empty (edge_req_t *req, int status);
//  Adds a header to the response already set.
void req_header (edge_req_t *req, const char *name, const char *value);

//  Queues the answer set (adding CORS's Allow-Origin for the request's Origin), and the
//  request is REQ_QUEUED: MHD_NO, and its state unchanged, when libmicrohttpd cannot take
//  it now (a body is still coming in).
enum MHD_Result req_queue (edge_req_t *req);

//  503 overloaded with Retry-After: a bound of the edge is reached; try again.
void req_respond_overloaded (edge_req_t *req, const char *message);

//  True when origin (an Origin header) is one of the comma-separated list allowed, or a
//  loopback origin of web_port (the UI this edge serves itself).
bool req_cors_allowed (const char *allowed, long web_port, const char *origin);

//  The client's address as text ("?" when libmicrohttpd cannot tell), found once.
const char *req_address (edge_req_t *req);

//  A request header, or NULL.
const char *req_header_in (edge_req_t *req, const char *name);

//  The JSON object body of the request; NULL after answering 400/415/422 itself.
json_t *req_json_body (edge_req_t *req);
//  The same for a body held elsewhere (text, len).
json_t *req_json_text (edge_req_t *req, const char *text, size_t len);
//  Answers a body verdict other than OK (400 / 415 / 422); why: jansson's or jobbody's text
//  for INVALID_JSON, else unused.
void req_respond_body_error (edge_req_t *req, validate_body_t verdict, const char *why);

//  The query string's (key, value) pairs, at most max; returns the count, or -1 when
//  there are more than max.
int req_query (edge_req_t *req, validate_kv_t *kv, size_t max);

//  The query checked by check (validate.h's table of the route): the payload to send, or
//  NULL after answering 422 itself.
json_t *req_query_checked (edge_req_t *req,
                           json_t *(*check) (const validate_kv_t *, size_t, json_t *));

//  Reply handlers for the common cases: pass status and payload through (payload must be
//  JSON, else 502), and the same plus ETag/Location for ticket answers.
req_reply_fn req_reply_passthrough;
req_reply_fn req_reply_ticket;

#endif
