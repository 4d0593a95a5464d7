/*  guard: the checks of http-edge/guard.h, in the order they are made.  */
#include "guard.h"
#include "metrics.h"
#include "ratelimit.h"
#include "routes.h"
#include "../common/log.h"

#include <czmq.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define GUARD_RATE_SLOTS    8192    //  clients tracked per limiter (bounded table)

struct _guard_t {
    const edge_config_t *cfg;
    jwt_hs256_t *jwt;
    ratelimit_t *user_rate;         //  authenticated requests, per user
    ratelimit_t *login_rate;        //  logins, per client address and e-mail
    zhashx_t *by_address;           //  address -> anonymous requests in flight (a count)
    zhashx_t *by_user;              //  user -> bodies being received (a count)
    long slow_inflight;             //  requests holding a slow slot (logins with a worker)
    uint64_t rejected_rate;         //  answered 429
};

static bool
s_limited (guard_t *self, edge_req_t *req, ratelimit_t *limiter, const char *key)
{
    int retry = 1;
    if (ratelimit_take (limiter, key, zclock_mono (), &retry))
        return false;
    self->rejected_rate++;
    req_respond_error (req, 429, "rate_limited", "too many requests; slow down", NULL);
    char value [16];
    snprintf (value, sizeof value, "%d", retry);
    req_header (req, "Retry-After", value);
    return true;
}

//  The login bucket's key: the address, then the e-mail as the worker looks it up (lower
//  case), cut to fit: that only ever makes two long addresses share a bucket.
static void
s_login_key (edge_req_t *req, const char *email, char key [RATELIMIT_KEY_MAX + 1])
{
    snprintf (key, RATELIMIT_KEY_MAX + 1, "%s", req_address (req));
    size_t n = strlen (key);
    if (n < RATELIMIT_KEY_MAX)
        key [n++] = '|';
    for (const char *p = email; *p && n < RATELIMIT_KEY_MAX; p++)
        key [n++] = (char) tolower ((unsigned char) *p);
    key [n] = 0;
}

bool
guard_login_limited (guard_t *self, edge_req_t *req, const char *email)
{
    char key [RATELIMIT_KEY_MAX + 1];
    s_login_key (req, email, key);
    return s_limited (self, req, self->login_rate, key);
}

void
guard_login_unjudged (guard_t *self, edge_req_t *req, const char *email)
{
    char key [RATELIMIT_KEY_MAX + 1];
    s_login_key (req, email, key);
    ratelimit_give (self->login_rate, key);
}

//  Counted slots: the requests in flight under a key of table (a client address, a
//  user), at most limit each. false (nothing taken) when the key has them all.
static bool
s_slot_take (zhashx_t *table, const char *key, long limit)
{
    uintptr_t n = (uintptr_t) zhashx_lookup (table, key);
    if (n >= (uintptr_t) limit)
        return false;
    if (n)
        zhashx_update (table, key, (void *) (n + 1));
    else
        zhashx_insert (table, key, (void *) (uintptr_t) 1);
    return true;
}

static void
s_slot_give (zhashx_t *table, const char *key)
{
    uintptr_t n = (uintptr_t) zhashx_lookup (table, key);
    if (n > 1)
        zhashx_update (table, key, (void *) (n - 1));
    else
        zhashx_delete (table, key);
}

//  Refuses req with status (429, or 503 for an edge-wide bound) and Retry-After.
static void
s_refuse_busy (guard_t *self, edge_req_t *req, int status, const char *code, const char *message)
{
    self->rejected_rate++;
    req_respond_error (req, status, code, message, NULL);
    req_header (req, "Retry-After", "1");
}

void
guard_body_done (guard_t *self, edge_req_t *req)
{
    if (req->upload_slot) {
        s_slot_give (self->by_user, req->user);
        req->upload_slot = false;
    }
}

void
guard_release (guard_t *self, edge_req_t *req)
{
    guard_body_done (self, req);
    if (req->anon_slot) {
        s_slot_give (self->by_address, req->addr);
        req->anon_slot = false;
    }
    if (req->slow_slot) {
        self->slow_inflight--;
        req->slow_slot = false;
    }
}

//  The bearer token: true with req->user and req->role set, false after answering 401.
static bool
s_authenticate (guard_t *self, edge_req_t *req)
{
    const char *auth = req_header_in (req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth || strncasecmp (auth, "Bearer ", 7)) {
        req_respond_error (req, 401, "unauthorized", "a bearer token is required", NULL);
        req_header (req, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        return false;
    }
    const char *token = auth + 7;
    while (*token == ' ')
        token++;
    jwt_hs256_claims_t claims;
    const char *why = NULL;
    if (jwt_hs256_verify (self->jwt, token, time (NULL), &claims, &why)) {
        log_debug ("event=token_rejected rid=%s why=%s", req->rid, why);
        req_respond_error (req, 401, "invalid_token", "the token is invalid or expired", NULL);
        req_header (req, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"");
        return false;
    }
    memcpy (req->user, claims.sub, sizeof req->user);
    req->role = claims.role;
    return true;
}

//  Everything the headers decide, before any body byte is read: the route (404, 405), the
//  token (401), the role (403), the rate limits (429), the path ids (404) and the body's
//  declared size (413). Leaves the answer in req->response when the request is refused.
void
guard_check (guard_t *self, edge_req_t *req, bool has_body, bool has_length,
             unsigned long long declared)
{
    req->body_max = ROUTE_BODY_NONE;
    if (!strcmp (req->method, MHD_HTTP_METHOD_OPTIONS)) {
        //  CORS preflight: any API path.
        req_respond_empty (req, 204);
        req_header (req, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
        req_header (req, "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, If-Match, Idempotency-Key, X-Request-Id");
        req_header (req, "Access-Control-Max-Age", "600");
        return;
    }
    int rc = routes_match (req->method, req->url, &req->match);
    if (rc == 404) {
        req_respond_error (req, 404, "not_found", "no such route", NULL);
        return;
    }
    if (rc == 405) {
        req_respond_error (req, 405, "method_not_allowed", "method not allowed on this path", NULL);
        req_header (req, MHD_HTTP_HEADER_ALLOW, req->match.allow);
        return;
    }
    const route_t *route = req->match.route;
    req->body_max = route->flags & ROUTE_BIG_BODY
                  ? (size_t) self->cfg->max_job_body_bytes
                  : route->body_max < (size_t) self->cfg->max_body_bytes
                  ? route->body_max : (size_t) self->cfg->max_body_bytes;
    if ((route->flags & ROUTE_AUTH) && !s_authenticate (self, req))
        return;
    if ((route->flags & ROUTE_ADMIN) && req->role != SVC_ROLE_ADMIN) {
        req_respond_error (req, 403, "forbidden", "this action needs the admin role", NULL);
        return;
    }
    if (route->flags & ROUTE_AUTH) {
        if (s_limited (self, req, self->user_rate, req->user))
            return;
        //  A user's bodies being received at once: a few, so that one account trickling
        //  many cannot hold the edge's whole body budget.
        if (has_body) {
            if (!s_slot_take (self->by_user, req->user, self->cfg->uploads_per_user)) {
                s_refuse_busy (self, req, 429, "too_many_uploads",
                               "too many request bodies of yours are being received at once");
                return;
            }
            req->upload_slot = true;
        }
    }
    else {
        //  Anonymous: its address is the only name this client has.
        if (!(route->flags & ROUTE_LOCAL)) {
            if (!s_slot_take (self->by_address, req_address (req), self->cfg->anon_per_address)) {
                s_refuse_busy (self, req, 429, "too_many_connections",
                               "too many requests in flight from this address");
                return;
            }
            req->anon_slot = true;
        }
    }
    //  Every path id is a UUID; anything else names no resource (404, as Stripe does).
    for (size_t i = 0; i < req->match.params_n; i++)
        if (req->match.param_too_long || !uuid_valid (req->match.params [i])) {
            req_respond_error (req, 404, "not_found", "no such resource", NULL);
            return;
        }
    if (has_length && declared > req->body_max)
        req_respond_error (req, 413, "payload_too_large", "the request body is too large", NULL);
}

bool
guard_slow_take (guard_t *self, edge_req_t *req)
{
    //  A few in flight edge-wide, so that a flood of logins from many addresses leaves the
    //  workers free for everything else; a slow client holds none while it trickles.
    if (self->slow_inflight >= self->cfg->max_slow_inflight) {
        s_refuse_busy (self, req, 503, "overloaded",
                       "too many logins are being checked at once, try again");
        return false;
    }
    self->slow_inflight++;
    req->slow_slot = true;
    return true;
}

jwt_hs256_t *
guard_jwt (guard_t *self)
{
    return self->jwt;
}

void
guard_metrics (guard_t *self, FILE *f)
{
    metrics_counter (f, "edge_rate_limited_total", "Requests answered 429 by the rate limits.",
                     self->rejected_rate);
    metrics_gauge (f, "edge_anonymous_inflight_addresses",
                   "Addresses with anonymous requests in flight.",
                   (double) zhashx_size (self->by_address));
    metrics_gauge (f, "edge_uploading_users", "Users with request bodies being received.",
                   (double) zhashx_size (self->by_user));
    metrics_gauge (f, "edge_slow_inflight",
                   "Requests in flight on routes that cost a password hash (logins).",
                   (double) self->slow_inflight);
}

guard_t *
guard_new (const edge_config_t *cfg)
{
    guard_t *self = (guard_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->jwt = jwt_hs256_new (cfg->jwt_secret, strlen (cfg->jwt_secret), cfg->jwt_ttl_s);
    self->user_rate = ratelimit_new ((double) cfg->rate_per_user, 2.0 * (double) cfg->rate_per_user,
                                     GUARD_RATE_SLOTS);
    self->login_rate = ratelimit_new ((double) cfg->rate_login_per_min / 60.0,
                                      (double) cfg->rate_login_per_min, GUARD_RATE_SLOTS);
    self->by_address = zhashx_new ();
    self->by_user = zhashx_new ();
    if (!self->jwt || !self->user_rate || !self->login_rate || !self->by_address || !self->by_user)
        guard_destroy (&self);
    return self;
}

void
guard_destroy (guard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    guard_t *self = *self_p;
    jwt_hs256_destroy (&self->jwt);
    ratelimit_destroy (&self->user_rate);
    ratelimit_destroy (&self->login_rate);
    zhashx_destroy (&self->by_address);
    zhashx_destroy (&self->by_user);
    free (self);
    *self_p = NULL;
}
