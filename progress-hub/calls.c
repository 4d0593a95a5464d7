/*  calls: 7/MDP requests to worker services for the hub. Owns the DEALER and the table of
    calls in flight: a hash by request id, and a list in send order, which is deadline
    order since every call has the same timeout.  */
#include "calls.h"
#include "../common/log.h"
#include "../proto/mdp.h"

#include <string.h>

#define S_DRAIN_MAX     10000       //  replies read per wake: the loop stays fair

typedef struct s_call_s {
    char rid [RAND_ID_STRLEN + 1];
    const char *service;            //  a constant (proto/svc.h)
    void *owner;                    //  borrowed: the caller forgets the call before it goes
    int64_t deadline_ms;
    struct s_call_s *prev, *next;
} s_call_t;

struct calls_s {
    calls_config_t cfg;
    zsock_t *dealer;
    zhashx_t *calls;                //  rid -> s_call_t, owned (destructor frees)
    s_call_t *head, *tail;          //  the same calls, soonest deadline first

    uint64_t timeouts;
    uint64_t send_failed;           //  calls_send refused: full, or broker not connected
    uint64_t replies_dropped;       //  malformed, late, or for another service
};

static void
s_call_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

//  Takes the call out of the list, then out of the table (which frees it).
static void
s_remove (calls_t *self, s_call_t *call)
{
    if (call->prev)
        call->prev->next = call->next;
    else
        self->head = call->next;
    if (call->next)
        call->next->prev = call->prev;
    else
        self->tail = call->prev;
    zhashx_delete (self->calls, call->rid);
}

//  Removes the call, then answers its owner (who may send again from the callback).
static void
s_answer (calls_t *self, s_call_t *call, int status, zframe_t *payload)
{
    void *owner = call->owner;
    const char *service = call->service;
    s_remove (self, call);
    self->cfg.on_answer (self->cfg.arg, owner, service, status, payload);
}

int
calls_send (calls_t *self, const char *service, const char *user, svc_role_t role,
            const char *payload, void *owner, char rid [RAND_ID_STRLEN + 1])
{
    rid [0] = 0;
    if ((long) zhashx_size (self->calls) >= self->cfg.max_inflight) {
        self->send_failed++;
        return -1;
    }
    s_call_t *call = (s_call_t *) calloc (1, sizeof *call);
    if (!call) {
        self->send_failed++;
        return -1;
    }
    rand_id (call->rid);
    zmsg_t *body = svc_request_encode (call->rid, user, role, payload, strlen (payload));
    zmsg_t *msg = mdp_client_request_new (service, &body);
    //  SNDTIMEO 0 and IMMEDIATE: fails at once when the broker is not connected.
    if (!msg || zmsg_send (&msg, self->dealer)) {
        zmsg_destroy (&msg);
        free (call);
        self->send_failed++;
        return -1;
    }
    call->service = service;
    call->owner = owner;
    call->deadline_ms = zclock_mono () + self->cfg.timeout_ms;
    call->prev = self->tail;
    if (self->tail)
        self->tail->next = call;
    else
        self->head = call;
    self->tail = call;
    zhashx_insert (self->calls, call->rid, call);
    memcpy (rid, call->rid, RAND_ID_STRLEN + 1);
    return 0;
}

void
calls_forget (calls_t *self, const char *rid)
{
    s_call_t *call = rid && *rid ? (s_call_t *) zhashx_lookup (self->calls, rid) : NULL;
    if (call)
        s_remove (self, call);
}

static void
s_on_message (calls_t *self, zmsg_t **msg_p)
{
    char err [128];
    mdp_msg_t *mdp = mdp_msg_decode (msg_p, MDP_AT_CLIENT, err, sizeof err);
    if (!mdp) {
        self->replies_dropped++;
        log_warn ("event=bad_broker_message err=\"%s\"", err);
        return;
    }
    svc_reply_t *reply = mdp->kind == MDP_CLIENT_MSG
                       ? svc_reply_decode (&mdp->body, err, sizeof err) : NULL;
    //  A reply answers the call waiting under its id for that very service, and nothing
    //  else: ids are never reused, and another service's reply under a waiting id is a
    //  forgery.
    s_call_t *call = reply ? (s_call_t *) zhashx_lookup (self->calls, reply->rid) : NULL;
    if (call && !strcmp (mdp->service, call->service))
        s_answer (self, call, reply->status, reply->payload);
    else {
        self->replies_dropped++;
        log_debug ("event=reply_dropped service=%s rid=%s reason=%s", mdp->service,
                   reply ? reply->rid : "-", !reply ? "malformed" : call ? "service_mismatch" : "late");
    }
    svc_reply_destroy (&reply);
    mdp_msg_destroy (&mdp);
}

void
calls_drain (calls_t *self)
{
    for (int i = 0; i < S_DRAIN_MAX && (zsock_events (self->dealer) & ZMQ_POLLIN); i++) {
        zmsg_t *msg = zmsg_recv (self->dealer);
        if (!msg)
            break;
        s_on_message (self, &msg);
    }
}

void
calls_timers (calls_t *self, int64_t now_ms)
{
    while (self->head && self->head->deadline_ms <= now_ms) {
        self->timeouts++;
        log_warn ("event=broker_call_timeout service=%s rid=%s timeout_ms=%ld", self->head->service,
                  self->head->rid, self->cfg.timeout_ms);
        s_answer (self, self->head, CALLS_TIMEOUT, NULL);
    }
}

size_t
calls_inflight (calls_t *self)
{
    return zhashx_size (self->calls);
}

zsock_t *
calls_socket (calls_t *self)
{
    return self->dealer;
}

calls_t *
calls_new (const calls_config_t *cfg)
{
    calls_t *self = (calls_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->calls = zhashx_new ();
    //  Replies are bounded by the calls sent, and those by max_inflight.
    self->dealer = mdp_client_socket_new (conf_endpoints_get (cfg->brokers, 0),
                                          (int) cfg->max_inflight);
    if (!self->calls || !self->dealer)
        goto fail;
    //  Several brokers: the DEALER deals calls round-robin over those connected. Being
    //  ZMQ_IMMEDIATE, it holds no pipe to a broker it is not connected to, and a killed
    //  broker resets its connections at once: calls go to the live ones. A call already
    //  sent to a broker that dies is lost with it and times out as any unanswered call.
    for (size_t i = 1; i < cfg->brokers->n; i++) {
        const char *endpoint = conf_endpoints_get (cfg->brokers, i);
        if (zsock_connect (self->dealer, "%s", endpoint)) {
            log_error ("event=connect_failed endpoint=%s", endpoint);
            goto fail;
        }
    }
    zhashx_set_destructor (self->calls, s_call_free);
    return self;
fail:
    calls_destroy (&self);
    return NULL;
}

void
calls_destroy (calls_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    calls_t *self = *self_p;
    zsock_destroy (&self->dealer);
    zhashx_destroy (&self->calls);
    free (self);
    *self_p = NULL;
}

void
calls_write_metrics (calls_t *self, FILE *f)
{
    fprintf (f, "# HELP hub_broker_calls_inflight Requests to worker services (auth.me, jobs.live) "
                "waiting for the broker.\n"
                "# TYPE hub_broker_calls_inflight gauge\nhub_broker_calls_inflight %zu\n",
             zhashx_size (self->calls));
    fprintf (f, "# HELP hub_broker_calls_failed_total Requests to worker services not sent (too "
                "many in flight, or the broker not connected) or not answered in time.\n"
                "# TYPE hub_broker_calls_failed_total counter\n"
                "hub_broker_calls_failed_total{reason=\"not_sent\"} %llu\n"
                "hub_broker_calls_failed_total{reason=\"timeout\"} %llu\n",
             (unsigned long long) self->send_failed, (unsigned long long) self->timeouts);
    fprintf (f, "# HELP hub_broker_replies_dropped_total Broker replies that answered no call "
                "(malformed, late, or another service).\n"
                "# TYPE hub_broker_replies_dropped_total counter\n"
                "hub_broker_replies_dropped_total %llu\n",
             (unsigned long long) self->replies_dropped);
}
