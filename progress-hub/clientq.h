/*  clientq: the bounded send queue of one WebSocket client. Progress events of one job
    are coalesced in place (latest wins, position kept), so a client that falls behind
    gets fewer progress frames, never stale ones; every other event is queued in order,
    so a job's final event always follows its last progress.  */
#ifndef HUB_CLIENTQ_H
#define HUB_CLIENTQ_H

#include "event.h"

#define CLIENTQ_MAX_DEFAULT  64     //  pending messages per client

typedef struct clientq_s clientq_t;

typedef enum {
    CLIENTQ_QUEUED = 0,             //  appended
    CLIENTQ_COALESCED = 1,          //  replaced a pending progress of the same job
    CLIENTQ_FULL = -1,              //  no room even after coalescing: the client is too slow
} clientq_result_t;

clientq_t *clientq_new (size_t max);
void clientq_destroy (clientq_t **self_p);

//  Takes its own reference on payload (the caller keeps its own). Never blocks,
//  never grows past max.
clientq_result_t clientq_push (clientq_t *self, event_kind_t kind, const char *job_id,
                               event_payload_t *payload);

//  The oldest pending message (borrowed), or NULL when empty.
event_payload_t *clientq_front (clientq_t *self);
void clientq_pop (clientq_t *self);
size_t clientq_size (clientq_t *self);

//  Whether a message of job_id is pending.
bool clientq_holds (clientq_t *self, const char *job_id);

#endif
