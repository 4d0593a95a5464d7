/*  link: the worker's link to the broker, as an actor (zactor, its own thread). It owns the
    MDP DEALER: READY (every service in one, proto/README.md), heartbeats both ways,
    reconnect with backoff on silence or DISCONNECT, and the DISCONNECT on shutdown. It
    passes requests to the SQL side over the actor's pipe and sends back the replies it is
    given, so heartbeats keep flowing however long a statement takes.

    The pipe, as ZeroMQ messages (no shared state):
      link -> SQL side   "CONNECTED" | "FAILED"     once, after the first connect
                         "REQUEST" client service body...   one at a time: the next only after REPLY
                         "BROKER_UP" | "BROKER_DOWN"   the broker spoke after being away (or
                                                    for the first time) | fell silent, said
                                                    DISCONNECT or could not be reached
                         "FAILED"                   the broker socket broke; stop
      SQL side -> link   "REPLY" client [body...]   the answer to the request in hand (no
                                                    body: nothing to send, e.g. no rid)
                         "$TERM"                    zactor_destroy: DISCONNECT and exit

    One request is in hand at a time; the broker gives a worker no other until it replies.
    Should one arrive anyway, LINK_QUEUE_MAX more wait in the link, and beyond that the link
    answers 503 worker_busy itself: bounded, and never a second request in SQL at once.
    BROKER_UP/DOWN are sent on changes only and never block the link: when the pipe is
    full the latest state is sent at a later wake-up, so the SQL side is never left with a
    stale one.  */
#ifndef WORKERS_LINK_H
#define WORKERS_LINK_H

#include <czmq.h>

#define LINK_QUEUE_MAX          1       //  requests waiting behind the one in hand
#define LINK_RECONNECT_MIN_MS   250
#define LINK_RECONNECT_MAX_MS   4000

typedef struct {
    const char *endpoint;               //  BROKER_ENDPOINT
    int heartbeat_ms;
    const char *const *services;        //  offered in READY
    size_t services_n;
} link_config_t;

//  The actor: zactor_new (link_actor, &cfg). cfg is copied before zactor_new returns.
void link_actor (zsock_t *pipe, void *args);

#endif
