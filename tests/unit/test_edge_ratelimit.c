/*  Unit tests for http-edge/ratelimit: token buckets in a bounded table.  */
#include "testing.h"
#include "../../http-edge/ratelimit.h"

#include <stdio.h>

//  One take: key at now_ms, and whether it should pass.
typedef struct { const char *key; int64_t now_ms; bool passes; } s_take_t;

//  Runs takes in order against a fresh limiter of rate per second and burst; true when each
//  passed or not as listed (says which did not). retry gets the last Retry-After.
static bool
s_takes (double rate, double burst, const s_take_t *takes, size_t n, int *retry)
{
    ratelimit_t *rl = ratelimit_new (rate, burst, 64);
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        if (ratelimit_take (rl, takes [i].key, takes [i].now_ms, retry) != takes [i].passes) {
            fprintf (stderr, "  take %zu (%s at %lld ms): expected %s\n", i, takes [i].key,
                     (long long) takes [i].now_ms, takes [i].passes ? "pass" : "refusal");
            ok = false;
        }
    ratelimit_destroy (&rl);
    return ok && rl == NULL;
}

#define S_N(array) (sizeof array / sizeof array [0])

TEST (test_a_burst_passes_then_the_next_is_refused_with_retry_after)
{
    static const s_take_t takes [] = {
        { "10.0.0.1", 1000, true }, { "10.0.0.1", 1000, true }, { "10.0.0.1", 1000, true },
        { "10.0.0.1", 1000, false },
    };
    int retry = 0;
    CHECK (s_takes (1, 3, takes, S_N (takes), &retry));
    CHECK_INT (retry, 1);
}

TEST (test_tokens_come_back_with_time)
{
    static const s_take_t takes [] = {
        { "u", 0, true }, { "u", 0, true }, { "u", 100, false }, { "u", 600, true },
    };
    int retry = 0;
    CHECK (s_takes (2, 2, takes, S_N (takes), &retry));
}

TEST (test_keys_have_their_own_buckets)
{
    static const s_take_t takes [] = { { "a", 0, true }, { "a", 0, false }, { "b", 0, true } };
    int retry = 0;
    CHECK (s_takes (1, 1, takes, S_N (takes), &retry));
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

TEST (test_a_token_given_back_is_taken_again_never_beyond_the_burst)
{
    ratelimit_t *rl = ratelimit_new (1, 2, 16);
    int retry = 0;
    CHECK (ratelimit_take (rl, "k", 0, &retry));
    CHECK (ratelimit_take (rl, "k", 0, &retry));
    CHECK (!ratelimit_take (rl, "k", 0, &retry));
    ratelimit_give (rl, "k");
    CHECK (ratelimit_take (rl, "k", 0, &retry));
    CHECK (!ratelimit_take (rl, "k", 0, &retry));
    //  Given back more often than taken: still the burst, no more.
    for (int i = 0; i < 10; i++)
        ratelimit_give (rl, "k");
    CHECK (ratelimit_take (rl, "k", 0, &retry));
    CHECK (ratelimit_take (rl, "k", 0, &retry));
    CHECK (!ratelimit_take (rl, "k", 0, &retry));
    //  A key never taken has no bucket to give to: its first takes are the burst's.
    ratelimit_give (rl, "other");
    CHECK (ratelimit_take (rl, "other", 0, &retry));
    CHECK (ratelimit_take (rl, "other", 0, &retry));
    CHECK (!ratelimit_take (rl, "other", 0, &retry));
    ratelimit_destroy (&rl);
}

TEST_MAIN ("edge_ratelimit",
    T (test_a_burst_passes_then_the_next_is_refused_with_retry_after),
    T (test_tokens_come_back_with_time),
    T (test_keys_have_their_own_buckets),
    T (test_a_zero_rate_disables_the_limit),
    T (test_many_keys_never_grow_the_table_and_a_flooder_stays_limited),
    T (test_a_token_given_back_is_taken_again_never_beyond_the_burst))
