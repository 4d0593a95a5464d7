/*  ratelimit: token buckets keyed by a short string (a client address or a user id) in a
    fixed-size table, so a flood from one client is answered 429 and memory stays bounded
    however many clients there are: when the table is full, the bucket seen longest ago is
    reused (a client forgotten that way simply starts with a full bucket again).  */
#ifndef EDGE_RATELIMIT_H
#define EDGE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_KEY_MAX 63

typedef struct ratelimit_s ratelimit_t;

//  rate: tokens per second (0 disables the limiter: every take succeeds); burst: bucket
//  size; slots: table size (rounded up to a power of two).
ratelimit_t *ratelimit_new (double rate, double burst, size_t slots);
void ratelimit_destroy (ratelimit_t **self_p);

//  Takes one token for key at now_ms. Returns true when the request may go on; false with
//  *retry_after_s (whole seconds, at least 1) when the bucket is empty.
bool ratelimit_take (ratelimit_t *self, const char *key, int64_t now_ms, int *retry_after_s);

//  Gives back a token taken for key, for an attempt that was never judged (the backend
//  did not answer): at most up to the burst, and nothing when the bucket is gone.
void ratelimit_give (ratelimit_t *self, const char *key);

#endif
