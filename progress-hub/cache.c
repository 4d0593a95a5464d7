/*  cache: a czmq hash of job id -> cache_entry_t; see cache.h for the rules.  */
#include "cache.h"

#include <czmq.h>

struct cache_s {
    zhashx_t *jobs;
    uint64_t stamps;                        //  events accepted so far
    size_t max;
    int64_t keep_ms;
};

static void
s_entry_destroy (void **item_p)
{
    cache_entry_t *entry = (cache_entry_t *) *item_p;
    if (entry) {
        event_payload_unref (&entry->payload);
        free (entry);
    }
    *item_p = NULL;
}

cache_t *
cache_new (size_t max, int64_t keep_ms)
{
    cache_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->jobs = zhashx_new ();
    if (!self->jobs) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->jobs, s_entry_destroy);
    self->max = max ? max : 1;
    self->keep_ms = keep_ms;
    return self;
}

void
cache_destroy (cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy (&(*self_p)->jobs);
    free (*self_p);
    *self_p = NULL;
}

//  Full: the oldest finished job goes first; with none, the least recently updated
//  running one (its next event brings it back). A linear scan, only when full.
static void
s_evict_one (cache_t *self)
{
    cache_entry_t *victim = NULL;
    for (cache_entry_t *e = zhashx_first (self->jobs); e; e = zhashx_next (self->jobs)) {
        bool done = event_kind_final (e->kind);
        bool victim_done = victim && event_kind_final (victim->kind);
        if (!victim
        ||  (done && !victim_done)
        ||  (done == victim_done
             && (done ? e->finished_ms < victim->finished_ms
                      : e->updated_ms < victim->updated_ms)))
            victim = e;
    }
    if (victim)
        zhashx_delete (self->jobs, victim->job_id);
}

//  The seq rule, for an event and an entry that both carry one: CACHE_SEEN for a seq not
//  above the entry's (one older than it fills a hole), else CACHE_ACCEPTED and the holes
//  it leaves behind are counted.
static cache_result_t
s_seq_order (cache_entry_t *entry, long long seq)
{
    if (seq <= entry->seq) {
        if (seq < entry->seq && entry->missing > 0)
            entry->missing--;
        return CACHE_SEEN;
    }
    entry->missing += seq - entry->seq - 1;
    return CACHE_ACCEPTED;
}

//  The order rules for events without a seq (CACHE_STALE when out of order).
static cache_result_t
s_legacy_order (cache_entry_t *entry, const event_t *ev)
{
    if (event_kind_final (entry->kind))
        return CACHE_STALE;
    if (ev->info.kind == EVENT_CREATED)
        return CACHE_STALE;
    if (ev->info.kind == EVENT_PROGRESS && ev->info.processed >= 0
    &&  ev->info.processed < entry->processed)
        return CACHE_STALE;
    return CACHE_ACCEPTED;
}

static cache_entry_t *
s_entry_new (cache_t *self, const event_t *ev)
{
    if (zhashx_size (self->jobs) >= self->max)
        s_evict_one (self);
    cache_entry_t *entry = calloc (1, sizeof *entry);
    if (!entry)
        return NULL;
    memcpy (entry->job_id, ev->info.job_id, sizeof entry->job_id);
    memcpy (entry->created_by, ev->info.created_by, sizeof entry->created_by);
    entry->processed = -1;
    entry->seq = -1;
    zhashx_insert (self->jobs, entry->job_id, entry);
    return entry;
}

cache_result_t
cache_apply (cache_t *self, const event_t *ev, int64_t now_ms, cache_entry_t **entry_p)
{
    bool has_seq = ev->info.seq > 0;
    cache_entry_t *entry = (cache_entry_t *) zhashx_lookup (self->jobs, ev->info.job_id);
    if (entry) {
        entry->heard_ms = now_ms;
        cache_result_t order = has_seq && entry->seq > 0
                             ? s_seq_order (entry, ev->info.seq)
                             : s_legacy_order (entry, ev);
        if (order != CACHE_ACCEPTED)
            return order;
    }
    else
    if (!(entry = s_entry_new (self, ev)))
        return CACHE_STALE;
    event_payload_unref (&entry->payload);
    entry->payload = event_payload_ref (ev->payload);
    entry->kind = ev->info.kind;
    if (ev->info.processed > entry->processed || has_seq)
        entry->processed = ev->info.processed;
    if (has_seq)
        entry->seq = ev->info.seq;
    entry->updated_ms = now_ms;
    entry->stamp = ++self->stamps;
    entry->heard_ms = now_ms;
    entry->finished_ms = event_kind_final (ev->info.kind) ? now_ms : 0;
    if (event_kind_final (ev->info.kind))
        entry->pending = false;
    if (entry_p)
        *entry_p = entry;
    return CACHE_ACCEPTED;
}

bool
cache_has_gaps (cache_t *self)
{
    for (cache_entry_t *e = zhashx_first (self->jobs); e; e = zhashx_next (self->jobs))
        if (e->missing > 0)
            return true;
    return false;
}

size_t
cache_silent (cache_t *self, int64_t now_ms, int64_t silent_ms)
{
    size_t n = 0;
    for (cache_entry_t *e = zhashx_first (self->jobs); e; e = zhashx_next (self->jobs))
        if (e->seq > 0 && !event_kind_final (e->kind) && now_ms - e->heard_ms >= silent_ms)
            n++;
    return n;
}

void
cache_resynced (cache_t *self, int64_t now_ms)
{
    for (cache_entry_t *e = zhashx_first (self->jobs); e; e = zhashx_next (self->jobs)) {
        e->missing = 0;
        e->heard_ms = now_ms;
    }
}

size_t
cache_expire (cache_t *self, int64_t now_ms)
{
    zlistx_t *old = zlistx_new ();
    for (cache_entry_t *e = zhashx_first (self->jobs); e; e = zhashx_next (self->jobs))
        if (event_kind_final (e->kind) && now_ms - e->finished_ms >= self->keep_ms)
            zlistx_add_end (old, e->job_id);
    size_t n = zlistx_size (old);
    //  The keys are the entries' own job_id: copy before deleting.
    char id [UUID_STRLEN + 1];
    for (char *key = zlistx_first (old); key; key = zlistx_next (old)) {
        memcpy (id, key, sizeof id);
        zhashx_delete (self->jobs, id);
    }
    zlistx_destroy (&old);
    return n;
}

cache_entry_t *
cache_lookup (cache_t *self, const char *job_id)
{
    return (cache_entry_t *) zhashx_lookup (self->jobs, job_id);
}

size_t
cache_size (cache_t *self)
{
    return zhashx_size (self->jobs);
}

cache_entry_t *
cache_first (cache_t *self)
{
    return (cache_entry_t *) zhashx_first (self->jobs);
}

cache_entry_t *
cache_next (cache_t *self)
{
    return (cache_entry_t *) zhashx_next (self->jobs);
}
