/*  cache: the last event of every running job and of recently finished ones, so a
    client that (re)connects gets the current state at once. Bounded: at most max
    entries; finished jobs leave keep_ms after they finished, and when full the oldest
    finished job is evicted first (else the least recently updated running one).
    Also decides event order, by the job's sequence number (data.seq) when events carry
    one: only a newer state is taken, and seqs skipped on the way are counted as missing
    until they turn up late, so the hub can tell a loss from a race. Every accepted event
    gets the next stamp, and the entries can be walked by stamp, a step at a time: the order
    a client is sent the current state in.  */
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
    long long seq;                          //  of the latest accepted event; -1: none carried
    long long missing;                      //  seqs below seq never seen (lost, or racing in)
    event_payload_t *payload;               //  owned reference: the latest event's text
    int64_t updated_ms;                     //  when the latest accepted event came
    uint64_t stamp;                         //  the cache's count of accepted events then: recency
    size_t at;                              //  the cache's own: where it sits in stamp order
    int64_t heard_ms;                       //  when any event of the job came, new or not
    int64_t finished_ms;                    //  when the final event came (kind is final)
    //  Progress throttling, owned by the hub: when it last fanned out a progress of
    //  this job, and whether a newer one waits for its turn.
    int64_t sent_ms;
    bool pending;
} cache_entry_t;

typedef enum {
    CACHE_ACCEPTED = 0,                     //  the entry now holds this event
    CACHE_STALE = 1,                        //  out of order (no seq to say more): not for clients
    CACHE_SEEN = 2,                         //  its seq is not newer than held: a repeat or older
} cache_result_t;

cache_t *cache_new (size_t max, int64_t keep_ms);
void cache_destroy (cache_t **self_p);

//  Applies ev at now. On CACHE_ACCEPTED *entry_p is the job's entry (borrowed, valid
//  until the next cache call that may evict). When the event and the entry both have a
//  seq, only a greater one is accepted (even after a final event: a resumed job runs
//  again); one that skips seqs adds them to missing, and an older one that arrives
//  afterwards takes one off (CACHE_SEEN either way). Without a seq, the order rules of
//  publishers that send none: nothing after a final event; a created after anything else
//  is stale; a progress with fewer processed than held is stale (publishers race).
cache_result_t cache_apply (cache_t *self, const event_t *ev, int64_t now_ms,
                            cache_entry_t **entry_p);

//  Whether some job has seqs missing (cache_resynced clears them).
bool cache_has_gaps (cache_t *self);

//  Jobs not final, with a seq, of which nothing was heard for silent_ms at now: their
//  publishers re-send live jobs every few seconds, so silence means events are lost.
size_t cache_silent (cache_t *self, int64_t now_ms, int64_t silent_ms);

//  The current state was just read from the source: every hole is filled or moot, and every
//  job counts as heard.
void cache_resynced (cache_t *self, int64_t now_ms);

//  Drops finished entries older than keep_ms. Returns how many went.
size_t cache_expire (cache_t *self, int64_t now_ms);

cache_entry_t *cache_lookup (cache_t *self, const char *job_id);

//  The stamp of the latest accepted event (0: none yet). Stamps rise by one per event taken.
uint64_t cache_stamp (cache_t *self);

//  The entry with the least stamp above stamp, or NULL: cache_after (c, 0) is the least
//  recently updated. O(log n); an entry updated meanwhile moves past the newest.
cache_entry_t *cache_after (cache_t *self, uint64_t stamp);

size_t cache_size (cache_t *self);

//  Iteration in no particular order; do not apply or expire while iterating.
cache_entry_t *cache_first (cache_t *self);
cache_entry_t *cache_next (cache_t *self);

#endif
