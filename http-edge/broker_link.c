/*  broker_link: the edge's brokers as one (BROKER_ENDPOINTS, one broker_conn each), the
    pending table (a hash by rid plus a list by deadline) and everything that keeps it
    honest: correlation by id and service, 504s, requests spread round-robin over the live
    brokers and sent once more elsewhere when theirs goes down, and the jobs sample
    /metrics reports.  */
#include "broker_link.h"
#include "broker_conn.h"
#include "metrics.h"
#include "../common/log.h"
#include "../common/rand.h"
#include "../proto/mdp.h"
#include "../proto/svc.h"
#include "../proto/vocab.h"

#include <czmq.h>
#include <errno.h>
#include <string.h>

#define LINK_JOBS_PING_MS       5000    //  sys.metrics (jobs by status) every 5 s
#define LINK_JOBS_LOST_MS       6000    //  an unanswered sys.metrics is given up after this
#define LINK_NONE               ((size_t) -1)

struct _broker_link_t {
    const edge_config_t *cfg;
    broker_conn_t *conns [CONF_ENDPOINTS_MAX];
    size_t nconns;
    size_t next;                    //  round-robin: the broker to try first
    size_t conn_inflight [CONF_ENDPOINTS_MAX];
    uint64_t conn_sent [CONF_ENDPOINTS_MAX];

    zhashx_t *pending;              //  rid -> edge_req_t (not owned)
    size_t inflight;
    edge_req_t *head, *tail;        //  pending requests by deadline, soonest first

    json_t *status;                 //  the live brokers' mmi.status as one; NULL when none

    uint64_t timeouts;              //  requests answered 504
    uint64_t overloads;             //  requests answered 503: EDGE_MAX_INFLIGHT reached
    uint64_t replies_late;          //  no request waits under that id (timed out, client gone)
    uint64_t replies_mismatched;    //  a request waits under that id, for another service
    uint64_t resent;                //  sent again to another broker when theirs went down
    uint64_t lost;                  //  answered 503 when their broker went down

    //  Jobs by status from sys.metrics, asked in the background so /metrics answers at once.
    int64_t last_jobs_ping_ms;
    int64_t jobs_sent_ms;
    char jobs_rid [SVC_RID_MAX + 1];    //  the sys.metrics request awaited; "" when none
    size_t jobs_conn;                   //  the broker it went to
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
    self->conn_inflight [req->broker]--;
    free (req->sent);
    req->sent = NULL;
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
    self->conn_inflight [req->broker]++;
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

//  Sends msg (borrowed) and the blob to the first live broker that takes it, round-robin
//  from the one after the last used, skipping except: its index, or LINK_NONE when none
//  took it (*blob_p still the caller's).
static size_t
s_send_any (broker_link_t *self, zmsg_t *msg, unsigned char **blob_p, size_t blob_len,
            size_t except)
{
    int64_t now = zclock_mono ();
    for (size_t k = 0; k < self->nconns; k++) {
        size_t i = (self->next + k) % self->nconns;
        if (i == except || !broker_conn_up (self->conns [i], now))
            continue;
        if (broker_conn_send (self->conns [i], msg, blob_p, blob_len) == 0) {
            self->next = (i + 1) % self->nconns;
            self->conn_sent [i]++;
            return i;
        }
        log_warn ("event=broker_send_failed endpoint=%s err=\"%s\"",
                  broker_conn_endpoint (self->conns [i]), zmq_strerror (errno));
    }
    return LINK_NONE;
}

//  The request as the broker gets it, from the text kept or just made.
static zmsg_t *
s_request_msg (edge_req_t *req, const char *service, const char *text, size_t len)
{
    zmsg_t *body = svc_request_encode (req->rid, req->user, req->role, text, len);
    return mdp_client_request_new (service, &body);
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
    size_t len = strlen (text);
    bool blob = blob_p && *blob_p;
    zmsg_t *msg = s_request_msg (req, service, text, len);
    req->broker = s_send_any (self, msg, blob_p, blob_len, LINK_NONE);
    zmsg_destroy (&msg);
    if (req->broker == LINK_NONE) {
        req_respond_error (req, 503, "broker_unavailable", "the message broker is not accepting requests", NULL);
        req_header (req, "Retry-After", "1");
        goto fail;
    }
    //  The text is kept to send the request again should its broker die; a blob is not
    //  (up to 16 MB a job): such a request is answered 503 then (docs/ARCHITECTURE.md).
    if (blob)
        free (text);
    else {
        req->sent = text;
        req->sent_len = len;
    }
    json_decref (payload);
    req->resent = false;
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

//  The live brokers' latest mmi.status as one, for health, /metrics and the jobs sample.
static void
s_status_update (broker_link_t *self)
{
    json_decref (self->status);
    self->status = broker_conn_status_merged (self->conns, self->nconns);
}

static void
s_on_status (broker_link_t *self, size_t conn, mdp_msg_t *mdp)
{
    zframe_t *frame = zmsg_first (mdp->body);
    json_t *root = frame ? json_loadb ((const char *) zframe_data (frame), zframe_size (frame), 0, NULL)
                         : NULL;
    if (!json_is_object (root)) {
        log_warn ("event=bad_mmi_status endpoint=%s msg=\"not a JSON object\"",
                  broker_conn_endpoint (self->conns [conn]));
        json_decref (root);
        return;
    }
    broker_conn_set_status (self->conns [conn], root);
    s_status_update (self);
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
    self->jobs_conn = s_send_any (self, msg, NULL, 0, LINK_NONE);
    zmsg_destroy (&msg);
    if (self->jobs_conn != LINK_NONE) {
        memcpy (self->jobs_rid, rid, sizeof rid);
        self->jobs_sent_ms = now;
    }
}

//  A reply from any broker completes the request waiting under its id for that very
//  service: the broker a request was sent to again may answer, and so may the first
//  should it come back (the second answer then finds nobody).
static void
s_on_reply (broker_link_t *self, mdp_msg_t *mdp)
{
    //  The rid first: a reply malformed past it still names the request it fails, which
    //  is answered 502 now rather than 504 at its deadline.
    char err [128];
    char rid [SVC_RID_MAX + 1];
    svc_peek_rid (mdp->body, rid);
    svc_reply_t *reply = svc_reply_decode (&mdp->body, err, sizeof err);
    if (!reply) {
        log_warn ("event=bad_reply service=%s rid=%s err=\"%s\"", mdp->service,
                  *rid ? rid : "-", err);
        edge_req_t *req = *rid ? (edge_req_t *) zhashx_lookup (self->pending, rid) : NULL;
        if (req && !strcmp (req->service, mdp->service))
            s_fail_one (self, req, 502, "bad_gateway", "the backend gave an invalid answer", false);
        return;
    }
    if (self->jobs_rid [0] && !strcmp (reply->rid, self->jobs_rid)
    &&  !strcmp (mdp->service, SVC_SYS_METRICS)) {
        s_on_jobs_metrics (self, reply);
        svc_reply_destroy (&reply);
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
}

static void
s_on_broker_message (broker_link_t *self, size_t conn, zmsg_t *msg)
{
    char err [128];
    mdp_msg_t *mdp = mdp_msg_decode (&msg, MDP_AT_CLIENT, err, sizeof err);
    if (!mdp) {
        log_warn ("event=bad_broker_message endpoint=%s err=\"%s\"",
                  broker_conn_endpoint (self->conns [conn]), err);
        return;
    }
    if (mdp->kind == MDP_CLIENT_MSG) {
        if (!strcmp (mdp->service, MMI_STATUS))
            s_on_status (self, conn, mdp);
        else
            s_on_reply (self, mdp);
    }
    mdp_msg_destroy (&mdp);
}

//  Answers every waiting request with 503: the broker is gone and so is their work.
static void
s_fail_pending (broker_link_t *self, const char *code, const char *message)
{
    while (self->head)
        s_fail_one (self, self->head, 503, code, message, true);
}

//  Sends req, whose broker went down, once more to another live broker: same rid, same
//  frames, so that a write its first broker's worker committed answers as that first run
//  (workers/replay.c) and is not done twice. -1 when it cannot: sent again already, sent
//  with a blob not kept, or no other broker takes it.
static int
s_resend (broker_link_t *self, edge_req_t *req, size_t down)
{
    if (req->resent || !req->sent)
        return -1;
    zmsg_t *msg = s_request_msg (req, req->service, req->sent, req->sent_len);
    size_t to = s_send_any (self, msg, NULL, 0, down);
    zmsg_destroy (&msg);
    if (to == LINK_NONE)
        return -1;
    self->conn_inflight [down]--;
    self->conn_inflight [to]++;
    req->broker = to;
    req->resent = true;
    self->resent++;
    log_info ("event=request_resent rid=%s service=%s from=%s to=%s", req->rid, req->service,
              broker_conn_endpoint (self->conns [down]), broker_conn_endpoint (self->conns [to]));
    return 0;
}

//  The broker at down went down: what it held is sent elsewhere or answered 503.
static void
s_on_down (broker_link_t *self, size_t down)
{
    if (self->jobs_conn == down)
        self->jobs_rid [0] = 0;         //  lost with the broker: asked again later
    s_status_update (self);
    edge_req_t *next;
    for (edge_req_t *req = self->head; req; req = next) {
        next = req->next;
        if (req->broker != down || s_resend (self, req, down) == 0)
            continue;
        self->lost++;
        s_fail_one (self, req, 503, "broker_unavailable", "the message broker stopped answering",
                    true);
    }
}

size_t
broker_link_live (broker_link_t *self)
{
    int64_t now = zclock_mono ();
    size_t n = 0;
    for (size_t i = 0; i < self->nconns; i++)
        n += broker_conn_up (self->conns [i], now);
    return n;
}

size_t
broker_link_total (broker_link_t *self)
{
    return self->nconns;
}

bool
broker_link_up (broker_link_t *self)
{
    return broker_link_live (self) > 0;
}

int
broker_link_workers (broker_link_t *self)
{
    json_t *w = json_object_get (self->status, "workers");
    return json_is_integer (w) ? (int) json_integer_value (w) : -1;
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

//  Each broker's pings and liveness: one that just went down hands its requests on.
static void
s_check_conns (broker_link_t *self, int64_t now)
{
    for (size_t i = 0; i < self->nconns; i++)
        if (broker_conn_check (self->conns [i], now))
            s_on_down (self, i);
}

bool
broker_link_timers (broker_link_t *self, int64_t now)
{
    size_t before = self->inflight;
    s_check_conns (self, now);
    if (now - self->last_jobs_ping_ms >= LINK_JOBS_PING_MS)
        s_ping_jobs (self, now);
    while (self->head && self->head->deadline_ms <= now) {
        self->timeouts++;
        s_complete (self, self->head, 504, NULL, 0);
    }
    return self->inflight != before;
}

int64_t
broker_link_next_ms (broker_link_t *self, int64_t now)
{
    int64_t t = LINK_JOBS_PING_MS;
    for (size_t i = 0; i < self->nconns; i++) {
        int64_t c = broker_conn_next_ms (self->conns [i], now);
        if (c < t)
            t = c;
    }
    if (self->head && self->head->deadline_ms - now < t)
        t = self->head->deadline_ms - now;
    return t < 0 ? 0 : t;
}

size_t
broker_link_poll_items (broker_link_t *self, zmq_pollitem_t *items)
{
    for (size_t i = 0; i < self->nconns; i++) {
        items [2 * i] = (zmq_pollitem_t) { broker_conn_dealer (self->conns [i]), 0, ZMQ_POLLIN, 0 };
        items [2 * i + 1] = (zmq_pollitem_t) { broker_conn_monitor (self->conns [i]), 0, ZMQ_POLLIN, 0 };
    }
    return 2 * self->nconns;
}

bool
broker_link_drain (broker_link_t *self, const zmq_pollitem_t *items)
{
    size_t before = self->inflight;
    bool events = false;
    for (size_t i = 0; i < self->nconns; i++) {
        //  Replies first: those a broker sent before it died still complete their requests.
        //  Reads until EAGAIN: libzmq looks at its mailbox once per drain, not per message.
        zmsg_t *msg;
        if (items [2 * i].revents & ZMQ_POLLIN)
            while ((msg = broker_conn_recv (self->conns [i])))
                s_on_broker_message (self, i, msg);
        if (items [2 * i + 1].revents & ZMQ_POLLIN) {
            broker_conn_events (self->conns [i]);
            events = true;
        }
    }
    //  A dropped connection is a dead broker now, not in 3 s.
    if (events)
        s_check_conns (self, zclock_mono ());
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

broker_link_t *
broker_link_new (const edge_config_t *cfg)
{
    broker_link_t *self = (broker_link_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->jobs_conn = LINK_NONE;
    self->pending = zhashx_new ();
    if (!self->pending)
        goto fail;
    for (size_t i = 0; i < cfg->brokers.n; i++) {
        self->conns [i] = broker_conn_new (conf_endpoints_get (&cfg->brokers, i), (int) cfg->sndhwm);
        if (!self->conns [i])
            goto fail;
        self->nconns++;
    }
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
    for (size_t i = 0; i < self->nconns; i++)
        broker_conn_destroy (&self->conns [i]);
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

//  Per broker: live or not, requests it holds, requests sent to it; and the requests
//  that went elsewhere, or were lost, when theirs went down.
static void
s_conn_metrics (broker_link_t *self, FILE *f)
{
    int64_t now = zclock_mono ();
    static const char *const help [3] = {
        "1 while connected to the broker and it answered mmi.status in the last 3 s.",
        "Requests waiting for a reply through the broker.",
        "Requests sent through the broker (sent again included).",
    };
    static const char *const names [3] = {
        "edge_broker_endpoint_up", "edge_broker_endpoint_inflight",
        "edge_broker_endpoint_requests_total",
    };
    for (int m = 0; m < 3; m++) {
        fprintf (f, "# HELP %s %s\n# TYPE %s %s\n", names [m], help [m], names [m],
                 m == 2 ? "counter" : "gauge");
        for (size_t i = 0; i < self->nconns; i++) {
            unsigned long long v = m == 0 ? broker_conn_up (self->conns [i], now)
                                 : m == 1 ? self->conn_inflight [i] : self->conn_sent [i];
            fprintf (f, "%s{endpoint=", names [m]);
            metrics_write_label (f, broker_conn_endpoint (self->conns [i]));
            fprintf (f, "} %llu\n", v);
        }
    }
    metrics_gauge (f, "edge_brokers_live", "Brokers up (edge_broker_endpoint_up summed).",
                   (double) broker_link_live (self));
    metrics_gauge (f, "edge_brokers", "Brokers configured (BROKER_ENDPOINTS).",
                   (double) self->nconns);
    metrics_counter (f, "edge_broker_resent_total",
                     "Requests sent again, once, to another broker when theirs went down.",
                     self->resent);
    metrics_counter (f, "edge_broker_lost_total",
                     "Requests answered 503 when their broker went down and they could not "
                     "be sent again.", self->lost);
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
    metrics_gauge (f, "edge_broker_up", "1 when a broker answered mmi.status in the last 3 s.",
                   up ? 1 : 0);
    s_conn_metrics (self, f);
    int workers = broker_link_workers (self);
    metrics_gauge (f, "broker_workers", "Workers the brokers know (latest mmi.status, the "
                   "largest count of the live brokers).", workers < 0 ? 0 : workers);
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
