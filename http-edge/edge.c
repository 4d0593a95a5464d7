/*  edge: the actor. One thread, one loop: zmq_poll over the broker DEALER and each MHD
    daemon's epoll fd; MHD_run after each wake; replies resume suspended connections.  */
#include "edge.h"
#include "handlers.h"
#include "jobbody.h"
#include "metrics.h"
#include "ratelimit.h"
#include "static.h"
#include "../common/conf.h"
#include "../common/curve.h"
#include "../common/log.h"
#include "../common/memtrim.h"
#include "../common/rand.h"
#include "../common/stop.h"
#include "../proto/mdp.h"
#include "../proto/vocab.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EDGE_STATUS_PING_MS     1000    //  mmi.status every second
#define EDGE_JOBS_PING_MS       5000    //  sys.metrics (jobs by status) every 5 s
#define EDGE_JOBS_LOST_MS       6000    //  an unanswered sys.metrics is given up after this
#define EDGE_BROKER_DEAD_MS     3000    //  no answer for this long: broker down
#define EDGE_DRAIN_MS           5000    //  SIGTERM: time in-flight requests get
#define EDGE_MEMORY_LIMIT       (32 * 1024)   //  per connection: bounds headers + URL
#define EDGE_UPLOAD_CHUNK       (64 * 1024)
#define EDGE_RATE_SLOTS         8192    //  clients tracked per limiter (bounded table)
#define EDGE_DRAIN_MAX          (64ULL * 1024 * 1024)   //  413 bodies read and dropped up to this
#define EDGE_DROP_REFUSED       (256 * 1024)            //  other refused bodies, up to this

struct edge_s {
    edge_config_t cfg;
    jwt_hs256_t *jwt;
    static_t *web;
    struct MHD_Daemon *api_d, *web_d;
    int api_epfd, web_epfd;
    zsock_t *dealer;
    void *dealer_raw;
    char cors_origin [256];

    zhashx_t *pending;              //  rid -> edge_req_t (not owned)
    zhashx_t *anon;                 //  client address -> anonymous requests in flight (a count)
    size_t inflight;
    size_t job_uploads;             //  large job bodies being read (each up to 16 B an id)
    size_t body_bytes;              //  bodies held (jobbody slots aside), at most body_budget_bytes
    edge_req_t *head, *tail;        //  pending requests by deadline, soonest first

    int64_t last_broker_rx_ms;
    int64_t last_ping_ms;
    bool broker_was_up;
    int workers;                    //  -1 until the first mmi.status
    json_t *status;                 //  latest mmi.status answer

    //  Metrics. Rows: routes.c's table by index, then the EDGE_ROW_* pseudo routes.
    metrics_t *metrics;
    metrics_row_t *metric_rows;
    const route_t *routes;
    size_t routes_n;
    uint64_t broker_timeouts;
    uint64_t rejected_overload;
    uint64_t rejected_rate;
    uint64_t replies_late;          //  no request waits under that id (timed out, client gone)
    uint64_t replies_mismatched;    //  a request waits under that id, for another service
    uint64_t body_timeouts;         //  connections closed at EDGE_BODY_TIMEOUT_S

    //  Jobs by status from sys.metrics, asked in the background so /metrics answers at once.
    int64_t last_jobs_ping_ms;
    int64_t jobs_sent_ms;
    char jobs_rid [SVC_RID_MAX + 1];    //  the sys.metrics request awaited; "" when none
    bool jobs_known;
    int64_t jobs_by_status [VOCAB_JOB_STATUS_COUNT];    //  in the order of vocab_job_statuses
    int64_t jobs_processed;
    int64_t jobs_sample_ms;
    double jobs_items_per_second;

    ratelimit_t *user_rate;         //  authenticated requests, per user
    ratelimit_t *login_rate;        //  logins, per client address and e-mail
};

//  Pseudo routes after routes.c's table: a CORS preflight on any API path, an API request
//  no route matched (404, 405), and the static UI on WEB_PORT.
enum { EDGE_ROW_PREFLIGHT = 0, EDGE_ROW_UNMATCHED, EDGE_ROW_STATIC, EDGE_ROWS_PSEUDO };



static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  --------------------------------------------------------------------------
//  Configuration

int
edge_config_load (edge_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    int rc = 0;
    rc |= conf_int ("PORT", 3001, 1, 65535, &cfg->port);
    rc |= conf_int ("WEB_PORT", 3000, 0, 65535, &cfg->web_port);
    rc |= conf_int ("WS_PORT", 3002, 1, 65535, &cfg->ws_port);
    rc |= conf_int ("REQUEST_TIMEOUT_MS", 10000, 100, 600000, &cfg->request_timeout_ms);
    rc |= conf_int ("EDGE_MAX_INFLIGHT", 4096, 1, 1000000, &cfg->max_inflight);
    rc |= conf_int ("MAX_BODY_BYTES", 10L * 1024 * 1024, 1024, 1024L * 1024 * 1024, &cfg->max_body_bytes);
    rc |= vocab_max_job_items (&cfg->max_job_items);
    rc |= conf_int ("EDGE_MAX_JOB_UPLOADS", 4, 1, 10000, &cfg->max_job_uploads);
    rc |= conf_int ("EDGE_BODY_BUDGET_BYTES", 64L * 1024 * 1024, 1024, 1024L * 1024 * 1024 * 1024,
                    &cfg->body_budget_bytes);
    //  One body of the largest size must always fit, or it could never be read.
    if (cfg->body_budget_bytes < cfg->max_body_bytes + 1)
        cfg->body_budget_bytes = cfg->max_body_bytes + 1;
    //  A quoted uuid and a comma are 39 bytes; 41 leaves room for a space, plus the envelope.
    cfg->max_job_body_bytes = cfg->max_job_items * 41 + 4096;
    if (cfg->max_job_body_bytes < cfg->max_body_bytes)
        cfg->max_job_body_bytes = cfg->max_body_bytes;
    rc |= conf_int ("RATE_LIMIT_PER_USER", 1000, 0, 10000000, &cfg->rate_per_user);
    rc |= conf_int ("RATE_LIMIT_LOGIN_PER_MIN", 20, 0, 1000000, &cfg->rate_login_per_min);
    rc |= conf_int ("EDGE_CONNECTION_LIMIT", 4096, 1, 1000000, &cfg->conn_limit);
    rc |= conf_int ("EDGE_CONNECTION_TIMEOUT_S", 30, 1, 3600, &cfg->conn_timeout_s);
    rc |= conf_int ("EDGE_BODY_TIMEOUT_S", 30, 1, 3600, &cfg->body_timeout_s);
    rc |= conf_int ("EDGE_ANON_PER_ADDRESS", 16, 1, 1000000, &cfg->anon_per_address);
    rc |= conf_int ("EDGE_BROKER_SNDHWM", 10000, 1, 10000000, &cfg->sndhwm);
    rc |= conf_int ("JWT_TTL", 43200, 60, 31L * 24 * 3600, &cfg->jwt_ttl_s);
    rc |= conf_endpoint ("BROKER_ENDPOINT", "tcp://127.0.0.1:5555", &cfg->broker_endpoint);
    rc |= curve_client_init ();             //  CURVE_CLIENT_CERT, CURVE_SERVER_KEY
    cfg->bind_address = conf_str ("BIND_ADDRESS", "127.0.0.1");
    cfg->web_root = conf_str ("WEB_ROOT", "web");
    cfg->frontend_url = conf_str ("FRONTEND_URL", NULL);
    cfg->jwt_secret = conf_str ("JWT_SECRET", NULL);
    if (!cfg->jwt_secret) {
        log_error ("event=bad_config var=JWT_SECRET msg=\"is required (at least %d bytes)\"",
                   JWT_HS256_SECRET_MIN);
        rc = -1;
    }
    else
    if (strlen (cfg->jwt_secret) < JWT_HS256_SECRET_MIN) {
        log_error ("event=bad_config var=JWT_SECRET msg=\"must be at least %d bytes\"",
                   JWT_HS256_SECRET_MIN);
        rc = -1;
    }
    if (cfg->web_port && cfg->web_port == cfg->port) {
        log_error ("event=bad_config var=WEB_PORT msg=\"must differ from PORT\"");
        rc = -1;
    }
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton (AF_INET, cfg->bind_address, &a4) != 1
    &&  inet_pton (AF_INET6, cfg->bind_address, &a6) != 1) {
        log_error ("event=bad_config var=BIND_ADDRESS msg=\"must be an IPv4 or IPv6 address\"");
        rc = -1;
    }
    return rc ? -1 : 0;
}

//  --------------------------------------------------------------------------
//  Pending table: a hash by rid plus a list ordered by deadline.

static void
s_pending_unlink (edge_t *self, edge_req_t *req)
{
    if (!req->pending)
        return;
    zhashx_delete (self->pending, req->rid);
    if (req->prev)
        req->prev->next = req->next;
    else
        self->head = req->next;
    if (req->next)
        req->next->prev = req->prev;
    else
        self->tail = req->prev;
    req->prev = req->next = NULL;
    req->pending = false;
    self->inflight--;
}

static void
s_pending_insert (edge_t *self, edge_req_t *req)
{
    zhashx_insert (self->pending, req->rid, req);
    //  Deadlines mostly arrive in order: walk back from the tail.
    edge_req_t *after = self->tail;
    while (after && after->deadline_ms > req->deadline_ms)
        after = after->prev;
    req->prev = after;
    req->next = after ? after->next : self->head;
    if (req->next)
        req->next->prev = req;
    else
        self->tail = req;
    if (after)
        after->next = req;
    else
        self->head = req;
    req->pending = true;
    self->inflight++;
}

//  Hands a reply (or a timeout, payload NULL) to the request and wakes its connection.
static void
s_complete (edge_t *self, edge_req_t *req, int status, const char *payload, size_t len)
{
    s_pending_unlink (self, req);
    req->on_reply (req, status, payload, len);
    if (!req->response)
        req_respond_error (req, 500, "internal", "no answer was produced", NULL);
    if (req->suspended) {
        req->suspended = false;
        MHD_resume_connection (req->conn);
    }
}


//  --------------------------------------------------------------------------
//  Broker side

static void
s_free_blob (void *data, void *hint)
{
    free (data);
}

//  Sends msg and then, when *blob_p is set, the blob as one more frame that ZeroMQ takes
//  without a copy (a million ids are 16 MB) and frees once it is on the wire.
static int
s_send_nowait_blob (edge_t *self, zmsg_t **msg_p, unsigned char **blob_p, size_t blob_len)
{
    zmsg_t *msg = *msg_p;
    size_t n = zmsg_size (msg);
    size_t i = 0;
    int rc = 0;
    bool more = blob_p && *blob_p;
    for (zframe_t *f = zmsg_first (msg); f; f = zmsg_next (msg), i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < n || more ? ZMQ_SNDMORE : 0);
        if (zmq_send (self->dealer_raw, zframe_data (f), zframe_size (f), flags) < 0) {
            //  Only the first frame can fail: ZeroMQ takes a multipart message atomically.
            rc = -1;
            break;
        }
    }
    zmsg_destroy (msg_p);
    if (more) {
        unsigned char *blob = *blob_p;
        *blob_p = NULL;
        if (rc == 0) {
            zmq_msg_t frame;
            zmq_msg_init_data (&frame, blob, blob_len, s_free_blob, NULL);
            if (zmq_msg_send (&frame, self->dealer_raw, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&frame);
                rc = -1;
            }
        }
        else
            free (blob);
    }
    return rc;
}

//  Sends msg without blocking; destroys it. -1 when it would block or fails.
static int
s_send_nowait (edge_t *self, zmsg_t **msg_p)
{
    return s_send_nowait_blob (self, msg_p, NULL, 0);
}

bool
edge_broker_up (edge_t *self)
{
    return s_now_ms () - self->last_broker_rx_ms < EDGE_BROKER_DEAD_MS;
}

int
edge_workers (edge_t *self)
{
    return self->workers;
}

int
edge_service_workers (edge_t *self, const char *service)
{
    json_t *services = json_object_get (self->status, "services");
    if (!json_is_array (services))
        return -1;
    size_t i;
    json_t *s;
    json_array_foreach (services, i, s) {
        const char *name = json_string_value (json_object_get (s, "name"));
        if (name && !strcmp (name, service)) {
            json_t *w = json_object_get (s, "workers");
            return json_is_integer (w) ? (int) json_integer_value (w) : -1;
        }
    }
    return 0;
}

//  503 overloaded with Retry-After: a bound of the edge (requests in flight, large job
//  uploads, body bytes) is reached; counted in edge_overload_rejections_total.
static void
s_respond_overloaded (edge_req_t *req, const char *message)
{
    req->edge->rejected_overload++;
    req_respond_error (req, 503, "overloaded", message, NULL);
    req_header (req, "Retry-After", "1");
}

int
edge_call (edge_req_t *req, const char *service, json_t *payload, req_reply_fn *on_reply,
           long timeout_ms)
{
    return edge_call_blob (req, service, payload, NULL, 0, on_reply, timeout_ms);
}

int
edge_call_blob (edge_req_t *req, const char *service, json_t *payload, unsigned char **blob_p,
                size_t blob_len, req_reply_fn *on_reply, long timeout_ms)
{
    edge_t *self = req->edge;
    char *text = NULL;
    if (!edge_broker_up (self)) {
        req_respond_error (req, 503, "broker_unavailable", "the message broker is not reachable", NULL);
        req_header (req, "Retry-After", "1");
        goto fail;
    }
    if (self->inflight >= (size_t) self->cfg.max_inflight) {
        s_respond_overloaded (req, "too many requests in flight, try again");
        goto fail;
    }
    text = json_dumps (payload, JSON_COMPACT);
    if (!text)
        PANIC ("event=oom where=edge_call");
    zmsg_t *body = svc_request_encode (req->rid, req->user, req->role, text, strlen (text));
    zmsg_t *msg = mdp_client_request_new (service, &body);
    if (s_send_nowait_blob (self, &msg, blob_p, blob_len)) {
        log_warn ("event=broker_send_failed rid=%s service=%s err=\"%s\"", req->rid, service,
                  zmq_strerror (errno));
        req_respond_error (req, 503, "broker_unavailable", "the message broker is not accepting requests", NULL);
        req_header (req, "Retry-After", "1");
        goto fail;
    }
    free (text);
    json_decref (payload);
    req->on_reply = on_reply;
    req->service = service;
    req->deadline_ms = s_now_ms () + (timeout_ms > 0 ? timeout_ms : self->cfg.request_timeout_ms);
    s_pending_insert (self, req);
    return 0;
fail:
    if (blob_p) {
        free (*blob_p);
        *blob_p = NULL;
    }
    free (text);
    json_decref (payload);
    return -1;
}

static void
s_on_status (edge_t *self, mdp_msg_t *mdp)
{
    zframe_t *frame = zmsg_first (mdp->body);
    json_t *root = frame ? json_loadb ((const char *) zframe_data (frame), zframe_size (frame), 0, NULL)
                         : NULL;
    if (!json_is_object (root)) {
        log_warn ("event=bad_mmi_status msg=\"not a JSON object\"");
        json_decref (root);
        return;
    }
    json_t *w = json_object_get (root, "workers");
    self->workers = json_is_integer (w) ? (int) json_integer_value (w) : -1;
    json_decref (self->status);
    self->status = root;
}

//  A sys.metrics answer: jobs by status and items processed, kept for /metrics.
static void
s_on_jobs_metrics (edge_t *self, svc_reply_t *reply)
{
    self->jobs_rid [0] = 0;
    zframe_t *p = reply->payload;
    json_t *root = reply->status == 200 && p
                 ? json_loadb ((const char *) zframe_data (p), zframe_size (p), 0, NULL) : NULL;
    json_t *jobs = json_object_get (root, "jobs");
    json_t *processed = json_object_get (root, "processed");
    if (!json_is_object (jobs) || !json_is_integer (processed)) {
        log_warn ("event=bad_sys_metrics status=%d", reply->status);
        json_decref (root);
        return;
    }
    int64_t now = s_now_ms ();
    for (size_t i = 0; i < VOCAB_JOB_STATUS_COUNT; i++) {
        json_t *n = json_object_get (jobs, vocab_job_statuses [i]);
        self->jobs_by_status [i] = json_is_integer (n) ? (int64_t) json_integer_value (n) : 0;
    }
    int64_t total = (int64_t) json_integer_value (processed);
    self->jobs_items_per_second = self->jobs_known
        ? metrics_rate (self->jobs_processed, self->jobs_sample_ms, total, now) : 0.0;
    self->jobs_processed = total;
    self->jobs_sample_ms = now;
    self->jobs_known = true;
    json_decref (root);
}

//  Asks one worker for the job counts, unless one such request is still awaited (workers
//  busy with a bulk job may answer late; a lost one is given up after EDGE_JOBS_LOST_MS).
static void
s_ping_jobs (edge_t *self, int64_t now)
{
    self->last_jobs_ping_ms = now;
    if (self->jobs_rid [0] && now - self->jobs_sent_ms < EDGE_JOBS_LOST_MS)
        return;
    self->jobs_rid [0] = 0;
    //  Nobody offers it (yet): asking would only wait out the broker's queue TTL.
    if (!edge_broker_up (self) || edge_service_workers (self, SVC_SYS_METRICS) <= 0)
        return;
    char rid [RAND_ID_STRLEN + 1];
    rand_id (rid);
    zmsg_t *body = svc_request_encode (rid, NULL, SVC_ROLE_NONE, "{}", 2);
    zmsg_t *msg = mdp_client_request_new (SVC_SYS_METRICS, &body);
    if (s_send_nowait (self, &msg) == 0) {
        memcpy (self->jobs_rid, rid, sizeof rid);
        self->jobs_sent_ms = now;
    }
}

static void
s_on_broker_message (edge_t *self, zmsg_t *msg)
{
    char err [128];
    mdp_msg_t *mdp = mdp_msg_decode (&msg, MDP_AT_CLIENT, err, sizeof err);
    if (!mdp) {
        log_warn ("event=bad_broker_message err=\"%s\"", err);
        return;
    }
    self->last_broker_rx_ms = s_now_ms ();
    if (!self->broker_was_up) {
        self->broker_was_up = true;
        log_info ("event=broker_up endpoint=%s", self->cfg.broker_endpoint);
    }
    if (mdp->kind != MDP_CLIENT_MSG) {
        mdp_msg_destroy (&mdp);
        return;
    }
    if (!strcmp (mdp->service, MMI_STATUS)) {
        s_on_status (self, mdp);
        mdp_msg_destroy (&mdp);
        return;
    }
    svc_reply_t *reply = svc_reply_decode (&mdp->body, err, sizeof err);
    if (!reply) {
        log_warn ("event=bad_reply service=%s err=\"%s\"", mdp->service, err);
        mdp_msg_destroy (&mdp);
        return;
    }
    if (self->jobs_rid [0] && !strcmp (reply->rid, self->jobs_rid)
    &&  !strcmp (mdp->service, SVC_SYS_METRICS)) {
        s_on_jobs_metrics (self, reply);
        svc_reply_destroy (&reply);
        mdp_msg_destroy (&mdp);
        return;
    }
    //  A reply completes the request that waits under its id for that very service, and
    //  nothing else: ids are never reused (a late reply finds nobody), and a reply from
    //  another service under a waiting id is a peer's error or a forgery.
    edge_req_t *req = (edge_req_t *) zhashx_lookup (self->pending, reply->rid);
    if (req && !strcmp (req->service, mdp->service)) {
        zframe_t *p = reply->payload;
        s_complete (self, req, reply->status, p ? (const char *) zframe_data (p) : "",
                    p ? zframe_size (p) : 0);
    }
    else
    if (req) {
        self->replies_mismatched++;
        log_warn ("event=reply_dropped reason=service_mismatch rid=%s service=%s expected=%s",
                  reply->rid, mdp->service, req->service);
    }
    else {
        self->replies_late++;
        log_debug ("event=reply_dropped reason=late rid=%s service=%s", reply->rid, mdp->service);
    }
    svc_reply_destroy (&reply);
    mdp_msg_destroy (&mdp);
}

static void
s_ping_broker (edge_t *self, int64_t now)
{
    self->last_ping_ms = now;
    zmsg_t *body = zmsg_new ();
    zmsg_t *msg = mdp_client_request_new (MMI_STATUS, &body);
    s_send_nowait (self, &msg);     //  failing is what liveness then reports
}

//  Answers every waiting request with 503: the broker is gone and so is their work.
static void
s_fail_pending (edge_t *self, const char *code, const char *message)
{
    while (self->head) {
        edge_req_t *req = self->head;
        s_pending_unlink (self, req);
        req_respond_error (req, 503, code, message, NULL);
        req_header (req, "Retry-After", "1");
        if (req->suspended) {
            req->suspended = false;
            MHD_resume_connection (req->conn);
        }
    }
}

static void
s_timers (edge_t *self)
{
    int64_t now = s_now_ms ();
    memtrim_maybe (now);
    if (now - self->last_ping_ms >= EDGE_STATUS_PING_MS)
        s_ping_broker (self, now);
    if (now - self->last_jobs_ping_ms >= EDGE_JOBS_PING_MS)
        s_ping_jobs (self, now);
    if (self->broker_was_up && !edge_broker_up (self)) {
        self->broker_was_up = false;
        self->workers = 0;
        self->jobs_rid [0] = 0;         //  lost with the broker: ask again once it is back
        log_warn ("event=broker_down endpoint=%s silent_ms=%lld", self->cfg.broker_endpoint,
                  (long long) (now - self->last_broker_rx_ms));
        s_fail_pending (self, "broker_unavailable", "the message broker stopped answering");
    }
    while (self->head && self->head->deadline_ms <= now) {
        self->broker_timeouts++;
        s_complete (self, self->head, 504, NULL, 0);
    }
}

//  --------------------------------------------------------------------------
//  HTTP side

bool
edge_cors_allowed (const char *allowed, long web_port, const char *origin)
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

//  The origin is chosen per request (s_queue), since one edge serves several.
void
edge_add_cors_headers (edge_t *self, struct MHD_Response *response)
{
    (void) self;
    MHD_add_response_header (response, "Access-Control-Expose-Headers",
                             "ETag, Location, X-Request-Id, Idempotent-Replayed, Retry-After");
    MHD_add_response_header (response, "Vary", "Origin");
}

static bool
s_limited (edge_req_t *req, ratelimit_t *limiter, const char *key)
{
    int retry = 1;
    if (ratelimit_take (limiter, key, s_now_ms (), &retry))
        return false;
    req->edge->rejected_rate++;
    req_respond_error (req, 429, "rate_limited", "too many requests; slow down", NULL);
    char value [16];
    snprintf (value, sizeof value, "%d", retry);
    req_header (req, "Retry-After", value);
    return true;
}

bool
edge_rate_limited (edge_req_t *req)
{
    return s_limited (req, req->edge->user_rate, req->user);
}

bool
edge_login_limited (edge_req_t *req, const char *email)
{
    //  The address, then the e-mail as the worker looks it up (lower case), cut to fit:
    //  that only ever makes two long addresses share a bucket.
    char key [RATELIMIT_KEY_MAX + 1];
    snprintf (key, sizeof key, "%s", req->addr);
    size_t n = strlen (key);
    if (n + 1 < sizeof key)
        key [n++] = '|';
    for (const char *p = email; *p && n + 1 < sizeof key; p++)
        key [n++] = (char) tolower ((unsigned char) *p);
    key [n] = 0;
    return s_limited (req, req->edge->login_rate, key);
}

//  The client's address as text into out, "?" when MHD cannot tell.
static void
s_client_address (struct MHD_Connection *conn, char *out, size_t size)
{
    snprintf (out, size, "?");
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop (AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, out, (socklen_t) size);
    else
    if (sa->sa_family == AF_INET6)
        inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, out, (socklen_t) size);
}

//  Takes one of EDGE_ANON_PER_ADDRESS for the request's address: false (nothing taken)
//  when that address has as many anonymous requests in flight already. Without it, a few
//  addresses could hold every connection the edge has on the routes anyone may call.
static bool
s_anon_take (edge_req_t *req)
{
    edge_t *self = req->edge;
    uintptr_t n = (uintptr_t) zhashx_lookup (self->anon, req->addr);
    if (n >= (uintptr_t) self->cfg.anon_per_address)
        return false;
    if (n)
        zhashx_update (self->anon, req->addr, (void *) (n + 1));
    else
        zhashx_insert (self->anon, req->addr, (void *) (uintptr_t) 1);
    req->anon_slot = true;
    return true;
}

static void
s_anon_release (edge_req_t *req)
{
    if (!req->anon_slot)
        return;
    edge_t *self = req->edge;
    uintptr_t n = (uintptr_t) zhashx_lookup (self->anon, req->addr);
    if (n > 1)
        zhashx_update (self->anon, req->addr, (void *) (n - 1));
    else
        zhashx_delete (self->anon, req->addr);
    req->anon_slot = false;
}

const edge_config_t *
edge_config (edge_t *self)
{
    return &self->cfg;
}

jwt_hs256_t *
edge_jwt (edge_t *self)
{
    return self->jwt;
}

static edge_req_t *
s_req_new (edge_t *self, struct MHD_Connection *conn, const char *url, const char *method,
           bool is_api)
{
    edge_req_t *req = (edge_req_t *) calloc (1, sizeof *req);
    if (!req)
        return NULL;
    req->edge = self;
    req->conn = conn;
    req->url = url;
    req->method = method;
    req->is_api = is_api;
    req->start_us = s_now_us ();
    req->body_deadline_ms = s_now_ms () + self->cfg.body_timeout_s * 1000;
    rand_id (req->rid);
    const char *rid = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "X-Request-Id");
    if (rid && svc_rid_valid (rid, strlen (rid)))
        snprintf (req->client_rid, sizeof req->client_rid, "%s", rid);
    return req;
}

//  A job body's reader and its slot among EDGE_MAX_JOB_UPLOADS: a million ids are 16 MB
//  while they stream in, so the number of large ones read at once bounds the edge's memory.
static void
s_job_upload_end (edge_req_t *req)
{
    jobbody_destroy (&req->jobbody);
    if (req->big_upload) {
        req->big_upload = false;
        req->edge->job_uploads--;
    }
}

//  Sets what a request holds of EDGE_BODY_BUDGET_BYTES; false (nothing changed) when the
//  edge's bodies would then hold more than the budget.
static bool
s_budget_set (edge_req_t *req, size_t bytes)
{
    edge_t *self = req->edge;
    if (bytes > req->budget_bytes
    &&  self->body_bytes - req->budget_bytes + bytes > (size_t) self->cfg.body_budget_bytes)
        return false;
    self->body_bytes = self->body_bytes - req->budget_bytes + bytes;
    req->budget_bytes = bytes;
    return true;
}

//  Frees a request's body (buffer or job body reader) and its share of the budget.
static void
s_body_free (edge_req_t *req)
{
    free (req->body);
    req->body = NULL;
    req->body_len = req->body_cap = 0;
    s_job_upload_end (req);
    s_budget_set (req, 0);
}

static void
s_req_destroy (edge_req_t **req_p)
{
    edge_req_t *req = *req_p;
    if (!req)
        return;
    if (req->response)
        MHD_destroy_response (req->response);
    s_body_free (req);
    s_anon_release (req);
    free (req);
    *req_p = NULL;
}

//  The bearer token: true with req->user and req->role set, false after answering 401.
static bool
s_authenticate (edge_t *self, edge_req_t *req)
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
static void
s_guard (edge_t *self, edge_req_t *req, bool has_length, unsigned long long declared)
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
                  ? (size_t) self->cfg.max_job_body_bytes
                  : route->body_max < (size_t) self->cfg.max_body_bytes
                  ? route->body_max : (size_t) self->cfg.max_body_bytes;
    if ((route->flags & ROUTE_AUTH) && !s_authenticate (self, req))
        return;
    if ((route->flags & ROUTE_ADMIN) && req->role != SVC_ROLE_ADMIN) {
        req_respond_error (req, 403, "forbidden", "this action needs the admin role", NULL);
        return;
    }
    if (route->flags & ROUTE_AUTH) {
        if (edge_rate_limited (req))
            return;
    }
    else {
        //  Anonymous: its address is the only name this client has.
        s_client_address (req->conn, req->addr, sizeof req->addr);
        if (!(route->flags & ROUTE_LOCAL) && !s_anon_take (req)) {
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

static enum MHD_Result
s_queue (edge_req_t *req)
{
    if (req->is_api && !MHD_get_response_header (req->response, "Access-Control-Allow-Origin")) {
        //  Echo an allowed Origin (the UI may be opened as localhost or as 127.0.0.1);
        //  any other gets the configured one, which its browser then refuses.
        edge_t *self = req->edge;
        const char *origin = req_header_in (req, "Origin");
        bool ok = edge_cors_allowed (self->cfg.frontend_url, self->cfg.web_port, origin);
        MHD_add_response_header (req->response, "Access-Control-Allow-Origin",
                                 ok ? origin : self->cors_origin);
    }
    req->queued = true;
    return MHD_queue_response (req->conn, (unsigned) req->status, req->response);
}

//  How much of a refused request's body is read and dropped before the connection is
//  closed instead. Enough for any small body (an expired token on a ticket), so that the
//  client reads the answer; when the refusal is about the body itself (413, or 503 for
//  the body budget) and the token checked out, up to EDGE_DRAIN_MAX: an honest client
//  that sent too much, or too much at once, learns why. Nothing more: a refused request
//  costs no memory, and no one without a token makes the edge read megabytes.
static size_t
s_drop_max (edge_req_t *req, bool about_body)
{
    if (about_body && *req->user)
        return EDGE_DRAIN_MAX;
    return req->body_max < EDGE_DROP_REFUSED ? req->body_max : EDGE_DROP_REFUSED;
}

//  Refuses a body while it is being read, with the answer already set: what was held is
//  freed, the rest of the upload is read and dropped, and the answer goes out as soon as
//  MHD lets it (at the latest when the upload ends: a client still sending when we close
//  would get a reset, not the error).
static void
s_body_refuse (edge_req_t *req)
{
    req->body_dropped = true;
    req->drop_max = s_drop_max (req, true);
    s_body_free (req);
    if (s_queue (req) == MHD_NO)
        req->queued = false;
}

//  The bodies being read hold EDGE_BODY_BUDGET_BYTES: this one is to be retried.
static void
s_body_overloaded (edge_req_t *req)
{
    s_respond_overloaded (req, "too many request bodies are being received, try again");
    s_body_refuse (req);
}

//  A request the headers already refused: its answer goes out now, or once its body has
//  been read and dropped (never held: it costs no memory). Closing on unread bytes makes
//  the client's kernel reset the connection, and the client never reads the answer; so a
//  body within s_drop_max is read first. Anything larger is answered at once, and
//  libmicrohttpd closes the connection after the answer.
static enum MHD_Result
s_refuse_early (edge_req_t *req, bool has_body, bool has_length, unsigned long long declared)
{
    if (!has_body)
        return s_queue (req);
    req->drop_max = s_drop_max (req, req->status == 413);
    if (has_length && declared > req->drop_max)
        return s_queue (req);
    req->body_dropped = true;
    return MHD_YES;
}

//  The first call for a request: the headers are in, no body byte yet.
static enum MHD_Result
s_begin (edge_t *self, bool is_api, struct MHD_Connection *conn, const char *url,
         const char *method, void **con_cls)
{
    edge_req_t *req = s_req_new (self, conn, url, method, is_api);
    if (!req)
        return MHD_NO;
    *con_cls = req;
    const char *clen = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_TRANSFER_ENCODING);
    //  libmicrohttpd has checked Content-Length's digits and refused a request with both.
    bool has_length = clen != NULL;
    unsigned long long declared = clen ? strtoull (clen, NULL, 10) : 0;
    bool has_body = has_length ? declared > 0 : te != NULL;
    if (!is_api) {
        //  The UI's files are read with GET: a body is never wanted there.
        req->body_max = ROUTE_BODY_NONE;
        if (has_length && declared > req->body_max) {
            req_respond_error (req, 413, "payload_too_large", "the request body is too large", NULL);
            return s_queue (req);
        }
        return MHD_YES;
    }
    s_guard (self, req, has_length, declared);
    if (req->response)
        return s_refuse_early (req, has_body, has_length, declared);
    if (has_body)
        //  The inactivity timeout may not outlast the body's deadline (restored once the
        //  body is in): a client that trickles a byte now and then is still cut off.
        MHD_set_connection_option (conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                   (unsigned int) self->cfg.body_timeout_s);
    if (req->match.route->flags & ROUTE_BIG_BODY) {
        //  A body within the usual limit costs what any body may; a larger one (or one
        //  of unknown length) takes one of EDGE_MAX_JOB_UPLOADS slots, or is refused at
        //  once rather than read.
        if (!has_length || declared > (unsigned long long) self->cfg.max_body_bytes) {
            if (self->job_uploads >= (size_t) self->cfg.max_job_uploads) {
                s_respond_overloaded (req, "too many large job bodies are being received, try again");
                return s_queue (req);
            }
            req->big_upload = true;
            self->job_uploads++;
        }
        //  Everything but the ids is held as text, up to the usual body limit.
        req->jobbody = jobbody_new ((size_t) self->cfg.max_job_items,
                                    (size_t) self->cfg.max_body_bytes);
        if (!req->jobbody)
            return MHD_NO;
    }
    return MHD_YES;
}

//  Body bytes: held within the route's limit and the budget, or dropped for a refused
//  request; past the body's deadline the connection is closed.
static enum MHD_Result
s_upload (edge_t *self, edge_req_t *req, const char *data, size_t n)
{
    int64_t now = s_now_ms ();
    if (now >= req->body_deadline_ms) {
        //  libmicrohttpd 0.9 cannot answer while a body is coming in: the client learns
        //  from the closed connection (as nginx's client_body_timeout does).
        self->body_timeouts++;
        if (!*req->addr)
            s_client_address (req->conn, req->addr, sizeof req->addr);
        log_warn ("event=body_timeout rid=%s address=%s bytes=%zu timeout_s=%ld", req->rid,
                  req->addr, req->body_len, self->cfg.body_timeout_s);
        return MHD_NO;
    }
    MHD_set_connection_option (req->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                               (unsigned int) ((req->body_deadline_ms - now + 999) / 1000));
    if (req->queued || req->body_dropped) {
        req->body_len += n;
        return req->body_len > req->drop_max ? MHD_NO : MHD_YES;
    }
    if (req->body_len + n > req->body_max) {
        req_respond_error (req, 413, "payload_too_large", "the request body is too large", NULL);
        s_body_refuse (req);
        return MHD_YES;
    }
    if (req->jobbody) {
        //  Errors are sticky in the reader; the handler reports them at the end.
        jobbody_feed (req->jobbody, data, n);
        req->body_len += n;
        //  A large one holds an upload slot instead; an ordinary one counts here.
        if (!req->big_upload && !s_budget_set (req, jobbody_memory (req->jobbody)))
            s_body_overloaded (req);
        return MHD_YES;
    }
    if (req->body_len + n + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : EDGE_UPLOAD_CHUNK;
        while (cap < req->body_len + n + 1)
            cap *= 2;
        if (cap > req->body_max + 1)
            cap = req->body_max + 1;
        if (!s_budget_set (req, cap)) {
            s_body_overloaded (req);
            return MHD_YES;
        }
        char *body = realloc (req->body, cap);
        if (!body)
            return MHD_NO;
        req->body = body;
        req->body_cap = cap;
    }
    memcpy (req->body + req->body_len, data, n);
    req->body_len += n;
    req->body [req->body_len] = 0;
    return MHD_YES;
}

static enum MHD_Result
s_access (edge_t *self, bool is_api, struct MHD_Connection *conn, const char *url,
          const char *method, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    edge_req_t *req = (edge_req_t *) *con_cls;
    if (!req)
        return s_begin (self, is_api, conn, url, method, con_cls);
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return s_upload (self, req, upload_data, n);
    }
    if (req->queued)
        return MHD_YES;
    if (req->body_len)
        MHD_set_connection_option (conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                   (unsigned int) self->cfg.conn_timeout_s);
    if (req->response)                  //  refused, resumed with a reply, or the deferred 413
        return s_queue (req);

    if (is_api)
        req->match.route->handler (req);
    else
        static_serve (self->web, req);

    if (req->response)
        return s_queue (req);
    if (req->pending) {
        req->suspended = true;
        MHD_suspend_connection (conn);
        return MHD_YES;
    }
    req_respond_error (req, 500, "internal", "no answer was produced", NULL);
    return s_queue (req);
}

static enum MHD_Result
s_api_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
              const char *version, const char *upload_data, size_t *upload_data_size,
              void **con_cls)
{
    return s_access ((edge_t *) cls, true, conn, url, method, upload_data, upload_data_size, con_cls);
}

static enum MHD_Result
s_web_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
              const char *version, const char *upload_data, size_t *upload_data_size,
              void **con_cls)
{
    return s_access ((edge_t *) cls, false, conn, url, method, upload_data, upload_data_size, con_cls);
}

//  The metrics row of a finished request: its route's index, else a pseudo route.
static size_t
s_metrics_row (edge_t *self, edge_req_t *req)
{
    if (!req->is_api)
        return self->routes_n + EDGE_ROW_STATIC;
    if (req->match.route)
        return (size_t) (req->match.route - self->routes);
    if (!strcmp (req->method, MHD_HTTP_METHOD_OPTIONS))
        return self->routes_n + EDGE_ROW_PREFLIGHT;
    return self->routes_n + EDGE_ROW_UNMATCHED;
}

static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    edge_t *self = (edge_t *) cls;
    edge_req_t *req = (edge_req_t *) *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    s_pending_unlink (self, req);       //  only when the client vanished mid-wait
    int64_t latency = s_now_us () - req->start_us;
    int status = req->queued ? req->status : 0;
    metrics_observe (self->metrics, s_metrics_row (self, req), status, latency);
    char path [300], client_rid [2 * SVC_RID_MAX + 8];
    log_info ("event=http_request method=%s path=%s status=%d bytes=%zu latency_us=%lld rid=%s%s%s%s",
              req->method, log_quote (path, sizeof path, req->url), status, req->bytes,
              (long long) latency, req->rid, *req->client_rid ? " client_rid=" : "",
              *req->client_rid ? log_quote (client_rid, sizeof client_rid, req->client_rid) : "",
              toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=true");
    s_req_destroy (&req);
}

//  One broker-wide gauge from the latest mmi.status (NULL: the broker is down, 0).
static void
s_status_gauge (FILE *f, json_t *status, const char *name, const char *help, const char *key)
{
    json_t *v = status ? json_object_get (status, key) : NULL;
    fprintf (f, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name,
             json_is_integer (v) ? (long long) json_integer_value (v) : 0LL);
}

//  One gauge of every service in the latest mmi.status, from its field key.
static void
s_service_gauge (FILE *f, json_t *services, const char *name, const char *help, const char *key)
{
    fprintf (f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    size_t i;
    json_t *svc;
    json_array_foreach (services, i, svc) {
        const char *service = json_string_value (json_object_get (svc, "name"));
        json_t *v = json_object_get (svc, key);
        if (!service || !json_is_integer (v))
            continue;
        fprintf (f, "%s{service=", name);
        metrics_write_label (f, service);
        fprintf (f, "} %lld\n", (long long) json_integer_value (v));
    }
}

//  Answers from what the edge holds (counters, the latest mmi.status and sys.metrics):
//  /metrics never waits for another process.
char *
edge_metrics_text (edge_t *self, size_t *len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    if (!f)
        return NULL;
    metrics_write (self->metrics, f);
    fprintf (f, "# HELP edge_inflight_requests Requests waiting for a broker reply.\n"
                "# TYPE edge_inflight_requests gauge\nedge_inflight_requests %zu\n",
             self->inflight);
    fprintf (f, "# HELP edge_body_bytes Request body bytes held, of EDGE_BODY_BUDGET_BYTES.\n"
                "# TYPE edge_body_bytes gauge\nedge_body_bytes %zu\n"
                "# HELP edge_body_budget_bytes EDGE_BODY_BUDGET_BYTES.\n"
                "# TYPE edge_body_budget_bytes gauge\nedge_body_budget_bytes %ld\n",
             self->body_bytes, self->cfg.body_budget_bytes);
    fprintf (f, "# HELP edge_job_uploads Job bodies over MAX_BODY_BYTES being read, of EDGE_MAX_JOB_UPLOADS.\n"
                "# TYPE edge_job_uploads gauge\nedge_job_uploads %zu\n"
                "# HELP edge_job_uploads_max EDGE_MAX_JOB_UPLOADS.\n"
                "# TYPE edge_job_uploads_max gauge\nedge_job_uploads_max %ld\n",
             self->job_uploads, self->cfg.max_job_uploads);
    fprintf (f, "# HELP edge_broker_timeouts_total Requests answered 504.\n"
                "# TYPE edge_broker_timeouts_total counter\nedge_broker_timeouts_total %llu\n",
             (unsigned long long) self->broker_timeouts);
    fprintf (f, "# HELP edge_overload_rejections_total Requests answered 503 overloaded.\n"
                "# TYPE edge_overload_rejections_total counter\nedge_overload_rejections_total %llu\n",
             (unsigned long long) self->rejected_overload);
    fprintf (f, "# HELP edge_rate_limited_total Requests answered 429 by the rate limits.\n"
                "# TYPE edge_rate_limited_total counter\nedge_rate_limited_total %llu\n",
             (unsigned long long) self->rejected_rate);
    fprintf (f, "# HELP edge_anonymous_inflight_addresses Addresses with anonymous requests in flight.\n"
                "# TYPE edge_anonymous_inflight_addresses gauge\nedge_anonymous_inflight_addresses %zu\n",
             zhashx_size (self->anon));
    fprintf (f, "# HELP edge_body_timeouts_total Connections closed because a body took longer than EDGE_BODY_TIMEOUT_S.\n"
                "# TYPE edge_body_timeouts_total counter\nedge_body_timeouts_total %llu\n",
             (unsigned long long) self->body_timeouts);
    fprintf (f, "# HELP edge_broker_replies_dropped_total Broker replies that completed no request.\n"
                "# TYPE edge_broker_replies_dropped_total counter\n"
                "edge_broker_replies_dropped_total{reason=\"late\"} %llu\n"
                "edge_broker_replies_dropped_total{reason=\"service_mismatch\"} %llu\n",
             (unsigned long long) self->replies_late, (unsigned long long) self->replies_mismatched);
    bool up = edge_broker_up (self);
    fprintf (f, "# HELP edge_broker_up 1 when the broker answered mmi.status in the last 3 s.\n"
                "# TYPE edge_broker_up gauge\nedge_broker_up %d\n", up ? 1 : 0);
    fprintf (f, "# HELP broker_workers Workers the broker knows (latest mmi.status).\n"
                "# TYPE broker_workers gauge\nbroker_workers %d\n", self->workers < 0 ? 0 : self->workers);
    //  A broker that stopped answering reports nothing: its last numbers are not current.
    json_t *status = up ? self->status : NULL;
    s_status_gauge (f, status, "broker_queued_requests", "Requests queued in the broker.",
                    "queued");
    s_status_gauge (f, status, "broker_inflight_requests", "Requests the broker's workers hold.",
                    "inFlight");
    s_status_gauge (f, status, "broker_held_bytes",
                    "Request bytes the broker holds, queued or at workers.", "heldBytes");
    s_status_gauge (f, status, "broker_held_bytes_max", "BROKER_HELD_BYTES.", "heldBytesMax");
    json_t *services = up ? json_object_get (self->status, "services") : NULL;
    if (json_is_array (services)) {
        s_service_gauge (f, services, "broker_service_workers",
                         "Live workers offering the service.", "workers");
        s_service_gauge (f, services, "broker_service_idle",
                         "Workers offering the service and waiting for a request.", "idle");
        s_service_gauge (f, services, "broker_service_queued",
                         "Requests for the service waiting for a worker.", "queued");
        s_service_gauge (f, services, "broker_service_inflight",
                         "Requests for the service held by workers.", "inFlight");
    }
    if (self->jobs_known) {
        fprintf (f, "# HELP jobs Bulk jobs by status (sys.metrics, at most 5 s old).\n"
                    "# TYPE jobs gauge\n");
        for (size_t i = 0; i < VOCAB_JOB_STATUS_COUNT; i++)
            fprintf (f, "jobs{status=\"%s\"} %lld\n", vocab_job_statuses [i],
                     (long long) self->jobs_by_status [i]);
        fprintf (f, "# HELP job_items_processed_total Items processed over all jobs (stored counters).\n"
                    "# TYPE job_items_processed_total counter\njob_items_processed_total %lld\n",
                 (long long) self->jobs_processed);
        fprintf (f, "# HELP job_items_per_second Items processed per second between the last two samples.\n"
                    "# TYPE job_items_per_second gauge\njob_items_per_second %.3f\n",
                 self->jobs_items_per_second);
        fprintf (f, "# HELP job_metrics_age_seconds Age of the jobs sample above.\n"
                    "# TYPE job_metrics_age_seconds gauge\njob_metrics_age_seconds %.3f\n",
                 (double) (s_now_ms () - self->jobs_sample_ms) / 1e3);
    }
    fclose (f);
    *len = size;
    return text;
}

//  --------------------------------------------------------------------------
//  Daemons and the loop

//  MHD's unescaping, except that a %00 becomes 0xFF instead of ending the string early:
//  no path or query value can hide a NUL, and 0xFF fails every later check (not UTF-8).
static size_t
s_unescape (void *cls, struct MHD_Connection *conn, char *uri)
{
    size_t len = MHD_http_unescape (uri);
    for (size_t i = 0; i < len; i++)
        if (uri [i] == 0)
            uri [i] = (char) 0xff;
    return len;
}

//  MHD's own messages (431, 414, socket errors) as logfmt lines.
static void
s_mhd_log (void *cls, const char *fmt, va_list ap)
{
    char msg [512], quoted [600];
    vsnprintf (msg, sizeof msg, fmt, ap);
    size_t n = strlen (msg);
    while (n && (msg [n - 1] == '\n' || msg [n - 1] == ' '))
        msg [--n] = 0;
    log_warn ("event=mhd msg=%s", log_quote (quoted, sizeof quoted, msg));
}

static struct MHD_Daemon *
s_daemon_start (edge_t *self, long port, MHD_AccessHandlerCallback handler, int *epfd)
{
    struct sockaddr_storage ss;
    memset (&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
    struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
    if (inet_pton (AF_INET, self->cfg.bind_address, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons ((uint16_t) port);
    }
    else {
        inet_pton (AF_INET6, self->cfg.bind_address, &s6->sin6_addr);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons ((uint16_t) port);
        flags |= MHD_USE_IPv6;
    }
    struct MHD_Daemon *d = MHD_start_daemon (
        flags, (uint16_t) port, NULL, NULL, handler, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) self->cfg.conn_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) self->cfg.conn_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) EDGE_MEMORY_LIMIT,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_UNESCAPE_CALLBACK, s_unescape, self,
        MHD_OPTION_END);
    if (!d) {
        log_error ("event=listen_failed address=%s port=%ld err=\"%s\"", self->cfg.bind_address,
                   port, strerror (errno));
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (d, MHD_DAEMON_INFO_EPOLL_FD);
    *epfd = info ? info->epoll_fd : -1;
    if (*epfd < 0) {
        log_error ("event=epoll_fd_unavailable port=%ld", port);
        MHD_stop_daemon (d);
        return NULL;
    }
    return d;
}

edge_t *
edge_new (const edge_config_t *cfg)
{
    edge_t *self = (edge_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->workers = -1;
    self->api_epfd = self->web_epfd = -1;
    if (cfg->frontend_url) {
        size_t n = strcspn (cfg->frontend_url, ",");
        snprintf (self->cors_origin, sizeof self->cors_origin, "%.*s", (int) n, cfg->frontend_url);
    }
    else
        snprintf (self->cors_origin, sizeof self->cors_origin, "http://localhost:%ld",
                  cfg->web_port ? cfg->web_port : 3000);
    self->jwt = jwt_hs256_new (cfg->jwt_secret, strlen (cfg->jwt_secret), cfg->jwt_ttl_s);
    self->user_rate = ratelimit_new ((double) cfg->rate_per_user, 2.0 * (double) cfg->rate_per_user,
                                     EDGE_RATE_SLOTS);
    self->login_rate = ratelimit_new ((double) cfg->rate_login_per_min / 60.0,
                                      (double) cfg->rate_login_per_min, EDGE_RATE_SLOTS);
    if (!self->jwt || !self->user_rate || !self->login_rate)
        goto fail;
    self->routes = routes_table (&self->routes_n);
    self->metric_rows = calloc (self->routes_n + EDGE_ROWS_PSEUDO, sizeof (metrics_row_t));
    if (!self->metric_rows)
        goto fail;
    for (size_t i = 0; i < self->routes_n; i++)
        self->metric_rows [i] = (metrics_row_t) { self->routes [i].pattern, self->routes [i].method };
    self->metric_rows [self->routes_n + EDGE_ROW_PREFLIGHT] = (metrics_row_t) { "*", "OPTIONS" };
    self->metric_rows [self->routes_n + EDGE_ROW_UNMATCHED] = (metrics_row_t) { "unmatched", "*" };
    self->metric_rows [self->routes_n + EDGE_ROW_STATIC] = (metrics_row_t) { "static", "*" };
    self->metrics = metrics_new (self->metric_rows, self->routes_n + EDGE_ROWS_PSEUDO);
    if (!self->metrics)
        goto fail;
    self->pending = zhashx_new ();
    self->anon = zhashx_new ();
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->pending || !self->anon || !self->dealer)
        goto fail;
    mdp_socket_setup (self->dealer);
    zsock_set_sndhwm (self->dealer, (int) cfg->sndhwm);
    zsock_set_rcvhwm (self->dealer, 0);         //  replies are bounded by what we sent
    zsock_set_rcvtimeo (self->dealer, 0);       //  the loop reads until EAGAIN
    //  No queueing towards a broker that is not connected: a send fails at once (503)
    //  instead of delivering a stale request minutes later.
    zsock_set_immediate (self->dealer, 1);
    if (curve_client_apply (self->dealer))
        goto fail;
    if (zsock_connect (self->dealer, "%s", cfg->broker_endpoint)) {
        log_error ("event=connect_failed endpoint=%s", cfg->broker_endpoint);
        goto fail;
    }
    self->dealer_raw = zsock_resolve (self->dealer);

    self->api_d = s_daemon_start (self, cfg->port, s_api_access, &self->api_epfd);
    if (!self->api_d)
        goto fail;
    if (cfg->web_port) {
        self->web = static_new (cfg->web_root, cfg->port, cfg->ws_port);
        self->web_d = s_daemon_start (self, cfg->web_port, s_web_access, &self->web_epfd);
        if (!self->web || !self->web_d)
            goto fail;
    }
    //  Optimistic start: the first mmi.status answer confirms it within a second.
    self->last_broker_rx_ms = s_now_ms ();
    self->broker_was_up = true;

    log_info ("event=listening address=%s port=%ld web_port=%ld web_root=%s broker=%s",
              cfg->bind_address, cfg->port, cfg->web_port, cfg->web_root, cfg->broker_endpoint);
    return self;
fail:
    edge_destroy (&self);
    return NULL;
}

void
edge_destroy (edge_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    edge_t *self = *self_p;
    //  MHD must not be stopped with suspended connections: answer and resume them first.
    s_fail_pending (self, "shutting_down", "the server is shutting down");
    if (self->api_d) {
        MHD_run (self->api_d);
        MHD_stop_daemon (self->api_d);
    }
    if (self->web_d)
        MHD_stop_daemon (self->web_d);
    static_destroy (&self->web);
    zsock_destroy (&self->dealer);
    zhashx_destroy (&self->pending);
    zhashx_destroy (&self->anon);
    json_decref (self->status);
    jwt_hs256_destroy (&self->jwt);
    ratelimit_destroy (&self->user_rate);
    ratelimit_destroy (&self->login_rate);
    metrics_destroy (&self->metrics);
    free (self->metric_rows);
    free (self);
    *self_p = NULL;
}

//  Poll timeout: MHD's, the soonest deadline and the next ping, whichever is first.
static long
s_poll_timeout (edge_t *self)
{
    int64_t now = s_now_ms ();
    int64_t t = self->last_ping_ms + EDGE_STATUS_PING_MS - now;
    if (self->head && self->head->deadline_ms - now < t)
        t = self->head->deadline_ms - now;
    struct MHD_Daemon *ds [2] = { self->api_d, self->web_d };
    for (int i = 0; i < 2; i++) {
        MHD_UNSIGNED_LONG_LONG mt;
        if (ds [i] && MHD_get_timeout (ds [i], &mt) == MHD_YES && (int64_t) mt < t)
            t = (int64_t) mt;
    }
    return t < 0 ? 0 : (long) t;
}

//  True when MHD has work now: its epoll fd was ready, or it asks to run at once (a
//  timeout due, or data or a connection it left ready under its edge-triggered epoll:
//  MHD_get_timeout answers 0 for those).
static bool
s_daemon_due (struct MHD_Daemon *d, const zmq_pollitem_t *item)
{
    MHD_UNSIGNED_LONG_LONG mt;
    return d && ((item->revents & ZMQ_POLLIN)
              || (MHD_get_timeout (d, &mt) == MHD_YES && mt == 0));
}

//  Runs a daemon only when it has work: an idle MHD_run is still an epoll_wait, a system
//  call, and the loop wakes once or twice per request.
static void
s_run_daemons (edge_t *self, const zmq_pollitem_t *items)
{
    if (s_daemon_due (self->api_d, &items [1]))
        MHD_run (self->api_d);
    if (s_daemon_due (self->web_d, &items [2]))
        MHD_run (self->web_d);
}

int
edge_run (edge_t *self)
{
    zmq_pollitem_t items [3] = {
        { self->dealer_raw, 0, ZMQ_POLLIN, 0 },
        { NULL, self->api_epfd, ZMQ_POLLIN, 0 },
        { NULL, self->web_epfd, ZMQ_POLLIN, 0 },
    };
    int nitems = self->web_d ? 3 : 2;
    int64_t drain_until = 0;
    s_ping_broker (self, s_now_ms ());
    while (true) {
        if (stop_requested && !drain_until) {
            drain_until = s_now_ms () + EDGE_DRAIN_MS;
            MHD_socket fd = MHD_quiesce_daemon (self->api_d);
            if (fd != MHD_INVALID_SOCKET)
                close (fd);
            if (self->web_d && (fd = MHD_quiesce_daemon (self->web_d)) != MHD_INVALID_SOCKET)
                close (fd);
            log_info ("event=draining inflight=%zu", self->inflight);
        }
        if (drain_until && (self->inflight == 0 || s_now_ms () >= drain_until))
            break;
        long timeout = s_poll_timeout (self);
        if (drain_until && timeout > 50)
            timeout = 50;
        int rc = zmq_poll (items, nitems, timeout);
        if (rc < 0 && errno != EINTR) {
            log_error ("event=poll_failed err=\"%s\"", zmq_strerror (errno));
            break;
        }
        if (rc <= 0)
            items [0].revents = items [1].revents = items [2].revents = 0;
        s_run_daemons (self, items);
        //  Drain the DEALER (every reply resumes a connection): reads until EAGAIN, so
        //  libzmq looks at its mailbox once per drain instead of once per message.
        bool resumed = false;
        zmsg_t *msg;
        while ((items [0].revents & ZMQ_POLLIN) && (msg = zmsg_recv (self->dealer))) {
            size_t before = self->inflight;
            s_on_broker_message (self, msg);
            if (self->inflight != before)
                resumed = true;
        }
        size_t before = self->inflight;
        s_timers (self);
        //  Resumed connections are answered by the API daemon's next run: now.
        if (resumed || self->inflight != before)
            MHD_run (self->api_d);
    }
    //  Let the last answers go out before the daemons stop.
    int64_t flush_until = s_now_ms () + 200;
    s_fail_pending (self, "shutting_down", "the server is shutting down");
    while (s_now_ms () < flush_until) {
        zmq_poll (items + 1, nitems - 1, 20);
        MHD_run (self->api_d);          //  the connections s_fail_pending resumed
        if (self->web_d)
            MHD_run (self->web_d);
    }
    log_info ("event=stopped inflight=%zu", self->inflight);
    return 0;
}
