/*  clientq: a fixed ring of (kind, job, payload) per client; see clientq.h.  */
#include "clientq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    event_kind_t kind;
    char job_id [UUID_STRLEN + 1];
    event_payload_t *payload;
} s_item_t;

struct clientq_s {
    size_t max, head, size;
    s_item_t items [];
};

clientq_t *
clientq_new (size_t max)
{
    if (max == 0)
        return NULL;
    clientq_t *self = calloc (1, sizeof *self + max * sizeof (s_item_t));
    if (self)
        self->max = max;
    return self;
}

void
clientq_destroy (clientq_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    clientq_t *self = *self_p;
    while (self->size)
        clientq_pop (self);
    free (self);
    *self_p = NULL;
}

//  The pending message of job_id (a progress one only, when progress_only), or NULL.
static s_item_t *
s_find (clientq_t *self, const char *job_id, bool progress_only)
{
    for (size_t i = 0; i < self->size; i++) {
        s_item_t *item = &self->items [(self->head + i) % self->max];
        if ((!progress_only || item->kind == EVENT_PROGRESS) && !strcmp (item->job_id, job_id))
            return item;
    }
    return NULL;
}

clientq_result_t
clientq_push (clientq_t *self, event_kind_t kind, const char *job_id, event_payload_t *payload)
{
    s_item_t *pending = kind == EVENT_PROGRESS ? s_find (self, job_id, true) : NULL;
    if (pending) {
        event_payload_unref (&pending->payload);
        pending->payload = event_payload_ref (payload);
        return CLIENTQ_COALESCED;
    }
    if (self->size == self->max)
        return CLIENTQ_FULL;
    s_item_t *item = &self->items [(self->head + self->size) % self->max];
    item->kind = kind;
    snprintf (item->job_id, sizeof item->job_id, "%s", job_id);
    item->payload = event_payload_ref (payload);
    self->size++;
    return CLIENTQ_QUEUED;
}

event_payload_t *
clientq_front (clientq_t *self)
{
    return self->size ? self->items [self->head].payload : NULL;
}

void
clientq_pop (clientq_t *self)
{
    if (!self->size)
        return;
    event_payload_unref (&self->items [self->head].payload);
    self->head = (self->head + 1) % self->max;
    self->size--;
}

size_t
clientq_size (clientq_t *self)
{
    return self->size;
}

bool
clientq_holds (clientq_t *self, const char *job_id)
{
    return s_find (self, job_id, false) != NULL;
}
