/*  link: the worker's link to its brokers, as an actor (zactor, its own thread). It owns an
    MDP DEALER per broker (BROKER_ENDPOINTS: the worker registers with every one, each a
    session of its own): READY (every service in one, and the credit: proto/README.md),
    heartbeats both ways, reconnect with backoff on silence or DISCONNECT, and the
    DISCONNECT on shutdown. It hands requests to the SQL side over the actor's pipe and
    sends back the replies it is given, each on the session its request came from (the
    request's via), so heartbeats keep flowing however long a statement takes.

    The pipe, as ZeroMQ messages (no shared state). A request and a reply cross it as a
    pointer, not as frames: the receiver of a pointer frame owns what it points to, and
    the sender never touches it again (in-process only; see link_recv / link_reply).
      link -> SQL side   "CONNECTED" | "FAILED"     once, after the first connect
                         "REQUEST" mdp_msg_t*       a decoded REQUEST, its service taken
                                                    (mdp_request_take_service); at most
                                                    credit without their REPLY
                         "BROKER_UP" | "BROKER_DOWN"   a broker spoke while none was there
                                                    (or for the first time) | none is there
                                                    now: each fell silent, said DISCONNECT
                                                    or could not be reached
                         "FAILED"                   the broker socket broke; stop
                         "STOPPED"                  the answer to STOP: no REQUEST follows
      SQL side -> link   "REPLY" mdp_msg_t*         a request in hand come back as its
                                                    REPLY, in any order: the client's
                                                    address, its session (via) and the
                                                    reply's body; no body when there is
                                                    nothing to send (our SQL side always
                                                    answers, even a request without a rid)
                         "STOP"                     stop handing over requests (link_stop)
                         "$TERM"                    zactor_destroy: DISCONNECT and exit

    The credit (WORKER_CREDIT, 1..MDP_CREDIT_MAX) is how many requests the SQL side may
    hold at once; the READY announces it ("credit N", none at 1: the plain 7/MDP worker)
    and each broker gives the worker no more than that without replies. With several
    brokers each announces the whole credit, so that one alone can keep the worker busy;
    what the SQL side cannot take yet waits in the link (the credit of every broker but
    one, beyond LINK_QUEUE_MAX). The link hands each
    request over as it arrives while fewer than credit are held, and sends each REPLY as
    it comes back, at once: no timer, so a lone request goes as fast as at credit 1. The
    SQL side takes all that wait in the pipe at one wake-up as one batch. Should the broker
    send more, LINK_QUEUE_MAX more wait in the link, and beyond that the link answers 503
    worker_busy itself: bounded, and never more than credit requests in SQL at once.
    While the whole credit is held the link waits on the pipe alone and reads the broker
    when a heartbeat is due, so such a refusal may come one heartbeat late.
    BROKER_UP/DOWN are sent on changes only and never block the link: when the pipe is
    full the latest state is sent at a later wake-up, so the SQL side is never left with a
    stale one.

    Shutdown: zactor_destroy alone would discard a REQUEST still in the pipe, and leak it.
    link_stop says STOP first and frees every REQUEST it finds before STOPPED; requests
    not served are handed to another worker by the broker after the link's DISCONNECT.  */
#ifndef WORKERS_LINK_H
#define WORKERS_LINK_H

#include <czmq.h>
#include "../common/conf.h"
#include "../proto/mdp.h"

#define LINK_QUEUE_MAX          1       //  requests waiting beyond the credit (one broker)
#define LINK_BROKERS_MAX        CONF_ENDPOINTS_MAX
#define LINK_RECONNECT_MIN_MS   250
#define LINK_RECONNECT_MAX_MS   4000
#define LINK_STOP_MS            5000    //  at most this long for STOPPED: the link never
                                        //  blocks longer than one send to the broker

typedef struct {
    const char *const *endpoints;       //  BROKER_ENDPOINTS: every broker, one session each
    size_t endpoints_n;                 //  1..LINK_BROKERS_MAX
    int heartbeat_ms;
    const char *const *services;        //  offered in READY
    size_t services_n;
    int credit;                         //  WORKER_CREDIT, 1..MDP_CREDIT_MAX (below 1: 1)
    const char *name;                   //  WORKER_NAME, checked (mdp_name_valid): the READY's
} link_config_t;

//  The actor: zactor_new (link_actor, &cfg). cfg is copied before zactor_new returns.
void link_actor (zsock_t *pipe, void *args);

//  What the link tells the SQL side.
typedef enum {
    LINK_NOTHING,                       //  nothing within the wait, or interrupted
    LINK_REQUEST,                       //  a request to serve and answer with link_reply
    LINK_BROKER_UP,
    LINK_BROKER_DOWN,
    LINK_FAILED,                        //  the broker socket broke: stop
} link_event_t;

//  The SQL side's read: waits up to timeout_ms (0: only what is there) for the link's
//  next word. LINK_REQUEST sets *request_p to a request the caller now owns (client,
//  service, body); every other result sets it to NULL.
link_event_t link_recv (zactor_t *link, int timeout_ms, mdp_msg_t **request_p);

//  Answers a request in hand: takes *request_p (from link_recv) and *body_p (the reply's
//  body: rid status payload; NULL when there is nothing to send) and nulls both. The link
//  sends the REPLY to the request's client at once, and may hand over another. 0, or -1
//  when the pipe refused it (then both are freed here).
int link_reply (zactor_t *link, mdp_msg_t **request_p, zmsg_t **body_p);

//  Stops and destroys the link (*link_p nulled; nothing when NULL): STOP, then frees every
//  request found in the pipe before STOPPED, then zactor_destroy (DISCONNECT). Never call
//  it with a request in hand: answer every one first. Returns how many were dropped.
int link_stop (zactor_t **link_p);

#endif
