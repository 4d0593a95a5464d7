/*  usercache: a ring of entries in insertion order (the write position is the oldest
    entry) plus a hash index; both bounded by the capacity given at creation.  */
#include "usercache.h"

#include <ctype.h>
#include <czmq.h>

typedef struct {
    char id [UUID_STRLEN + 1];      //  lower case; "" when the slot is free
    svc_role_t role;
    int64_t at;
} s_entry_t;

struct _usercache_t {
    s_entry_t *ring;
    size_t capacity;
    size_t next;                    //  next slot to write: the oldest entry
    int64_t ttl_ms;
    zhashx_t *index;                //  id -> s_entry_t * (borrowed from ring)
};

usercache_t *
usercache_new (size_t capacity, int64_t ttl_ms)
{
    usercache_t *self = (usercache_t *) zmalloc (sizeof (usercache_t));
    self->capacity = capacity ? capacity : 1;
    self->ring = (s_entry_t *) zmalloc (self->capacity * sizeof (s_entry_t));
    self->ttl_ms = ttl_ms;
    self->index = zhashx_new ();
    return self;
}

void
usercache_destroy (usercache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy (&(*self_p)->index);
    free ((*self_p)->ring);
    free (*self_p);
    *self_p = NULL;
}

static bool
s_key (const char *user, char key [UUID_STRLEN + 1])
{
    if (!uuid_valid (user))
        return false;
    for (int i = 0; i < UUID_STRLEN; i++)
        key [i] = (char) tolower ((unsigned char) user [i]);
    key [UUID_STRLEN] = 0;
    return true;
}

svc_role_t
usercache_get (usercache_t *self, const char *user, int64_t now_ms)
{
    char key [UUID_STRLEN + 1];
    if (!s_key (user, key))
        return SVC_ROLE_NONE;
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->index, key);
    if (!entry || now_ms - entry->at >= self->ttl_ms)
        return SVC_ROLE_NONE;
    return entry->role;
}

void
usercache_put (usercache_t *self, const char *user, svc_role_t role, int64_t now_ms)
{
    char key [UUID_STRLEN + 1];
    if (!s_key (user, key))
        return;
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->index, key);
    if (entry) {                    //  refresh in place; its age in the ring is kept
        entry->role = role;
        entry->at = now_ms;
        return;
    }
    entry = &self->ring [self->next];
    if (entry->id [0])
        zhashx_delete (self->index, entry->id);
    memcpy (entry->id, key, sizeof key);
    entry->role = role;
    entry->at = now_ms;
    zhashx_insert (self->index, entry->id, entry);
    self->next = (self->next + 1) % self->capacity;
}

size_t
usercache_size (usercache_t *self)
{
    return zhashx_size (self->index);
}

//  An age no ttl allows: the entry stays in its slot (and the index) until reused in turn.
#define S_FORGOTTEN (INT64_MIN / 2)

void
usercache_forget (usercache_t *self, const char *user)
{
    char key [UUID_STRLEN + 1];
    if (!s_key (user, key))
        return;
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->index, key);
    if (entry)
        entry->at = S_FORGOTTEN;
}

void
usercache_forget_all (usercache_t *self)
{
    for (size_t i = 0; i < self->capacity; i++)
        self->ring [i].at = S_FORGOTTEN;
}
