/*  worker: the broker's worker table entries and their idle-list bookkeeping. See worker.h.  */
#include "worker.h"

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

worker_t *
worker_new (const char *id)
{
    worker_t *self = (worker_t *) zmalloc (sizeof (worker_t));
    snprintf (self->id, sizeof self->id, "%s", id);
    return self;
}

void
worker_destroy (worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zframe_destroy (&(*self_p)->address);
    request_destroy (&(*self_p)->request);
    free (*self_p);
    *self_p = NULL;
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

request_t *
worker_take_request (worker_t *self)
{
    request_t *req = self->request;
    self->request = NULL;
    if (req)
        req->service->in_flight--;
    return req;
}
