/*  guard: everything the headers decide before a body byte is read: the route (404,
    405), the bearer token (401), the role (403), the rate limits per user and per login,
    the per-address limit on anonymous requests (429), the path ids (404) and the route's
    body limit (413). Owns the token key, the limiters and the per-address counts.  */
#ifndef EDGE_GUARD_H
#define EDGE_GUARD_H

#include <stdbool.h>
#include <stdio.h>
#include "config.h"
#include "request.h"
#include "../common/jwt.h"

typedef struct _guard_t guard_t;

guard_t *guard_new (const edge_config_t *cfg);
void guard_destroy (guard_t **self_p);

//  Decides an API request from its headers (has_body: one is coming; has_length: a
//  Content-Length was sent, of declared bytes). Sets req->match, req->body_max, and
//  req->user/role for a valid token; leaves the answer in req->response when refused.
void guard_check (guard_t *self, edge_req_t *req, bool has_body, bool has_length,
                  unsigned long long declared);

//  A valid request about to cost a worker tens of milliseconds by design (a password hash)
//  takes one of EDGE_MAX_SLOW_INFLIGHT edge-wide slots until its answer: false after
//  answering 503 when all are taken. Its handler takes it once the body has passed every
//  check, so a flood of malformed ones, answered by the edge alone, never holds one.
bool guard_slow_take (guard_t *self, edge_req_t *req);

//  The body is all in: gives back its user's upload slot (EDGE_UPLOADS_PER_USER).
void guard_body_done (guard_t *self, edge_req_t *req);

//  Gives back everything guard_check took for req. Harmless twice.
void guard_release (guard_t *self, edge_req_t *req);

//  Logins per client address and e-mail: true after answering 429 (with Retry-After), so
//  one address cannot guess one account's password quickly, nor lock others out.
bool guard_login_limited (guard_t *self, edge_req_t *req, const char *email);
//  A login whose password was never checked (no worker, no database, no answer in time):
//  its attempt is given back, so retrying through an outage does not end in 429.
void guard_login_unjudged (guard_t *self, edge_req_t *req, const char *email);

//  The HS256 key that verifies tokens, and signs them at login.
jwt_hs256_t *guard_jwt (guard_t *self);

//  Prometheus text of the guard's counters.
void guard_metrics (guard_t *self, FILE *f);

#endif
