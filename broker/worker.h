/*  worker: one entry of the broker's worker table: the services it offers (borrowed), its
    places in their idle lists, its liveness, and the one request it holds (owned).  */
#ifndef BROKER_WORKER_H
#define BROKER_WORKER_H

#include "request.h"
#include "service.h"
#include "../proto/mdp.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#define WORKER_ID_MAX           (MDP_ADDRESS_MAX * 2 + 1)

typedef struct {
    char id [WORKER_ID_MAX];    //  routing id in hex: the table key and the log name
    zframe_t *address;
    service_t *services [MDP_READY_SERVICES_MAX];
    void *waiting [MDP_READY_SERVICES_MAX];    //  handles in each service's waiting list
    size_t services_n;
    bool multi;                 //  its READY named several services: REQUESTs name theirs
    bool idle;
    request_t *request;         //  the one request it holds, or NULL
    int64_t expiry;             //  declared dead when now passes this
} worker_t;

//  The hex form of a routing id (at most MDP_ADDRESS_MAX bytes) into out [WORKER_ID_MAX].
void worker_id_of (zframe_t *address, char *out);

//  A worker with no services and no address yet; see worker_add_service.
worker_t *worker_new (const char *id);
void worker_destroy (worker_t **self_p);

//  Adds svc to what self offers, once. The caller keeps the count of services_n below
//  MDP_READY_SERVICES_MAX (a READY names no more).
void worker_add_service (worker_t *self, service_t *svc);

//  Puts self at the end of each of its services' idle lists / takes it out of them.
void worker_wait (worker_t *self);
void worker_unwait (worker_t *self);

//  Takes the request self holds (NULL if none): the caller owns it, and its service counts
//  one in flight fewer.
request_t *worker_take_request (worker_t *self);

#endif
