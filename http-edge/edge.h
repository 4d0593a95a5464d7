/*  edge: the http-edge actor. Owns two libmicrohttpd daemons (API and static UI) in
    external-select epoll mode, the broker link, the guard and the upload bounds, and the
    one loop that polls them all. Handlers reach the other processes through it.  */
#ifndef EDGE_EDGE_H
#define EDGE_EDGE_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include "config.h"
#include "../common/jwt.h"
#include "request.h"

edge_t *edge_new (const edge_config_t *cfg);
void edge_destroy (edge_t **self_p);

//  Runs until SIGTERM/SIGINT (common/stop.h, installed by main), then drains
//  in-flight requests for up to 5 s. Returns 0.
int edge_run (edge_t *self);

//  For handlers.

//  Sends payload (stolen) to service (a constant, borrowed) as one MDP request and
//  suspends the request until the reply (or timeout_ms, 0 for REQUEST_TIMEOUT_MS) calls
//  on_reply. Returns -1 after answering 503 itself when the broker is down, the table is
//  full or the socket would block (broker_link.h).
int edge_call (edge_req_t *req, const char *service, json_t *payload, req_reply_fn *on_reply,
               long timeout_ms);
//  The same with a blob (malloc'd, stolen: *blob_p is nulled) sent as the request's fourth
//  frame (proto/svc.h) without a copy.
int edge_call_blob (edge_req_t *req, const char *service, json_t *payload,
                    unsigned char **blob_p, size_t blob_len, req_reply_fn *on_reply,
                    long timeout_ms);
jwt_hs256_t *edge_jwt (edge_t *self);
const edge_config_t *edge_config (edge_t *self);

//  Logins per client address and e-mail: true after answering 429 (guard.h).
bool edge_login_limited (edge_req_t *req, const char *email);
void edge_login_unjudged (edge_req_t *req, const char *email);
//  One of the edge-wide slots of requests that cost a worker a password hash: false after
//  answering 503 (guard.h).
bool edge_slow_take (edge_req_t *req);
//  Broker liveness (a broker is up) from the latest mmi.status, and the worker counts the
//  brokers gave (-1 unknown).
bool edge_broker_up (edge_t *self);
//  Brokers up, and brokers configured.
void edge_brokers (edge_t *self, size_t *live, size_t *total);
int edge_workers (edge_t *self);
int edge_service_workers (edge_t *self, const char *service);
//  The Prometheus text of /metrics; caller frees.
char *edge_metrics_text (edge_t *self, size_t *len);

#endif
