/*  cache: a czmq hash of job id -> cache_entry_t; see cache.h for the rules.  */
#include "cache.h"
#include "../common/log.h"

#include <czmq.h>

#define S_ORDER_MIN     64                  //  slots the stamp order starts with

//  One place in the stamp order. A slot whose entry was updated again (it has a new slot
//  at the end) or left keeps its stamp with no entry, so the order stays sorted.
typedef struct {
    uint64_t stamp;
    cache_entry_t *entry;                   //  NULL: a hole
} s_slot_t;

struct cache_s {
    zhashx_t *jobs;
    uint64_t stamps;                        //  events accepted so far
    size_t max;
    int64_t keep_ms;
    //  Every entry by stamp, ascending, with holes; squeezed when full and half holes, so
    //  it holds at most four slots per entry (and never fewer than S_ORDER_MIN).
    s_slot_t *order;
    size_t n_order, cap_order;
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
    free ((*self_p)->order);
    free (*self_p);
    *self_p = NULL;
}

static void
s_unslot (cache_t *self, cache_entry_t *entry)
{
    if (entry->at < self->n_order && self->order [entry->at].entry == entry)
        self->order [entry->at].entry = NULL;
}

//  Room for one more slot: the holes go when they are half the slots, else the order doubles.
static int
s_order_room (cache_t *self)
{
    if (self->n_order < self->cap_order)
        return 0;
    if (self->cap_order && zhashx_size (self->jobs) <= self->cap_order / 2) {
        size_t n = 0;
        for (size_t i = 0; i < self->n_order; i++)
            if (self->order [i].entry) {
                self->order [n] = self->order [i];
                self->order [n].entry->at = n;
                n++;
            }
        self->n_order = n;
        return 0;
    }
    size_t cap = self->cap_order ? self->cap_order * 2 : S_ORDER_MIN;
    s_slot_t *order = (s_slot_t *) realloc (self->order, cap * sizeof *order);
    if (!order)
        return -1;
    self->order = order;
    self->cap_order = cap;
    return 0;
}

//  The entry took a new stamp: its slot moves to the end. Out of memory it has none, and
//  a client connecting meanwhile is not sent its state (the next event puts it back).
static void
s_slot (cache_t *self, cache_entry_t *entry)
{
    s_unslot (self, entry);
    if (s_order_room (self)) {
        log_error ("event=cache_order_failed job=%s msg=\"out of memory\"", entry->job_id);
        return;
    }
    self->order [self->n_order] = (s_slot_t) { entry->stamp, entry };
    entry->at = self->n_order++;
}

static void
s_delete (cache_t *self, cache_entry_t *entry)
{
    s_unslot (self, entry);
    zhashx_delete (self->jobs, entry->job_id);
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
        s_delete (self, victim);
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
    s_slot (self, entry);
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
            zlistx_add_end (old, e);
    size_t n = zlistx_size (old);
    for (cache_entry_t *e = zlistx_first (old); e; e = zlistx_next (old))
        s_delete (self, e);
    zlistx_destroy (&old);
    return n;
}

cache_entry_t *
cache_lookup (cache_t *self, const char *job_id)
{
    return (cache_entry_t *) zhashx_lookup (self->jobs, job_id);
}

uint64_t
cache_stamp (cache_t *self)
{
    return self->stamps;
}

cache_entry_t *
cache_after (cache_t *self, uint64_t stamp)
{
    //  The first slot above stamp, by halves (holes keep their stamps), then on past the
    //  holes.
    size_t lo = 0, hi = self->n_order;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->order [mid].stamp <= stamp)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < self->n_order; lo++)
        if (self->order [lo].entry)
            return self->order [lo].entry;
    return NULL;
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
