/*  broker_link: the DEALER to the broker, the pending table (a hash by rid plus a list by
    deadline) and everything that keeps it honest: correlation by id and service, 504s,
    the broker's liveness from mmi.status, and the jobs sample /metrics reports.  */
#include "broker_link.h"
#include "metrics.h"
#include "../common/log.h"
#include "../common/rand.h"
#include "../proto/mdp.h"
#include "../proto/svc.h"
#include "../proto/vocab.h"

#include <czmq.h>
#include <errno.h>
#include <string.h>

#define LINK_STATUS_PING_MS     1000    //  mmi.status every second
#define LINK_JOBS_PING_MS       5000    //  sys.metrics (jobs by status) every 5 s
#define LINK_JOBS_LOST_MS       6000    //  an unanswered sys.metrics is given up after this
#define LINK_BROKER_DEAD_MS     3000    //  no answer for this long: broker down

struct _broker_link_t {
    const edge_config_t *cfg;
    zsock_t *dealer;
    void *dealer_raw;

    zhashx_t *pending;              //  rid -> edge_req_t (not owned)
    size_t inflight;
    edge_req_t *head, *tail;        //  pending requests by deadline, soonest first

    int64_t last_rx_ms;
    int64_t last_ping_ms;
    bool was_up;
    int workers;                    //  -1 until the first mmi.status
    json_t *status;                 //  latest mmi.status answer

    uint64_t timeouts;              //  requests answered 504
    uint64_t overloads;             //  requests answered 503: EDGE_MAX_INFLIGHT reached
    uint64_t replies_late;          //  no request waits under that id (timed out, client gone)
    uint64_t replies_mismatched;    //  a request waits under that id, for another service

    //  Jobs by status from sys.metrics, asked in the background so /metrics answers at once.
    int64_t last_jobs_ping_ms;
    int64_t jobs_sent_ms;
    char jobs_rid [SVC_RID_MAX + 1];    //  the sys.metrics request awaited; "" when none
    bool jobs_known;
    int64_t jobs_by_status [VOCAB_JOB_STATUS_COUNT];    //  in the order of vocab_job_statuses
    int64_t jobs_processed;
    int64_t jobs_sample_ms;
    double jobs_items_per_second;
};

static void
s_pending_unlink (broker_link_t *self, edge_req_t *req)
{
    if (!req_state_waiting (req))
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
    self->inflight--;
}

static void
s_pending_insert (broker_link_t *self, edge_req_t *req)
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
    req_state_set (req, REQ_WAITING);
    self->inflight++;
}

//  The answer is set: the connection wakes, and its next call queues the answer.
static void
s_wake (edge_req_t *req)
{
    req_state_set (req, REQ_ANSWERED);
    MHD_resume_connection (req->conn);
}

//  Hands a reply (or a timeout, payload NULL) to the request and wakes its connection.
static void
s_complete (broker_link_t *self, edge_req_t *req, int status, const char *payload, size_t len)
{
    s_pending_unlink (self, req);
    req->on_reply (req, status, payload, len);
    if (!req->response)
        req_respond_error (req, 500, "internal", "no answer was produced", NULL);
    s_wake (req);
}

//  Answers a waiting request with an error of our own and wakes its connection.
static void
s_fail_one (broker_link_t *self, edge_req_t *req, int status, const char *code,
            const char *message, bool retry)
{
    s_pending_unlink (self, req);
    req_respond_error (req, status, code, message, NULL);
    if (retry)
        req_header (req, "Retry-After", "1");
    s_wake (req);
}

static void
s_free_blob (void *data, void *hint)
{
    free (data);
}

//  Sends msg and then, when *blob_p is set, the blob as one more frame that ZeroMQ takes
//  without a copy (a million ids are 16 MB) and frees once it is on the wire.
static int
s_send_nowait_blob (broker_link_t *self, zmsg_t **msg_p, unsigned char **blob_p, size_t blob_len)
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
s_send_nowait (broker_link_t *self, zmsg_t **msg_p)
{
    return s_send_nowait_blob (self, msg_p, NULL, 0);
}

int
broker_link_call (broker_link_t *self, edge_req_t *req, const char *service, json_t *payload,
                  unsigned char **blob_p, size_t blob_len, req_reply_fn *on_reply, long timeout_ms)
{
    char *text = NULL;
    if (!broker_link_up (self)) {
        req_respond_error (req, 503, "broker_unavailable", "the message broker is not reachable", NULL);
        req_header (req, "Retry-After", "1");
        goto fail;
    }
    if (self->inflight >= (size_t) self->cfg->max_inflight) {
        self->overloads++;
        req_respond_overloaded (req, "too many requests in flight, try again");
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
    req->deadline_ms = zclock_mono () + (timeout_ms > 0 ? timeout_ms : self->cfg->request_timeout_ms);
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
s_on_status (broker_link_t *self, mdp_msg_t *mdp)
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
s_on_jobs_metrics (broker_link_t *self, svc_reply_t *reply)
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
    int64_t now = zclock_mono ();
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
//  busy with a bulk job may answer late; a lost one is given up after LINK_JOBS_LOST_MS).
static void
s_ping_jobs (broker_link_t *self, int64_t now)
{
    self->last_jobs_ping_ms = now;
    if (self->jobs_rid [0] && now - self->jobs_sent_ms < LINK_JOBS_LOST_MS)
        return;
    self->jobs_rid [0] = 0;
    //  Nobody offers it (yet): asking would only wait out the broker's queue TTL.
    if (!broker_link_up (self) || broker_link_service_workers (self, SVC_SYS_METRICS) <= 0)
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
s_on_broker_message (broker_link_t *self, zmsg_t *msg)
{
    char err [128];
    mdp_msg_t *mdp = mdp_msg_decode (&msg, MDP_AT_CLIENT, err, sizeof err);
    if (!mdp) {
        log_warn ("event=bad_broker_message err=\"%s\"", err);
        return;
    }
    self->last_rx_ms = zclock_mono ();
    if (!self->was_up) {
        self->was_up = true;
        log_info ("event=broker_up endpoint=%s", self->cfg->broker_endpoint);
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
    //  The rid first: a reply malformed past it still names the request it fails, which
    //  is answered 502 now rather than 504 at its deadline.
    char rid [SVC_RID_MAX + 1];
    svc_peek_rid (mdp->body, rid);
    svc_reply_t *reply = svc_reply_decode (&mdp->body, err, sizeof err);
    if (!reply) {
        log_warn ("event=bad_reply service=%s rid=%s err=\"%s\"", mdp->service,
                  *rid ? rid : "-", err);
        edge_req_t *req = *rid ? (edge_req_t *) zhashx_lookup (self->pending, rid) : NULL;
        if (req && !strcmp (req->service, mdp->service))
            s_fail_one (self, req, 502, "bad_gateway", "the backend gave an invalid answer", false);
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
s_ping_broker (broker_link_t *self, int64_t now)
{
    self->last_ping_ms = now;
    zmsg_t *body = zmsg_new ();
    zmsg_t *msg = mdp_client_request_new (MMI_STATUS, &body);
    s_send_nowait (self, &msg);     //  failing is what liveness then reports
}

//  Answers every waiting request with 503: the broker is gone and so is their work.
static void
s_fail_pending (broker_link_t *self, const char *code, const char *message)
{
    while (self->head)
        s_fail_one (self, self->head, 503, code, message, true);
}

bool
broker_link_up (broker_link_t *self)
{
    return zclock_mono () - self->last_rx_ms < LINK_BROKER_DEAD_MS;
}

int
broker_link_workers (broker_link_t *self)
{
    return self->workers;
}

int
broker_link_service_workers (broker_link_t *self, const char *service)
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

bool
broker_link_timers (broker_link_t *self, int64_t now)
{
    size_t before = self->inflight;
    if (now - self->last_ping_ms >= LINK_STATUS_PING_MS)
        s_ping_broker (self, now);
    if (now - self->last_jobs_ping_ms >= LINK_JOBS_PING_MS)
        s_ping_jobs (self, now);
    if (self->was_up && !broker_link_up (self)) {
        self->was_up = false;
        self->workers = 0;
        self->jobs_rid [0] = 0;         //  lost with the broker: ask again once it is back
        log_warn ("event=broker_down endpoint=%s silent_ms=%lld", self->cfg->broker_endpoint,
                  (long long) (now - self->last_rx_ms));
        s_fail_pending (self, "broker_unavailable", "the message broker stopped answering");
    }
    while (self->head && self->head->deadline_ms <= now) {
        self->timeouts++;
        s_complete (self, self->head, 504, NULL, 0);
    }
    return self->inflight != before;
}

int64_t
broker_link_next_ms (broker_link_t *self, int64_t now)
{
    int64_t t = self->last_ping_ms + LINK_STATUS_PING_MS - now;
    if (self->head && self->head->deadline_ms - now < t)
        t = self->head->deadline_ms - now;
    return t < 0 ? 0 : t;
}

bool
broker_link_drain (broker_link_t *self)
{
    //  Reads until EAGAIN: libzmq looks at its mailbox once per drain, not once per message.
    size_t before = self->inflight;
    zmsg_t *msg;
    while ((msg = zmsg_recv (self->dealer)))
        s_on_broker_message (self, msg);
    return self->inflight != before;
}

void
broker_link_forget (broker_link_t *self, edge_req_t *req)
{
    s_pending_unlink (self, req);
}

void
broker_link_fail_all (broker_link_t *self, const char *code, const char *message)
{
    s_fail_pending (self, code, message);
}

size_t
broker_link_inflight (broker_link_t *self)
{
    return self->inflight;
}

void *
broker_link_socket (broker_link_t *self)
{
    return self->dealer_raw;
}

broker_link_t *
broker_link_new (const edge_config_t *cfg)
{
    broker_link_t *self = (broker_link_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->workers = -1;
    self->pending = zhashx_new ();
    //  A send that would block, or finds no broker connected, is a 503 at once.
    self->dealer = mdp_client_socket_new (cfg->broker_endpoint, (int) cfg->sndhwm);
    if (!self->pending || !self->dealer)
        goto fail;
    self->dealer_raw = zsock_resolve (self->dealer);
    //  Optimistic start: the first mmi.status answer confirms it within a second.
    self->last_rx_ms = zclock_mono ();
    self->was_up = true;
    return self;
fail:
    broker_link_destroy (&self);
    return NULL;
}

void
broker_link_destroy (broker_link_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_link_t *self = *self_p;
    zsock_destroy (&self->dealer);
    zhashx_destroy (&self->pending);
    json_decref (self->status);
    free (self);
    *self_p = NULL;
}

//  One broker-wide gauge from the latest mmi.status (NULL: the broker is down, 0).
static void
s_status_gauge (FILE *f, json_t *status, const char *name, const char *help, const char *key)
{
    json_t *v = status ? json_object_get (status, key) : NULL;
    metrics_gauge (f, name, help, json_is_integer (v) ? (double) json_integer_value (v) : 0);
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

uint64_t
broker_link_overloads (broker_link_t *self)
{
    return self->overloads;
}

void
broker_link_metrics (broker_link_t *self, FILE *f)
{
    metrics_gauge (f, "edge_inflight_requests", "Requests waiting for a broker reply.",
                   (double) self->inflight);
    metrics_counter (f, "edge_broker_timeouts_total", "Requests answered 504.", self->timeouts);
    fprintf (f, "# HELP edge_broker_replies_dropped_total Broker replies that completed no request.\n"
                "# TYPE edge_broker_replies_dropped_total counter\n"
                "edge_broker_replies_dropped_total{reason=\"late\"} %llu\n"
                "edge_broker_replies_dropped_total{reason=\"service_mismatch\"} %llu\n",
             (unsigned long long) self->replies_late, (unsigned long long) self->replies_mismatched);
    bool up = broker_link_up (self);
    metrics_gauge (f, "edge_broker_up", "1 when the broker answered mmi.status in the last 3 s.",
                   up ? 1 : 0);
    metrics_gauge (f, "broker_workers", "Workers the broker knows (latest mmi.status).",
                   self->workers < 0 ? 0 : self->workers);
    //  A broker that stopped answering reports nothing: its last numbers are not current.
    json_t *status = up ? self->status : NULL;
    s_status_gauge (f, status, "broker_queued_requests", "Requests queued in the broker.",
                    "queued");
    s_status_gauge (f, status, "broker_inflight_requests", "Requests the broker's workers hold.",
                    "inFlight");
    s_status_gauge (f, status, "broker_held_bytes",
                    "Request bytes the broker holds, queued or at workers.", "heldBytes");
    s_status_gauge (f, status, "broker_held_bytes_max", "BROKER_HELD_BYTES.", "heldBytesMax");
    json_t *services = status ? json_object_get (status, "services") : NULL;
    if (json_is_array (services)) {
        s_service_gauge (f, services, "broker_service_workers",
                         "Live workers offering the service.", "workers");
        s_service_gauge (f, services, "broker_service_idle",
                         "Workers offering the service with room for another request.", "idle");
        s_service_gauge (f, services, "broker_service_credit",
                         "Requests the service's workers may hold at once, summed.", "credit");
        s_service_gauge (f, services, "broker_service_queued",
                         "Requests for the service waiting for a worker.", "queued");
        s_service_gauge (f, services, "broker_service_inflight",
                         "Requests for the service held by workers.", "inFlight");
    }
    if (!self->jobs_known)
        return;
    fprintf (f, "# HELP jobs Bulk jobs by status (sys.metrics, at most 5 s old).\n"
                "# TYPE jobs gauge\n");
    for (size_t i = 0; i < VOCAB_JOB_STATUS_COUNT; i++)
        fprintf (f, "jobs{status=\"%s\"} %lld\n", vocab_job_statuses [i],
                 (long long) self->jobs_by_status [i]);
    metrics_counter (f, "job_items_processed_total",
                     "Items processed over all jobs (stored counters).",
                     (uint64_t) self->jobs_processed);
    metrics_gauge (f, "job_items_per_second",
                   "Items processed per second between the last two samples.",
                   self->jobs_items_per_second);
    metrics_gauge (f, "job_metrics_age_seconds", "Age of the jobs sample above.",
                   (double) (zclock_mono () - self->jobs_sample_ms) / 1e3);
}
