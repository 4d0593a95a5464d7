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
    bool reconnect;                     //  DISCONNECT or silence: new socket once free
    bool in_hand;                       //  the SQL side holds a request
    bool there;                         //  the broker spoke in this session, not silent since
    bool told;                          //  what the SQL side was last told of there
    bool failed;                        //  the socket broke: wait for $TERM only
    bool terminated;
    zlist_t *queue;                     //  mdp_msg_t REQUESTs behind the one in hand
} s_link_t;

static s_link_t *
s_link_new (zsock_t *pipe, const link_config_t *cfg)
{
    s_link_t *self = (s_link_t *) zmalloc (sizeof (s_link_t));
    self->pipe = pipe;
    self->endpoint = strdup (cfg->endpoint);
    self->heartbeat_ms = cfg->heartbeat_ms;
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
    zmsg_t *ready = mdp_worker_ready_new ((const char *const *) self->services, self->services_n);
    s_send (self, &ready);
    int64_t now = zclock_mono ();
    self->last_recv = now;
    self->heartbeat_at = now + self->heartbeat_ms;
    self->reconnect = false;
    log_info ("event=worker_ready endpoint=%s services=%zu", self->endpoint, self->services_n);
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

//  Hands a request to the SQL side: "REQUEST" client service body...
static void
s_forward (s_link_t *self, mdp_msg_t *msg)
{
    //  Every REQUEST names its service, since our READY names several; "" when it does not.
    mdp_request_take_service (msg, NULL, 0);
    zmsg_t *out = msg->body;
    msg->body = NULL;
    zmsg_pushstr (out, msg->service);
    zmsg_pushmem (out, zframe_data (msg->client), zframe_size (msg->client));
    zmsg_pushstr (out, "REQUEST");
    if (zmsg_send (&out, self->pipe) == 0)
        self->in_hand = true;
    else
        log_error ("event=request_dropped reason=pipe_send_failed");
    zmsg_destroy (&out);
    mdp_msg_destroy (&msg);
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
        if (!self->in_hand && !self->reconnect && zlist_size (self->queue) == 0)
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

//  "REPLY" client [body...] goes to the broker; the next queued request to the SQL side.
static void
s_on_pipe (s_link_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg) {
        if (zmq_errno () == ETERM)
            self->terminated = true;        //  the context is going away
        return;
    }
    char *command = zmsg_popstr (msg);
    if (command && !strcmp (command, "$TERM"))
        self->terminated = true;
    else
    if (command && !strcmp (command, "REPLY")) {
        zframe_t *client = zmsg_pop (msg);
        if (client && zmsg_size (msg)) {
            zmsg_t *reply = mdp_worker_reply_new (client, &msg);
            s_send (self, &reply);
        }
        zframe_destroy (&client);
        self->in_hand = false;
        if (!self->reconnect && zlist_size (self->queue))
            s_forward (self, (mdp_msg_t *) zlist_pop (self->queue));
    }
    else
        log_error ("event=link_bad_command command=%s", command ? command : "-");
    free (command);
    zmsg_destroy (&msg);
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

//  Reads whatever the broker sent. -1 when the socket broke (not just empty).
static int
s_drain (s_link_t *self)
{
    zmsg_t *raw;
    while (self->sock && (raw = mdp_recv (self->sock, 0)))
        s_on_broker (self, raw);
    if (self->sock && zmq_errno () != EAGAIN && zmq_errno () != EINTR) {
        log_error ("event=recv_failed msg=%s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
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
//  side holds its request: its reply goes out on the session it came from.
static void
s_step (s_link_t *self)
{
    if (self->failed)
        return;
    if (!self->sock && zclock_mono () >= self->connect_at && s_connect (self))
        s_schedule_reconnect (self);
    if (self->sock)
        s_heartbeat_if_due (self);
    if (self->sock && self->reconnect && !self->in_hand)
        s_schedule_reconnect (self);
    s_tell_presence (self);
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
        zmq_pollitem_t items [] = {
            { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 },
            { self->sock ? zsock_resolve (self->sock) : NULL, 0, ZMQ_POLLIN, 0 },
        };
        int rc = zmq_poll (items, self->sock ? 2 : 1, s_timeout (self));
        if (rc < 0 && zmq_errno () != EINTR)
            break;                          //  the context is going away
        if (rc > 0 && (items [0].revents & ZMQ_POLLIN))
            s_on_pipe (self);
        if (rc > 0 && self->sock && (items [1].revents & ZMQ_POLLIN) && s_drain (self)) {
            zsock_destroy (&self->sock);
            self->failed = true;
            zstr_send (self->pipe, "FAILED");
        }
    }
    if (self->sock) {
        zmsg_t *bye = mdp_worker_command_new (NULL, MDPW_DISCONNECT);
        zsock_set_linger (self->sock, 500);     //  let the DISCONNECT leave before we go
        s_send (self, &bye);
    }
    s_link_destroy (&self);
}
