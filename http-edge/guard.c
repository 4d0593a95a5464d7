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
    zhashx_t *anon;                 //  client address -> anonymous requests in flight (a count)
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

bool
guard_login_limited (guard_t *self, edge_req_t *req, const char *email)
{
    //  The address, then the e-mail as the worker looks it up (lower case), cut to fit:
    //  that only ever makes two long addresses share a bucket.
    char key [RATELIMIT_KEY_MAX + 1];
    snprintf (key, sizeof key, "%s", req_address (req));
    size_t n = strlen (key);
    if (n + 1 < sizeof key)
        key [n++] = '|';
    for (const char *p = email; *p && n + 1 < sizeof key; p++)
        key [n++] = (char) tolower ((unsigned char) *p);
    key [n] = 0;
    return s_limited (self, req, self->login_rate, key);
}

//  Takes one of EDGE_ANON_PER_ADDRESS for the request's address: false (nothing taken)
//  when that address has as many anonymous requests in flight already. Without it, a few
//  addresses could hold every connection the edge has on the routes anyone may call.
static bool
s_anon_take (guard_t *self, edge_req_t *req)
{
    uintptr_t n = (uintptr_t) zhashx_lookup (self->anon, req->addr);
    if (n >= (uintptr_t) self->cfg->anon_per_address)
        return false;
    if (n)
        zhashx_update (self->anon, req->addr, (void *) (n + 1));
    else
        zhashx_insert (self->anon, req->addr, (void *) (uintptr_t) 1);
    req->anon_slot = true;
    return true;
}

void
guard_release (guard_t *self, edge_req_t *req)
{
    if (!req->anon_slot)
        return;
    uintptr_t n = (uintptr_t) zhashx_lookup (self->anon, req->addr);
    if (n > 1)
        zhashx_update (self->anon, req->addr, (void *) (n - 1));
    else
        zhashx_delete (self->anon, req->addr);
    req->anon_slot = false;
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
guard_check (guard_t *self, edge_req_t *req, bool has_length, unsigned long long declared)
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
    }
    else {
        //  Anonymous: its address is the only name this client has.
        req_address (req);
        if (!(route->flags & ROUTE_LOCAL) && !s_anon_take (self, req)) {
            self->rejected_rate++;
            req_respond_error (req, 429, "too_many_connections",
                               "too many requests in flight from this address", NULL);
            req_header (req, "Retry-After", "1");
            return;
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
                   "Addresses with anonymous requests in flight.", (double) zhashx_size (self->anon));
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
    self->anon = zhashx_new ();
    if (!self->jwt || !self->user_rate || !self->login_rate || !self->anon)
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
    zhashx_destroy (&self->anon);
    free (self);
    *self_p = NULL;
}
