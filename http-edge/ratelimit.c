/*  ratelimit: bounded token buckets; open addressing over a short probe window.  */
#include "ratelimit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PROBES 8                  //  slots looked at per key before one is reused

typedef struct {
    char key [RATELIMIT_KEY_MAX + 1];   //  "" when free
    double tokens;
    int64_t seen_ms;                    //  last refill
} s_bucket_t;

struct ratelimit_s {
    double rate, burst;
    size_t mask;
    s_bucket_t *buckets;
};

ratelimit_t *
ratelimit_new (double rate, double burst, size_t slots)
{
    ratelimit_t *self = (ratelimit_t *) calloc (1, sizeof (ratelimit_t));
    size_t n = 16;
    while (n < slots)
        n <<= 1;
    if (self)
        self->buckets = (s_bucket_t *) calloc (n, sizeof (s_bucket_t));
    if (!self || !self->buckets) {
        ratelimit_destroy (&self);
        return NULL;
    }
    self->rate = rate;
    self->burst = burst < 1 ? 1 : burst;
    self->mask = n - 1;
    return self;
}

void
ratelimit_destroy (ratelimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->buckets);
    free (*self_p);
    *self_p = NULL;
}

static uint64_t
s_hash (const char *key)
{
    uint64_t h = 1469598103934665603ULL;        //  FNV-1a
    for (const unsigned char *p = (const unsigned char *) key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h ^ (h >> 29);
}

//  The bucket of key (cut to RATELIMIT_KEY_MAX), NULL when it has none; with create, a
//  new full one in a free slot or in the one seen longest ago.
static s_bucket_t *
s_bucket (ratelimit_t *self, const char *key, int64_t now_ms, bool create)
{
    char k [RATELIMIT_KEY_MAX + 1];
    snprintf (k, sizeof k, "%s", key);
    size_t at = (size_t) s_hash (k) & self->mask;
    s_bucket_t *victim = NULL;
    for (int i = 0; i < S_PROBES; i++) {
        s_bucket_t *b = &self->buckets [(at + (size_t) i) & self->mask];
        if (!strcmp (b->key, k))
            return b;
        //  A free slot first, else the bucket seen longest ago.
        if (!victim || (*victim->key && (!*b->key || b->seen_ms < victim->seen_ms)))
            victim = b;
    }
    if (!create)
        return NULL;
    snprintf (victim->key, sizeof victim->key, "%s", k);
    victim->tokens = self->burst;
    victim->seen_ms = now_ms;
    return victim;
}

bool
ratelimit_take (ratelimit_t *self, const char *key, int64_t now_ms, int *retry_after_s)
{
    if (self->rate <= 0)
        return true;
    s_bucket_t *bucket = s_bucket (self, key, now_ms, true);
    double refill = (double) (now_ms - bucket->seen_ms) / 1000.0 * self->rate;
    if (refill > 0) {
        bucket->tokens = fmin (self->burst, bucket->tokens + refill);
        bucket->seen_ms = now_ms;
    }
    if (bucket->tokens >= 1) {
        bucket->tokens -= 1;
        return true;
    }
    int wait = (int) ceil ((1 - bucket->tokens) / self->rate);
    *retry_after_s = wait < 1 ? 1 : wait;
    return false;
}

void
ratelimit_give (ratelimit_t *self, const char *key)
{
    if (self->rate <= 0)
        return;
    s_bucket_t *bucket = s_bucket (self, key, 0, false);
    if (bucket)
        bucket->tokens = fmin (self->burst, bucket->tokens + 1);
}
