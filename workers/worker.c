/*  worker: the worker's loop and the dispatch table. Takes the requests waiting in the
    broker link (link.c, which owns the broker sockets and their heartbeats, served in this
    same thread) as one batch, its reads in one pipeline, and owns the database handle, the
    outbox and the user cache; service families own their statements and rules.  */
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

//  One request on its way through the worker, from the link's message to its reply.
typedef struct {
    mdp_msg_t *request;                 //  the link's, handed back with the reply
    const char *service;
    char rid [SVC_RID_MAX + 1];
    int64_t started;                    //  usecs, for the request's log line
    svc_request_t *req;                 //  the decoded envelope; NULL when malformed
    json_t *payload;
    const svc_entry_t *entry;           //  set once call is ready to run
    svc_call_t call;
    reply_t reply;
    svc_plan_t plan;                    //  a read's statements, in a batch's pipeline
    bool ready;                         //  in a batch: started, not yet answered
} s_task_t;

struct _worker_t {
    conf_endpoints_t brokers;           //  every broker the link registers with
    char *name;                         //  WORKER_NAME: the READY's
    int heartbeat_ms;
    int credit;                         //  WORKER_CREDIT: requests taken at once
    s_task_t *tasks;                    //  a batch's, credit of them
    link_t *link;                       //  the broker link (link.c), while running
    db_t *db;
    outbox_t *outbox;                   //  job events and job chunks
    usercache_t *users;
    uint64_t users_gen;                 //  the connection whose announcements users follows
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

//  db.c's waits serve the link: heartbeats flow however long a statement takes.
static int
s_db_wait (void *arg, int fd, short events, int timeout_ms)
{
    return link_wait_fd ((link_t *) arg, fd, events, timeout_ms);
}

//  Connects the link to every broker (READY) and has the database's waits serve it. 0, or
//  -1 when it could not be made.
static int
s_start_link (worker_t *self)
{
    const char *brokers [LINK_BROKERS_MAX];
    for (size_t i = 0; i < self->brokers.n && i < LINK_BROKERS_MAX; i++)
        brokers [i] = conf_endpoints_get (&self->brokers, i);
    link_config_t cfg = { brokers, self->brokers.n, self->heartbeat_ms, self->services,
                          self->services_n, self->credit, self->name };
    self->link = link_new (&cfg);
    if (!self->link)
        return -1;
    db_set_wait (self->db, s_db_wait, self->link);
    return 0;
}

//  The link goes (DISCONNECT: each broker hands back what we did not take); the database's
//  waits serve nothing else from now on.
static void
s_stop_link (worker_t *self)
{
    if (self->db)
        db_set_wait (self->db, NULL, NULL);
    link_stop (&self->link);
}

worker_t *
worker_new (const worker_config_t *cfg)
{
    worker_t *self = (worker_t *) zmalloc (sizeof (worker_t));
    self->brokers = cfg->brokers;
    self->name = cfg->name ? strdup (cfg->name) : NULL;
    self->heartbeat_ms = cfg->heartbeat_ms;
    //  The batch and query arrays are sized for WORKER_CREDIT_MAX: config.c refuses more,
    //  and a caller that passes more anyway gets the bound, never an overflow.
    self->credit = cfg->credit < 1 ? 1 : cfg->credit > WORKER_CREDIT_MAX ? WORKER_CREDIT_MAX
                 : cfg->credit;
    //  At credit 1 every batch is one request, served as alone: no task table.
    self->tasks = self->credit > 1 ? (s_task_t *) zmalloc (self->credit * sizeof (s_task_t)) : NULL;
    self->jobs = cfg->jobs;
    self->users = usercache_new (WORKER_USERS_MAX, WORKER_USERS_TTL_MS);
    self->db = db_new (cfg->name);
    self->outbox = outbox_new (&cfg->hubs, &cfg->brokers);
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
    s_stop_link (self);
    outbox_destroy (&self->outbox);
    db_destroy (&self->db);
    usercache_destroy (&self->users);
    free (self->tasks);
    free (self->name);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------------
//  Requests

static void
s_user_changed (const char *payload, void *arg)
{
    usercache_t *users = (usercache_t *) arg;
    if (!strcmp (payload, "*"))
        usercache_forget_all (users);
    else
        usercache_forget (users, payload);
}

//  Forgets the users PostgreSQL said changed, so a deleted user or a changed role counts
//  from the next request on, not after the cache's ttl. On a new connection every user
//  is forgotten: what was announced while none was up is lost.
static void
s_follow_users (worker_t *self)
{
    uint64_t gen = db_generation (self->db);
    if (gen != self->users_gen) {
        usercache_forget_all (self->users);
        self->users_gen = gen;
    }
    db_announcements (self->db, s_user_changed, self->users);
}

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

//  Decodes the payload and checks the service's conditions (blob, user): true with t->call
//  ready for the service, false with t->reply filled.
static bool
s_dispatch (worker_t *self, s_task_t *t)
{
    const svc_entry_t *entry = worker_service (t->service);
    reply_t *reply = &t->reply;
    svc_request_t *req = t->req;
    if (!entry) {
        reply_error (reply, 400, "bad_request", "This worker does not offer that service.", NULL);
        return false;
    }
    if (req->blob && !entry->takes_blob) {
        reply_error (reply, 400, "bad_request", "This service takes no binary frame.", NULL);
        return false;
    }
    size_t size = zframe_size (req->payload);
    if (size == 0)
        t->payload = json_object ();        //  "{}" and nothing mean the same
    else {
        json_error_t jerr;
        t->payload = json_loadb ((const char *) zframe_data (req->payload), size, 0, &jerr);
    }
    if (!json_is_object (t->payload)) {
        reply_error (reply, 400, "bad_request", "The payload must be a JSON object.", NULL);
        return false;
    }
    svc_role_t role = SVC_ROLE_NONE;
    if (entry->needs_user && s_check_user (self, req, &role, reply))
        return false;
    t->entry = entry;
    t->call = (svc_call_t) {
        .db = self->db, .rid = req->rid, .service = entry->name,
        .user = req->user, .role = role, .payload = t->payload, .outbox = self->outbox,
        .jobs = &self->jobs,
        .blob = req->blob ? zframe_data (req->blob) : NULL,
        .blob_size = req->blob ? zframe_size (req->blob) : 0,
    };
    return true;
}

//  Starts a request body (rid, auth, payload) for service, taken from *body_p: true when
//  t is ready for its handler (or plan), false when t->reply already answers it.
static bool
s_task_begin (worker_t *self, s_task_t *t, const char *service, zmsg_t **body_p)
{
    t->started = zclock_usecs ();
    t->service = service;
    svc_peek_rid (*body_p, t->rid);
    char err [128], q [160];
    t->req = svc_request_decode (body_p, err, sizeof err);
    if (t->req)
        return s_dispatch (self, t);
    //  Answered even without a valid rid (the reply's rid is then "-"): the broker counts
    //  a request against the worker's credit until it replies, so one left unanswered would
    //  hold a credit for good (at credit 1, take the worker out of service).
    log_warn ("event=request_malformed rid=%s service=%s msg=%s", *t->rid ? t->rid : "-",
              service, log_quote (q, sizeof q, err));
    reply_error (&t->reply, 400, "bad_request", "The request envelope is malformed.", NULL);
    return false;
}

//  Ends a request: its reply body (rid, status, payload), logged; frees what t holds.
static zmsg_t *
s_task_end (s_task_t *t)
{
    if (t->reply.status == 0)
        reply_internal (&t->reply);         //  a handler that forgot to answer is our bug
    failpoint_after_commit (t->service, t->rid, t->reply.status);  //  test builds only
    //  Done with as soon as the handler is (the reply never borrows from it), as before
    //  batches: its blocks are free for the reply's text.
    json_decref (t->payload);
    t->payload = NULL;

    if (reply_encode (&t->reply))           //  a no-op when the handler wrote text
        log_error ("event=reply_encode_failed rid=%s service=%s", t->rid, t->service);
    zmsg_t *out = svc_reply_encode (t->rid, t->reply.status, t->reply.text, t->reply.text_len);
    //  The edge asks sys.health and sys.metrics every few seconds: routine when they succeed.
    bool poll = !strncmp (t->service, "sys.", 4) && t->reply.status < 500;
    log_emit (poll ? LOG_DEBUG : LOG_INFO, "event=request rid=%s service=%s status=%d us=%lld",
              t->rid, t->service, t->reply.status, (long long) (zclock_usecs () - t->started));
    if (t->reply.status >= 500)
        log_warn ("event=request_failed rid=%s service=%s status=%d", t->rid, t->service,
                  t->reply.status);
    reply_reset (&t->reply);
    svc_request_destroy (&t->req);
    if (t->plan.queries_n || t->plan.owned)
        svc_plan_reset (&t->plan);
    return out;
}

//  A statement cancelled by its budget (db_budget) left the handler with an error result,
//  answered 500: the client is told what happened, a 504 it may retry, not our bug.
static void
s_task_timed_out (s_task_t *t)
{
    if (t->reply.status != 500)
        return;
    log_warn ("event=statement_timeout rid=%s service=%s", t->rid, t->service);
    reply_error (&t->reply, 504, "gateway_timeout",
                 "The database did not answer in time; try again, or narrow the request.", NULL);
}

//  Runs a ready task's handler under its service's statement budget.
static void
s_task_run (worker_t *self, s_task_t *t)
{
    db_budget (self->db, t->entry->background ? DB_BACKGROUND : DB_INTERACTIVE);
    db_timed_out (self->db);
    t->entry->handler (&t->call, &t->reply);
    if (db_timed_out (self->db))
        s_task_timed_out (t);
}

zmsg_t *
worker_handle (worker_t *self, const char *service, zmsg_t **body_p)
{
    s_task_t t = { 0 };
    if (s_task_begin (self, &t, service, body_p))
        s_task_run (self, &t);
    return s_task_end (&t);
}

//  ---------------------------------------------------------------------------------
//  The loop

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

//  ---------------------------------------------------------------------------------
//  Batches: every request the link had waiting at one wake-up

//  Answers a batch's task: its reply goes to the link, which sends it at once.
static void
s_task_answer (worker_t *self, s_task_t *t)
{
    zmsg_t *body = s_task_end (t);
    link_reply (self->link, &t->request, &body);
    t->ready = false;
}

//  Starts every request of the batch; answers at once those that need no statement (a
//  4xx, an unknown user, a malformed envelope or service). Returns how many of the rest are
//  reads with a split form.
static size_t
s_batch_start (worker_t *self, mdp_msg_t **batch, size_t n)
{
    size_t reads = 0;
    for (size_t i = 0; i < n; i++) {
        s_task_t *t = &self->tasks [i];
        memset (t, 0, sizeof *t);
        t->request = batch [i];
        batch [i] = NULL;
        const char *service = t->request->service;
        if (!*service || !worker_service (service)) {
            s_on_request (self, &t->request);
            continue;
        }
        t->ready = s_task_begin (self, t, service, &t->request->body);
        if (!t->ready)
            s_task_answer (self, t);
        else
        if (t->entry->plan)
            reads++;
    }
    return reads;
}

//  Runs the batch's reads as one pipeline and answers them as their results are in: one
//  round trip to PostgreSQL for all of them, and one burst of replies.
static void
s_batch_pipeline (worker_t *self, size_t n)
{
    db_query_t *queries [WORKER_CREDIT_MAX * SVC_PLAN_QUERIES];
    size_t queries_n = 0;
    for (size_t i = 0; i < n; i++) {
        s_task_t *t = &self->tasks [i];
        if (!t->ready || !t->entry->plan)
            continue;
        if (t->entry->plan (&t->call, &t->plan, &t->reply)) {
            s_task_answer (self, t);
            continue;
        }
        for (size_t q = 0; q < t->plan.queries_n; q++)
            queries [queries_n++] = &t->plan.queries [q];
    }
    db_budget (self->db, DB_INTERACTIVE);
    db_timed_out (self->db);
    db_pipeline (self->db, queries, queries_n);
    bool timed_out = db_timed_out (self->db);
    for (size_t i = 0; i < n; i++) {
        s_task_t *t = &self->tasks [i];
        if (t->ready && t->entry->plan) {
            t->entry->finish (&t->call, &t->plan, &t->reply);
            if (timed_out)
                s_task_timed_out (t);
            s_task_answer (self, t);
        }
    }
}

//  Serves the requests the link handed over at one wake-up (taken from batch), each
//  answered as soon as it can be: those decided without PostgreSQL first, then the reads
//  in one pipeline, then everything else one by one as alone (writes, jobs, logins:
//  their transactions are their own). A lone read runs through its handler: a pipeline
//  of one would only cost more.
static void
s_on_batch (worker_t *self, mdp_msg_t **batch, size_t n)
{
    s_follow_users (self);
    if (n == 1) {
        s_on_request (self, &batch [0]);
        return;
    }
    size_t reads = s_batch_start (self, batch, n);
    log_debug ("event=batch requests=%zu reads=%zu", n, reads);
    if (reads >= 2)
        s_batch_pipeline (self, n);
    for (size_t i = 0; i < n; i++) {
        s_task_t *t = &self->tasks [i];
        if (t->ready) {
            s_task_run (self, t);
            s_task_answer (self, t);
        }
    }
}

//  Takes first and whatever else the link has waiting, up to the credit, and serves them
//  as one batch. Returns LINK_FAILED when the link said so meanwhile, else LINK_NOTHING.
static link_event_t
s_on_requests (worker_t *self, mdp_msg_t *first)
{
    mdp_msg_t *batch [WORKER_CREDIT_MAX];
    size_t n = 0;
    batch [n++] = first;
    link_event_t event = LINK_REQUEST;
    while (n < (size_t) self->credit && event != LINK_NOTHING && event != LINK_FAILED) {
        event = link_recv (self->link, 0, &batch [n]);
        if (event == LINK_REQUEST)
            n++;
        else
        if (event == LINK_BROKER_UP || event == LINK_BROKER_DOWN)
            outbox_broker_seen (self->outbox, event == LINK_BROKER_UP);
    }
    s_on_batch (self, batch, n);
    return event == LINK_FAILED ? LINK_FAILED : LINK_NOTHING;
}

//  About once a second with no request in hand: reconnect the database when it went away
//  (so the next request need not), read the broker's answers to our chunk requests, and
//  let each family sweep. A request that arrives meanwhile waits in the link.
static void
s_maintain (worker_t *self)
{
    db_budget (self->db, DB_BACKGROUND);
    db_maintain (self->db);
    outbox_drain (self->outbox);
    for (size_t f = 0; f < FAMILIES_N; f++)
        if (s_families [f]->idle)
            s_families [f]->idle (self->db, self->outbox, &self->jobs);
    self->maintain_at = zclock_mono () + WORKER_MAINTAIN_MS;
    memtrim_maybe (zclock_mono ());
}

int
worker_run (worker_t *self)
{
    if (s_start_link (self))
        return -1;
    log_started ("brokers=%zu broker=%s%s credit=%d services=%zu", self->brokers.n,
                 conf_endpoints_get (&self->brokers, 0), self->brokers.n > 1 ? ",..." : "",
                 self->credit, self->services_n);
    self->maintain_at = zclock_mono () + WORKER_MAINTAIN_MS;
    db_maintain (self->db);                 //  connect now rather than on the first request
    while (!stop_requested) {
        int64_t wait = self->maintain_at - zclock_mono ();
        //  A signal interrupts the wait (EINTR) and the loop sees stop_requested.
        mdp_msg_t *request;
        link_event_t event = link_recv (self->link, wait > 0 ? (int) wait : 0, &request);
        if (event == LINK_REQUEST)
            event = s_on_requests (self, request);
        if (event == LINK_BROKER_UP || event == LINK_BROKER_DOWN)
            outbox_broker_seen (self->outbox, event == LINK_BROKER_UP);
        else
        if (event == LINK_FAILED)
            break;
        if (zclock_mono () >= self->maintain_at)
            s_maintain (self);
    }
    s_stop_link (self);
    log_info ("event=worker_stopped");
    return 0;
}
