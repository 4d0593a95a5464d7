/*  worker: the broker's worker table entries, their waiting-list bookkeeping and the
    requests each one holds. See worker.h.  */
#include "worker.h"
#include "../common/log.h"

#include <stdlib.h>
#include <string.h>

void
worker_id_of (zframe_t *address, char *out)
{
    static const char digits [] = "0123456789abcdef";
    const unsigned char *data = zframe_data (address);
    size_t size = zframe_size (address);
    if (size > MDP_ADDRESS_MAX)
        size = MDP_ADDRESS_MAX;
    for (size_t i = 0; i < size; i++) {
        out [2 * i] = digits [data [i] >> 4];
        out [2 * i + 1] = digits [data [i] & 15];
    }
    out [2 * size] = 0;
}

void
worker_who_of (zframe_t *address, const char *name, worker_who_t *who)
{
    worker_id_of (address, who->id);
    snprintf (who->name, sizeof who->name, "%s", name && *name ? name : who->id);
    const char *peer = address ? zframe_meta (address, "Peer-Address") : NULL;
    //  Over a Unix socket (the local endpoint) libzmq says "localhost:<uid>:<gid>:<pid>";
    //  over TCP always a numeric address.
    if (peer && !strncmp (peer, "localhost:", 10))
        peer = "local";
    snprintf (who->peer, sizeof who->peer, "%s", peer && *peer ? peer : "-");
    for (char *p = who->peer; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '=' || *p == '\\')
            *p = '?';
}

worker_t *
worker_new (const char *id)
{
    worker_t *self = (worker_t *) zmalloc (sizeof (worker_t));
    snprintf (self->id, sizeof self->id, "%s", id);
    self->credit = 1;
    return self;
}

void
worker_destroy (worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    worker_t *self = *self_p;
    zframe_destroy (&self->address);
    for (size_t i = 0; i < self->held_n; i++)
        request_destroy (&self->held [i]);
    free (self);
    *self_p = NULL;
}

void
worker_identify (worker_t *self, zframe_t **address_p, const char *name, int64_t since_ms)
{
    worker_who_t who;
    worker_who_of (*address_p, name, &who);
    memcpy (self->id, who.id, sizeof self->id);
    memcpy (self->name, who.name, sizeof self->name);
    memcpy (self->peer, who.peer, sizeof self->peer);
    zframe_destroy (&self->address);
    self->address = *address_p;
    *address_p = NULL;
    self->since = since_ms;
}

void
worker_enlist (worker_t *self, int delta)
{
    for (size_t i = 0; i < self->services_n; i++) {
        service_t *svc = self->services [i];
        svc->workers = delta > 0 ? svc->workers + 1 : svc->workers - 1;
        svc->offered = svc->offered || delta > 0;
        svc->credit = delta > 0 ? svc->credit + (size_t) self->credit
                                : svc->credit - (size_t) self->credit;
    }
}

void
worker_add_service (worker_t *self, service_t *svc)
{
    for (size_t i = 0; i < self->services_n; i++)
        if (self->services [i] == svc)
            return;
    self->services [self->services_n++] = svc;
}

void
worker_wait (worker_t *self)
{
    for (size_t i = 0; i < self->services_n; i++)
        if (self->idle)
            zlistx_move_end (self->services [i]->waiting, self->waiting [i]);
        else
            self->waiting [i] = zlistx_add_end (self->services [i]->waiting, self);
    self->idle = true;
}

void
worker_unwait (worker_t *self)
{
    if (!self->idle)
        return;
    for (size_t i = 0; i < self->services_n; i++) {
        zlistx_detach (self->services [i]->waiting, self->waiting [i]);
        self->waiting [i] = NULL;
    }
    self->idle = false;
}

bool
worker_may_take (worker_t *self, service_t *svc)
{
    if (self->bulk || self->held_n >= (size_t) self->credit)
        return false;
    if (svc && svc->bulk)
        return self->held_n == 0;
    return !self->claimed;
}

void
worker_claim (worker_t *self, service_t *bulk)
{
    worker_unclaim (self);
    worker_unwait (self);
    self->claimed = bulk;
    bulk->claimed++;
}

void
worker_unclaim (worker_t *self)
{
    if (self->claimed)
        self->claimed->claimed--;
    self->claimed = NULL;
}

void
worker_hold (worker_t *self, request_t *req)
{
    //  Dispatch sends only to a worker with room: one beyond its credit is our bug, and
    //  writing it would run past held [].
    if (self->held_n >= (size_t) self->credit || self->held_n >= MDP_CREDIT_MAX)
        PANIC ("event=worker_over_credit " WORKER_LOG_FMT " held=%zu credit=%d",
               WORKER_LOG_ARGS (self), self->held_n, self->credit);
    self->held [self->held_n++] = req;
    req->service->in_flight++;
    if (req->service->bulk)
        self->bulk = true;
}

//  Takes held [i], keeping the others in the order they were sent.
static request_t *
s_take (worker_t *self, size_t i)
{
    request_t *req = self->held [i];
    memmove (&self->held [i], &self->held [i + 1], (self->held_n - i - 1) * sizeof (request_t *));
    self->held [--self->held_n] = NULL;
    req->service->in_flight--;
    if (req->service->bulk)
        self->bulk = false;
    return req;
}

request_t *
worker_release (worker_t *self, zframe_t *client, const char *rid)
{
    for (size_t i = 0; i < self->held_n; i++) {
        request_t *req = self->held [i];
        if (zframe_eq (req->client, client) && (self->credit == 1 || streq (req->rid, rid)))
            return s_take (self, i);
    }
    return NULL;
}

request_t *
worker_take_last (worker_t *self)
{
    return self->held_n ? s_take (self, self->held_n - 1) : NULL;
}

static int
s_by_name (const void *a, const void *b)
{
    const worker_t *x = *(const worker_t *const *) a, *y = *(const worker_t *const *) b;
    int rc = strcmp (x->name, y->name);
    return rc ? rc : strcmp (x->id, y->id);
}

size_t
worker_table_sorted (zhashx_t *table, worker_t **out, size_t max)
{
    size_t n = zhashx_size (table);
    worker_t **all = (worker_t **) zmalloc ((n ? n : 1) * sizeof (worker_t *));
    size_t k = 0;
    for (worker_t *w = (worker_t *) zhashx_first (table); w && k < n;
         w = (worker_t *) zhashx_next (table))
        all [k++] = w;
    qsort (all, k, sizeof all [0], s_by_name);
    if (k > max)
        k = max;
    memcpy (out, all, k * sizeof all [0]);
    free (all);
    return k;
}
