/*  outbox: job events to the hub, job chunks to the broker; never blocking.  */
#include "outbox.h"
#include "../common/rand.h"
#include "../common/curve.h"
#include "../common/log.h"
#include "../proto/event.h"
#include "../proto/mdp.h"
#include "../proto/svc.h"

#include <stdio.h>
#include <string.h>

//  Bounds: events beyond the PUB's high-water mark are dropped (events are at-most-once;
//  counters live in PostgreSQL), chunk requests beyond the DEALER's are refused.
#define OUTBOX_PUB_HWM      10000
#define OUTBOX_DEALER_HWM   1000

struct _outbox_t {
    zsock_t *pub;
    zsock_t *dealer;
    uint64_t sent;                  //  chunk requests sent, for their rids
    outbox_broker_t broker;         //  as the broker link last saw it
    char prefix [16];               //  random, so rids of two workers never collide
};

//  Connects the PUB to every hub; -1 (logged) at the first that fails. (The brokers get
//  curve_client_connect_broker: one of them may be the local ipc:// endpoint.)
static int
s_connect_hubs (zsock_t *pub, const conf_endpoints_t *hubs)
{
    for (size_t i = 0; i < hubs->n; i++)
        if (zsock_connect (pub, "%s", conf_endpoints_get (hubs, i))) {
            log_error ("event=outbox_connect_failed hub=%s", conf_endpoints_get (hubs, i));
            return -1;
        }
    return 0;
}

outbox_t *
outbox_new (const conf_endpoints_t *hubs, const conf_endpoints_t *brokers)
{
    outbox_t *self = (outbox_t *) zmalloc (sizeof (outbox_t));
    self->pub = zsock_new (ZMQ_PUB);
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->pub || !self->dealer)
        goto fail;
    zsock_set_sndhwm (self->pub, OUTBOX_PUB_HWM);
    zsock_set_linger (self->pub, 200);
    mdp_socket_setup (self->dealer);
    zsock_set_sndhwm (self->dealer, OUTBOX_DEALER_HWM);
    zsock_set_sndtimeo (self->dealer, 0);
    //  A chunk goes only to a broker connected now: none queues for one that is away.
    zsock_set_immediate (self->dealer, 1);
    if (curve_client_apply (self->pub) || s_connect_hubs (self->pub, hubs))
        goto fail;
    for (size_t i = 0; i < brokers->n; i++)
        if (curve_client_connect_broker (self->dealer, conf_endpoints_get (brokers, i)))
            goto fail;
    //  From the CSPRNG: czmq's randof is seeded from the clock, and workers started in the
    //  same second drew the same prefix.
    char id [RAND_ID_STRLEN + 1];
    rand_id (id);
    snprintf (self->prefix, sizeof self->prefix, "c%.12s", id);
    return self;
fail:
    outbox_destroy (&self);
    return NULL;
}

void
outbox_destroy (outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy (&(*self_p)->pub);
    zsock_destroy (&(*self_p)->dealer);
    free (*self_p);
    *self_p = NULL;
}

int
outbox_publish (outbox_t *self, event_kind_t kind, const char *job_id, const char *job_json)
{
    zmsg_t *msg = event_encode (kind, job_id, job_json);
    int rc = msg ? zmsg_send (&msg, self->pub) : -1;
    zmsg_destroy (&msg);
    if (rc)
        log_warn ("event=event_dropped topic=jobs.%s.%s", event_kind_name (kind), job_id);
    return rc ? -1 : 0;
}

int
outbox_dispatch (outbox_t *self, const char *job_id, int seq)
{
    char rid [SVC_RID_MAX + 1], payload [96];
    snprintf (rid, sizeof rid, "%s-%llu", self->prefix, (unsigned long long) ++self->sent);
    int n = snprintf (payload, sizeof payload, "{\"jobId\":\"%s\",\"seq\":%d}", job_id, seq);
    zmsg_t *body = svc_request_encode (rid, NULL, SVC_ROLE_NONE, payload, (size_t) n);
    zmsg_t *msg = mdp_client_request_new (SVC_JOBS_CHUNK, &body);
    int rc = zmsg_send (&msg, self->dealer);
    zmsg_destroy (&msg);
    if (rc)
        log_warn ("event=chunk_dispatch_deferred job=%s seq=%d", job_id, seq);
    else
        log_debug ("event=chunk_dispatched rid=%s job=%s seq=%d", rid, job_id, seq);
    return rc ? -1 : 0;
}

void
outbox_drain (outbox_t *self)
{
    while (zsock_events (self->dealer) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (self->dealer);
        if (!msg)
            break;
        zmsg_destroy (&msg);
    }
}

void
outbox_broker_seen (outbox_t *self, bool there)
{
    if (!there)
        self->broker = OUTBOX_BROKER_AWAY;
    else
    if (self->broker == OUTBOX_BROKER_AWAY)
        self->broker = OUTBOX_BROKER_BACK;
}

outbox_broker_t
outbox_broker (outbox_t *self)
{
    return self->broker;
}

void
outbox_broker_caught_up (outbox_t *self)
{
    if (self->broker == OUTBOX_BROKER_BACK)
        self->broker = OUTBOX_BROKER_THERE;
}
