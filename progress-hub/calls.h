/*  calls: the hub's 7/MDP client of the broker. Sends requests to worker services (auth.me
    about WebSocket users, jobs.live for the cache) and hands each answer to one callback.
    Owns the DEALER and the calls in flight (bounded, each with a deadline), correlated by
    request id and service as the edge does.  */
#ifndef HUB_CALLS_H
#define HUB_CALLS_H

#include <czmq.h>
#include <stdint.h>
#include <stdio.h>
#include "../common/conf.h"
#include "../common/rand.h"
#include "../proto/svc.h"

//  Status an answer carries when the broker gave none before the deadline.
#define CALLS_TIMEOUT   504

//  One answer per call: service is the call's (borrowed), status the worker's (200, 401,
//  503...) or CALLS_TIMEOUT, payload the reply's JSON text (borrowed for the call; NULL on
//  a timeout). owner is what calls_send was given. Called in the loop's thread, never from
//  inside calls_send.
typedef void (calls_fn) (void *arg, void *owner, const char *service, int status,
                         zframe_t *payload);

typedef struct {
    const conf_endpoints_t *brokers;    //  connected to each; borrowed for calls_new only
    long max_inflight;              //  calls at once; calls_send refuses beyond
    long timeout_ms;                //  HUB_CHECK_TIMEOUT_MS, the same for every call
    calls_fn *on_answer;
    void *arg;
} calls_config_t;

typedef struct calls_s calls_t;

//  Connects one DEALER to every broker (CurveZMQ client when configured: the broker takes
//  an auth frame, and jobs.live, only from the edge role). NULL after logging.
calls_t *calls_new (const calls_config_t *cfg);
void calls_destroy (calls_t **self_p);

//  The DEALER, for its ZMQ_FD.
zsock_t *calls_socket (calls_t *self);

//  Sends service (a constant) a request acting for user with role (NULL: anonymous), with
//  payload (a JSON text), and writes the request's id into rid, the handle for
//  calls_forget. -1 when max_inflight calls are waiting or the broker is not connected
//  (the send would block): no answer will come.
int calls_send (calls_t *self, const char *service, const char *user, svc_role_t role,
                const char *payload, void *owner, char rid [RAND_ID_STRLEN + 1]);

//  The owner went away: its answer, if it comes, is dropped. Nothing if rid is not waiting.
void calls_forget (calls_t *self, const char *rid);

//  Reads every reply waiting (ZMQ_FD is edge-triggered) and answers the calls they match.
void calls_drain (calls_t *self);

//  Answers CALLS_TIMEOUT to every call past its deadline at now_ms (zclock_mono).
void calls_timers (calls_t *self, int64_t now_ms);

size_t calls_inflight (calls_t *self);

//  Prometheus text: calls in flight, sends refused, timeouts, replies dropped.
void calls_write_metrics (calls_t *self, FILE *f);

#endif
