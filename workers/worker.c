/*  worker: the MDP worker loop and the dispatch table. Owns the broker socket, the
    database handle and the user cache; service families own their statements and rules.  */
#include "worker.h"
#include "auth.h"
#include "jobs.h"
#include "replay.h"
#include "sys.h"
#include "tickets.h"
#include "usercache.h"
#include "../common/curve.h"
#include "../common/log.h"
#include "../common/memtrim.h"
#include "../common/stop.h"
#include "../proto/mdp.h"

#include <errno.h>
#include <string.h>

//  Every family this worker offers. Adding one (jobs.c) is one line here.
static const svc_family_t *s_families [] = {
    &sys_family,
    &auth_family,
    &tickets_family,
    &jobs_family,
    &replay_family,                     //  no services: the answers of mutating requests
};
#define FAMILIES_N (sizeof s_families / sizeof s_families [0])

#define WORKER_PENDING_MAX      16      //  REQUESTs read while busy; beyond it 503 at once
#define WORKER_RECONNECT_MIN_MS 250
#define WORKER_RECONNECT_MAX_MS 4000
#define WORKER_USERS_MAX        1024
#define WORKER_USERS_TTL_MS     2000
#define WORKER_MAINTAIN_MS      1000    //  background database reconnect attempts

struct _worker_t {
    char *endpoint;
    int heartbeat_ms;
    zsock_t *sock;                      //  DEALER to the broker; replaced on reconnect
    db_t *db;
    outbox_t *outbox;                   //  job events and job chunks
    usercache_t *users;
    const char *services [MDP_READY_SERVICES_MAX];
    size_t services_n;
    int64_t heartbeat_at;               //  when the next HEARTBEAT is due
    int64_t last_recv;                  //  the broker's last sign of life
    int64_t maintain_at;
    int reconnect_ms;                   //  the next reconnect delay
    bool reconnect;                     //  DISCONNECT or silence: new socket after this request
    bool busy;                          //  a request is in hand (ticks must not dispatch)
    zlist_t *pending;                   //  mdp_msg_t REQUESTs read while busy, bounded
};

const svc_entry_t *
worker_service (const char *name)
{
    for (size_t f = 0; f < FAMILIES_N; f++)
        for (size_t i = 0; i < s_families [f]->entries_n; i++)
            if (!strcmp (s_families [f]->entries [i].name, name))
                return &s_families [f]->entries [i];
    return NULL;
}

static void s_tick (void *arg);

worker_t *
worker_new (const worker_config_t *cfg)
{
    worker_t *self = (worker_t *) zmalloc (sizeof (worker_t));
    self->endpoint = strdup (cfg->endpoint);
    self->heartbeat_ms = cfg->heartbeat_ms;
    self->reconnect_ms = WORKER_RECONNECT_MIN_MS;
    self->pending = zlist_new ();
    self->users = usercache_new (WORKER_USERS_MAX, WORKER_USERS_TTL_MS);
    self->db = db_new ();
    self->outbox = outbox_new (cfg->hub_endpoint, cfg->endpoint);
    if (!self->db || !self->outbox)
        goto fail;
    //  Ticks at a quarter of the interval, so a heartbeat is never more than a quarter late
    //  whatever the phase between db's clock and ours.
    db_set_tick (self->db, s_tick, self, self->heartbeat_ms / 4 > 25 ? self->heartbeat_ms / 4 : 25);
    for (size_t f = 0; f < FAMILIES_N; f++) {
        const svc_family_t *family = s_families [f];
        if (family->init && family->init (self->db)) {
            log_error ("event=family_init_failed family=%s", family->family);
            goto fail;
        }
        for (size_t i = 0; i < family->entries_n; i++) {
            if (self->services_n == MDP_READY_SERVICES_MAX)
                PANIC ("event=too_many_services max=%d", MDP_READY_SERVICES_MAX);
            self->services [self->services_n++] = family->entries [i].name;
        }
    }
    return self;
fail:
    worker_destroy (&self);
    return NULL;
}

static void
s_drop_pending (worker_t *self, const char *why)
{
    mdp_msg_t *msg;
    while ((msg = (mdp_msg_t *) zlist_pop (self->pending))) {
        log_warn ("event=request_dropped reason=%s", why);
        mdp_msg_destroy (&msg);
    }
}

void
worker_destroy (worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    worker_t *self = *self_p;
    s_drop_pending (self, "shutdown");
    zlist_destroy (&self->pending);
    zsock_destroy (&self->sock);
    outbox_destroy (&self->outbox);
    db_destroy (&self->db);
    usercache_destroy (&self->users);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------------
//  Requests

//  Checks the auth frame's user against the database (through the cache). Returns 0 with
//  *role set, or -1 with the reply filled.
static int
s_check_user (worker_t *self, const svc_request_t *req, svc_role_t *role, reply_t *reply)
{
    if (!*req->user) {
        reply_error (reply, 401, "invalid_token", "This service needs a signed-in user.", NULL);
        return -1;
    }
    int64_t now = zclock_mono ();
    *role = usercache_get (self->users, req->user, now);
    if (*role != SVC_ROLE_NONE)
        return 0;
    int rc = auth_user_role (self->db, req->user, role);
    if (rc < 0) {
        reply_unavailable (reply);
        return -1;
    }
    if (rc > 0) {
        reply_error (reply, 401, "invalid_token", "The token's user no longer exists.", NULL);
        return -1;
    }
    usercache_put (self->users, req->user, *role, now);
    return 0;
}

static void
s_dispatch (worker_t *self, const char *service, svc_request_t *req, reply_t *reply)
{
    const svc_entry_t *entry = worker_service (service);
    if (!entry) {
        reply_error (reply, 400, "bad_request", "This worker does not offer that service.", NULL);
        return;
    }
    if (req->blob && !entry->takes_blob) {
        reply_error (reply, 400, "bad_request", "This service takes no binary frame.", NULL);
        return;
    }
    json_t *payload = NULL;
    size_t size = zframe_size (req->payload);
    if (size == 0)
        payload = json_object ();           //  "{}" and nothing mean the same
    else {
        json_error_t jerr;
        payload = json_loadb ((const char *) zframe_data (req->payload), size, 0, &jerr);
    }
    if (!json_is_object (payload)) {
        json_decref (payload);
        reply_error (reply, 400, "bad_request", "The payload must be a JSON object.", NULL);
        return;
    }
    svc_role_t role = SVC_ROLE_NONE;
    if (!entry->needs_user || s_check_user (self, req, &role, reply) == 0) {
        svc_call_t call = {
            .db = self->db, .rid = req->rid, .service = entry->name,
            .user = req->user, .role = role, .payload = payload, .outbox = self->outbox,
            .blob = req->blob ? zframe_data (req->blob) : NULL,
            .blob_size = req->blob ? zframe_size (req->blob) : 0,
        };
        entry->handler (&call, reply);
    }
    json_decref (payload);
}

zmsg_t *
worker_handle (worker_t *self, const char *service, zmsg_t **body_p)
{
    int64_t started = zclock_usecs ();
    char rid [SVC_RID_MAX + 1];
    svc_peek_rid (*body_p, rid);
    char err [128], q [160];
    svc_request_t *req = svc_request_decode (body_p, err, sizeof err);
    reply_t reply = { 0, NULL };
    if (!req) {
        if (!*rid) {
            log_warn ("event=request_malformed service=%s msg=%s", service,
                      log_quote (q, sizeof q, err));
            return NULL;
        }
        log_warn ("event=request_malformed rid=%s service=%s msg=%s", rid, service,
                  log_quote (q, sizeof q, err));
        reply_error (&reply, 400, "bad_request", "The request envelope is malformed.", NULL);
    }
    else
        s_dispatch (self, service, req, &reply);
    if (reply.status == 0)
        reply_internal (&reply);            //  a handler that forgot to answer is our bug

    char *text = reply.body ? json_dumps (reply.body, JSON_COMPACT) : NULL;
    zmsg_t *out = svc_reply_encode (rid, reply.status, text, text ? strlen (text) : 0);
    log_info ("event=request rid=%s service=%s status=%d us=%lld", rid, service,
               reply.status, (long long) (zclock_usecs () - started));
    if (reply.status >= 500)
        log_warn ("event=request_failed rid=%s service=%s status=%d", rid, service, reply.status);
    free (text);
    reply_reset (&reply);
    svc_request_destroy (&req);
    return out;
}

//  ---------------------------------------------------------------------------------
//  Broker connection

static void
s_send (worker_t *self, zmsg_t **msg_p)
{
    if (self->sock && zmsg_send (msg_p, self->sock))
        log_warn ("event=broker_send_failed errno=%d", errno);
    zmsg_destroy (msg_p);
}

static void
s_heartbeat_if_due (worker_t *self)
{
    int64_t now = zclock_mono ();
    if (now >= self->heartbeat_at) {
        zmsg_t *msg = mdp_worker_command_new (NULL, MDPW_HEARTBEAT);
        s_send (self, &msg);
        self->heartbeat_at = now + self->heartbeat_ms;
    }
    if (!self->reconnect && now - self->last_recv > (int64_t) MDP_HEARTBEAT_LIVENESS * self->heartbeat_ms) {
        log_warn ("event=broker_silent ms=%lld", (long long) (now - self->last_recv));
        self->reconnect = true;
    }
}

static int
s_connect_broker (worker_t *self)
{
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock)
        return -1;
    mdp_socket_setup (self->sock);
    zsock_set_sndtimeo (self->sock, self->heartbeat_ms);   //  a dead broker never blocks us
    if (curve_client_apply (self->sock)
    ||  zsock_connect (self->sock, "%s", self->endpoint)) {
        log_error ("event=broker_connect_failed endpoint=%s", self->endpoint);
        zsock_destroy (&self->sock);
        return -1;
    }
    zmsg_t *ready = mdp_worker_ready_new (self->services, self->services_n);
    s_send (self, &ready);
    int64_t now = zclock_mono ();
    self->last_recv = now;
    self->heartbeat_at = now + self->heartbeat_ms;
    self->reconnect = false;
    log_info ("event=worker_ready endpoint=%s services=%zu", self->endpoint, self->services_n);
    return 0;
}

static void
s_reconnect (worker_t *self)
{
    zsock_destroy (&self->sock);
    //  Requests read on the old socket belong to a session the broker has closed; it
    //  hands them to another worker.
    s_drop_pending (self, "reconnect");
    log_warn ("event=broker_reconnect delay_ms=%d", self->reconnect_ms);
    int64_t until = zclock_mono () + self->reconnect_ms;
    while (!stop_requested && zclock_mono () < until)
        zclock_sleep (50);
    self->reconnect_ms = self->reconnect_ms * 2 > WORKER_RECONNECT_MAX_MS
                       ? WORKER_RECONNECT_MAX_MS : self->reconnect_ms * 2;
    if (!stop_requested && s_connect_broker (self))
        self->reconnect = true;
}

//  A REQUEST decoded off the socket, its service frame already taken (proto/README.md,
//  "READY with several services"). A REQUEST without one (a broker that does not send it)
//  is answered 400 rather than guessed at.
static void
s_serve (worker_t *self, mdp_msg_t *msg)
{
    self->busy = true;
    zmsg_t *body = NULL;
    if (*msg->service && worker_service (msg->service))
        body = worker_handle (self, msg->service, &msg->body);
    else {
        char rid [SVC_RID_MAX + 1];
        svc_peek_rid (msg->body, rid);
        //  From a broker that sent the plain 7/MDP REQUEST, the frame taken for the
        //  service was the rid (the auth frame behind it never is one: it has a space).
        size_t len = strlen (msg->service);
        if (!*rid && svc_rid_valid (msg->service, len))
            memcpy (rid, msg->service, len + 1);    //  len <= SVC_RID_MAX: a valid rid
        log_warn ("event=request_malformed rid=%s msg=\"unknown or missing service frame\"",
                  *rid ? rid : "-");
        if (*rid)
            body = svc_reply_error (rid, 400, "bad_request",
                                    "The request names no service this worker offers.");
    }
    if (body) {
        zmsg_t *reply = mdp_worker_reply_new (msg->client, &body);
        s_send (self, &reply);
    }
    mdp_msg_destroy (&msg);
    self->busy = false;
}

//  Handles one message from the broker. While busy (inside a tick) a REQUEST waits in
//  pending; if that is full it is refused at once rather than held unboundedly.
static void
s_on_message (worker_t *self, zmsg_t *raw)
{
    char err [128], q [160];
    self->last_recv = zclock_mono ();       //  any message is a sign of life
    self->reconnect_ms = WORKER_RECONNECT_MIN_MS;
    mdp_msg_t *msg = mdp_msg_decode (&raw, MDP_AT_WORKER, err, sizeof err);
    if (!msg) {
        log_warn ("event=broker_msg_malformed msg=%s", log_quote (q, sizeof q, err));
        return;
    }
    if (msg->command == MDPW_REQUEST) {
        //  Every REQUEST names its service: our READY names several. "" when it does not.
        mdp_request_take_service (msg, NULL, 0);
        if (!self->busy && zlist_size (self->pending) == 0) {
            s_serve (self, msg);
            return;
        }
        if (zlist_size (self->pending) < WORKER_PENDING_MAX) {
            zlist_append (self->pending, msg);
            return;
        }
        char rid [SVC_RID_MAX + 1];
        svc_peek_rid (msg->body, rid);
        log_warn ("event=request_refused rid=%s reason=busy", *rid ? rid : "-");
        if (*rid) {
            zmsg_t *body = svc_reply_error (rid, 503, "worker_busy", "The worker is busy; try again.");
            zmsg_t *reply = mdp_worker_reply_new (msg->client, &body);
            s_send (self, &reply);
        }
    }
    else
    if (msg->command == MDPW_DISCONNECT) {
        log_warn ("event=broker_disconnect");
        self->reconnect = true;
    }
    mdp_msg_destroy (&msg);
}

//  Reads whatever the broker sent, without blocking.
static void
s_drain (worker_t *self)
{
    zmsg_t *raw;
    while (self->sock && (raw = mdp_recv (self->sock, 0)))
        s_on_message (self, raw);
}

//  Called by db while it waits on PostgreSQL: keeps the broker convinced we are alive.
static void
s_tick (void *arg)
{
    worker_t *self = (worker_t *) arg;
    s_drain (self);
    s_heartbeat_if_due (self);
}

//  db_maintain may connect, and ticks while it waits: a request served inside that tick
//  would connect a second time, and one of the two connections would leak. Requests that
//  arrive meanwhile wait in pending instead.
static void
s_db_maintain (worker_t *self)
{
    self->busy = true;
    db_maintain (self->db);
    self->busy = false;
}

int
worker_run (worker_t *self)
{
    if (s_connect_broker (self))
        return -1;
    self->maintain_at = zclock_mono () + WORKER_MAINTAIN_MS;
    s_db_maintain (self);                   //  connect now rather than on the first request
    while (!stop_requested) {
        if (self->reconnect) {
            s_reconnect (self);
            continue;
        }
        mdp_msg_t *msg = (mdp_msg_t *) zlist_pop (self->pending);
        if (msg) {
            s_serve (self, msg);
            continue;
        }
        int64_t now = zclock_mono ();
        int64_t wait = self->heartbeat_at - now;
        if (self->maintain_at - now < wait)
            wait = self->maintain_at - now;
        zmsg_t *raw = mdp_recv (self->sock, wait > 0 ? (int) wait : 0);
        if (raw)
            s_on_message (self, raw);
        else
        if (zmq_errno () != EAGAIN && zmq_errno () != EINTR) {
            log_error ("event=recv_failed msg=%s", zmq_strerror (zmq_errno ()));
            break;
        }
        s_heartbeat_if_due (self);
        if (zclock_mono () >= self->maintain_at) {
            s_db_maintain (self);
            outbox_drain (self->outbox);
            for (size_t f = 0; f < FAMILIES_N && !self->reconnect; f++)
                if (s_families [f]->idle) {
                    self->busy = true;      //  requests that arrive meanwhile wait in pending
                    s_families [f]->idle (self->db, self->outbox);
                    self->busy = false;
                }
            self->maintain_at = zclock_mono () + WORKER_MAINTAIN_MS;
            memtrim_maybe (zclock_mono ());
        }
    }
    s_drop_pending (self, "shutdown");
    if (self->sock) {
        zmsg_t *bye = mdp_worker_command_new (NULL, MDPW_DISCONNECT);
        zsock_set_linger (self->sock, 500);     //  let the DISCONNECT leave before we go
        s_send (self, &bye);
        zsock_destroy (&self->sock);
    }
    log_info ("event=worker_stopped");
    return 0;
}
