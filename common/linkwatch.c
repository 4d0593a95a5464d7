/*  linkwatch: socket monitor events as "connected or not, and why".  */
#include "linkwatch.h"
#include "log.h"

#include <czmq.h>
#include <stdint.h>

#define S_EVENTS    (ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED \
                   | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL \
                   | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

struct _linkwatch_t {
    zsock_t *pair;              //  reads the monitor's events
    bool up;
    bool reached;               //  this attempt's TCP connection was accepted
    const char *reason;
};

linkwatch_t *
linkwatch_new (zsock_t *sock)
{
    //  One monitor endpoint per socket: its address is unique within the process.
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://linkwatch-%p", (void *) sock);
    linkwatch_t *self = (linkwatch_t *) zmalloc (sizeof *self);
    if (!self)
        return NULL;
    self->reason = "no peer has answered yet";
    if (zmq_socket_monitor (zsock_resolve (sock), endpoint, S_EVENTS)
    ||  !(self->pair = zsock_new (ZMQ_PAIR))
    ||  zsock_connect (self->pair, "%s", endpoint)) {
        log_error ("event=linkwatch_failed msg=\"cannot monitor the socket: %s\"",
                   zmq_strerror (zmq_errno ()));
        linkwatch_destroy (&self);
        return NULL;
    }
    return self;
}

void
linkwatch_destroy (linkwatch_t **self_p)
{
    if (!*self_p)
        return;
    zsock_destroy (&(*self_p)->pair);
    free (*self_p);
    *self_p = NULL;
}

zsock_t *
linkwatch_sock (linkwatch_t *self)
{
    return self->pair;
}

//  One event's meaning for us; *reason set when it says why there is no peer.
static linkwatch_change_t
s_event (linkwatch_t *self, uint16_t event)
{
    switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            self->up = true;
            return LINKWATCH_UP;
        case ZMQ_EVENT_DISCONNECTED:
            if (!self->up)
                return LINKWATCH_NONE;
            self->up = false;
            self->reason = "the peer went away";
            return LINKWATCH_DOWN;
        case ZMQ_EVENT_CONNECTED:
            self->reached = true;
            return LINKWATCH_NONE;
        case ZMQ_EVENT_CONNECT_RETRIED:
            //  An attempt that got a TCP connection failed later, for a reason of its own.
            if (!self->reached)
                self->reason = "nothing accepts connections there";
            self->reached = false;
            return LINKWATCH_NONE;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            self->reason = "it refused our CurveZMQ key (not in its allow list, or the "
                           "wrong CURVE_SERVER_KEY)";
            return LINKWATCH_NONE;
        default:
            self->reason = "it refused the handshake (CurveZMQ on one side only, or not a "
                           "ZeroMQ peer)";
            return LINKWATCH_NONE;
    }
}

linkwatch_change_t
linkwatch_read (linkwatch_t *self)
{
    linkwatch_change_t last = LINKWATCH_NONE;
    //  Each event is two frames: 16-bit event and 32-bit value, then the endpoint.
    while (zsock_events (self->pair) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (self->pair);
        zframe_t *first = msg ? zmsg_first (msg) : NULL;
        if (first && zframe_size (first) == 6) {
            uint16_t event;
            memcpy (&event, zframe_data (first), sizeof event);
            linkwatch_change_t change = s_event (self, event);
            if (change != LINKWATCH_NONE)
                last = change;
        }
        zmsg_destroy (&msg);
    }
    return last;
}

bool
linkwatch_up (linkwatch_t *self)
{
    return self->up;
}

const char *
linkwatch_reason (linkwatch_t *self)
{
    return self->reason;
}
