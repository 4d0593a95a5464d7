/*  cache: the last event of every running job and of recently finished ones, so a
    client that (re)connects gets the current state at once. Bounded: at most max
    entries; finished jobs leave keep_ms after they finished, and when full the oldest
    finished job is evicted first (else the least recently updated running one).
    Also decides event order: nothing of a job is accepted after its final event.  */
#ifndef HUB_CACHE_H
#define HUB_CACHE_H

#include "event.h"

#define CACHE_MAX_DEFAULT       10000
#define CACHE_KEEP_MS_DEFAULT   60000

typedef struct cache_s cache_t;

typedef struct {
    event_kind_t kind;                      //  of the latest accepted event
    char job_id [UUID_STRLEN + 1];
    char created_by [UUID_STRLEN + 1];
    long long processed;
    event_payload_t *payload;               //  owned reference: the latest event's text
    int64_t updated_ms;
    int64_t finished_ms;                    //  when the final event came (kind is final)
    //  Progress throttling, owned by the hub: when it last fanned out a progress of
    //  this job, and whether a newer one waits for its turn.
    int64_t sent_ms;
    bool pending;
} cache_entry_t;

typedef enum {
    CACHE_ACCEPTED = 0,                     //  the entry now holds this event
    CACHE_STALE = 1,                        //  older than what we hold: drop it
} cache_result_t;

cache_t *cache_new (size_t max, int64_t keep_ms);
void cache_destroy (cache_t **self_p);

//  Applies ev at now. On CACHE_ACCEPTED *entry_p is the job's entry (borrowed, valid
//  until the next cache call that may evict). Rules: nothing after a final event; a
//  created after anything else is stale; a progress with fewer processed than held is
//  stale (publishers race).
cache_result_t cache_apply (cache_t *self, const event_t *ev, int64_t now_ms,
                            cache_entry_t **entry_p);

//  Drops finished entries older than keep_ms. Returns how many went.
size_t cache_expire (cache_t *self, int64_t now_ms);

cache_entry_t *cache_lookup (cache_t *self, const char *job_id);
size_t cache_size (cache_t *self);

//  Iteration in no particular order; do not apply or expire while iterating.
cache_entry_t *cache_first (cache_t *self);
cache_entry_t *cache_next (cache_t *self);

#endif
