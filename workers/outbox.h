/*  outbox: what a worker sends besides its replies. Job events go to every hub's XSUB
    (HUB_PUB_ENDPOINTS) on one PUB socket, and job chunks go to a broker as MDP client
    requests on a DEALER of their own, connected to every broker (BROKER_ENDPOINTS): libzmq
    takes them round-robin over the brokers it is connected to now (ZMQ_IMMEDIATE), so a
    dead broker is skipped. Neither ever blocks the worker: a PUB drops at its high-water
    mark, and a chunk that cannot be sent now, or was lost in a broker that died, is sent
    again when its lease runs out (sql/0007_job_outages.sql, job_resend).  */
#ifndef WORKERS_OUTBOX_H
#define WORKERS_OUTBOX_H

#include <czmq.h>
#include "../common/conf.h"
#include "../proto/event.h"

typedef struct _outbox_t outbox_t;

//  Connects to every hub and every broker. NULL when a socket cannot be made.
outbox_t *outbox_new (const conf_endpoints_t *hubs, const conf_endpoints_t *brokers);
void outbox_destroy (outbox_t **self_p);

//  Publishes the job's event of that kind (proto/event.h: the frames are the codec's).
//  job_json is the job object's text. Returns 0, or -1 when it was dropped.
int outbox_publish (outbox_t *self, event_kind_t kind, const char *job_id, const char *job_json);

//  Sends a jobs.chunk request for (job_id, seq) through the broker. -1 when it could not
//  be sent now (the lease will bring it back).
int outbox_dispatch (outbox_t *self, const char *job_id, int seq);

//  Reads and forgets the broker's answers to our chunk requests (their outcome is in
//  PostgreSQL, not in the answer). Never blocks.
void outbox_drain (outbox_t *self);

//  Whether the broker is there, as the worker's broker link sees it (link.c tells the
//  worker's loop, which tells the outbox): chunk re-sends wait while it is away, since they
//  would only queue in the DEALER and reach it later as duplicates.
typedef enum {
    OUTBOX_BROKER_AWAY,         //  no session, or it fell silent; also before the first
    OUTBOX_BROKER_BACK,         //  there again, and the chunks that waited are not all re-sent
    OUTBOX_BROKER_THERE
} outbox_broker_t;

void outbox_broker_seen (outbox_t *self, bool there);
outbox_broker_t outbox_broker (outbox_t *self);
//  Every chunk that waited for the broker was re-sent: BACK becomes THERE.
void outbox_broker_caught_up (outbox_t *self);

#endif
