/*  service: the broker's service table entries and the bulk reserve rule. See service.h.  */
#include "service.h"
#include "../proto/svc.h"

#include <stdlib.h>
#include <string.h>

zhashx_t *
service_table_new (void)
{
    zhashx_t *table = zhashx_new ();
    zhashx_set_destructor (table, (zhashx_destructor_fn *) service_destroy);
    return table;
}

void
service_table_prune (zhashx_t *table, int64_t keep_since)
{
    //  Collected first: an entry must not be deleted while the table is being walked.
    zlistx_t *idle = NULL;
    for (service_t *svc = (service_t *) zhashx_first (table); svc;
         svc = (service_t *) zhashx_next (table))
        if (svc->workers == 0 && svc->in_flight == 0 && zlistx_size (svc->requests) == 0
        && (!svc->offered || svc->unoffered_since <= keep_since)) {
            if (!idle)
                idle = zlistx_new ();
            zlistx_add_end (idle, svc->name);
        }
    if (!idle)
        return;
    for (char *name = (char *) zlistx_first (idle); name; name = (char *) zlistx_next (idle))
        zhashx_delete (table, name);
    zlistx_destroy (&idle);
}

service_t *
service_require (zhashx_t *table, const char *name, size_t max)
{
    service_t *self = (service_t *) zhashx_lookup (table, name);
    if (self)
        return self;
    if (zhashx_size (table) >= max)
        return NULL;
    self = (service_t *) zmalloc (sizeof (service_t));
    self->name = strdup (name);
    self->bulk = streq (name, SVC_JOBS_CHUNK);
    self->requests = zlistx_new ();
    zlistx_set_destructor (self->requests, (zlistx_destructor_fn *) request_destroy);
    self->waiting = zlistx_new ();
    zhashx_insert (table, name, self);
    return self;
}

void
service_destroy (service_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    service_t *self = *self_p;
    zlistx_destroy (&self->requests);
    zlistx_destroy (&self->waiting);
    free (self->name);
    free (self);
    *self_p = NULL;
}

bool
service_has_room (service_t *self, int64_t now, int64_t last_interactive, size_t reserve)
{
    if (!self->bulk || now - last_interactive >= SERVICE_BULK_RESERVE_MS)
        return true;
    size_t cap = self->workers > reserve ? self->workers - reserve : 1;
    return self->in_flight + self->claimed < cap;
}

uint64_t
service_head_rank (service_t *self, int64_t now)
{
    request_t *head = (request_t *) zlistx_head (self->requests);
    if (!head)
        return UINT64_MAX;
    uint64_t rank = head->seq;
    if (self->bulk && now - head->queued_at < SERVICE_BULK_YIELD_MS)
        rank |= 1ULL << 62;
    return rank;
}

size_t
service_due (service_t *self, int64_t now, size_t max)
{
    size_t due = 0;
    for (request_t *req = (request_t *) zlistx_first (self->requests); req && due < max;
         req = (request_t *) zlistx_next (self->requests))
        if (now - req->queued_at >= SERVICE_BULK_YIELD_MS)
            due++;
    return due;
}
