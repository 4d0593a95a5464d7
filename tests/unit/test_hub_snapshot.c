/*  Unit tests for progress-hub/snapshot: what a client is owed of the current state, walked
    least recently updated first, a frame at a time, with the cache changing between frames.  */
#include "../../progress-hub/snapshot.h"
#include "testing.h"

#define ALICE "11111111-2222-4333-8444-555555555555"
#define BOB   "66666666-7777-4888-8999-aaaaaaaaaaaa"

//  Applies an event of job n owned by owner at now; its entry, NULL when not taken.
static cache_entry_t *
s_event (cache_t *cache, int n, const char *owner, event_kind_t kind, long long seq, int64_t now)
{
    event_t ev;
    memset (&ev, 0, sizeof ev);
    snprintf (ev.info.job_id, sizeof ev.info.job_id, "%08x-0000-4000-8000-000000000000", n);
    snprintf (ev.info.created_by, sizeof ev.info.created_by, "%s", owner);
    ev.info.kind = kind;
    ev.info.seq = seq;
    ev.payload = event_payload_new ("{}", 2);
    cache_entry_t *entry = NULL;
    if (cache_apply (cache, &ev, now, &entry) != CACHE_ACCEPTED)
        entry = NULL;
    event_clear (&ev);
    return entry;
}

//  Job n created, at time n.
static cache_entry_t *
s_job (cache_t *cache, int n, const char *owner)
{
    return s_event (cache, n, owner, EVENT_CREATED, 1, n);
}

//  A cache of max entries holding jobs 1..n of ALICE.
static cache_t *
s_cache_of (size_t max, int n)
{
    cache_t *cache = cache_new (max, 60000);
    for (int i = 1; i <= n; i++)
        s_job (cache, i, ALICE);
    return cache;
}

//  What a client that connects now is owed: the whole cache.
static snapshot_t
s_owed_all (cache_t *cache)
{
    snapshot_t owed = { 0 };
    snapshot_add (&owed, 0, cache_stamp (cache));
    return owed;
}

//  The jobs the client is sent from now on, sending each as it comes (at most max), into
//  jobs; returns how many.
static size_t
s_drain (snapshot_t *owed, cache_t *cache, svc_role_t role, const char *sub, int jobs [],
         size_t max)
{
    size_t n = 0, budget = SIZE_MAX;
    cache_entry_t *e;
    while (n < max && (e = snapshot_next (owed, cache, role, sub, &budget))) {
        jobs [n++] = (int) strtol (e->job_id, NULL, 16);
        snapshot_sent (owed, e);
    }
    return n;
}

TEST (test_a_client_is_owed_every_job_in_the_cache_least_recent_first)
{
    cache_t *cache = s_cache_of (100, 40);
    snapshot_t owed = { 0 };
    CHECK (!snapshot_owed (&owed));
    snapshot_add (&owed, 0, cache_stamp (cache));
    CHECK (snapshot_owed (&owed));
    int jobs [64];
    CHECK_INT (s_drain (&owed, cache, SVC_ROLE_ADMIN, ALICE, jobs, 64), 40);
    for (int i = 0; i < 40; i++)
        CHECK_INT (jobs [i], i + 1);
    CHECK (!snapshot_owed (&owed));
    cache_destroy (&cache);
}

TEST (test_an_agent_is_owed_only_its_own_jobs_and_an_admin_every_one)
{
    cache_t *cache = cache_new (100, 60000);
    for (int i = 1; i <= 10; i++)
        s_job (cache, i, i % 2 ? ALICE : BOB);
    int jobs [64];
    snapshot_t owed = s_owed_all (cache);
    CHECK_INT (s_drain (&owed, cache, SVC_ROLE_AGENT, BOB, jobs, 64), 5);
    for (int i = 0; i < 5; i++)
        CHECK_INT (jobs [i] % 2, 0);
    snapshot_add (&owed, 0, cache_stamp (cache));
    CHECK_INT (s_drain (&owed, cache, SVC_ROLE_NONE, BOB, jobs, 64), 0);
    snapshot_add (&owed, 0, cache_stamp (cache));
    CHECK_INT (s_drain (&owed, cache, SVC_ROLE_ADMIN, BOB, jobs, 64), 10);
    cache_destroy (&cache);
}

TEST (test_a_job_updated_or_gone_meanwhile_is_not_owed)
{
    //  Updated: its new state went out live. Gone: nothing left to send.
    cache_t *cache = s_cache_of (5, 5);
    snapshot_t owed = s_owed_all (cache);
    s_job (cache, 6, ALICE);                        //  full: 1 is evicted; 6 is sent live
    CHECK (s_event (cache, 3, ALICE, EVENT_COMPLETED, 2, 7) != NULL);          //  sent live
    int jobs [64];
    CHECK_INT (s_drain (&owed, cache, SVC_ROLE_ADMIN, ALICE, jobs, 64), 3);
    CHECK_INT (jobs [0], 2);
    CHECK_INT (jobs [1], 4);
    CHECK_INT (jobs [2], 5);
    cache_destroy (&cache);
}

TEST (test_a_job_whose_progress_waits_for_its_turn_is_left_to_the_fan_out)
{
    cache_t *cache = cache_new (100, 60000);
    s_job (cache, 1, ALICE);
    s_job (cache, 2, ALICE)->pending = true;
    snapshot_t owed = s_owed_all (cache);
    int jobs [64];
    CHECK_INT (s_drain (&owed, cache, SVC_ROLE_ADMIN, ALICE, jobs, 64), 1);
    CHECK_INT (jobs [0], 1);
    cache_destroy (&cache);
}

TEST (test_a_state_is_owed_until_the_walk_passes_it)
{
    cache_t *cache = s_cache_of (100, 3);
    snapshot_t owed = s_owed_all (cache);
    CHECK (snapshot_owes (&owed, 1));
    CHECK (snapshot_owes (&owed, 3));
    CHECK (!snapshot_owes (&owed, 4));              //  came after: not owed, sent live
    int jobs [64];
    CHECK_INT (s_drain (&owed, cache, SVC_ROLE_ADMIN, ALICE, jobs, 1), 1);     //  1
    CHECK (!snapshot_owes (&owed, 1));
    CHECK (snapshot_owes (&owed, 2));
    cache_destroy (&cache);
}

TEST (test_a_newer_range_goes_first_then_the_older_one_goes_on)
{
    cache_t *cache = s_cache_of (100, 4);
    snapshot_t owed = s_owed_all (cache);
    int jobs [64];
    CHECK_INT (s_drain (&owed, cache, SVC_ROLE_ADMIN, ALICE, jobs, 2), 2);     //  1, 2
    s_job (cache, 5, ALICE);                                                    //  sent live
    uint64_t resync = cache_stamp (cache);
    s_job (cache, 6, ALICE);                                                    //  a resync's
    s_job (cache, 7, ALICE);
    snapshot_add (&owed, resync, cache_stamp (cache));
    CHECK_INT (s_drain (&owed, cache, SVC_ROLE_ADMIN, ALICE, jobs, 64), 4);
    CHECK_INT (jobs [0], 6);
    CHECK_INT (jobs [1], 7);
    CHECK_INT (jobs [2], 3);
    CHECK_INT (jobs [3], 4);
    cache_destroy (&cache);
}

TEST (test_a_fifth_range_merges_the_two_oldest_and_nothing_owed_is_lost)
{
    cache_t *cache = cache_new (100, 60000);
    snapshot_t owed = { 0 };
    for (int r = 0; r < SNAPSHOT_RANGES + 1; r++) {
        uint64_t after = cache_stamp (cache);
        s_job (cache, 10 * r + 1, ALICE);
        s_job (cache, 10 * r + 2, ALICE);       //  the second of each range sent live
        snapshot_add (&owed, after, after + 1);
    }
    CHECK_INT (owed.n, SNAPSHOT_RANGES);
    int jobs [64];
    size_t n = s_drain (&owed, cache, SVC_ROLE_ADMIN, ALICE, jobs, 64);
    //  Every owed job comes; the merged range also repeats the one between (2).
    CHECK_INT (n, SNAPSHOT_RANGES + 2);
    CHECK_INT (jobs [0], 41);
    CHECK_INT (jobs [n - 3], 1);
    CHECK_INT (jobs [n - 2], 2);
    CHECK_INT (jobs [n - 1], 11);
    cache_destroy (&cache);
}

TEST (test_the_walk_passes_over_at_most_its_budget_then_goes_on_later)
{
    cache_t *cache = cache_new (100, 60000);
    for (int i = 1; i <= 20; i++)
        s_job (cache, i, BOB);
    s_job (cache, 21, ALICE);
    snapshot_t owed = s_owed_all (cache);
    size_t budget = 8;
    CHECK (snapshot_next (&owed, cache, SVC_ROLE_AGENT, ALICE, &budget) == NULL);
    CHECK_INT (budget, 0);
    CHECK (snapshot_owed (&owed));
    budget = 8;
    CHECK (snapshot_next (&owed, cache, SVC_ROLE_AGENT, ALICE, &budget) == NULL);
    budget = 8;
    cache_entry_t *e = snapshot_next (&owed, cache, SVC_ROLE_AGENT, ALICE, &budget);
    CHECK (e != NULL);
    CHECK_STR (e->created_by, ALICE);
    snapshot_sent (&owed, e);
    CHECK (snapshot_next (&owed, cache, SVC_ROLE_AGENT, ALICE, &budget) == NULL);
    CHECK (!snapshot_owed (&owed));
    cache_destroy (&cache);
}

TEST (test_an_empty_cache_owes_nothing)
{
    cache_t *cache = cache_new (100, 60000);
    snapshot_t owed = s_owed_all (cache);
    CHECK (!snapshot_owed (&owed));
    size_t budget = 8;
    CHECK (snapshot_next (&owed, cache, SVC_ROLE_ADMIN, ALICE, &budget) == NULL);
    cache_destroy (&cache);
}

TEST_MAIN ("hub_snapshot",
    T (test_a_client_is_owed_every_job_in_the_cache_least_recent_first),
    T (test_an_agent_is_owed_only_its_own_jobs_and_an_admin_every_one),
    T (test_a_job_updated_or_gone_meanwhile_is_not_owed),
    T (test_a_job_whose_progress_waits_for_its_turn_is_left_to_the_fan_out),
    T (test_a_state_is_owed_until_the_walk_passes_it),
    T (test_a_newer_range_goes_first_then_the_older_one_goes_on),
    T (test_a_fifth_range_merges_the_two_oldest_and_nothing_owed_is_lost),
    T (test_the_walk_passes_over_at_most_its_budget_then_goes_on_later),
    T (test_an_empty_cache_owes_nothing))
