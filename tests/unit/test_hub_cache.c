/*  Unit tests for progress-hub/cache: last value per job, event order, bounds.  */
#include "../../progress-hub/cache.h"
#include "testing.h"

#define OWNER "11111111-2222-4333-8444-555555555555"

static void
s_job (int n, char out [UUID_STRLEN + 1])
{
    snprintf (out, UUID_STRLEN + 1, "%08x-0000-4000-8000-000000000000", n);
}

static cache_result_t
s_apply (cache_t *cache, int job, event_kind_t kind, long long processed, int64_t now)
{
    event_t ev;
    memset (&ev, 0, sizeof ev);
    s_job (job, ev.info.job_id);
    snprintf (ev.info.created_by, sizeof ev.info.created_by, "%s", OWNER);
    ev.info.kind = kind;
    ev.info.processed = processed;
    char text [64];
    snprintf (text, sizeof text, "%s-%lld", event_kind_name (kind), processed);
    ev.payload = event_payload_new (text, strlen (text));
    cache_result_t r = cache_apply (cache, &ev, now, NULL);
    event_clear (&ev);
    return r;
}

static cache_entry_t *
s_lookup (cache_t *cache, int job)
{
    char id [UUID_STRLEN + 1];
    s_job (job, id);
    return cache_lookup (cache, id);
}

TEST (test_the_latest_event_of_a_job_is_kept)
{
    cache_t *cache = cache_new (10, 60000);
    CHECK_INT (s_apply (cache, 1, EVENT_CREATED, 0, 1), CACHE_ACCEPTED);
    CHECK_INT (s_apply (cache, 1, EVENT_PROGRESS, 10, 2), CACHE_ACCEPTED);
    CHECK_INT (s_apply (cache, 1, EVENT_PROGRESS, 20, 3), CACHE_ACCEPTED);
    cache_entry_t *e = s_lookup (cache, 1);
    CHECK (e != NULL);
    CHECK_STR (EVENT_TEXT (e->payload), "progress-20");
    CHECK_STR (e->created_by, OWNER);
    CHECK_INT (cache_size (cache), 1);
    cache_destroy (&cache);
    CHECK (cache == NULL);
}

TEST (test_progress_after_the_final_event_is_dropped)
{
    cache_t *cache = cache_new (10, 60000);
    s_apply (cache, 1, EVENT_PROGRESS, 10, 1);
    CHECK_INT (s_apply (cache, 1, EVENT_COMPLETED, 30, 2), CACHE_ACCEPTED);
    CHECK_INT (s_apply (cache, 1, EVENT_PROGRESS, 20, 3), CACHE_STALE);
    CHECK_INT (s_apply (cache, 1, EVENT_FAILED, 30, 4), CACHE_STALE);
    cache_entry_t *e = s_lookup (cache, 1);
    CHECK_STR (EVENT_TEXT (e->payload), "completed-30");
    CHECK (e->finished_ms == 2);
    cache_destroy (&cache);
}

TEST (test_older_progress_from_a_racing_worker_is_dropped)
{
    cache_t *cache = cache_new (10, 60000);
    s_apply (cache, 1, EVENT_PROGRESS, 200, 1);
    CHECK_INT (s_apply (cache, 1, EVENT_PROGRESS, 100, 2), CACHE_STALE);
    CHECK_INT (s_apply (cache, 1, EVENT_CREATED, 0, 3), CACHE_STALE);
    CHECK_STR (EVENT_TEXT (s_lookup (cache, 1)->payload), "progress-200");
    cache_destroy (&cache);
}

TEST (test_finished_jobs_expire_after_keep_ms_and_running_ones_stay)
{
    cache_t *cache = cache_new (10, 1000);
    s_apply (cache, 1, EVENT_PROGRESS, 1, 0);
    s_apply (cache, 2, EVENT_COMPLETED, 1, 0);
    CHECK_INT (cache_expire (cache, 999), 0);
    CHECK_INT (cache_expire (cache, 1000), 1);
    CHECK (s_lookup (cache, 2) == NULL);
    CHECK (s_lookup (cache, 1) != NULL);
    cache_destroy (&cache);
}

TEST (test_a_full_cache_evicts_the_oldest_finished_job_first)
{
    cache_t *cache = cache_new (3, 60000);
    s_apply (cache, 1, EVENT_PROGRESS, 1, 1);       //  running, oldest update
    s_apply (cache, 2, EVENT_COMPLETED, 1, 5);
    s_apply (cache, 3, EVENT_COMPLETED, 1, 3);      //  the oldest finished
    s_apply (cache, 4, EVENT_CREATED, 0, 10);
    CHECK_INT (cache_size (cache), 3);
    CHECK (s_lookup (cache, 3) == NULL);
    CHECK (s_lookup (cache, 1) != NULL);
    CHECK (s_lookup (cache, 2) != NULL);
    cache_destroy (&cache);
}

TEST (test_a_cache_full_of_running_jobs_evicts_the_least_recently_updated)
{
    cache_t *cache = cache_new (2, 60000);
    s_apply (cache, 1, EVENT_PROGRESS, 1, 1);
    s_apply (cache, 2, EVENT_PROGRESS, 1, 2);
    s_apply (cache, 1, EVENT_PROGRESS, 2, 3);
    s_apply (cache, 3, EVENT_PROGRESS, 1, 4);
    CHECK_INT (cache_size (cache), 2);
    CHECK (s_lookup (cache, 2) == NULL);
    CHECK (s_lookup (cache, 1) != NULL);
    cache_destroy (&cache);
}

TEST (test_the_cache_never_exceeds_its_bound)
{
    cache_t *cache = cache_new (100, 60000);
    for (int i = 0; i < 1000; i++) {
        s_apply (cache, i, EVENT_CREATED, 0, i);
        if (i % 2)
            s_apply (cache, i, EVENT_COMPLETED, 1, i);
        CHECK (cache_size (cache) <= 100);
    }
    CHECK_INT (cache_size (cache), 100);
    cache_destroy (&cache);
}

TEST_MAIN ("hub_cache",
    T (test_the_latest_event_of_a_job_is_kept),
    T (test_progress_after_the_final_event_is_dropped),
    T (test_older_progress_from_a_racing_worker_is_dropped),
    T (test_finished_jobs_expire_after_keep_ms_and_running_ones_stay),
    T (test_a_full_cache_evicts_the_oldest_finished_job_first),
    T (test_a_cache_full_of_running_jobs_evicts_the_least_recently_updated),
    T (test_the_cache_never_exceeds_its_bound))
