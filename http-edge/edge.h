/*  edge: the http-edge actor. Owns two libmicrohttpd daemons (API and static UI) in
    external-select epoll mode, the DEALER to the broker, the table of requests waiting
    for a reply, and the one loop that polls them all.  */
#ifndef EDGE_EDGE_H
#define EDGE_EDGE_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include "../common/jwt.h"
#include "request.h"

typedef struct {
    const char *bind_address;       //  BIND_ADDRESS, default 127.0.0.1
    long port;                      //  PORT, default 3001 (API)
    long web_port;                  //  WEB_PORT, default 3000 (static UI); 0 disables
    long ws_port;                   //  WS_PORT, default 3002 (progress-hub; for the UI's config)
    const char *web_root;           //  WEB_ROOT, default "web"
    const char *frontend_url;       //  FRONTEND_URL: allowed CORS origins, comma-separated;
                                    //  http://localhost|127.0.0.1|[::1]:<WEB_PORT> always are
    const char *broker_endpoint;    //  BROKER_ENDPOINT
    long request_timeout_ms;        //  REQUEST_TIMEOUT_MS, default 10000
    long max_inflight;              //  EDGE_MAX_INFLIGHT, default 4096
    long max_body_bytes;            //  MAX_BODY_BYTES, default 10 MiB
    long max_job_items;             //  MAX_JOB_ITEMS, default 1000000
    long max_job_uploads;           //  EDGE_MAX_JOB_UPLOADS: job bodies over max_body_bytes read at once (4)
    long max_job_body_bytes;        //  POST /api/jobs: about 40 bytes per id, from MAX_JOB_ITEMS
    long body_budget_bytes;         //  EDGE_BODY_BUDGET_BYTES: bodies held at once (64 MiB)
    long rate_per_user;             //  RATE_LIMIT_PER_USER: requests/s per user (burst 2x), 0 = off
    long rate_login_per_min;        //  RATE_LIMIT_LOGIN_PER_MIN: per address and e-mail, 0 = off
    long conn_limit;                //  EDGE_CONNECTION_LIMIT, default 4096
    long conn_timeout_s;            //  EDGE_CONNECTION_TIMEOUT_S, default 30
    long body_timeout_s;            //  EDGE_BODY_TIMEOUT_S: a body's whole upload, default 30
    long anon_per_address;          //  EDGE_ANON_PER_ADDRESS: anonymous requests at once, 16
    long sndhwm;                    //  EDGE_BROKER_SNDHWM, default 10000
    const char *jwt_secret;         //  JWT_SECRET, required, >= 32 bytes
    long jwt_ttl_s;                 //  JWT_TTL, default 43200
} edge_config_t;

//  Reads every setting from the environment. -1 after logging the bad variable.
int edge_config_load (edge_config_t *cfg);

edge_t *edge_new (const edge_config_t *cfg);
void edge_destroy (edge_t **self_p);

//  Runs until SIGTERM/SIGINT (common/stop.h, installed by main), then drains
//  in-flight requests for up to 5 s. Returns 0.
int edge_run (edge_t *self);

//  For handlers.

//  Sends payload (stolen) to service (a constant, borrowed) as one MDP request and suspends the request until
//  the reply (or timeout_ms, 0 for REQUEST_TIMEOUT_MS) calls on_reply. Returns -1 after
//  answering 503 itself when the broker is down, the table is full or the socket would
//  block.
int edge_call (edge_req_t *req, const char *service, json_t *payload, req_reply_fn *on_reply,
               long timeout_ms);
//  The same with a blob (malloc'd, stolen: *blob_p is nulled) sent as the request's fourth
//  frame (proto/svc.h) without a copy.
int edge_call_blob (edge_req_t *req, const char *service, json_t *payload,
                    unsigned char **blob_p, size_t blob_len, req_reply_fn *on_reply,
                    long timeout_ms);
jwt_hs256_t *edge_jwt (edge_t *self);
const edge_config_t *edge_config (edge_t *self);

//  Rate limits: true after answering 429 (with Retry-After) itself. edge_rate_limited
//  keys by the request's user; edge_login_limited by client address and e-mail, so one
//  address cannot guess one account's password quickly, nor lock others out.
bool edge_rate_limited (edge_req_t *req);
bool edge_login_limited (edge_req_t *req, const char *email);
//  Broker liveness from the latest mmi.status, and the worker counts it gave (-1 unknown).
bool edge_broker_up (edge_t *self);
int edge_workers (edge_t *self);
int edge_service_workers (edge_t *self, const char *service);
//  The Prometheus text of /metrics; caller frees.
char *edge_metrics_text (edge_t *self, size_t *len);
void edge_add_cors_headers (edge_t *self, struct MHD_Response *response);
//  True when origin (an Origin header) is one of the comma-separated list allowed, or a
//  loopback origin of web_port (the UI this edge serves itself).
bool edge_cors_allowed (const char *allowed, long web_port, const char *origin);

#endif
