/*  broker: the 7/MDP broker actor. Owns the ROUTER socket, the service table (queues,
    idle workers) and the worker table (liveness, the request each one holds).  */
#ifndef BROKER_BROKER_H
#define BROKER_BROKER_H

#include <signal.h>
#include <stddef.h>
#include "config.h"

#define BROKER_SERVICES_MAX     1024    //  distinct services; more are refused (503 / DISCONNECT)
#define BROKER_WORKERS_MAX      4096    //  live workers; a READY beyond is answered DISCONNECT
#define BROKER_HANDBACK_MAX     3       //  hand-backs before a request is answered 500

typedef struct _broker_t broker_t;

//  Binds the ROUTER. Returns NULL (logged) when the endpoint cannot be bound.
broker_t *broker_new (const broker_config_t *cfg);
void broker_destroy (broker_t **self_p);

//  Runs the loop until *stop becomes non-zero (a signal handler sets it), then stops
//  taking requests, answers the queued ones 503, waits for in-flight replies up to
//  drain_ms (a second signal cuts the wait short), disconnects every worker.
//  Returns 0 after a clean drain, -1 on a socket error.
int broker_run (broker_t *self, volatile sig_atomic_t *stop);

#endif
