/*  broker_conn: one broker's DEALER, its socket monitor and its liveness
    (http-edge/broker_conn.h).  */
#include "broker_conn.h"
#include "../common/log.h"
#include "../proto/mdp.h"

#include <errno.h>
#include <string.h>

#define CONN_STATUS_PING_MS     1000    //  mmi.status every second
#define CONN_BROKER_DEAD_MS     3000    //  no answer for this long: broker down

struct _broker_conn_t {
    char *endpoint;
    zsock_t *dealer;
    void *dealer_raw;
    zsock_t *monitor;               //  PAIR: the DEALER's connection events
    bool connected;                 //  false from a drop until the next handshake
    int64_t last_rx_ms;
    int64_t last_ping_ms;
    bool was_up;
    json_t *status;                 //  latest mmi.status answer, NULL while down
};

static void
s_free_blob (void *data, void *hint)
{
    free (data);
}

int
broker_conn_send (broker_conn_t *self, zmsg_t *msg, unsigned char **blob_p, size_t blob_len)
{
    size_t n = zmsg_size (msg);
    size_t i = 0;
    bool more = blob_p && *blob_p;
    for (zframe_t *f = zmsg_first (msg); f; f = zmsg_next (msg), i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < n || more ? ZMQ_SNDMORE : 0);
        //  Only the first frame can fail: ZeroMQ takes a multipart message atomically.
        if (zmq_send (self->dealer_raw, zframe_data (f), zframe_size (f), flags) < 0)
            return -1;
    }
    if (!more)
        return 0;
    unsigned char *blob = *blob_p;
    *blob_p = NULL;
    zmq_msg_t frame;
    zmq_msg_init_data (&frame, blob, blob_len, s_free_blob, NULL);
    if (zmq_msg_send (&frame, self->dealer_raw, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&frame);         //  frees the blob
        return -1;
    }
    return 0;
}

zmsg_t *
broker_conn_recv (broker_conn_t *self)
{
    zmsg_t *msg = zmsg_recv (self->dealer);
    if (!msg)
        return NULL;
    //  The handshake event may still wait in the monitor: a message proves the connection.
    self->connected = true;
    self->last_rx_ms = zclock_mono ();
    if (!self->was_up) {
        self->was_up = true;
        log_info ("event=broker_up endpoint=%s", self->endpoint);
    }
    return msg;
}

void
broker_conn_events (broker_conn_t *self)
{
    while (true) {
        zmq_msg_t head;
        zmq_msg_init (&head);
        if (zmq_msg_recv (&head, zsock_resolve (self->monitor), ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&head);
            return;
        }
        //  Two frames: 16-bit event and 32-bit value, then the endpoint (not needed).
        uint16_t event = 0;
        if (zmq_msg_size (&head) >= sizeof event)
            memcpy (&event, zmq_msg_data (&head), sizeof event);
        bool more = zmq_msg_more (&head);
        zmq_msg_close (&head);
        if (more) {
            zmq_msg_t rest;
            zmq_msg_init (&rest);
            zmq_msg_recv (&rest, zsock_resolve (self->monitor), ZMQ_DONTWAIT);
            zmq_msg_close (&rest);
        }
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            self->connected = true;
            self->last_ping_ms = 0;     //  back, perhaps restarted: ask at once
        }
        else
        if (event == ZMQ_EVENT_DISCONNECTED || event == ZMQ_EVENT_CONNECT_RETRIED)
            self->connected = false;
    }
}

bool
broker_conn_up (broker_conn_t *self, int64_t now)
{
    return self->connected && now - self->last_rx_ms < CONN_BROKER_DEAD_MS;
}

bool
broker_conn_check (broker_conn_t *self, int64_t now)
{
    if (now - self->last_ping_ms >= CONN_STATUS_PING_MS) {
        self->last_ping_ms = now;
        zmsg_t *body = zmsg_new ();
        zmsg_t *msg = mdp_client_request_new (MMI_STATUS, &body);
        broker_conn_send (self, msg, NULL, 0);     //  failing is what liveness then reports
        zmsg_destroy (&msg);
    }
    if (!self->was_up || broker_conn_up (self, now))
        return false;
    self->was_up = false;
    json_decref (self->status);
    self->status = NULL;
    log_warn ("event=broker_down endpoint=%s reason=%s silent_ms=%lld", self->endpoint,
              self->connected ? "silent" : "disconnected", (long long) (now - self->last_rx_ms));
    return true;
}

int64_t
broker_conn_next_ms (broker_conn_t *self, int64_t now)
{
    int64_t t = self->last_ping_ms + CONN_STATUS_PING_MS - now;
    return t < 0 ? 0 : t;
}

void
broker_conn_set_status (broker_conn_t *self, json_t *status)
{
    json_decref (self->status);
    self->status = status;
}

json_t *
broker_conn_status (broker_conn_t *self)
{
    return self->status;
}

//  Counts of requests (and their bytes) are each broker's own: summed over the brokers.
//  Counts of workers are not (every worker registers with every broker): the largest.
static bool
s_status_summed (const char *key)
{
    static const char *const summed [] = {
        "queued", "inFlight", "heldBytes", "refusedUnauthorized"
    };
    for (size_t i = 0; i < sizeof summed / sizeof summed [0]; i++)
        if (!strcmp (key, summed [i]))
            return true;
    return false;
}

static void s_status_merge (json_t *into, json_t *from);

//  Services merged by name.
static void
s_services_merge (json_t *into, json_t *from)
{
    size_t i, j;
    json_t *f, *t;
    json_array_foreach (from, i, f) {
        const char *name = json_string_value (json_object_get (f, "name"));
        json_t *match = NULL;
        json_array_foreach (into, j, t) {
            const char *have = json_string_value (json_object_get (t, "name"));
            if (name && have && !strcmp (name, have)) {
                match = t;
                break;
            }
        }
        if (match)
            s_status_merge (match, f);
        else
        if (json_is_object (f))
            json_array_append_new (into, json_deep_copy (f));
    }
}

//  Folds one broker's mmi.status into the sum of the others'.
static void
s_status_merge (json_t *into, json_t *from)
{
    const char *key;
    json_t *v;
    json_object_foreach (from, key, v) {
        json_t *have = json_object_get (into, key);
        if (!have)
            json_object_set_new (into, key, json_deep_copy (v));
        else
        if (json_is_integer (v) && json_is_integer (have)) {
            json_int_t a = json_integer_value (have), b = json_integer_value (v);
            json_integer_set (have, s_status_summed (key) ? a + b : a > b ? a : b);
        }
        else
        if (json_is_array (v) && json_is_array (have))
            s_services_merge (have, v);
    }
}

json_t *
broker_conn_status_merged (broker_conn_t **conns, size_t n)
{
    json_t *merged = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!conns [i]->status)
            continue;
        if (!merged)
            merged = json_object ();
        s_status_merge (merged, conns [i]->status);
    }
    return merged;
}

const char *
broker_conn_endpoint (broker_conn_t *self)
{
    return self->endpoint;
}

void *
broker_conn_dealer (broker_conn_t *self)
{
    return self->dealer_raw;
}

void *
broker_conn_monitor (broker_conn_t *self)
{
    return zsock_resolve (self->monitor);
}

broker_conn_t *
broker_conn_new (const char *endpoint, int sndhwm)
{
    static unsigned s_monitors;         //  inproc names are per process
    broker_conn_t *self = (broker_conn_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup (endpoint);
    //  A send that would block, or finds the broker not connected, fails at once.
    self->dealer = mdp_client_socket_new (endpoint, sndhwm);
    if (!self->endpoint || !self->dealer)
        goto fail;
    self->dealer_raw = zsock_resolve (self->dealer);
    char name [64];
    snprintf (name, sizeof name, "inproc://edge-broker-monitor-%u", s_monitors++);
    if (zmq_socket_monitor (self->dealer_raw, name, ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                            | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED)) {
        log_error ("event=monitor_failed endpoint=%s err=\"%s\"", endpoint, zmq_strerror (errno));
        goto fail;
    }
    self->monitor = zsock_new_pair (name);
    if (!self->monitor) {
        log_error ("event=monitor_failed endpoint=%s", endpoint);
        goto fail;
    }
    //  Optimistic start: the first mmi.status answer (or a failed connect) tells within
    //  a second.
    self->connected = true;
    self->last_rx_ms = zclock_mono ();
    self->was_up = true;
    return self;
fail:
    broker_conn_destroy (&self);
    return NULL;
}

void
broker_conn_destroy (broker_conn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_conn_t *self = *self_p;
    if (self->monitor)
        zmq_socket_monitor (self->dealer_raw, NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
    json_decref (self->status);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}
