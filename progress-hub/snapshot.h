/*  snapshot: the current state a WebSocket client is still owed, sent a frame at a time as
    its socket drains. It holds no event and no copy, only ranges of the cache's stamps,
    walked from the least recently updated up (those are the next to leave the cache, by
    expiry or eviction): an entry updated meanwhile moves above them (its new state reaches
    the client live), one that leaves the cache is skipped. So what a client is owed costs
    it a few words, whatever the cache holds.  */
#ifndef HUB_SNAPSHOT_H
#define HUB_SNAPSHOT_H

#include "cache.h"

#define SNAPSHOT_RANGES     4       //  ranges owed at once; one more merges the oldest two

//  Entries whose stamp is above after and below below are owed.
typedef struct {
    uint64_t after;
    uint64_t below;
} snapshot_range_t;

//  A value in the client's own state: zeroed, it owes nothing.
typedef struct {
    snapshot_range_t ranges [SNAPSHOT_RANGES];  //  oldest first; the last is walked
    size_t n;
} snapshot_t;

//  Owes the entries with a stamp in (after, upto]: the whole cache on connect (0, its
//  stamp), what a resync brought later. Newer ranges go first. A fifth range merges the
//  two oldest, which may send a state the client already has again, never an older one.
void snapshot_add (snapshot_t *self, uint64_t after, uint64_t upto);

//  Whether anything is still owed.
bool snapshot_owed (const snapshot_t *self);

//  Whether the state stamped stamp is owed and not passed yet: the walk will send it, so
//  the fan-out does not (a throttled progress let out while it is owed would come twice).
bool snapshot_owes (const snapshot_t *self, uint64_t stamp);

//  The next entry owed that role/sub may see (event_visible), or NULL: nothing is owed,
//  or *budget entries were passed over first (each one passed takes one; call again
//  later). Skips a job whose progress waits for its turn (the hub fans it out to every
//  live client then). Borrowed, valid until the cache changes; snapshot_sent once sent.
cache_entry_t *snapshot_next (snapshot_t *self, cache_t *cache, svc_role_t role,
                              const char *sub, size_t *budget);

//  The entry snapshot_next gave was sent: the walk goes on above it.
void snapshot_sent (snapshot_t *self, const cache_entry_t *entry);

#endif
