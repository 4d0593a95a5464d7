/*  linkwatch: whether a connecting socket has a peer, from libzmq's socket monitor.
    ZeroMQ connects lazily and retries in silence, so without it a tool pointed at a dead
    or wrong endpoint waits forever with nothing to say; with it the tool can tell the
    user what goes wrong there (nothing listens, the handshake or our CurveZMQ key is
    refused) within seconds. The hub sends a subscriber nothing before its first event,
    so the handshake is the only sign of life there is.  */
#ifndef COMMON_LINKWATCH_H
#define COMMON_LINKWATCH_H

#include <stdbool.h>

typedef struct _zsock_t zsock_t;
typedef struct _linkwatch_t linkwatch_t;

typedef enum {
    LINKWATCH_NONE = 0,     //  nothing that changes whether we are connected
    LINKWATCH_UP,           //  a peer completed the ZMTP (and CurveZMQ) handshake
    LINKWATCH_DOWN,         //  the connected peer went away
} linkwatch_change_t;

//  Monitors sock, which must not have connected yet. NULL (logged) on failure.
linkwatch_t *linkwatch_new (zsock_t *sock);
void linkwatch_destroy (linkwatch_t **self_p);

//  The monitor's socket, readable when an event waits: for a zpoller beside sock.
zsock_t *linkwatch_sock (linkwatch_t *self);

//  Reads the events that wait (none: returns at once). The last change they made.
linkwatch_change_t linkwatch_read (linkwatch_t *self);

bool linkwatch_up (linkwatch_t *self);

//  Why no peer is there, as far as the events tell ("connection refused: nothing listens
//  there", "our CurveZMQ key was refused", ...); a generic text when they tell nothing.
const char *linkwatch_reason (linkwatch_t *self);

#endif
