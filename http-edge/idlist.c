/*  idlist: a job body's ids as 16 bytes each, counted, bad ones indexed (idlist.h).  */
#include "idlist.h"
#include "../common/log.h"
#include "../common/uuid.h"

#include <stdlib.h>

#define IDS_INITIAL 256

struct _idlist_t {
    unsigned char *ids;
    size_t n, cap, max;             //  ids stored, room for, at most (in ids, not bytes)
    size_t count, bad_count;        //  elements seen, and bad ones among them
    size_t bad_index [IDLIST_BAD_MAX];
};

idlist_t *
idlist_new (size_t max)
{
    idlist_t *self = calloc (1, sizeof *self);
    if (self)
        self->max = max;
    return self;
}

void
idlist_destroy (idlist_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->ids);
    free (*self_p);
    *self_p = NULL;
}

void
idlist_element (idlist_t *self, int is_string)
{
    self->count++;
    if (!is_string)
        idlist_bad (self);
}

void
idlist_bad (idlist_t *self)
{
    if (self->bad_count < IDLIST_BAD_MAX)
        self->bad_index [self->bad_count] = self->count - 1;
    self->bad_count++;
}

//  Room for one more id; -1 when out of memory.
static int
s_room (idlist_t *self)
{
    if (self->n < self->cap)
        return 0;
    size_t cap = self->cap ? self->cap * 2 : IDS_INITIAL;
    if (cap > self->max)
        cap = self->max;
    unsigned char *ids = realloc (self->ids, cap * 16);
    if (!ids) {
        log_error ("event=jobbody_oom ids=%zu", cap);
        return -1;
    }
    self->ids = ids;
    self->cap = cap;
    return 0;
}

int
idlist_put (idlist_t *self, const char *s)
{
    //  Over the limit an id is only checked, so that a bad one still counts as bad.
    unsigned char scratch [16], *out = scratch;
    if (self->n < self->max) {
        if (s_room (self))
            return -1;
        out = self->ids + self->n * 16;
    }
    if (uuid_to_bytes (s, UUID_STRLEN, out))
        return 0;
    if (out != scratch)
        self->n++;
    return 1;
}

size_t
idlist_count (const idlist_t *self)
{
    return self->count;
}

size_t
idlist_bad_count (const idlist_t *self)
{
    return self->bad_count;
}

size_t
idlist_bad_index (const idlist_t *self, size_t i)
{
    return i < self->bad_count && i < IDLIST_BAD_MAX ? self->bad_index [i] : (size_t) -1;
}

size_t
idlist_memory (const idlist_t *self)
{
    return sizeof *self + self->cap * 16;
}

unsigned char *
idlist_take (idlist_t *self, size_t *count)
{
    unsigned char *ids = self->n ? self->ids : NULL;
    *count = self->n;
    if (ids) {
        self->ids = NULL;
        self->n = self->cap = 0;
    }
    return ids;
}
