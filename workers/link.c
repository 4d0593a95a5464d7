/*  link: a DEALER to each broker and its clock (heartbeats, silence, reconnect), one
    session per broker, served from the worker's own thread: at link_recv, and through
    link_wait_fd while a statement waits on PostgreSQL.  */
#include "link.h"
#include "../common/curve.h"
#include "../common/log.h"
#include "../proto/mdp.h"
#include "../proto/svc.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

//  One broker: its socket and its clock. A session ends (DISCONNECT, silence) only once the
//  worker holds none of its requests, since replies go out on the session their requests
//  came from; the other brokers' sessions go on meanwhile.
typedef struct {
    char *endpoint;
    zsock_t *sock;                      //  DEALER to the broker; NULL between connections
    int64_t heartbeat_at;               //  when the next HEARTBEAT is due
    int64_t last_recv;                  //  the broker's last sign of life
    int64_t connect_at;                 //  when sock is NULL: the next connect attempt
    int reconnect_ms;                   //  the next reconnect delay
    int held;                           //  its requests handed over without a REPLY yet
    bool reconnect;                     //  DISCONNECT or silence: new socket once free
    bool there;                         //  the broker spoke in this session, not silent since
} s_session_t;

struct _link_t {
    char *name;                         //  in every READY: the brokers' name for us
    int heartbeat_ms;
    char *services [MDP_READY_SERVICES_MAX];
    size_t services_n;
    s_session_t sessions [LINK_BROKERS_MAX];
    size_t sessions_n;
    int credit;                         //  requests the worker may hold at once
    int held;                           //  handed over (ready, or in the worker's hands)
                                        //  without their REPLY yet: at most credit
    mdp_msg_t **ready;                  //  a ring of credit: handed over, not yet taken by
    size_t ready_head, ready_n;         //  link_recv
    bool told;                          //  what the worker was last told: a broker is there
    bool failed;                        //  a socket broke: LINK_FAILED from now on
    zlist_t *queue;                     //  mdp_msg_t REQUESTs beyond the credit (via: session)
    size_t queue_max;                   //  LINK_QUEUE_MAX, plus the credit of every other broker
};

//  ---------------------------------------------------------------------------------
//  Sessions

//  Drops the queued requests of one session (via), or of all (via < 0).
static void
s_drop_queue (link_t *self, int via, const char *why)
{
    mdp_msg_t *msg = (mdp_msg_t *) zlist_first (self->queue);
    while (msg) {
        mdp_msg_t *next = (mdp_msg_t *) zlist_next (self->queue);
        if (via < 0 || msg->via == via) {
            zlist_remove (self->queue, msg);
            log_warn ("event=request_dropped reason=%s", why);
            mdp_msg_destroy (&msg);
        }
        msg = next;
    }
}

//  A broker came or went.
static void
s_presence (s_session_t *session, bool there)
{
    if (there != session->there)
        log_info ("event=broker_%s endpoint=%s", there ? "there" : "away", session->endpoint);
    session->there = there;
}

static void
s_send (s_session_t *session, zmsg_t **msg_p)
{
    if (session->sock && zmsg_send (msg_p, session->sock))
        log_warn ("event=broker_send_failed endpoint=%s errno=%d", session->endpoint, errno);
    zmsg_destroy (msg_p);
}

static int
s_connect (link_t *self, s_session_t *session)
{
    session->sock = zsock_new (ZMQ_DEALER);
    if (!session->sock)
        return -1;
    mdp_socket_setup (session->sock);
    zsock_set_sndtimeo (session->sock, self->heartbeat_ms);    //  a dead broker never blocks us
    if (curve_client_connect_broker (session->sock, session->endpoint)) {
        log_error ("event=broker_connect_failed endpoint=%s", session->endpoint);
        zsock_destroy (&session->sock);
        return -1;
    }
    zmsg_t *ready = mdp_worker_ready_new ((const char *const *) self->services, self->services_n,
                                          self->credit, self->name);
    s_send (session, &ready);
    int64_t now = zclock_mono ();
    session->last_recv = now;
    session->heartbeat_at = now + self->heartbeat_ms;
    session->reconnect = false;
    log_info ("event=worker_ready endpoint=%s services=%zu credit=%d", session->endpoint,
              self->services_n, self->credit);
    return 0;
}

//  Closes a session: its requests still queued belong to it, and its broker hands them to
//  another worker. The next connect waits out a delay that doubles up to the maximum and
//  starts over whenever the broker speaks.
static void
s_schedule_reconnect (link_t *self, s_session_t *session)
{
    zsock_destroy (&session->sock);
    s_presence (session, false);
    s_drop_queue (self, (int) (session - self->sessions), "reconnect");
    log_warn ("event=broker_reconnect endpoint=%s delay_ms=%d", session->endpoint,
              session->reconnect_ms);
    session->connect_at = zclock_mono () + session->reconnect_ms;
    session->reconnect_ms = session->reconnect_ms * 2 > LINK_RECONNECT_MAX_MS
                          ? LINK_RECONNECT_MAX_MS : session->reconnect_ms * 2;
    session->reconnect = false;
}

//  Hands a request over: it waits in the ready ring for link_recv, and counts against the
//  credit from now until its REPLY.
static void
s_forward (link_t *self, mdp_msg_t *msg)
{
    //  Every REQUEST names its service, since our READY names several; "" when it does not.
    mdp_request_take_service (msg, NULL, 0);
    size_t slot = (self->ready_head + self->ready_n) % (size_t) self->credit;
    self->ready [slot] = msg;
    self->ready_n++;
    self->held++;
    self->sessions [msg->via].held++;
}

//  True when a request of session may be handed over now rather than wait.
static bool
s_may_forward (link_t *self, const s_session_t *session)
{
    return self->held < self->credit && !session->reconnect;
}

//  Hands over what waits in the queue, oldest first, while there is room.
static void
s_forward_queued (link_t *self)
{
    mdp_msg_t *msg = (mdp_msg_t *) zlist_first (self->queue);
    while (msg && self->held < self->credit) {
        mdp_msg_t *next = (mdp_msg_t *) zlist_next (self->queue);
        if (s_may_forward (self, &self->sessions [msg->via])) {
            zlist_remove (self->queue, msg);
            s_forward (self, msg);
        }
        msg = next;
    }
}

//  A request beyond the queue: answered 503 at once rather than held unboundedly.
static void
s_refuse (s_session_t *session, mdp_msg_t *msg)
{
    char rid [SVC_RID_MAX + 1];
    mdp_request_take_service (msg, NULL, 0);
    svc_peek_rid (msg->body, rid);
    log_warn ("event=request_refused rid=%s reason=busy", *rid ? rid : "-");
    if (*rid) {
        zmsg_t *body = svc_reply_error (rid, 503, "worker_busy", "The worker is busy; try again.");
        zmsg_t *reply = mdp_worker_reply_new (msg->client, &body);
        s_send (session, &reply);
    }
    mdp_msg_destroy (&msg);
}

static void
s_on_broker (link_t *self, s_session_t *session, zmsg_t *raw)
{
    char err [128], q [160];
    session->last_recv = zclock_mono ();    //  any message is a sign of life
    session->reconnect_ms = LINK_RECONNECT_MIN_MS;
    if (!session->reconnect)
        s_presence (session, true);
    mdp_msg_t *msg = mdp_msg_decode (&raw, MDP_AT_WORKER, err, sizeof err);
    if (!msg) {
        log_warn ("event=broker_msg_malformed endpoint=%s msg=%s", session->endpoint,
                  log_quote (q, sizeof q, err));
        return;
    }
    if (msg->command == MDPW_REQUEST) {
        msg->via = (int) (session - self->sessions);
        if (s_may_forward (self, session) && zlist_size (self->queue) == 0)
            s_forward (self, msg);
        else
        if (zlist_size (self->queue) < self->queue_max)
            zlist_append (self->queue, msg);
        else
            s_refuse (session, msg);
        return;
    }
    //  A broker that forgot us answers each heartbeat with DISCONNECT until the session
    //  ends, which waits for the replies it is owed: said once.
    if (msg->command == MDPW_DISCONNECT && !session->reconnect) {
        log_warn ("event=broker_disconnect endpoint=%s", session->endpoint);
        s_presence (session, false);
        session->reconnect = true;
    }
    mdp_msg_destroy (&msg);
}

static void
s_heartbeat_if_due (link_t *self, s_session_t *session, int64_t now)
{
    if (now >= session->heartbeat_at) {
        zmsg_t *msg = mdp_worker_command_new (NULL, MDPW_HEARTBEAT);
        s_send (session, &msg);
        session->heartbeat_at = now + self->heartbeat_ms;
    }
    if (!session->reconnect
    &&  now - session->last_recv > (int64_t) MDP_HEARTBEAT_LIVENESS * self->heartbeat_ms) {
        log_warn ("event=broker_silent endpoint=%s ms=%lld", session->endpoint,
                  (long long) (now - session->last_recv));
        s_presence (session, false);
        session->reconnect = true;
    }
}

//  Reads one message from a broker: 1 when one came, 0 when none was there, -1 when the
//  socket broke.
static int
s_read_broker (link_t *self, s_session_t *session)
{
    zmsg_t *raw = mdp_recv (session->sock, 0);
    if (raw) {
        s_on_broker (self, session, raw);
        return 1;
    }
    if (zmq_errno () == EAGAIN || zmq_errno () == EINTR)
        return 0;
    log_error ("event=recv_failed endpoint=%s msg=%s", session->endpoint,
               zmq_strerror (zmq_errno ()));
    return -1;
}

//  How long a wait may last: until the next heartbeat or connect attempt of any session.
static long
s_timeout (link_t *self)
{
    if (self->failed || self->sessions_n == 0)
        return -1;
    int64_t due = INT64_MAX;
    for (size_t i = 0; i < self->sessions_n; i++) {
        s_session_t *session = &self->sessions [i];
        int64_t at = session->sock ? session->heartbeat_at : session->connect_at;
        due = at < due ? at : due;
    }
    int64_t wait = due - zclock_mono ();
    return wait > 0 ? (long) wait : 0;
}

//  Each session's state machine, at every wait: a new session when the old one ended, and
//  the end of one whose broker fell silent or said DISCONNECT, but never while the worker
//  holds one of its requests: replies go out on the session their requests came from.
static void
s_step (link_t *self)
{
    if (self->failed)
        return;
    int64_t now = zclock_mono ();
    for (size_t i = 0; i < self->sessions_n; i++) {
        s_session_t *session = &self->sessions [i];
        if (!session->sock && now >= session->connect_at && s_connect (self, session))
            s_schedule_reconnect (self, session);
        if (session->sock)
            s_heartbeat_if_due (self, session, now);
        if (session->sock && session->reconnect && session->held == 0)
            s_schedule_reconnect (self, session);
    }
}

//  A broker socket broke (not the broker: our side of it): the worker is told to stop.
static void
s_fail (link_t *self)
{
    for (size_t i = 0; i < self->sessions_n; i++)
        zsock_destroy (&self->sessions [i].sock);
    self->failed = true;
}

//  Reads up to credit messages of a session the poll reported: a batch's requests come in
//  a burst, and a read that finds nothing is cheaper than a poll. -1 when its socket broke.
static int
s_read_burst (link_t *self, s_session_t *session)
{
    int got = session->sock ? s_read_broker (self, session) : 0;
    for (int i = 1; i < self->credit && got > 0 && session->sock; i++)
        got = s_read_broker (self, session);
    return got < 0 ? -1 : 0;
}

//  Polls every broker, and fd for events when fd >= 0, for at most timeout_ms (-1: none),
//  never past the next heartbeat or connect attempt; reads what the brokers sent. 1 when
//  fd is ready, 0 when not, -1 when interrupted or the poll failed (zmq_errno says; then
//  the link has failed).
static int
s_wait (link_t *self, int fd, short events, long timeout_ms)
{
    zmq_pollitem_t items [1 + LINK_BROKERS_MAX];
    s_session_t *polled [1 + LINK_BROKERS_MAX];
    int n = 0;
    if (fd >= 0)
        items [n++] = (zmq_pollitem_t) { NULL, fd, (short) (((events & POLLIN) ? ZMQ_POLLIN : 0)
                                                  | ((events & POLLOUT) ? ZMQ_POLLOUT : 0)), 0 };
    int first = n;
    for (size_t i = 0; i < self->sessions_n; i++)
        if (self->sessions [i].sock) {
            polled [n] = &self->sessions [i];
            items [n++] = (zmq_pollitem_t) { zsock_resolve (self->sessions [i].sock), 0, ZMQ_POLLIN, 0 };
        }
    long due = s_timeout (self);
    if (due >= 0 && (timeout_ms < 0 || due < timeout_ms))
        timeout_ms = due;
    int rc = zmq_poll (items, n, timeout_ms);
    if (rc < 0) {
        //  Anything but a signal (the context going away, a socket gone bad) would recur
        //  at every call: the link fails, and the worker stops rather than spin on it.
        if (zmq_errno () != EINTR && !self->failed) {
            log_error ("event=link_poll_failed msg=%s", zmq_strerror (zmq_errno ()));
            s_fail (self);
        }
        return -1;
    }
    bool broke = false;
    for (int i = first; rc > 0 && i < n && !broke; i++)
        if (items [i].revents & ZMQ_POLLIN)
            broke = s_read_burst (self, polled [i]) < 0;
    if (broke)
        s_fail (self);
    return fd >= 0 && rc > 0 && items [0].revents ? 1 : 0;
}

//  What to tell the worker now, if anything: a change of presence, a broken link, or the
//  oldest request handed over (then *request_p).
static link_event_t
s_next (link_t *self, mdp_msg_t **request_p)
{
    if (self->failed)
        return LINK_FAILED;
    bool there = false;
    for (size_t i = 0; i < self->sessions_n; i++)
        there |= self->sessions [i].there;
    if (there != self->told) {
        self->told = there;
        return there ? LINK_BROKER_UP : LINK_BROKER_DOWN;
    }
    if (self->ready_n == 0)
        return LINK_NOTHING;
    *request_p = self->ready [self->ready_head];
    self->ready_head = (self->ready_head + 1) % (size_t) self->credit;
    self->ready_n--;
    return LINK_REQUEST;
}

//  ---------------------------------------------------------------------------------
//  The worker's calls

link_t *
link_new (const link_config_t *cfg)
{
    link_t *self = (link_t *) zmalloc (sizeof (link_t));
    self->name = strdup (cfg->name ? cfg->name : "");
    self->heartbeat_ms = cfg->heartbeat_ms;
    //  mdp_worker_ready_new refuses a credit beyond MDP_CREDIT_MAX: keep within it.
    self->credit = cfg->credit < 1 ? 1 : cfg->credit > MDP_CREDIT_MAX ? MDP_CREDIT_MAX
                 : cfg->credit;
    for (size_t i = 0; i < cfg->services_n && i < MDP_READY_SERVICES_MAX; i++)
        self->services [self->services_n++] = strdup (cfg->services [i]);
    for (size_t i = 0; i < cfg->endpoints_n && i < LINK_BROKERS_MAX; i++) {
        s_session_t *session = &self->sessions [self->sessions_n++];
        session->endpoint = strdup (cfg->endpoints [i]);
        session->reconnect_ms = LINK_RECONNECT_MIN_MS;
    }
    //  Every broker gives up to the whole credit: what the worker cannot take yet waits
    //  here, as it would have waited in a broker with fewer of them.
    self->queue_max = LINK_QUEUE_MAX + (self->sessions_n ? self->sessions_n - 1 : 0) * self->credit;
    self->queue = zlist_new ();
    self->ready = (mdp_msg_t **) zmalloc ((size_t) self->credit * sizeof (mdp_msg_t *));
    //  A connect only fails on our side (a bad endpoint, no memory): then nothing works.
    bool failed = self->sessions_n == 0;
    for (size_t i = 0; i < self->sessions_n && !failed; i++)
        failed = s_connect (self, &self->sessions [i]) != 0;
    if (failed)
        link_stop (&self);
    return self;
}

link_event_t
link_recv (link_t *self, int timeout_ms, mdp_msg_t **request_p)
{
    *request_p = NULL;
    int64_t until = zclock_mono () + (timeout_ms > 0 ? timeout_ms : 0);
    for (bool polled = false; ; polled = true) {
        s_step (self);
        link_event_t event = s_next (self, request_p);
        if (event != LINK_NOTHING)
            return event;
        int64_t left = until - zclock_mono ();
        if (polled && left <= 0)
            return LINK_NOTHING;
        //  A signal ends the wait (EINTR): the caller reads stop_requested.
        if (s_wait (self, -1, 0, left > 0 ? (long) left : 0) < 0)
            return self->failed ? LINK_FAILED : LINK_NOTHING;
    }
}

int
link_reply (link_t *self, mdp_msg_t **request_p, zmsg_t **body_p)
{
    mdp_msg_t *request = *request_p;
    *request_p = NULL;
    zmsg_t *body = *body_p;
    *body_p = NULL;
    s_session_t *session = NULL;
    if (request->via >= 0 && (size_t) request->via < self->sessions_n)
        session = &self->sessions [request->via];
    int rc = 0;
    //  No body: nothing to send, but the request is no longer in hand all the same.
    if (body && (!session || !session->sock || mdp_worker_reply_send (request->client, &body,
                                                                       session->sock))) {
        log_warn ("event=broker_send_failed endpoint=%s errno=%d",
                  session ? session->endpoint : "-", zmq_errno ());
        rc = -1;
    }
    zmsg_destroy (&body);
    mdp_msg_destroy (&request);
    if (session && session->held > 0)
        session->held--;
    if (self->held > 0)
        self->held--;
    s_forward_queued (self);
    return rc;
}

int
link_wait_fd (link_t *self, int fd, short events, int timeout_ms)
{
    s_step (self);
    int rc = s_wait (self, fd, events, timeout_ms);
    if (rc < 0 && zmq_errno () == EINTR)
        rc = 0;                             //  a signal does not abandon the statement
    return rc;
}

int
link_stop (link_t **self_p)
{
    if (!self_p || !*self_p)
        return 0;
    link_t *self = *self_p;
    int dropped = 0;
    for (; self->ready_n; self->ready_n--, dropped++) {
        mdp_msg_t *request = self->ready [self->ready_head];
        self->ready_head = (self->ready_head + 1) % (size_t) self->credit;
        char rid [SVC_RID_MAX + 1];
        svc_peek_rid (request->body, rid);
        log_warn ("event=request_dropped rid=%s reason=shutdown", *rid ? rid : "-");
        mdp_msg_destroy (&request);
    }
    s_drop_queue (self, -1, "shutdown");
    zlist_destroy (&self->queue);
    for (size_t i = 0; i < self->sessions_n; i++) {
        s_session_t *session = &self->sessions [i];
        if (session->sock) {
            zmsg_t *bye = mdp_worker_command_new (NULL, MDPW_DISCONNECT);
            zsock_set_linger (session->sock, 500);     //  let it leave before we go
            s_send (session, &bye);
        }
        zsock_destroy (&session->sock);
        free (session->endpoint);
    }
    for (size_t i = 0; i < self->services_n; i++)
        free (self->services [i]);
    free (self->ready);
    free (self->name);
    free (self);
    *self_p = NULL;
    return dropped;
}
