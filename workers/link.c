/*  link: the broker link actor. Owns the DEALER to the broker and its clock (heartbeats,
    silence, reconnect); the SQL side (worker.c) owns everything that waits on PostgreSQL.  */
#include "link.h"
#include "../common/curve.h"
#include "../common/log.h"
#include "../proto/mdp.h"
#include "../proto/svc.h"

#include <errno.h>
#include <string.h>

typedef struct {
    zsock_t *pipe;                      //  to the SQL side
    char *endpoint;
    int heartbeat_ms;
    char *services [MDP_READY_SERVICES_MAX];
    size_t services_n;
    zsock_t *sock;                      //  DEALER to the broker; NULL between connections
    int64_t heartbeat_at;               //  when the next HEARTBEAT is due
    int64_t last_recv;                  //  the broker's last sign of life
    int64_t connect_at;                 //  when sock is NULL: the next connect attempt
    int reconnect_ms;                   //  the next reconnect delay
    int credit;                         //  requests the SQL side may hold at once
    int held;                           //  requests the SQL side holds (handed, no REPLY yet)
    bool reconnect;                     //  DISCONNECT or silence: new socket once free
    bool there;                         //  the broker spoke in this session, not silent since
    bool told;                          //  what the SQL side was last told of there
    bool failed;                        //  the socket broke: wait for $TERM only
    bool stopping;                      //  STOP came: hand over no more requests
    bool terminated;
    zlist_t *queue;                     //  mdp_msg_t REQUESTs beyond the credit
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
    self->endpoint = strdup (cfg->endpoint);
    self->heartbeat_ms = cfg->heartbeat_ms;
    //  mdp_worker_ready_new refuses a credit beyond MDP_CREDIT_MAX: keep within it.
    self->credit = cfg->credit < 1 ? 1 : cfg->credit > MDP_CREDIT_MAX ? MDP_CREDIT_MAX
                 : cfg->credit;
    for (size_t i = 0; i < cfg->services_n && i < MDP_READY_SERVICES_MAX; i++)
        self->services [self->services_n++] = strdup (cfg->services [i]);
    self->reconnect_ms = LINK_RECONNECT_MIN_MS;
    self->queue = zlist_new ();
    return self;
}

static void
s_drop_queue (s_link_t *self, const char *why)
{
    mdp_msg_t *msg;
    while ((msg = (mdp_msg_t *) zlist_pop (self->queue))) {
        log_warn ("event=request_dropped reason=%s", why);
        mdp_msg_destroy (&msg);
    }
}

static void
s_link_destroy (s_link_t **self_p)
{
    s_link_t *self = *self_p;
    s_drop_queue (self, "shutdown");
    zlist_destroy (&self->queue);
    zsock_destroy (&self->sock);
    for (size_t i = 0; i < self->services_n; i++)
        free (self->services [i]);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

//  The broker came or went: the SQL side holds chunk re-sends while it is away.
static void
s_presence (s_link_t *self, bool there)
{
    if (there != self->there)
        log_info ("event=broker_%s", there ? "there" : "away");
    self->there = there;
}

//  Tells the SQL side a change of presence, without ever blocking: when the pipe is full,
//  the next wake-up tries again with whatever is true by then.
static void
s_tell_presence (s_link_t *self)
{
    if (self->told == self->there)
        return;
    const char *word = self->there ? "BROKER_UP" : "BROKER_DOWN";
    if (zmq_send (zsock_resolve (self->pipe), word, strlen (word), ZMQ_DONTWAIT) >= 0)
        self->told = self->there;
}

static void
s_send (s_link_t *self, zmsg_t **msg_p)
{
    if (self->sock && zmsg_send (msg_p, self->sock))
        log_warn ("event=broker_send_failed errno=%d", errno);
    zmsg_destroy (msg_p);
}

static int
s_connect (s_link_t *self)
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
    zmsg_t *ready = mdp_worker_ready_new ((const char *const *) self->services, self->services_n,
                                          self->credit);
    s_send (self, &ready);
    int64_t now = zclock_mono ();
    self->last_recv = now;
    self->heartbeat_at = now + self->heartbeat_ms;
    self->reconnect = false;
    log_info ("event=worker_ready endpoint=%s services=%zu credit=%d", self->endpoint,
              self->services_n, self->credit);
    return 0;
}

//  Closes the session: requests still queued belong to it, and the broker hands them to
//  another worker. The next connect waits out a delay that doubles up to the maximum and
//  starts over whenever the broker speaks.
static void
s_schedule_reconnect (s_link_t *self)
{
    zsock_destroy (&self->sock);
    s_presence (self, false);
    s_drop_queue (self, "reconnect");
    log_warn ("event=broker_reconnect delay_ms=%d", self->reconnect_ms);
    self->connect_at = zclock_mono () + self->reconnect_ms;
    self->reconnect_ms = self->reconnect_ms * 2 > LINK_RECONNECT_MAX_MS
                       ? LINK_RECONNECT_MAX_MS : self->reconnect_ms * 2;
    self->reconnect = false;
}

//  Hands a request to the SQL side, which owns it from then on: "REQUEST" mdp_msg_t*.
static void
s_forward (s_link_t *self, mdp_msg_t *msg)
{
    //  Every REQUEST names its service, since our READY names several; "" when it does not.
    mdp_request_take_service (msg, NULL, 0);
    if (s_pipe_send_pointer (zsock_resolve (self->pipe), "REQUEST", msg) == 0)
        self->held++;
    else {
        log_error ("event=request_dropped reason=pipe_send_failed");
        mdp_msg_destroy (&msg);
    }
}

//  True when a request from the broker may go to the SQL side now rather than wait.
static bool
s_may_forward (s_link_t *self)
{
    return self->held < self->credit && !self->reconnect && !self->stopping;
}

//  A request beyond the queue: answered 503 at once rather than held unboundedly.
static void
s_refuse (s_link_t *self, mdp_msg_t *msg)
{
    char rid [SVC_RID_MAX + 1];
    mdp_request_take_service (msg, NULL, 0);
    svc_peek_rid (msg->body, rid);
    log_warn ("event=request_refused rid=%s reason=busy", *rid ? rid : "-");
    if (*rid) {
        zmsg_t *body = svc_reply_error (rid, 503, "worker_busy", "The worker is busy; try again.");
        zmsg_t *reply = mdp_worker_reply_new (msg->client, &body);
        s_send (self, &reply);
    }
    mdp_msg_destroy (&msg);
}

static void
s_on_broker (s_link_t *self, zmsg_t *raw)
{
    char err [128], q [160];
    self->last_recv = zclock_mono ();       //  any message is a sign of life
    self->reconnect_ms = LINK_RECONNECT_MIN_MS;
    if (!self->reconnect)
        s_presence (self, true);
    mdp_msg_t *msg = mdp_msg_decode (&raw, MDP_AT_WORKER, err, sizeof err);
    if (!msg) {
        log_warn ("event=broker_msg_malformed msg=%s", log_quote (q, sizeof q, err));
        return;
    }
    if (msg->command == MDPW_REQUEST) {
        if (s_may_forward (self) && zlist_size (self->queue) == 0)
            s_forward (self, msg);
        else
        if (zlist_size (self->queue) < LINK_QUEUE_MAX)
            zlist_append (self->queue, msg);
        else
            s_refuse (self, msg);
        return;
    }
    if (msg->command == MDPW_DISCONNECT) {
        log_warn ("event=broker_disconnect");
        s_presence (self, false);
        self->reconnect = true;
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
        mdp_msg_t *reply = (mdp_msg_t *) pointer;   //  ours now, NULL when nothing to send
        if (reply && self->sock
        &&  mdp_worker_reply_send (reply->client, &reply->body, self->sock))
            log_warn ("event=broker_send_failed errno=%d", zmq_errno ());
        mdp_msg_destroy (&reply);
        if (self->held > 0)
            self->held--;
        while (s_may_forward (self) && zlist_size (self->queue))
            s_forward (self, (mdp_msg_t *) zlist_pop (self->queue));
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
s_heartbeat_if_due (s_link_t *self)
{
    int64_t now = zclock_mono ();
    if (now >= self->heartbeat_at) {
        zmsg_t *msg = mdp_worker_command_new (NULL, MDPW_HEARTBEAT);
        s_send (self, &msg);
        self->heartbeat_at = now + self->heartbeat_ms;
    }
    if (!self->reconnect
    &&  now - self->last_recv > (int64_t) MDP_HEARTBEAT_LIVENESS * self->heartbeat_ms) {
        log_warn ("event=broker_silent ms=%lld", (long long) (now - self->last_recv));
        s_presence (self, false);
        self->reconnect = true;
    }
}

//  Reads one message from the broker: 1 when one came, 0 when none was there, -1 when the
//  socket broke.
static int
s_read_broker (s_link_t *self)
{
    zmsg_t *raw = mdp_recv (self->sock, 0);
    if (raw) {
        s_on_broker (self, raw);
        return 1;
    }
    if (zmq_errno () == EAGAIN || zmq_errno () == EINTR)
        return 0;
    log_error ("event=recv_failed msg=%s", zmq_strerror (zmq_errno ()));
    return -1;
}

//  How long the loop may wait: until the next heartbeat, or the next connect attempt.
static long
s_timeout (s_link_t *self)
{
    if (self->failed)
        return -1;
    int64_t due = self->sock ? self->heartbeat_at : self->connect_at;
    int64_t wait = due - zclock_mono ();
    return wait > 0 ? (long) wait : 0;
}

//  The session's state machine, once per wake-up: a new session when the old one ended,
//  and the end of one whose broker fell silent or said DISCONNECT, but never while the SQL
//  side holds a request: replies go out on the session their requests came from.
static void
s_step (s_link_t *self)
{
    if (self->failed)
        return;
    if (!self->sock && zclock_mono () >= self->connect_at && s_connect (self))
        s_schedule_reconnect (self);
    if (self->sock)
        s_heartbeat_if_due (self);
    if (self->sock && self->reconnect && self->held == 0)
        s_schedule_reconnect (self);
    s_tell_presence (self);
}

//  The broker socket broke: the SQL side is told to stop, and the link waits for $TERM.
static void
s_fail (s_link_t *self)
{
    zsock_destroy (&self->sock);
    self->failed = true;
    zstr_send (self->pipe, "FAILED");
}

//  Waits on the pipe and the broker until something comes or the next heartbeat is due.
static void
s_wait_any (s_link_t *self)
{
    zmq_pollitem_t items [] = {
        { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 },
        { self->sock ? zsock_resolve (self->sock) : NULL, 0, ZMQ_POLLIN, 0 },
    };
    int rc = zmq_poll (items, self->sock ? 2 : 1, s_timeout (self));
    if (rc < 0 && zmq_errno () != EINTR)
        self->terminated = true;            //  the context is going away
    //  At credit 1, one read a wake-up: zmq_poll reports a socket for as long as it holds a
    //  message, while reading it empty would cost a read that finds nothing (~2,100
    //  instructions). Above, up to credit of each: a batch's replies come in a burst, and
    //  the broker's requests too, and a read that finds nothing is cheaper than a poll.
    if (rc > 0 && (items [0].revents & ZMQ_POLLIN) && s_on_pipe (self) == 0 && self->credit > 1) {
        zsock_set_rcvtimeo (self->pipe, 0);
        for (int i = 1; i < self->credit && !self->terminated && s_on_pipe (self) == 0; i++)
            ;
    }
    int got = rc > 0 && self->sock && (items [1].revents & ZMQ_POLLIN) ? s_read_broker (self) : 0;
    for (int i = 1; i < self->credit && got > 0 && self->sock; i++)
        got = s_read_broker (self);
    if (got < 0)
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
    while (self->sock && (rc = s_read_broker (self)) > 0)
        ;
    if (rc < 0)
        s_fail (self);
}

void
link_actor (zsock_t *pipe, void *args)
{
    s_link_t *self = s_link_new (pipe, (const link_config_t *) args);
    zsock_signal (pipe, 0);                 //  args may go now
    self->failed = s_connect (self) != 0;
    zstr_send (pipe, self->failed ? "FAILED" : "CONNECTED");
    while (!self->terminated) {
        s_step (self);
        if (self->held >= self->credit)
            s_wait_reply (self);
        else
            s_wait_any (self);
    }
    if (self->sock) {
        zmsg_t *bye = mdp_worker_command_new (NULL, MDPW_DISCONNECT);
        zsock_set_linger (self->sock, 500);     //  let the DISCONNECT leave before we go
        s_send (self, &bye);
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
    //  The request becomes its reply: the same client, the answer's body.
    if (body) {
        zmsg_destroy (&reply->body);        //  what the SQL side left of the request's
        reply->body = body;
        reply->command = MDPW_REPLY;
    }
    else
        mdp_msg_destroy (&reply);
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
