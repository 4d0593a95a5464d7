/*  usercache: a bounded, short-lived map of user id -> role, so the user check that
    precedes every authenticated request usually costs no query. Full: the oldest entry
    is evicted. A user whose row changes is forgotten when PostgreSQL announces it
    (sql/0012_user_changes.sql); an entry older than the ttl is a miss all the same, in
    case an announcement was lost with a connection.  */
#ifndef WORKERS_USERCACHE_H
#define WORKERS_USERCACHE_H

#include <stddef.h>
#include <stdint.h>
#include "../proto/svc.h"

typedef struct _usercache_t usercache_t;

usercache_t *usercache_new (size_t capacity, int64_t ttl_ms);
void usercache_destroy (usercache_t **self_p);

//  The role cached for user (any case), or SVC_ROLE_NONE when absent or expired.
svc_role_t usercache_get (usercache_t *self, const char *user, int64_t now_ms);
void usercache_put (usercache_t *self, const char *user, svc_role_t role, int64_t now_ms);
size_t usercache_size (usercache_t *self);

//  From now on a miss for user (any case), or for every user: the next check asks again.
void usercache_forget (usercache_t *self, const char *user);
void usercache_forget_all (usercache_t *self);

#endif
