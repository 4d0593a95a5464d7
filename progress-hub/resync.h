/*  resync: keeps the hub's cache right when job events are lost, as they may be by design
    (a PUB drops at its high-water mark; a restart of the hub or of a worker loses what was
    in flight, and the cache of a hub that restarts is empty). It asks the workers'
    jobs.live, through calls (borrowed), for the current state of every live and recently
    finished job, and hands each job of the answer to the hub as an event, which the hub
    applies like one from the XSUB (the cache takes only what is newer than it holds), the
    least recent first, then says the answer is done.
    It asks on start, when a job's seq skipped and the hole was not filled within
    RESYNC_GAP_GRACE_MS (two workers' events of one job may cross), and when a live job was
    silent for RESYNC_SILENCE_MS (workers re-publish live jobs every 2 s). Bounded: one
    request in flight, the next no sooner than RESYNC_INTERVAL_MS after an answer.  */
#ifndef HUB_RESYNC_H
#define HUB_RESYNC_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "cache.h"
#include "calls.h"

#define RESYNC_GAP_GRACE_MS     500     //  a hole in a job's seqs this old is a loss, not a race
#define RESYNC_SILENCE_MS       5000    //  a live job unheard of this long: its events are lost
#define RESYNC_INTERVAL_MS      1000    //  at least this between an answer and the next request
#define RESYNC_RETRY_MS         250     //  a request that could not be sent is tried again after
#define RESYNC_LIMIT            1000    //  jobs one answer may carry (the workers' bound too)

//  One job of an answer as an event's two frames (proto/event.h), exactly as a worker
//  would publish it; the callee takes *msg_p. Returns whether the cache took it.
typedef bool (resync_event_fn) (void *arg, zmsg_t **msg_p);
//  Every job of an answer was handed over.
typedef void (resync_done_fn) (void *arg);

typedef struct {
    calls_t *calls;                 //  borrowed: jobs.live goes through it
    cache_t *cache;                 //  borrowed: read for gaps and silence, marked resynced
    long finished_ms;               //  jobs finished this recently come too (HUB_FINISHED_KEEP_MS)
    resync_event_fn *on_event;
    resync_done_fn *on_done;
    void *arg;
} resync_config_t;

typedef struct resync_s resync_t;

//  Wants a first resync at once (the cache is empty). NULL out of memory.
resync_t *resync_new (const resync_config_t *cfg);
void resync_destroy (resync_t **self_p);

//  A job's seq skipped at now_ms: checked again after RESYNC_GAP_GRACE_MS.
void resync_gap (resync_t *self, int64_t now_ms);

//  Sends jobs.live when one is wanted and allowed, checks gaps whose grace ran out, and
//  (once a second) silent jobs. Call it often (the hub's 10 ms tick).
void resync_timers (resync_t *self, int64_t now_ms);

//  calls' answer to jobs.live (status, payload: calls_fn's) at now_ms. A 200 is applied
//  job by job; anything else is asked again later.
void resync_answer (resync_t *self, int status, zframe_t *payload, int64_t now_ms);

//  Prometheus text: resyncs by reason, failures, jobs corrected by a snapshot.
void resync_write_metrics (resync_t *self, FILE *f);

#endif
