/*  Unit tests for http-edge/ratelimit: token buckets in a bounded table.  */
#include "testing.h"
#include "../../http-edge/ratelimit.h"

#include <stdio.h>

TEST (test_a_burst_passes_then_the_next_is_refused_with_retry_after)
{
    ratelimit_t *rl = ratelimit_new (1, 3, 64);
    int retry = 0;
    for (int i = 0; i < 3; i++)
        CHECK (ratelimit_take (rl, "10.0.0.1", 1000, &retry));
    CHECK (!ratelimit_take (rl, "10.0.0.1", 1000, &retry));
    CHECK_INT (retry, 1);
    ratelimit_destroy (&rl);
    CHECK (rl == NULL);
}

TEST (test_tokens_come_back_with_time)
{
    ratelimit_t *rl = ratelimit_new (2, 2, 64);
    int retry = 0;
    CHECK (ratelimit_take (rl, "u", 0, &retry));
    CHECK (ratelimit_take (rl, "u", 0, &retry));
    CHECK (!ratelimit_take (rl, "u", 100, &retry));
    CHECK (ratelimit_take (rl, "u", 600, &retry));
    ratelimit_destroy (&rl);
}

TEST (test_keys_have_their_own_buckets)
{
    ratelimit_t *rl = ratelimit_new (1, 1, 64);
    int retry = 0;
    CHECK (ratelimit_take (rl, "a", 0, &retry));
    CHECK (!ratelimit_take (rl, "a", 0, &retry));
    CHECK (ratelimit_take (rl, "b", 0, &retry));
    ratelimit_destroy (&rl);
}

TEST (test_a_zero_rate_disables_the_limit)
{
    ratelimit_t *rl = ratelimit_new (0, 1, 16);
    int retry = 0;
    for (int i = 0; i < 1000; i++)
        CHECK (ratelimit_take (rl, "x", 0, &retry));
    ratelimit_destroy (&rl);
}

TEST (test_many_keys_never_grow_the_table_and_a_flooder_stays_limited)
{
    ratelimit_t *rl = ratelimit_new (1, 5, 64);
    int retry = 0;
    for (int i = 0; i < 5; i++)
        CHECK (ratelimit_take (rl, "flooder", 0, &retry));
    //  A hundred thousand other clients pass through a 64-slot table.
    char key [32];
    for (int i = 0; i < 100000; i++) {
        snprintf (key, sizeof key, "client-%d", i);
        CHECK (ratelimit_take (rl, key, 0, &retry));
    }
    //  Forgotten or not, the flooder gets at most a fresh burst, never more.
    int passed = 0;
    for (int i = 0; i < 20; i++)
        passed += ratelimit_take (rl, "flooder", 0, &retry);
    CHECK (passed <= 5);
    ratelimit_destroy (&rl);
}

TEST_MAIN ("edge_ratelimit",
    T (test_a_burst_passes_then_the_next_is_refused_with_retry_after),
    T (test_tokens_come_back_with_time),
    T (test_keys_have_their_own_buckets),
    T (test_a_zero_rate_disables_the_limit),
    T (test_many_keys_never_grow_the_table_and_a_flooder_stays_limited))
