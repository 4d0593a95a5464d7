/*  link: the broker link actor. Owns a DEALER to each broker and its clock (heartbeats,
    silence, reconnect): one session per broker; the SQL side (worker.c) owns everything
    that waits on PostgreSQL.  */
#include "link.h"
#include "../common/curve.h"
#include "../common/log.h"
#include "../proto/mdp.h"
#include "../proto/svc.h"

#include <errno.h>
#include <string.h>

//  One broker: its socket and its clock. A session ends (DISCONNECT, silence) only once the
//  SQL side holds none of its requests, since replies go out on the session their requests
//  came from; the other brokers' sessions go on meanwhile.
typedef struct {
    char *endpoint;
    zsock_t *sock;                      //  DEALER to the broker; NULL between connections
    int64_t heartbeat_at;               //  when the next HEARTBEAT is due
    int64_t last_recv;                  //  the broker's last sign of life
    int64_t connect_at;                 //  when sock is NULL: the next connect attempt
    int reconnect_ms;                   //  the next reconnect delay
    int held;                           //  its requests the SQL side holds
    bool reconnect;                     //  DISCONNECT or silence: new socket once free
    bool there;                         //  the broker spoke in this session, not silent since
} s_session_t;

typedef struct {
    zsock_t *pipe;                      //  to the SQL side
    char *name;                         //  in every READY: the brokers' name for us
    int heartbeat_ms;
    char *services [MDP_READY_SERVICES_MAX];
    size_t services_n;
    s_session_t sessions [LINK_BROKERS_MAX];
    size_t sessions_n;
    int credit;                         //  requests the SQL side may hold at once
    int held;                           //  requests the SQL side holds (handed, no REPLY yet)
    bool told;                          //  what the SQL side was last told: a broker is there
    bool failed;                        //  a socket broke: wait for $TERM only
    bool stopping;                      //  STOP came: hand over no more requests
    bool terminated;
    zlist_t *queue;                     //  mdp_msg_t REQUESTs beyond the credit (via: session)
    size_t queue_max;                   //  LINK_QUEUE_MAX, plus the credit of every other broker
} s_link_t;

//  ---------------------------------------------------------------------------------
//  The pipe's messages: a word, and for REQUEST and REPLY a frame holding a pointer. Plain
//  libzmq calls rather than zsock_send / zsock_recv ("sp"), which build and parse a zmsg_t
//  of heap frames each time: some 4,400 instructions a call against some 800 here
//  (callgrind), with two messages per request.

#define LINK_WORD_MAX   16              //  longer than any word below

static int
s_pipe_send (void *handle, const char *word)
{
    return zmq_send (handle, word, strlen (word), 0) < 0 ? -1 : 0;
}

//  Sends word and pointer. On success the receiver owns what pointer points to.
static int
s_pipe_send_pointer (void *handle, const char *word, void *pointer)
{
    if (zmq_send (handle, word, strlen (word), ZMQ_SNDMORE) < 0)
        return -1;
    return zmq_send (handle, &pointer, sizeof pointer, 0) < 0 ? -1 : 0;
}

//  Reads one message: its word into word (LINK_WORD_MAX bytes; "" when too long) and the
//  pointer it carries into *pointer (NULL when none). -1 when nothing came (timeout,
//  EINTR, ETERM: zmq_errno says which).
static int
s_pipe_recv (void *handle, char *word, void **pointer)
{
    *pointer = NULL;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    if (zmq_msg_recv (&frame, handle, 0) < 0) {
        zmq_msg_close (&frame);
        return -1;
    }
    size_t size = zmq_msg_size (&frame) < LINK_WORD_MAX ? zmq_msg_size (&frame) : 0;
    memcpy (word, zmq_msg_data (&frame), size);
    word [size] = 0;
    //  The rest of a message is there once its first frame is: only EINTR can delay it.
    for (int part = 1; zmq_msg_more (&frame); ) {
        if (zmq_msg_recv (&frame, handle, 0) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        if (part++ == 1 && zmq_msg_size (&frame) == sizeof *pointer)
            memcpy (pointer, zmq_msg_data (&frame), sizeof *pointer);
    }
    zmq_msg_close (&frame);
    return 0;
}

//  ---------------------------------------------------------------------------------
//  The actor

static s_link_t *
s_link_new (zsock_t *pipe, const link_config_t *cfg)
{
    s_link_t *self = (s_link_t *) zmalloc (sizeof (s_link_t));
    self->pipe = pipe;
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
    //  Every broker gives up to the whole credit: what the SQL side cannot take yet waits
    //  here, as it would have waited in a broker with fewer of them.
    self->queue_max = LINK_QUEUE_MAX + (self->sessions_n ? self->sessions_n - 1 : 0) * self->credit;
    self->queue = zlist_new ();
    return self;
}

//  Drops the queued requests of one session (via), or of all (via < 0).
static void
s_drop_queue (s_link_t *self, int via, const char *why)
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

static void
s_link_destroy (s_link_t **self_p)
{
    s_link_t *self = *self_p;
    s_drop_queue (self, -1, "shutdown");
    zlist_destroy (&self->queue);
    for (size_t i = 0; i < self->sessions_n; i++) {
        zsock_destroy (&self->sessions [i].sock);
        free (self->sessions [i].endpoint);
    }
    for (size_t i = 0; i < self->services_n; i++)
        free (self->services [i]);
    free (self->name);
    free (self);
    *self_p = NULL;
}

//  A broker came or went.
static void
s_presence (s_session_t *session, bool there)
{
    if (there != session->there)
        log_info ("event=broker_%s endpoint=%s", there ? "there" : "away", session->endpoint);
    session->there = there;
}

//  Tells the SQL side whether any broker is there (it holds chunk re-sends while none is),
//  without ever blocking: when the pipe is full, the next wake-up tries again with
//  whatever is true by then.
static void
s_tell_presence (s_link_t *self)
{
    bool there = false;
    for (size_t i = 0; i < self->sessions_n; i++)
        there |= self->sessions [i].there;
    if (self->told == there)
        return;
    const char *word = there ? "BROKER_UP" : "BROKER_DOWN";
    if (zmq_send (zsock_resolve (self->pipe), word, strlen (word), ZMQ_DONTWAIT) >= 0)
        self->told = there;
}

static void
s_send (s_session_t *session, zmsg_t **msg_p)
{
    if (session->sock && zmsg_send (msg_p, session->sock))
        log_warn ("event=broker_send_failed endpoint=%s errno=%d", session->endpoint, errno);
    zmsg_destroy (msg_p);
}

static int
s_connect (s_link_t *self, s_session_t *session)
{
    session->sock = zsock_new (ZMQ_DEALER);
    if (!session->sock)
        return -1;
    mdp_socket_setup (session->sock);
    zsock_set_sndtimeo (session->sock, self->heartbeat_ms);    //  a dead broker never blocks us
    if (curve_client_apply (session->sock)
    ||  zsock_connect (session->sock, "%s", session->endpoint)) {
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
s_schedule_reconnect (s_link_t *self, s_session_t *session)
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

//  Hands a request to the SQL side, which owns it from then on: "REQUEST" mdp_msg_t*.
static void
s_forward (s_link_t *self, mdp_msg_t *msg)
{
    //  Every REQUEST names its service, since our READY names several; "" when it does not.
    mdp_request_take_service (msg, NULL, 0);
    s_session_t *session = &self->sessions [msg->via];
    if (s_pipe_send_pointer (zsock_resolve (self->pipe), "REQUEST", msg) == 0) {
        self->held++;
        session->held++;
    }
    else {
        log_error ("event=request_dropped reason=pipe_send_failed");
        mdp_msg_destroy (&msg);
    }
}

//  True when a request of session may go to the SQL side now rather than wait.
static bool
s_may_forward (s_link_t *self, const s_session_t *session)
{
    return self->held < self->credit && !session->reconnect && !self->stopping;
}

//  Hands the SQL side what waits in the queue, oldest first, while it has room.
static void
s_forward_queued (s_link_t *self)
{
    mdp_msg_t *msg = (mdp_msg_t *) zlist_first (self->queue);
    while (msg && self->held < self->credit && !self->stopping) {
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
s_refuse (s_link_t *self, s_session_t *session, mdp_msg_t *msg)
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
s_on_broker (s_link_t *self, s_session_t *session, zmsg_t *raw)
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
            s_refuse (self, session, msg);
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

//  "REPLY" mdp_msg_t* goes to the broker and the next queued request to the SQL side; STOP is
//  answered STOPPED, after which no request goes to the SQL side. -1 when nothing came
//  within the pipe's receive timeout.
static int
s_on_pipe (s_link_t *self)
{
    char word [LINK_WORD_MAX];
    void *pointer;
    if (s_pipe_recv (zsock_resolve (self->pipe), word, &pointer)) {
        if (zmq_errno () == ETERM)
            self->terminated = true;        //  the context is going away
        return -1;
    }
    if (!strcmp (word, "$TERM"))
        self->terminated = true;
    else
    if (!strcmp (word, "REPLY")) {
        //  Ours now: the request come back with its answer, or with no body when there is
        //  nothing to send; it names the session it came from.
        mdp_msg_t *reply = (mdp_msg_t *) pointer;
        s_session_t *session = NULL;
        if (reply && reply->via >= 0 && (size_t) reply->via < self->sessions_n)
            session = &self->sessions [reply->via];
        if (reply && reply->body && session && session->sock
        &&  mdp_worker_reply_send (reply->client, &reply->body, session->sock))
            log_warn ("event=broker_send_failed endpoint=%s errno=%d", session->endpoint,
                      zmq_errno ());
        mdp_msg_destroy (&reply);
        if (session && session->held > 0)
            session->held--;
        if (self->held > 0)
            self->held--;
        s_forward_queued (self);
    }
    else
    if (!strcmp (word, "STOP")) {
        self->stopping = true;
        if (s_pipe_send (zsock_resolve (self->pipe), "STOPPED"))
            log_error ("event=link_send_failed word=STOPPED");
    }
    else
        log_error ("event=link_bad_command command=%s", *word ? word : "-");
    return 0;
}

static void
s_heartbeat_if_due (s_link_t *self, s_session_t *session, int64_t now)
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
s_read_broker (s_link_t *self, s_session_t *session)
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

//  How long the loop may wait: until the next heartbeat or connect attempt of any session.
static long
s_timeout (s_link_t *self)
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

//  Each session's state machine, once per wake-up: a new session when the old one ended,
//  and the end of one whose broker fell silent or said DISCONNECT, but never while the SQL
//  side holds one of its requests: replies go out on the session their requests came from.
static void
s_step (s_link_t *self)
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
    s_tell_presence (self);
}

//  A broker socket broke (not the broker: our side of it): the SQL side is told to stop,
//  and the link waits for $TERM.
static void
s_fail (s_link_t *self)
{
    for (size_t i = 0; i < self->sessions_n; i++)
        zsock_destroy (&self->sessions [i].sock);
    self->failed = true;
    zstr_send (self->pipe, "FAILED");
}

//  Reads up to credit messages of a session the poll reported: a batch's requests come in
//  a burst, and a read that finds nothing is cheaper than a poll. -1 when its socket broke.
static int
s_read_burst (s_link_t *self, s_session_t *session)
{
    int got = session->sock ? s_read_broker (self, session) : 0;
    for (int i = 1; i < self->credit && got > 0 && session->sock; i++)
        got = s_read_broker (self, session);
    return got < 0 ? -1 : 0;
}

//  Waits on the pipe and every broker until something comes or the next heartbeat is due.
static void
s_wait_any (s_link_t *self)
{
    zmq_pollitem_t items [1 + LINK_BROKERS_MAX];
    s_session_t *polled [1 + LINK_BROKERS_MAX];
    items [0] = (zmq_pollitem_t) { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 };
    int n = 1;
    for (size_t i = 0; i < self->sessions_n; i++)
        if (self->sessions [i].sock) {
            polled [n] = &self->sessions [i];
            items [n++] = (zmq_pollitem_t) { zsock_resolve (self->sessions [i].sock), 0, ZMQ_POLLIN, 0 };
        }
    int rc = zmq_poll (items, n, s_timeout (self));
    if (rc < 0 && zmq_errno () != EINTR)
        self->terminated = true;            //  the context is going away
    //  At credit 1, one read a wake-up: zmq_poll reports a socket for as long as it holds a
    //  message, while reading it empty would cost a read that finds nothing (~2,100
    //  instructions). Above, up to credit of each: a batch's replies come in a burst.
    if (rc > 0 && (items [0].revents & ZMQ_POLLIN) && s_on_pipe (self) == 0 && self->credit > 1) {
        zsock_set_rcvtimeo (self->pipe, 0);
        for (int i = 1; i < self->credit && !self->terminated && s_on_pipe (self) == 0; i++)
            ;
    }
    bool broke = false;
    for (int i = 1; rc > 0 && i < n && !broke; i++)
        if (items [i].revents & ZMQ_POLLIN)
            broke = s_read_burst (self, polled [i]) < 0;
    if (broke)
        s_fail (self);
}

//  While the SQL side holds its whole credit: waits on the pipe alone for a reply, and
//  reads what the broker sent meanwhile once the next heartbeat is due. One zmq_poll less
//  per request (~2,800 instructions), and nothing the broker says then is urgent: a session
//  is not replaced before the replies leave anyway, and the SQL side reads no notice
//  before it has answered; only a request beyond the queue is refused up to one
//  heartbeat later.
static void
s_wait_reply (s_link_t *self)
{
    zsock_set_rcvtimeo (self->pipe, (int) s_timeout (self));
    if (s_on_pipe (self) == 0 || zmq_errno () != EAGAIN)
        return;
    int rc = 0;
    for (size_t i = 0; i < self->sessions_n && rc >= 0; i++)
        while (self->sessions [i].sock && (rc = s_read_broker (self, &self->sessions [i])) > 0)
            ;
    if (rc < 0)
        s_fail (self);
}

void
link_actor (zsock_t *pipe, void *args)
{
    s_link_t *self = s_link_new (pipe, (const link_config_t *) args);
    zsock_signal (pipe, 0);                 //  args may go now
    //  A connect only fails on our side (a bad endpoint, no memory): then nothing works.
    self->failed = self->sessions_n == 0;
    for (size_t i = 0; i < self->sessions_n && !self->failed; i++)
        self->failed = s_connect (self, &self->sessions [i]) != 0;
    zstr_send (pipe, self->failed ? "FAILED" : "CONNECTED");
    while (!self->terminated) {
        s_step (self);
        if (self->held >= self->credit)
            s_wait_reply (self);
        else
            s_wait_any (self);
    }
    for (size_t i = 0; i < self->sessions_n; i++)
        if (self->sessions [i].sock) {
            zmsg_t *bye = mdp_worker_command_new (NULL, MDPW_DISCONNECT);
            zsock_set_linger (self->sessions [i].sock, 500);   //  let it leave before we go
            s_send (&self->sessions [i], &bye);
        }
    s_link_destroy (&self);
}

//  ---------------------------------------------------------------------------------
//  The SQL side's end of the pipe

link_event_t
link_recv (zactor_t *link, int timeout_ms, mdp_msg_t **request_p)
{
    *request_p = NULL;
    zsock_t *pipe = zactor_sock (link);
    zsock_set_rcvtimeo (pipe, timeout_ms);
    char word [LINK_WORD_MAX];
    void *pointer;
    if (s_pipe_recv (zsock_resolve (pipe), word, &pointer))
        return LINK_NOTHING;
    if (!strcmp (word, "REQUEST") && pointer) {
        *request_p = (mdp_msg_t *) pointer;
        return LINK_REQUEST;
    }
    if (!strcmp (word, "BROKER_UP"))
        return LINK_BROKER_UP;
    if (!strcmp (word, "BROKER_DOWN"))
        return LINK_BROKER_DOWN;
    if (!strcmp (word, "FAILED"))
        return LINK_FAILED;
    log_error ("event=link_bad_command command=%s", *word ? word : "-");
    return LINK_NOTHING;
}

int
link_reply (zactor_t *link, mdp_msg_t **request_p, zmsg_t **body_p)
{
    mdp_msg_t *reply = *request_p;
    *request_p = NULL;
    zmsg_t *body = *body_p;
    *body_p = NULL;
    //  The request becomes its reply: the same client and session, the answer's body (none:
    //  nothing to send, but the link still learns the request is no longer in hand).
    zmsg_destroy (&reply->body);            //  what the SQL side left of the request's
    reply->body = body;
    reply->command = MDPW_REPLY;
    if (s_pipe_send_pointer (zsock_resolve (zactor_sock (link)), "REPLY", reply) == 0)
        return 0;
    log_error ("event=link_send_failed word=REPLY");
    mdp_msg_destroy (&reply);
    return -1;
}

int
link_stop (zactor_t **link_p)
{
    if (!link_p || !*link_p)
        return 0;
    zsock_t *pipe = zactor_sock (*link_p);
    void *handle = zsock_resolve (pipe);
    int dropped = 0;
    bool sent = s_pipe_send (handle, "STOP") == 0;
    bool stopped = false;
    int64_t until = zclock_mono () + LINK_STOP_MS;
    while (sent && !stopped && zclock_mono () < until) {
        zsock_set_rcvtimeo (pipe, (int) (until - zclock_mono ()));
        char word [LINK_WORD_MAX];
        void *pointer;
        if (s_pipe_recv (handle, word, &pointer)) {
            if (zmq_errno () != EINTR && zmq_errno () != EAGAIN)
                break;                      //  the context is going away
            continue;
        }
        stopped = !strcmp (word, "STOPPED");
        if (!strcmp (word, "REQUEST") && pointer) {
            mdp_msg_t *request = (mdp_msg_t *) pointer;
            char rid [SVC_RID_MAX + 1];
            svc_peek_rid (request->body, rid);
            log_warn ("event=request_dropped rid=%s reason=shutdown", *rid ? rid : "-");
            mdp_msg_destroy (&request);
            dropped++;
        }
    }
    if (!stopped)
        log_error ("event=link_stop_unanswered sent=%d", sent);
    zsock_set_rcvtimeo (pipe, -1);          //  zactor_destroy waits for the link's exit
    zactor_destroy (link_p);
    return dropped;
}
