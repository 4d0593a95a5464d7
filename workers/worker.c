/*  worker: the SQL side of the worker and the dispatch table. Takes one request at a time
    from the broker link actor (link.c, which owns the broker socket and its heartbeats),
    and owns the database handle, the outbox and the user cache; service families own their
    statements and rules.  */
#include "worker.h"
#include "auth.h"
#include "failpoint.h"
#include "jobs.h"
#include "link.h"
#include "live.h"
#include "replay.h"
#include "sys.h"
#include "tickets.h"
#include "usercache.h"
#include "../common/log.h"
#include "../common/memtrim.h"
#include "../common/stop.h"
#include "../proto/mdp.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

//  Every family this worker offers. Adding one (jobs.c) is one line here.
static const svc_family_t *s_families [] = {
    &sys_family,
    &auth_family,
    &tickets_family,
    &jobs_family,
    &live_family,                       //  jobs.live and the re-publication round
    &replay_family,                     //  no services: the answers of mutating requests
};
#define FAMILIES_N (sizeof s_families / sizeof s_families [0])

#define WORKER_USERS_MAX        1024
#define WORKER_USERS_TTL_MS     2000
#define WORKER_MAINTAIN_MS      1000    //  background database reconnect attempts

struct _worker_t {
    char *endpoint;
    int heartbeat_ms;
    int credit;                         //  WORKER_CREDIT: requests the link may hand over at once
    zactor_t *link;                     //  the broker link (link.c), while running
    db_t *db;
    outbox_t *outbox;                   //  job events and job chunks
    usercache_t *users;
    jobs_config_t jobs;                 //  the settings every family reads
    const char *services [MDP_READY_SERVICES_MAX];
    size_t services_n;
    int64_t maintain_at;                //  the next idle round: db, outbox, family sweeps
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

worker_t *
worker_new (const worker_config_t *cfg)
{
    worker_t *self = (worker_t *) zmalloc (sizeof (worker_t));
    self->endpoint = strdup (cfg->endpoint);
    self->heartbeat_ms = cfg->heartbeat_ms;
    self->credit = cfg->credit > 1 ? cfg->credit : 1;
    self->jobs = cfg->jobs;
    self->users = usercache_new (WORKER_USERS_MAX, WORKER_USERS_TTL_MS);
    self->db = db_new ();
    self->outbox = outbox_new (cfg->hub_endpoint, cfg->endpoint);
    if (!self->db || !self->outbox)
        goto fail;
    for (size_t f = 0; f < FAMILIES_N; f++) {
        const svc_family_t *family = s_families [f];
        bool failed = false;
        for (size_t i = 0; i < family->stmts_n && !failed; i++)
            failed = db_register (self->db, family->stmts [i].name, family->stmts [i].sql,
                                  family->stmts [i].idempotent) != 0;
        if (failed || (family->init && family->init (self->db))) {
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

void
worker_destroy (worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    worker_t *self = *self_p;
    link_stop (&self->link);
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
            .jobs = &self->jobs,
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
        //  Answered even without a valid rid (the reply's rid is then "-"): the broker
        //  gives this worker nothing more until it replies, so a request left unanswered
        //  would take the worker out of service for good.
        log_warn ("event=request_malformed rid=%s service=%s msg=%s", *rid ? rid : "-",
                  service, log_quote (q, sizeof q, err));
        reply_error (&reply, 400, "bad_request", "The request envelope is malformed.", NULL);
    }
    else
        s_dispatch (self, service, req, &reply);
    if (reply.status == 0)
        reply_internal (&reply);            //  a handler that forgot to answer is our bug
    failpoint_after_commit (service, rid, reply.status);   //  test builds only

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
//  The SQL side's loop

//  A REQUEST from the link, with the service its frame named (proto/mdp.h,
//  mdp_request_take_service). A REQUEST without one (a broker that does not send it) is
//  answered 400 rather than guessed at, under rid "-" when it has none either. Returns the
//  reply body, never NULL: a worker that does not reply is never given another request.
static zmsg_t *
s_serve (worker_t *self, const char *service, zmsg_t **body_p)
{
    if (*service && worker_service (service))
        return worker_handle (self, service, body_p);
    char rid [SVC_RID_MAX + 1];
    svc_peek_rid (*body_p, rid);
    //  From a broker that sent the plain 7/MDP REQUEST, the frame taken for the service
    //  was the rid (the auth frame behind it never is one: it has a space).
    size_t len = strlen (service);
    if (!*rid && svc_rid_valid (service, len))
        memcpy (rid, service, len + 1);         //  len <= SVC_RID_MAX: a valid rid
    log_warn ("event=request_malformed rid=%s msg=\"unknown or missing service frame\"",
              *rid ? rid : "-");
    zmsg_destroy (body_p);
    return svc_reply_error (rid, 400, "bad_request",
                            "The request names no service this worker offers.");
}

//  Serves a request the link handed over (taken from *request_p) and hands it back with
//  the reply's body, always, even without one, so the link knows it is no longer in hand.
static void
s_on_request (worker_t *self, mdp_msg_t **request_p)
{
    mdp_msg_t *request = *request_p;
    zmsg_t *body = s_serve (self, request->service, &request->body);
    link_reply (self->link, request_p, &body);
}

//  About once a second with no request in hand: reconnect the database when it went away
//  (so the next request need not), read the broker's answers to our chunk requests, and
//  let each family sweep. A request that arrives meanwhile waits in the link's pipe.
static void
s_maintain (worker_t *self)
{
    db_maintain (self->db);
    outbox_drain (self->outbox);
    for (size_t f = 0; f < FAMILIES_N; f++)
        if (s_families [f]->idle)
            s_families [f]->idle (self->db, self->outbox, &self->jobs);
    self->maintain_at = zclock_mono () + WORKER_MAINTAIN_MS;
    memtrim_maybe (zclock_mono ());
}

//  Starts the link actor with SIGTERM and SIGINT blocked in its thread (a new thread
//  inherits the mask), so they reach this one, whose loop reads stop_requested. 0 once
//  the link said READY to the broker.
static int
s_start_link (worker_t *self)
{
    link_config_t cfg = { self->endpoint, self->heartbeat_ms, self->services, self->services_n,
                          self->credit };
    sigset_t block, old;
    sigemptyset (&block);
    sigaddset (&block, SIGTERM);
    sigaddset (&block, SIGINT);
    pthread_sigmask (SIG_BLOCK, &block, &old);
    self->link = zactor_new (link_actor, &cfg);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    char *status = self->link ? zstr_recv (self->link) : NULL;
    int rc = status && !strcmp (status, "CONNECTED") ? 0 : -1;
    free (status);
    if (rc)
        zactor_destroy (&self->link);
    return rc;
}

int
worker_run (worker_t *self)
{
    if (s_start_link (self))
        return -1;
    self->maintain_at = zclock_mono () + WORKER_MAINTAIN_MS;
    db_maintain (self->db);                 //  connect now rather than on the first request
    while (!stop_requested) {
        int64_t wait = self->maintain_at - zclock_mono ();
        //  A signal interrupts the wait (EINTR) and the loop sees stop_requested.
        mdp_msg_t *request;
        link_event_t event = link_recv (self->link, wait > 0 ? (int) wait : 0, &request);
        if (event == LINK_REQUEST)
            s_on_request (self, &request);
        else
        if (event == LINK_BROKER_UP || event == LINK_BROKER_DOWN)
            outbox_broker_seen (self->outbox, event == LINK_BROKER_UP);
        else
        if (event == LINK_FAILED)
            break;
        if (zclock_mono () >= self->maintain_at)
            s_maintain (self);
    }
    link_stop (&self->link);                //  the link says DISCONNECT: the broker hands back
    log_info ("event=worker_stopped");
    return 0;
}
