/*  snapshot: ranges of stamps owed to one client; see snapshot.h.  */
#include "snapshot.h"

#include <string.h>

void
snapshot_add (snapshot_t *self, uint64_t after, uint64_t upto)
{
    if (upto <= after)
        return;
    if (self->n == SNAPSHOT_RANGES) {
        self->ranges [0].below = self->ranges [1].below;
        memmove (&self->ranges [1], &self->ranges [2],
                 (SNAPSHOT_RANGES - 2) * sizeof self->ranges [0]);
        self->n--;
    }
    self->ranges [self->n++] = (snapshot_range_t) { after, upto + 1 };
}

bool
snapshot_owed (const snapshot_t *self)
{
    return self->n > 0;
}

bool
snapshot_owes (const snapshot_t *self, uint64_t stamp)
{
    for (size_t i = 0; i < self->n; i++)
        if (stamp > self->ranges [i].after && stamp < self->ranges [i].below)
            return true;
    return false;
}

cache_entry_t *
snapshot_next (snapshot_t *self, cache_t *cache, svc_role_t role, const char *sub,
               size_t *budget)
{
    while (self->n > 0) {
        snapshot_range_t *range = &self->ranges [self->n - 1];
        cache_entry_t *e = cache_after (cache, range->after);
        if (!e || e->stamp >= range->below) {
            self->n--;
            continue;
        }
        if (event_visible (role, sub, e->created_by) && !e->pending)
            return e;
        if (*budget == 0)
            return NULL;
        (*budget)--;
        range->after = e->stamp;
    }
    return NULL;
}

void
snapshot_sent (snapshot_t *self, const cache_entry_t *entry)
{
    if (self->n > 0)
        self->ranges [self->n - 1].after = entry->stamp;
}
