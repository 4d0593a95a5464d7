/*  worker: a worker's one thread. Starts the broker link (link.c: the DEALERs, their
    heartbeats and reconnects, served while statements wait too), takes the requests
    waiting in it at each wake-up (up to the credit) as one batch, checks the user before
    authenticated services, runs the batch's reads in one pipeline and the rest one by one,
    and hands back each reply.  */
#ifndef WORKERS_WORKER_H
#define WORKERS_WORKER_H

#include "config.h"
#include "service.h"
#include "../common/conf.h"

typedef struct {
    conf_endpoints_t brokers;   //  BROKER_ENDPOINTS (else BROKER_ENDPOINT): registered with each
    conf_endpoints_t hubs;      //  HUB_PUB_ENDPOINTS (else HUB_PUB_ENDPOINT): events go to each
    int heartbeat_ms;           //  HEARTBEAT_MS, 100..2500
    jobs_config_t jobs;         //  CHUNK_SIZE, JOB_WINDOW, MAX_ACTIVE_JOBS...
    int credit;                 //  WORKER_CREDIT, 1..WORKER_CREDIT_MAX (below 1: 1)
    const char *name;           //  WORKER_NAME (config_name_read), named in every READY
} worker_config_t;

typedef struct _worker_t worker_t;

//  Creates the database handle and initialises every family; NULL on bad configuration.
worker_t *worker_new (const worker_config_t *cfg);
void worker_destroy (worker_t **self_p);

//  Serves until SIGINT/SIGTERM: finishes the request in hand, says DISCONNECT, returns 0.
int worker_run (worker_t *self);

//  The entry for a service name, NULL when no family offers it.
const svc_entry_t *worker_service (const char *name);

//  Runs one request body (rid, auth, payload) for a service as the loop would, and
//  returns the reply body (rid, status, payload). Used by the loop and by tests.
zmsg_t *worker_handle (worker_t *self, const char *service, zmsg_t **body_p);

#endif
