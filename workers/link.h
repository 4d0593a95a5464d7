/*  link: the worker's link to its brokers. It owns an MDP DEALER per broker
    (BROKER_ENDPOINTS: the worker registers with every one, each a session of its own):
    READY (every service in one, and the credit: proto/README.md), heartbeats both ways,
    reconnect with backoff on silence or DISCONNECT, and the DISCONNECT on shutdown.

    It runs in the worker's one thread, never in a thread of its own: the worker reads
    requests with link_recv and answers with link_reply, which sends at once on the
    session the request came from (its via). While a statement waits on PostgreSQL, db.c
    waits through link_wait_fd, which serves the brokers meanwhile: heartbeats go out and
    come in however long a statement takes, and requests that arrive wait here. A request
    thus costs no hand-over between threads: the same wake-up that reads it from the
    broker runs it and sends its answer.

    The credit (WORKER_CREDIT, 1..MDP_CREDIT_MAX) is how many requests the worker may hold
    at once (read with link_recv, not yet answered); the READY announces it ("credit N",
    none at 1: the plain 7/MDP worker) and each broker gives the worker no more than that
    without replies. With several brokers each announces the whole credit, so that one
    alone can keep the worker busy; what the worker cannot take yet waits here (the credit
    of every broker but one, plus LINK_QUEUE_MAX). Should a broker send more, the link
    answers 503 worker_busy itself: bounded, and never more than credit requests in hand.
    No timer: a lone request goes as fast as at credit 1.

    Shutdown: link_stop frees every request read from a broker and not yet handed to the
    worker, and says DISCONNECT; each broker hands them to another worker.  */
#ifndef WORKERS_LINK_H
#define WORKERS_LINK_H

#include <czmq.h>
#include "../common/conf.h"
#include "../proto/mdp.h"

#define LINK_QUEUE_MAX          1       //  requests waiting beyond the credit (one broker)
#define LINK_BROKERS_MAX        CONF_ENDPOINTS_MAX
#define LINK_RECONNECT_MIN_MS   250
#define LINK_RECONNECT_MAX_MS   4000

typedef struct {
    const char *const *endpoints;       //  BROKER_ENDPOINTS: every broker, one session each
    size_t endpoints_n;                 //  1..LINK_BROKERS_MAX
    int heartbeat_ms;
    const char *const *services;        //  offered in READY
    size_t services_n;
    int credit;                         //  WORKER_CREDIT, 1..MDP_CREDIT_MAX (below 1: 1)
    const char *name;                   //  WORKER_NAME, checked (mdp_name_valid): the READY's
} link_config_t;

typedef struct _link_t link_t;

//  Connects to every broker and says READY on each. NULL when a socket cannot be made
//  (a bad endpoint, no memory; logged): then nothing works. cfg is copied.
link_t *link_new (const link_config_t *cfg);

//  What the link tells the worker.
typedef enum {
    LINK_NOTHING,                       //  nothing within the wait, or interrupted
    LINK_REQUEST,                       //  a request to serve and answer with link_reply
    LINK_BROKER_UP,                     //  a broker spoke while none was there (or first)
    LINK_BROKER_DOWN,                   //  none is there now: each fell silent, said
                                        //  DISCONNECT or could not be reached
    LINK_FAILED,                        //  a broker socket broke (ours): stop
} link_event_t;

//  Waits up to timeout_ms (0: only what is there now) for the next thing to tell,
//  serving heartbeats and reconnects meanwhile. LINK_REQUEST sets *request_p to a
//  request the caller now owns (client, service taken by mdp_request_take_service: ""
//  when the frame named none, body, via); every other result sets it to NULL.
//  BROKER_UP/DOWN come on changes only.
link_event_t link_recv (link_t *self, int timeout_ms, mdp_msg_t **request_p);

//  Answers a request in hand: takes *request_p (from link_recv) and *body_p (the reply's
//  body: rid status payload; NULL when there is nothing to send) and nulls both, sends
//  the REPLY on the request's session and frees the request. 0, or -1 when the session
//  is gone or the send failed (logged).
int link_reply (link_t *self, mdp_msg_t **request_p, zmsg_t **body_p);

//  For db.c, while a statement waits: polls fd for events (POLLIN, POLLOUT) and every
//  broker for at most timeout_ms (-1: until fd is ready; never past the next heartbeat),
//  serving what the brokers send. 1 when fd is ready, 0 when not yet (a heartbeat was
//  due, a signal came, or the time passed), -1 when poll failed. fd < 0: only waits.
int link_wait_fd (link_t *self, int fd, short events, int timeout_ms);

//  Says DISCONNECT to every broker and destroys the link (*self_p nulled; nothing when
//  NULL). Requests read and not yet handed over are freed and logged. Never call it with
//  a request in hand: answer every one first. Returns how many were dropped.
int link_stop (link_t **self_p);

#endif
