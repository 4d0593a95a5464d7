/*  broker: 7/MDP + 8/MMI broker with the extensions of proto/README.md (multi-service
    READY, credit, reliable hand-back, bounded queues, mmi.status), and, with CURVE on, the
    roles of common/curve.h checked per message. One thread, one poll loop: this file is the
    loop and the message dispatch; the tables it drives are request.c, service.c and
    worker.c, the answers to mmi.* are mmi.c, the role rules roles.c, the warn budget
    common/warnrate.c, its settings config.c.  */
#include "broker.h"
#include "mmi.h"
#include "request.h"
#include "roles.h"
#include "../common/warnrate.h"
#include "service.h"
#include "worker.h"
#include "../common/curve.h"
#include "../common/log.h"
#include "../common/memtrim.h"
#include "../proto/mdp.h"
#include "../proto/svc.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#define TICK_MS                 100     //  TTL and bookkeeping granularity
#define SOCKET_HWM              100000  //  per peer pipe; ROUTER drops beyond (peer too slow)
//  How long a service that lost all its workers is remembered as such (then forgotten, and
//  its requests wait for a worker again as for any service never offered): a restart of
//  the workers is seconds; a service retired for good should not hold a table entry.
#define BROKER_FORGET_UNOFFERED_MS  (10 * 60 * 1000)

struct _broker_t {
    broker_config_t cfg;
    zsock_t *router;
    curve_server_t *curve;      //  CURVE_SERVER_CERT: the ZAP allow-list; NULL for plain TCP
    zhashx_t *services;         //  name -> service_t (owned)
    zhashx_t *workers;          //  hex id -> worker_t (owned)
    int64_t now;                //  zclock_mono, refreshed once per batch
    int64_t next_tick;
    int64_t next_heartbeat;
    uint64_t seq;
    size_t queued;
    size_t in_flight;
    size_t credit;              //  the sum of the live workers' credits
    size_t held_bytes;          //  request bodies held, queued or at a worker
    int64_t last_interactive;   //  when the last API request arrived (sys.* probes aside)
    bool draining;
    warnrate_t warns;           //  warn lines about what peers send, per second
    uint64_t malformed_total;
    uint64_t refused_unauthorized;  //  messages a peer's CURVE role does not allow
};

//  --------------------------------------------------------------------------
//  Helpers

//  Whether one more warn line fits this second (warnrate.h).
static bool
s_warn_allowed (broker_t *self)
{
    return warnrate_allowed (&self->warns, self->now, self->malformed_total);
}

static void
s_malformed (broker_t *self, const char *what, const char *reason)
{
    self->malformed_total++;
    if (s_warn_allowed (self)) {
        char q [256];
        log_warn ("event=%s reason=%s total=%" PRIu64, what,
                  log_quote (q, sizeof q, reason), self->malformed_total);
    }
}

//  --------------------------------------------------------------------------
//  Roles (roles.h)

//  The role of the peer a message came from. libzmq stamps the connection's metadata on
//  every frame it delivers, the ROUTER's routing-id frame included (test_curve checks it),
//  so the sender frame the decoder kept is enough. CURVE_ROLE_NONE with CURVE off, and
//  also if a libzmq ever stopped stamping it: then the checks below refuse (fail closed).
static curve_role_t
s_peer_role (broker_t *self, mdp_msg_t *m)
{
    return self->curve ? curve_frame_role (m->sender) : CURVE_ROLE_NONE;
}

//  A message m refused for the sender's role; a READY's line names its worker.
static void
s_refused (broker_t *self, const char *what, curve_role_t role, mdp_msg_t *m)
{
    self->refused_unauthorized++;
    if (!s_warn_allowed (self))
        return;
    char q [300];
    worker_who_t who = { "-", "-", "-" };
    if (m->kind == MDP_WORKER_MSG)
        worker_who_of (m->sender, m->name, &who);
    log_warn ("event=%s role=%s service=%s " WORKER_LOG_FMT " total=%" PRIu64, what,
              role ? curve_role_name (role) : "none", log_quote (q, sizeof q, m->service),
              WORKER_LOG_ARGS (&who), self->refused_unauthorized);
}

static void
s_send (broker_t *self, zmsg_t **msg_p)
{
    if (zmsg_send (msg_p, self->router))
        zmsg_destroy (msg_p);   //  only on a closing socket; ROUTER drops unroutable itself
}

static void
s_send_command (broker_t *self, zframe_t *address, mdpw_command_t command)
{
    zmsg_t *msg = mdp_worker_command_new (address, command);
    s_send (self, &msg);
}

//  The broker's own answer to a client, in the svc envelope. code/message are ours.
static void
s_reply_error (broker_t *self, zframe_t *client, const char *service, const char *rid,
               int status, const char *code, const char *message)
{
    zmsg_t *body = svc_reply_error (rid && *rid ? rid : NULL, status, code, message);
    mdp_client_reply_send (client, service, &body, self->router);
}

//  --------------------------------------------------------------------------
//  Requests

static void
s_request_fail (broker_t *self, request_t **req_p, int status, const char *code,
                const char *message)
{
    request_t *req = *req_p;
    s_reply_error (self, req->client, req->service->name, req->rid, status, code, message);
    request_destroy (req_p);
}

//  --------------------------------------------------------------------------
//  Workers

//  Sends req to w, which holds it until it answers. Least recently used first: a worker
//  that still has room goes to the back of its waiting lists, so a burst of requests is
//  spread over every worker with room (each sees the shortest queue of its own) rather than
//  filling one worker's credit while others sit idle.
static void
s_worker_send_request (broker_t *self, worker_t *w, request_t *req)
{
    worker_hold (w, req);
    if (worker_may_take (w, NULL))
        worker_wait (w);
    else
        worker_unwait (w);
    self->in_flight++;
    //  Frame by frame, without a zmsg_t: a burst of requests costs no allocation beyond
    //  what libzmq makes of each frame.
    void *router = zsock_resolve (self->router);
    if (mdp_worker_request_send_head (router, w->address, req->client,
                                      w->multi ? req->service->name : NULL, true) == 0)
        request_body_send (req, router);
    log_debug ("event=request_dispatched rid=%s " WORKER_LOG_FMT " handbacks=%d held=%zu",
               request_log_rid (req), WORKER_LOG_ARGS (w), req->handbacks, w->held_n);
}

//  Whether one more worker may take a request of svc: the bulk reserve (service.h).
static bool
s_service_has_room (broker_t *self, service_t *svc)
{
    return service_has_room (svc, self->now, self->last_interactive,
                             (size_t) self->cfg.bulk_reserve);
}

//  Of w's services, the one whose queue's head w should take next, or NULL: the oldest
//  request it may take; a bulk request younger than SERVICE_BULK_YIELD_MS counts as newer
//  than every interactive one.
static service_t *
s_worker_next_queue (broker_t *self, worker_t *w)
{
    service_t *best = NULL;
    uint64_t best_rank = UINT64_MAX;
    for (size_t i = 0; i < w->services_n; i++) {
        service_t *svc = w->services [i];
        if (!worker_may_take (w, svc) || !s_service_has_room (self, svc))
            continue;
        uint64_t rank = service_head_rank (svc, self->now);
        if (rank < best_rank) {
            best = svc;
            best_rank = rank;
        }
    }
    return best;
}

//  w has room again (it joined or answered): it takes queued requests while it has room,
//  then waits in its services' lists. One that was waiting already keeps its place there:
//  answering quickly must not send a worker to the back, behind slower ones.
static void
s_worker_fill (broker_t *self, worker_t *w)
{
    if (w->claimed && w->held_n == 0) {
        //  Emptied for bulk work (s_bulk_claim): that comes first, if it is still there.
        service_t *bulk = w->claimed;
        worker_unclaim (w);
        if (zlistx_size (bulk->requests) && s_service_has_room (self, bulk)) {
            self->queued--;
            s_worker_send_request (self, w, (request_t *) zlistx_detach (bulk->requests, NULL));
        }
    }
    service_t *svc;
    while ((svc = s_worker_next_queue (self, w))) {
        request_t *req = (request_t *) zlistx_detach (svc->requests, NULL);
        self->queued--;
        s_worker_send_request (self, w, req);
    }
    if (worker_may_take (w, NULL) && !w->idle)
        worker_wait (w);
}

//  The waiting worker that should take svc's next request: the least recently used one,
//  and for bulk work the least recently used one that holds nothing.
static worker_t *
s_service_next_worker (service_t *svc)
{
    worker_t *w = (worker_t *) zlistx_first (svc->waiting);
    if (svc->bulk)
        while (w && !worker_may_take (w, svc))
            w = (worker_t *) zlistx_next (svc->waiting);
    return w;
}

//  Pairs queued requests with waiting workers of one service.
static void
s_service_dispatch (broker_t *self, service_t *svc)
{
    worker_t *w;
    while (zlistx_size (svc->requests) && s_service_has_room (self, svc)
    &&    (w = s_service_next_worker (svc))) {
        request_t *req = (request_t *) zlistx_detach (svc->requests, NULL);
        self->queued--;
        s_worker_send_request (self, w, req);
    }
}

//  A request whose worker is gone goes back to the front of its queue, at most
//  BROKER_HANDBACK_MAX times: a request that kills every worker must not kill the pool.
//  The caller dispatches the queue.
static void
s_request_handback (broker_t *self, request_t *req, const worker_t *w)
{
    service_t *svc = req->service;
    req->handbacks++;
    if (self->draining) {
        log_info ("event=request_failed rid=%s " WORKER_LOG_FMT " reason=shutting_down",
                  request_log_rid (req), WORKER_LOG_ARGS (w));
        s_request_fail (self, &req, 503, "shutting_down", "the broker is shutting down");
        return;
    }
    if (req->handbacks >= BROKER_HANDBACK_MAX) {
        log_warn ("event=request_failed rid=%s " WORKER_LOG_FMT " handbacks=%d "
                  "reason=too_many_handbacks", request_log_rid (req), WORKER_LOG_ARGS (w),
                  req->handbacks);
        s_request_fail (self, &req, 500, "request_failed",
                        "the request was handed to 3 workers and none of them answered");
        return;
    }
    log_info ("event=request_handed_back rid=%s " WORKER_LOG_FMT " handbacks=%d",
              request_log_rid (req), WORKER_LOG_ARGS (w), req->handbacks);
    req->queued_at = self->now;
    zlistx_add_start (svc->requests, req);
    self->queued++;
}

//  Forgets a worker; every request it held goes back to the front of its queue, in the
//  order the worker was sent them (so the last sent is handed back first).
static void
s_worker_remove (broker_t *self, worker_t *w, const char *event, const char *reason)
{
    char id [WORKER_ID_MAX];
    strcpy (id, w->id);
    worker_unwait (w);
    service_t *services [MDP_READY_SERVICES_MAX];
    size_t services_n = w->services_n;
    memcpy (services, w->services, services_n * sizeof services [0]);
    worker_enlist (w, -1);
    for (size_t i = 0; i < services_n; i++)
        if (services [i]->workers == 0)
            services [i]->unoffered_since = self->now;
    self->credit -= (size_t) w->credit;
    worker_unclaim (w);
    log_info ("event=%s " WORKER_LOG_FMT " reason=%s held=%zu first=%s", event,
              WORKER_LOG_ARGS (w), reason, w->held_n,
              w->held_n ? request_log_rid (w->held [0]) : "none");
    request_t *req;
    while ((req = worker_take_last (w))) {
        self->in_flight--;
        s_request_handback (self, req, w);
    }
    zhashx_delete (self->workers, id);
    for (size_t i = 0; i < services_n; i++)
        s_service_dispatch (self, services [i]);
}

//  A READY refused for reason: its sender (whose READY named name, or NULL) is named in the
//  log and answered DISCONNECT, so that it does not wait for requests that never come.
static void
s_worker_refused (broker_t *self, zframe_t *sender, const char *name, const char *reason)
{
    self->malformed_total++;
    if (s_warn_allowed (self)) {
        worker_who_t who;
        worker_who_of (sender, name, &who);
        char q [256];
        log_warn ("event=worker_refused " WORKER_LOG_FMT " reason=%s total=%" PRIu64,
                  WORKER_LOG_ARGS (&who), log_quote (q, sizeof q, reason), self->malformed_total);
    }
    s_send_command (self, sender, MDPW_DISCONNECT);
}

static void
s_worker_join (broker_t *self, mdp_msg_t *m, const char *id)
{
    const char *refused = NULL;
    if (zhashx_size (self->workers) >= BROKER_WORKERS_MAX)
        refused = "too_many_workers";
    worker_t *w = worker_new (id);
    for (size_t i = 0; i < m->services_n && !refused; i++) {
        const char *name = m->services [i];
        if (strncmp (name, MMI_PREFIX, strlen (MMI_PREFIX)) == 0) {
            refused = "reserved_service";
            break;
        }
        service_t *svc = service_require (self->services, name, BROKER_SERVICES_MAX);
        if (!svc) {
            refused = "too_many_services";
            break;
        }
        worker_add_service (w, svc);
    }
    if (refused) {
        worker_destroy (&w);
        s_worker_refused (self, m->sender, m->name, refused);
        return;
    }
    w->multi = m->services_n > 1;
    w->credit = m->credit;
    worker_identify (w, &m->sender, m->name, zclock_time ());
    w->expiry = self->now + self->cfg.heartbeat_ms * MDP_HEARTBEAT_LIVENESS;
    worker_enlist (w, 1);
    self->credit += (size_t) w->credit;
    zhashx_insert (self->workers, id, w);
    char q [300];
    log_info ("event=worker_join " WORKER_LOG_FMT " services=%zu service=%s credit=%d "
              "workers=%zu", WORKER_LOG_ARGS (w), w->services_n,
              log_quote (q, sizeof q, w->services [0]->name), w->credit,
              zhashx_size (self->workers));
    s_worker_fill (self, w);
}

//  A REPLY goes to the client of the request it answers, which w then no longer holds. One
//  for a request w does not hold (another client's, an unknown rid, a second answer) is
//  dropped: forwarding it could answer a client twice.
static void
s_worker_reply (broker_t *self, worker_t *w, mdp_msg_t *m)
{
    char rid [SVC_RID_MAX + 1];
    svc_peek_rid (m->body, rid);
    request_t *req = worker_release (w, m->client, rid);
    if (!req) {
        self->malformed_total++;
        if (s_warn_allowed (self))
            log_warn ("event=reply_dropped " WORKER_LOG_FMT " rid=%s held=%zu reason=not_held "
                      "total=%" PRIu64, WORKER_LOG_ARGS (w), *rid ? rid : "-", w->held_n,
                      self->malformed_total);
        return;
    }
    self->in_flight--;
    mdp_client_reply_send (req->client, req->service->name, &m->body, self->router);
    log_debug ("event=request_done rid=%s " WORKER_LOG_FMT, request_log_rid (req),
               WORKER_LOG_ARGS (w));
    request_destroy (&req);
    s_worker_fill (self, w);
}

static void
s_worker_message (broker_t *self, mdp_msg_t *m, curve_role_t role)
{
    char id [WORKER_ID_MAX];
    worker_id_of (m->sender, id);
    worker_t *w = (worker_t *) zhashx_lookup (self->workers, id);
    if (w)
        w->expiry = self->now + self->cfg.heartbeat_ms * MDP_HEARTBEAT_LIVENESS;

    switch (m->command) {
        case MDPW_READY:
            if (self->curve && !curve_role_acts_as (role, CURVE_ROLE_WORKER)) {
                //  A READY from a tool's or the edge's key would get it real requests.
                s_refused (self, "worker_refused_role", role, m);
                s_send_command (self, m->sender, MDPW_DISCONNECT);
            }
            else
            if (w) {
                //  A second READY means the peer lost track of its state: start over.
                s_send_command (self, w->address, MDPW_DISCONNECT);
                s_worker_remove (self, w, "worker_leave", "ready_twice");
            }
            else
                s_worker_join (self, m, id);
            break;
        case MDPW_REPLY:
            if (!w) {
                //  Declared dead earlier; its request went elsewhere, so this must not count.
                worker_who_t who;
                worker_who_of (m->sender, NULL, &who);
                log_info ("event=late_reply_dropped " WORKER_LOG_FMT, WORKER_LOG_ARGS (&who));
                s_send_command (self, m->sender, MDPW_DISCONNECT);
            }
            else
                s_worker_reply (self, w, m);
            break;
        case MDPW_HEARTBEAT:
            if (!w)
                s_send_command (self, m->sender, MDPW_DISCONNECT);
            break;
        case MDPW_DISCONNECT:
            if (w)
                s_worker_remove (self, w, "worker_leave", "disconnect");
            break;
        default:
            s_malformed (self, "malformed_dropped", "unexpected worker command");
            break;
    }
}

//  --------------------------------------------------------------------------
//  Clients

static void
s_mmi (broker_t *self, mdp_msg_t *m)
{
    mmi_counts_t counts = {
        .workers = zhashx_size (self->workers), .queued = self->queued,
        .in_flight = self->in_flight, .credit = self->credit, .held_bytes = self->held_bytes,
        .held_bytes_max = self->cfg.held_bytes_max,
        .refused_unauthorized = self->refused_unauthorized };
    zmsg_t *body = mmi_answer (m->service, m->body, self->services, self->workers, &counts);
    mdp_client_reply_send (m->sender, m->service, &body, self->router);
}

//  Whether every worker that offered svc has been gone for BROKER_UNOFFERED_MS: its
//  requests are answered 503 at once, instead of waiting out their ttl while the edge's
//  own timeout answers a 504 that says nothing. A shorter gap (a worker restarting) is
//  waited out. A service no worker has offered yet is waited for as 7/MDP says (a broker
//  just started, before its workers register), up to the ttl. Bulk work always waits: a
//  chunk's lease brings it back anyway.
static bool
s_unoffered (broker_t *self, service_t *svc)
{
    return svc->offered && svc->workers == 0 && !svc->bulk
        && self->now - svc->unoffered_since >= self->cfg.unoffered_ms;
}

static void
s_client_message (broker_t *self, mdp_msg_t *m, curve_role_t role)
{
    if (strncmp (m->service, MMI_PREFIX, strlen (MMI_PREFIX)) == 0) {
        s_mmi (self, m);
        return;
    }
    char rid [SVC_RID_MAX + 1];
    svc_peek_rid (m->body, rid);
    const char *refusal = self->curve ? roles_client_refusal (m, role) : NULL;
    if (refusal) {
        s_refused (self, "request_refused_role", role, m);
        s_reply_error (self, m->sender, m->service, rid, 403, "forbidden", refusal);
        return;
    }
    //  Workers answer such a request too, but it is the client's mistake: answered here,
    //  it never takes a worker's turn.
    if (!*rid) {
        s_malformed (self, "request_refused", "invalid request id frame");
        s_reply_error (self, m->sender, m->service, NULL, 400, "bad_request",
                       "the request id must be 1 to 64 printable ASCII characters");
        return;
    }
    if (self->draining) {
        s_reply_error (self, m->sender, m->service, rid, 503, "shutting_down",
                       "the broker is shutting down");
        return;
    }
    service_t *svc = service_require (self->services, m->service, BROKER_SERVICES_MAX);
    if (!svc) {
        s_malformed (self, "request_refused", "too many distinct services");
        s_reply_error (self, m->sender, m->service, rid, 503, "service_unavailable",
                       "the broker knows too many services");
        return;
    }
    if (s_unoffered (self, svc)) {
        char message [256];
        snprintf (message, sizeof message, "no worker offers %.197s", svc->name);
        log_warn ("event=request_refused rid=%s reason=no_worker", rid);
        s_reply_error (self, m->sender, m->service, rid, 503, "service_unavailable", message);
        return;
    }
    if (zlistx_size (svc->requests) >= (size_t) self->cfg.queue_max) {
        if (!svc->full_logged) {
            char q [300];
            log_warn ("event=queue_full service=%s queued=%zu",
                      log_quote (q, sizeof q, svc->name), zlistx_size (svc->requests));
            svc->full_logged = true;
        }
        log_warn ("event=request_refused rid=%s reason=queue_full", *rid ? rid : "-");
        s_reply_error (self, m->sender, m->service, rid, 503, "queue_full",
                       "too many requests are waiting for this service");
        return;
    }
    //  Counts bound the queues; bytes bound what they hold (a job's id list is megabytes).
    size_t bytes = request_bytes (m->body);
    if (self->held_bytes + bytes > (size_t) self->cfg.held_bytes_max) {
        log_warn ("event=request_refused rid=%s reason=held_bytes bytes=%zu held=%zu",
                  *rid ? rid : "-", bytes, self->held_bytes);
        s_reply_error (self, m->sender, m->service, rid, 503, "queue_full",
                       "the broker holds too many request bytes, try again");
        return;
    }
    request_t *req = request_new (&m->sender, &m->body, svc, rid, &self->held_bytes,
                                  self->now, self->seq++);
    log_debug ("event=request_received rid=%s", *rid ? rid : "-");
    if (!svc->bulk && strncmp (svc->name, "sys.", 4))
        self->last_interactive = self->now;
    //  Through the queue, not straight to a waiting worker: with bulk work held back by
    //  the reserve, older requests may be queued while a worker waits.
    zlistx_add_end (svc->requests, req);
    self->queued++;
    s_service_dispatch (self, svc);
}

//  A bad READY (a malformed credit frame, say) is answered DISCONNECT, so its worker does
//  not wait for requests that never come; a worker we knew is forgotten, its requests
//  handed back.
static void
s_ready_refused (broker_t *self, zframe_t **sender_p, const char *err)
{
    char id [WORKER_ID_MAX];
    worker_id_of (*sender_p, id);
    worker_t *w = (worker_t *) zhashx_lookup (self->workers, id);
    s_worker_refused (self, *sender_p, w ? w->name : NULL, err);
    if (w)
        s_worker_remove (self, w, "worker_leave", "bad_ready");
    zframe_destroy (sender_p);
}

static void
s_handle (broker_t *self, zmsg_t **msg_p)
{
    char err [160];
    zframe_t *refused;
    mdp_msg_t *m = mdp_msg_decode_at_broker (msg_p, &refused, err, sizeof err);
    if (!m && refused)
        s_ready_refused (self, &refused, err);
    else
    if (!m)
        s_malformed (self, "malformed_dropped", err);
    if (!m)
        return;
    curve_role_t role = s_peer_role (self, m);
    if (m->kind == MDP_CLIENT_MSG)
        s_client_message (self, m, role);
    else
        s_worker_message (self, m, role);
    mdp_msg_destroy (&m);
}

//  --------------------------------------------------------------------------
//  Timers

static void
s_expire_requests (broker_t *self)
{
    for (service_t *svc = (service_t *) zhashx_first (self->services); svc;
         svc = (service_t *) zhashx_next (self->services)) {
        //  Queues are in arrival order after a front run of hand-backs, so the scan
        //  stops at the first fresh request that is not a hand-back.
        bool unoffered = s_unoffered (self, svc);
        request_t *req = (request_t *) zlistx_first (svc->requests);
        while (req) {
            if (unoffered || self->now - req->queued_at >= self->cfg.request_ttl_ms) {
                zlistx_detach_cur (svc->requests);
                self->queued--;
                char message [256];
                snprintf (message, sizeof message, "no worker offers %.197s", svc->name);
                log_warn ("event=request_expired rid=%s", request_log_rid (req));
                s_request_fail (self, &req, 503, "service_unavailable", message);
            }
            else
            if (req->handbacks == 0)
                break;
            req = (request_t *) zlistx_next (svc->requests);
        }
        if (zlistx_size (svc->requests) < (size_t) self->cfg.queue_max)
            svc->full_logged = false;
    }
    service_table_prune (self->services, self->now - BROKER_FORGET_UNOFFERED_MS);
}

static void
s_heartbeat (broker_t *self)
{
    zlistx_t *dead = NULL;
    for (worker_t *w = (worker_t *) zhashx_first (self->workers); w;
         w = (worker_t *) zhashx_next (self->workers)) {
        if (self->now > w->expiry) {
            if (!dead)
                dead = zlistx_new ();
            zlistx_add_end (dead, w);
        }
        else
            s_send_command (self, w->address, MDPW_HEARTBEAT);
    }
    if (dead) {
        //  None of them may receive a hand-back from another before it goes too.
        for (worker_t *w = (worker_t *) zlistx_first (dead); w; w = (worker_t *) zlistx_next (dead))
            worker_unwait (w);
        for (worker_t *w = (worker_t *) zlistx_first (dead); w; w = (worker_t *) zlistx_next (dead))
            s_worker_remove (self, w, "worker_expired", "silent");
        zlistx_destroy (&dead);
    }
}

//  The reserve lapses and chunks come due without an event of their own. Queued chunks go
//  to the waiting workers that hold nothing; then each chunk that waited past
//  SERVICE_BULK_YIELD_MS claims the least recently used worker offering it (within the
//  reserve), which takes no new interactive request, empties, and takes it: else, while
//  interactive work keeps every worker holding something, no worker would ever be empty
//  for it and a job would stall for as long as the API is busy.
static void
s_bulk_claim (broker_t *self, service_t *bulk)
{
    s_service_dispatch (self, bulk);
    worker_t *w;
    while (service_due (bulk, self->now, bulk->claimed + 1) > bulk->claimed
    &&     s_service_has_room (self, bulk)
    &&    (w = (worker_t *) zlistx_first (bulk->waiting))) {
        worker_claim (w, bulk);
        log_debug ("event=worker_claimed " WORKER_LOG_FMT " held=%zu claimed=%zu",
                   WORKER_LOG_ARGS (w), w->held_n, bulk->claimed);
    }
}

static void
s_tick (broker_t *self)
{
    if (self->now >= self->next_heartbeat) {
        s_heartbeat (self);
        self->next_heartbeat += self->cfg.heartbeat_ms;
        if (self->next_heartbeat <= self->now)
            self->next_heartbeat = self->now + self->cfg.heartbeat_ms;
    }
    s_expire_requests (self);
    memtrim_maybe (self->now);
    service_t *bulk = (service_t *) zhashx_lookup (self->services, SVC_JOBS_CHUNK);
    if (bulk)
        s_bulk_claim (self, bulk);
    warnrate_flush (&self->warns, self->now, self->malformed_total);
    self->next_tick = self->now + TICK_MS;
}

//  --------------------------------------------------------------------------
//  Shutdown

static void
s_drain_begin (broker_t *self)
{
    self->draining = true;
    log_info ("event=draining queued=%zu in_flight=%zu workers=%zu", self->queued,
              self->in_flight, zhashx_size (self->workers));
    for (service_t *svc = (service_t *) zhashx_first (self->services); svc;
         svc = (service_t *) zhashx_next (self->services)) {
        request_t *req;
        while ((req = (request_t *) zlistx_detach (svc->requests, NULL))) {
            self->queued--;
            s_request_fail (self, &req, 503, "shutting_down", "the broker is shutting down");
        }
    }
}

static void
s_drain_end (broker_t *self)
{
    size_t abandoned = 0;
    for (worker_t *w = (worker_t *) zhashx_first (self->workers); w;
         w = (worker_t *) zhashx_next (self->workers)) {
        request_t *req;
        while ((req = worker_take_last (w))) {
            self->in_flight--;
            abandoned++;
            log_info ("event=request_failed rid=%s " WORKER_LOG_FMT " reason=shutting_down",
                      request_log_rid (req), WORKER_LOG_ARGS (w));
            s_request_fail (self, &req, 503, "shutting_down",
                            "the broker stopped before a worker answered");
        }
        s_send_command (self, w->address, MDPW_DISCONNECT);
    }
    log_info ("event=stopped workers=%zu abandoned=%zu malformed=%" PRIu64,
              zhashx_size (self->workers), abandoned, self->malformed_total);
}

//  --------------------------------------------------------------------------
//  Public API

broker_t *
broker_new (const broker_config_t *cfg)
{
    broker_t *self = (broker_t *) zmalloc (sizeof (broker_t));
    self->cfg = *cfg;
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router) {
        log_error ("event=socket_failed msg=\"cannot create the ROUTER socket\"");
        free (self);
        return NULL;
    }
    mdp_socket_setup (self->router);
    //  7/MDP has no authentication: with CURVE on, only clients and workers whose key is
    //  in CURVE_ALLOW_DIR complete the handshake, so a stranger cannot even send READY.
    curve_server_config_t curve;
    if (curve_server_config_load (&curve))
        goto fail;
    if (curve.cert_path) {
        self->curve = curve_server_new (&curve);
        if (!self->curve)
            goto fail;
        curve_server_apply (self->curve, self->router, CURVE_DOMAIN_BROKER);
    }
    else
        curve_warn_off ();
    //  Handover lets a new connection that names an existing routing id take its place.
    //  No ticketd peer names one; with roles, it would let a tool's key take over a
    //  worker's or the edge's id and receive their requests or replies, so CURVE turns it
    //  off (a duplicate id is then ignored by libzmq).
    zsock_set_router_handover (self->router, self->curve ? 0 : 1);
    zsock_set_sndhwm (self->router, SOCKET_HWM);
    zsock_set_rcvhwm (self->router, SOCKET_HWM);
    if (zsock_bind (self->router, "%s", cfg->bind) == -1) {
        char q [300];
        log_error ("event=bind_failed endpoint=%s msg=%s", log_quote (q, sizeof q, cfg->bind),
                   zmq_strerror (zmq_errno ()));
        goto fail;
    }
    if (cfg->local && curve_server_bind_local (self->curve, self->router, cfg->local))
        goto fail;
    self->workers = zhashx_new ();
    zhashx_set_destructor (self->workers, (zhashx_destructor_fn *) worker_destroy);
    self->services = service_table_new ();
    self->now = zclock_mono ();
    self->next_tick = self->now + TICK_MS;
    self->next_heartbeat = self->now + cfg->heartbeat_ms;
    self->warns.window = self->now;
    self->warns.event = "malformed";
    log_started ("bind=%s local=%s heartbeat_ms=%ld queue_max=%ld request_ttl_ms=%ld "
                 "held_bytes=%ld curve=%s", cfg->bind, cfg->local ? cfg->local : "-",
                 cfg->heartbeat_ms, cfg->queue_max, cfg->request_ttl_ms, cfg->held_bytes_max,
                 self->curve ? "on" : "off");
    return self;
fail:
    zsock_destroy (&self->router);
    curve_server_destroy (&self->curve);
    free (self);
    return NULL;
}

void
broker_destroy (broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_t *self = *self_p;
    //  Workers first: they point into services.
    zhashx_destroy (&self->workers);
    zhashx_destroy (&self->services);
    if (self->router) {
        //  Give the last replies and DISCONNECTs a moment to leave.
        zsock_set_linger (self->router, 1000);
        zsock_destroy (&self->router);
    }
    curve_server_destroy (&self->curve);
    free (self);
    *self_p = NULL;
}

int
broker_run (broker_t *self, volatile sig_atomic_t *stop)
{
    int64_t drain_deadline = 0;
    int rc = 0;
    //  One clock read per message: the one after each receive also bounds the next.
    self->now = zclock_mono ();
    while (true) {
        if (*stop && !self->draining) {
            s_drain_begin (self);
            drain_deadline = self->now + self->cfg.drain_ms;
        }
        if (self->draining
        && (self->in_flight == 0 || *stop > 1 || self->now >= drain_deadline))
            break;
        long timeout = (long) (self->next_tick - self->now);
        if (self->draining && drain_deadline - self->now < timeout)
            timeout = (long) (drain_deadline - self->now);
        if (timeout < 0)
            timeout = 0;
        //  One receive bounded by the next timer, in place of zmq_poll and reads until
        //  EAGAIN: libzmq checks its command mailbox three or four times less per wake-up.
        //  A receive that finds a message waiting makes no system call, so a burst is read
        //  without one per message; a receive that finds none costs the same poll as the
        //  EAGAIN that would end a drain loop.
        zmsg_t *msg = mdp_recv (self->router, (int) timeout);
        self->now = zclock_mono ();
        if (msg)
            s_handle (self, &msg);
        else
        if (zmq_errno () != EAGAIN && zmq_errno () != EINTR) {
            log_error ("event=recv_failed msg=%s", zmq_strerror (zmq_errno ()));
            rc = -1;
            break;
        }
        if (self->now >= self->next_tick)
            s_tick (self);
    }
    s_drain_end (self);
    return rc;
}
