/*  usercheck: the hub's 7/MDP client of the broker. Asks auth.me whether a WebSocket
    client's user still exists and which role the database gives it, since a token only
    says what was true at login. Owns the DEALER and the checks in flight (bounded, each
    with a deadline), correlated by request id and service as the edge does.  */
#ifndef HUB_USERCHECK_H
#define HUB_USERCHECK_H

#include <czmq.h>
#include <stdint.h>
#include <stdio.h>
#include "../common/rand.h"
#include "../proto/svc.h"

//  Status an answer carries when the broker gave none before the deadline.
#define USERCHECK_TIMEOUT   504

//  One answer per check: status is auth.me's (200, 401, 503...) or USERCHECK_TIMEOUT;
//  role is the database's when status is 200, else SVC_ROLE_NONE. owner is what
//  usercheck_ask was given. Called in the loop's thread, never from inside usercheck_ask.
typedef void (usercheck_fn) (void *arg, void *owner, int status, svc_role_t role);

typedef struct {
    const char *broker_endpoint;    //  BROKER_ENDPOINT (connect)
    long max_inflight;              //  checks at once; usercheck_ask refuses beyond
    long timeout_ms;                //  HUB_CHECK_TIMEOUT_MS
    usercheck_fn *on_answer;
    void *arg;
} usercheck_config_t;

typedef struct usercheck_s usercheck_t;

//  Connects (CurveZMQ client when configured: the broker takes an auth frame only from
//  the edge role). NULL after logging.
usercheck_t *usercheck_new (const usercheck_config_t *cfg);
void usercheck_destroy (usercheck_t **self_p);

//  The DEALER, for its ZMQ_FD.
zsock_t *usercheck_socket (usercheck_t *self);

//  Sends auth.me for user (its token's claims as the auth frame) and writes the request's
//  id into rid, the handle for usercheck_forget. -1 when max_inflight checks are waiting
//  or the broker is not connected (the send would block): no answer will come.
int usercheck_ask (usercheck_t *self, const char *user, svc_role_t role, void *owner,
                   char rid [RAND_ID_STRLEN + 1]);

//  The owner went away: its answer, if it comes, is dropped. Nothing if rid is not waiting.
void usercheck_forget (usercheck_t *self, const char *rid);

//  Reads every reply waiting (ZMQ_FD is edge-triggered) and answers the checks they match.
void usercheck_drain (usercheck_t *self);

//  Answers USERCHECK_TIMEOUT to every check past its deadline at now_ms (zclock_mono).
void usercheck_timers (usercheck_t *self, int64_t now_ms);

size_t usercheck_inflight (usercheck_t *self);

//  Prometheus text: checks in flight, answers by outcome, replies dropped.
void usercheck_write_metrics (usercheck_t *self, FILE *f);

#endif
