/*  Unit tests for progress-hub/cache: last value per job, event order (by seq, and
    without one), the seqs a job is missing, silent jobs, bounds, the walk by stamp.  */
#include "../../progress-hub/cache.h"
#include "testing.h"

#define OWNER "11111111-2222-4333-8444-555555555555"

static void
s_job (int n, char out [UUID_STRLEN + 1])
{
    snprintf (out, UUID_STRLEN + 1, "%08x-0000-4000-8000-000000000000", n);
}

//  Applies an event of job with that seq (-1: none), its text "<kind>-<processed>".
static cache_result_t
s_apply_seq (cache_t *cache, int job, event_kind_t kind, long long processed, long long seq,
             int64_t now)
{
    event_t ev;
    memset (&ev, 0, sizeof ev);
    s_job (job, ev.info.job_id);
    snprintf (ev.info.created_by, sizeof ev.info.created_by, "%s", OWNER);
    ev.info.kind = kind;
    ev.info.processed = processed;
    ev.info.seq = seq;
    char text [64];
    snprintf (text, sizeof text, "%s-%lld", event_kind_name (kind), processed);
    ev.payload = event_payload_new (text, strlen (text));
    cache_result_t r = cache_apply (cache, &ev, now, NULL);
    event_clear (&ev);
    return r;
}

//  An event without seq, as publishers of before seq send them.
static cache_result_t
s_apply (cache_t *cache, int job, event_kind_t kind, long long processed, int64_t now)
{
    return s_apply_seq (cache, job, kind, processed, -1, now);
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

TEST (test_with_seq_only_a_newer_state_is_taken_and_a_repeat_is_seen)
{
    cache_t *cache = cache_new (10, 60000);
    CHECK_INT (s_apply_seq (cache, 1, EVENT_CREATED, 0, 1, 1), CACHE_ACCEPTED);
    CHECK_INT (s_apply_seq (cache, 1, EVENT_PROGRESS, 10, 2, 2), CACHE_ACCEPTED);
    CHECK_INT (s_apply_seq (cache, 1, EVENT_PROGRESS, 10, 2, 3), CACHE_SEEN);    //  re-published
    CHECK_INT (s_apply_seq (cache, 1, EVENT_CREATED, 0, 1, 4), CACHE_SEEN);      //  overtaken
    cache_entry_t *e = s_lookup (cache, 1);
    CHECK_STR (EVENT_TEXT (e->payload), "progress-10");
    CHECK_INT (e->seq, 2);
    CHECK_INT (e->missing, 0);
    CHECK_INT (e->updated_ms, 2);
    CHECK_INT (e->heard_ms, 4);                     //  a repeat is still news of the job
    cache_destroy (&cache);
}

TEST (test_a_skipped_seq_is_missing_until_it_turns_up_late)
{
    cache_t *cache = cache_new (10, 60000);
    s_apply_seq (cache, 1, EVENT_PROGRESS, 10, 3, 1);
    CHECK (!cache_has_gaps (cache));
    CHECK_INT (s_apply_seq (cache, 1, EVENT_PROGRESS, 40, 6, 2), CACHE_ACCEPTED);
    CHECK_INT (s_lookup (cache, 1)->missing, 2);    //  4 and 5
    CHECK (cache_has_gaps (cache));
    CHECK_INT (s_apply_seq (cache, 1, EVENT_PROGRESS, 20, 4, 3), CACHE_SEEN);   //  a racing worker's
    CHECK_INT (s_lookup (cache, 1)->missing, 1);
    CHECK_INT (s_apply_seq (cache, 1, EVENT_PROGRESS, 40, 6, 4), CACHE_SEEN);   //  a repeat fills nothing
    CHECK_INT (s_lookup (cache, 1)->missing, 1);
    CHECK_INT (s_apply_seq (cache, 1, EVENT_PROGRESS, 30, 5, 5), CACHE_SEEN);
    CHECK_INT (s_lookup (cache, 1)->missing, 0);
    CHECK (!cache_has_gaps (cache));
    CHECK_STR (EVENT_TEXT (s_lookup (cache, 1)->payload), "progress-40");
    cache_destroy (&cache);
}

TEST (test_a_job_first_seen_late_is_missing_nothing)
{
    cache_t *cache = cache_new (10, 60000);
    CHECK_INT (s_apply_seq (cache, 1, EVENT_PROGRESS, 500, 40, 1), CACHE_ACCEPTED);
    CHECK_INT (s_lookup (cache, 1)->missing, 0);
    CHECK (!cache_has_gaps (cache));
    cache_destroy (&cache);
}

TEST (test_with_seq_a_job_that_runs_again_after_its_final_event_is_followed)
{
    cache_t *cache = cache_new (10, 60000);
    s_apply_seq (cache, 1, EVENT_FAILED, 10, 5, 1);
    CHECK (s_lookup (cache, 1)->finished_ms == 1);
    CHECK_INT (s_apply_seq (cache, 1, EVENT_PROGRESS, 20, 6, 2), CACHE_ACCEPTED);   //  resumed
    CHECK (s_lookup (cache, 1)->finished_ms == 0);
    CHECK_INT (cache_expire (cache, 1000000), 0);   //  running again: it stays
    CHECK_INT (s_apply_seq (cache, 1, EVENT_FAILED, 10, 5, 3), CACHE_SEEN);
    cache_destroy (&cache);
}

TEST (test_events_with_and_without_seq_for_one_job_follow_the_order_rules_without_seq)
{
    cache_t *cache = cache_new (10, 60000);
    s_apply (cache, 1, EVENT_PROGRESS, 20, 1);
    CHECK_INT (s_apply_seq (cache, 1, EVENT_PROGRESS, 10, 9, 2), CACHE_STALE);
    CHECK_INT (s_apply_seq (cache, 1, EVENT_PROGRESS, 30, 9, 3), CACHE_ACCEPTED);
    CHECK_INT (s_apply (cache, 1, EVENT_PROGRESS, 25, 4), CACHE_STALE);
    cache_destroy (&cache);
}

TEST (test_a_live_job_unheard_of_for_the_silence_is_silent_until_resynced)
{
    cache_t *cache = cache_new (10, 60000);
    s_apply_seq (cache, 1, EVENT_PROGRESS, 10, 2, 0);
    s_apply_seq (cache, 2, EVENT_COMPLETED, 10, 3, 0);  //  finished: nothing more will come
    s_apply (cache, 3, EVENT_PROGRESS, 10, 0);          //  no seq: its publisher re-sends nothing
    CHECK_INT (cache_silent (cache, 4999, 5000), 0);
    CHECK_INT (cache_silent (cache, 5000, 5000), 1);
    s_apply_seq (cache, 1, EVENT_PROGRESS, 10, 2, 4000);    //  re-published: heard
    CHECK_INT (cache_silent (cache, 5000, 5000), 0);
    CHECK_INT (cache_silent (cache, 9000, 5000), 1);
    s_apply_seq (cache, 1, EVENT_PROGRESS, 50, 7, 9000);
    CHECK (cache_has_gaps (cache));
    cache_resynced (cache, 9500);
    CHECK (!cache_has_gaps (cache));
    CHECK_INT (cache_silent (cache, 14000, 5000), 0);
    CHECK_INT (cache_silent (cache, 14500, 5000), 1);
    cache_destroy (&cache);
}

//  The jobs from the least recently updated up, as cache_after walks them, into jobs;
//  returns how many.
static size_t
s_walk (cache_t *cache, int jobs [], size_t max)
{
    size_t n = 0;
    for (cache_entry_t *e = cache_after (cache, 0); e && n < max; e = cache_after (cache, e->stamp))
        jobs [n++] = (int) strtol (e->job_id, NULL, 16);
    return n;
}

TEST (test_the_walk_by_stamp_goes_from_the_least_recent_update_and_an_update_moves_a_job_last)
{
    cache_t *cache = cache_new (10, 60000);
    CHECK (cache_after (cache, 0) == NULL);
    CHECK_INT (cache_stamp (cache), 0);
    s_apply (cache, 1, EVENT_CREATED, 0, 1);
    s_apply (cache, 2, EVENT_CREATED, 0, 2);
    s_apply (cache, 3, EVENT_CREATED, 0, 3);
    s_apply (cache, 1, EVENT_PROGRESS, 5, 4);
    s_apply (cache, 2, EVENT_CREATED, 0, 5);       //  stale: stays where it was
    CHECK_INT (cache_stamp (cache), 4);
    int jobs [10];
    CHECK_INT (s_walk (cache, jobs, 10), 3);
    CHECK_INT (jobs [0], 2);
    CHECK_INT (jobs [1], 3);
    CHECK_INT (jobs [2], 1);
    CHECK_INT (cache_after (cache, s_lookup (cache, 3)->stamp)->stamp, cache_stamp (cache));
    CHECK (cache_after (cache, cache_stamp (cache)) == NULL);
    cache_destroy (&cache);
}

TEST (test_a_job_that_leaves_the_cache_leaves_the_walk)
{
    cache_t *cache = cache_new (3, 1000);
    s_apply (cache, 1, EVENT_COMPLETED, 1, 0);
    s_apply (cache, 2, EVENT_PROGRESS, 1, 0);
    s_apply (cache, 3, EVENT_COMPLETED, 1, 500);
    s_apply (cache, 4, EVENT_PROGRESS, 1, 600);     //  full: 1 is evicted
    CHECK_INT (cache_expire (cache, 1500), 1);      //  3 expires
    int jobs [10];
    CHECK_INT (s_walk (cache, jobs, 10), 2);
    CHECK_INT (jobs [0], 2);
    CHECK_INT (jobs [1], 4);
    cache_destroy (&cache);
}

TEST (test_the_walk_stays_in_stamp_order_across_many_updates)
{
    //  Far more updates than slots: the order is squeezed and grown again and again.
    cache_t *cache = cache_new (50, 60000);
    unsigned r = 7;
    for (int i = 0; i < 20000; i++) {
        r = r * 1103515245 + 12345;
        s_apply_seq (cache, (int) (r >> 16) % 80, EVENT_PROGRESS, i, i + 1, i);
    }
    int jobs [100];
    CHECK_INT (s_walk (cache, jobs, 100), cache_size (cache));
    uint64_t last = 0;
    for (cache_entry_t *e = cache_after (cache, 0); e; e = cache_after (cache, e->stamp)) {
        CHECK (e->stamp > last);
        last = e->stamp;
    }
    CHECK_INT (last, cache_stamp (cache));
    cache_destroy (&cache);
}

TEST_MAIN ("hub_cache",
    T (test_the_latest_event_of_a_job_is_kept),
    T (test_progress_after_the_final_event_is_dropped),
    T (test_older_progress_from_a_racing_worker_is_dropped),
    T (test_finished_jobs_expire_after_keep_ms_and_running_ones_stay),
    T (test_a_full_cache_evicts_the_oldest_finished_job_first),
    T (test_a_cache_full_of_running_jobs_evicts_the_least_recently_updated),
    T (test_the_cache_never_exceeds_its_bound),
    T (test_with_seq_only_a_newer_state_is_taken_and_a_repeat_is_seen),
    T (test_a_skipped_seq_is_missing_until_it_turns_up_late),
    T (test_a_job_first_seen_late_is_missing_nothing),
    T (test_with_seq_a_job_that_runs_again_after_its_final_event_is_followed),
    T (test_events_with_and_without_seq_for_one_job_follow_the_order_rules_without_seq),
    T (test_a_live_job_unheard_of_for_the_silence_is_silent_until_resynced),
    T (test_the_walk_by_stamp_goes_from_the_least_recent_update_and_an_update_moves_a_job_last),
    T (test_a_job_that_leaves_the_cache_leaves_the_walk),
    T (test_the_walk_stays_in_stamp_order_across_many_updates))
