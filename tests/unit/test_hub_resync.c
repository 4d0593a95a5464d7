/*  Unit tests for progress-hub/resync: when the hub asks jobs.live for the current state
    (at start, after a gap that outlives its grace, after a silence, again after a failure,
    never two at once nor too often), and how an answer reaches the cache (only newer
    states count). The broker is a ROUTER on inproc played by the test; the hub's part, an
    answer's job applied to the cache, is played by s_on_event.  */
#include "../../progress-hub/resync.h"
#include "fakebroker.h"
#include "testing.h"

#define OWNER "11111111-2222-4333-8444-555555555555"
#define JOB_A "aaaaaaaa-0000-4000-8000-000000000000"
#define JOB_B "bbbbbbbb-0000-4000-8000-000000000000"

typedef struct {
    zsock_t *broker;
    calls_t *calls;
    cache_t *cache;
    resync_t *resync;
    int64_t now;                    //  the clock the answers are given at
    int events;                     //  jobs of answers handed to the hub
    int answers;                    //  answers done
} s_rig_t;

static void
s_on_answer (void *arg, void *owner, const char *service, int status, zframe_t *payload)
{
    s_rig_t *rig = (s_rig_t *) arg;
    if (!strcmp (service, SVC_JOBS_LIVE))
        resync_answer (rig->resync, status, payload, rig->now);
}

static bool
s_on_event (void *arg, zmsg_t **msg_p)
{
    s_rig_t *rig = (s_rig_t *) arg;
    rig->events++;
    event_t ev;
    bool taken = event_parse (*msg_p, &ev, NULL) == 0
              && cache_apply (rig->cache, &ev, rig->now, NULL) == CACHE_ACCEPTED;
    event_clear (&ev);
    zmsg_destroy (msg_p);
    return taken;
}

static void
s_on_done (void *arg)
{
    ((s_rig_t *) arg)->answers++;
}

static void
s_setup (s_rig_t *rig)
{
    memset (rig, 0, sizeof *rig);
    char endpoint [64];
    rig->broker = fakebroker_new (endpoint);
    calls_config_t ccfg = { fakebroker_endpoints (endpoint), 10, 5000, s_on_answer, rig };
    rig->calls = calls_new (&ccfg);
    rig->cache = cache_new (100, 60000);
    resync_config_t rcfg = { rig->calls, rig->cache, 60000, s_on_event, s_on_done, rig };
    rig->resync = resync_new (&rcfg);
    rig->now = 1000;
}

static void
s_teardown (s_rig_t *rig)
{
    resync_destroy (&rig->resync);
    calls_destroy (&rig->calls);
    cache_destroy (&rig->cache);
    zsock_destroy (&rig->broker);
}

//  Runs resync's timers at now; then the request it sent, if any, is read into req within
//  wait_ms. 0 when one came.
static int
s_tick_and_read (s_rig_t *rig, int64_t now, fakebroker_request_t *req, int wait_ms)
{
    rig->now = now;
    resync_timers (rig->resync, now);
    zsock_set_rcvtimeo (rig->broker, wait_ms);
    return fakebroker_read (rig->broker, req);
}

//  Answers req and pumps calls until the answer is through (2 s at most).
static void
s_answer (s_rig_t *rig, fakebroker_request_t *req, const char *status, const char *payload)
{
    fakebroker_reply (rig->broker, req, SVC_JOBS_LIVE, req->rid, status, payload);
    fakebroker_request_clear (req);
    int64_t deadline = zclock_mono () + 2000;
    while (calls_inflight (rig->calls) && zclock_mono () < deadline) {
        zpoller_t *p = zpoller_new (calls_socket (rig->calls), NULL);
        zpoller_wait (p, 50);
        zpoller_destroy (&p);
        calls_drain (rig->calls);
    }
}

//  An event of job with seq, as a worker publishes it, applied to the cache at now.
static void
s_event (s_rig_t *rig, const char *job, event_kind_t kind, int seq, int64_t now)
{
    char text [256];
    snprintf (text, sizeof text, "{\"id\":\"%s\",\"createdBy\":\"" OWNER "\",\"status\":\"x\","
              "\"processed\":%d,\"seq\":%d}", job, seq, seq);
    zmsg_t *msg = event_encode (kind, job, text);
    rig->now = now;
    s_on_event (rig, &msg);
}

static cache_entry_t *
s_entry (s_rig_t *rig, const char *job)
{
    return cache_lookup (rig->cache, job);
}

//  A job object as jobs.live answers it.
#define LIVE_JOB(id, status, seq) \
    "{\"id\":\"" id "\",\"status\":\"" status "\",\"createdBy\":\"" OWNER "\",\"processed\":" \
    #seq ",\"seq\":" #seq "}"

TEST (test_a_new_resync_asks_jobs_live_at_once_for_the_keep_window)
{
    s_rig_t rig;
    s_setup (&rig);
    fakebroker_request_t req;
    CHECK_INT (s_tick_and_read (&rig, 1000, &req, 2000), 0);
    CHECK_STR (req.service, SVC_JOBS_LIVE);
    CHECK_STR (req.auth, "");
    CHECK_STR (req.payload, "{\"finishedWithinMs\":60000,\"limit\":1000}");
    //  One at a time: nothing more while it is in flight, whatever happens.
    resync_gap (rig.resync, 1000);
    fakebroker_request_t more;
    CHECK_INT (s_tick_and_read (&rig, 9000, &more, 100), -1);
    fakebroker_request_clear (&req);
    s_teardown (&rig);
}

TEST (test_an_answer_reaches_the_cache_job_by_job_and_only_newer_states_count)
{
    s_rig_t rig;
    s_setup (&rig);
    s_event (&rig, JOB_A, EVENT_PROGRESS, 5, 900);
    fakebroker_request_t req;
    CHECK_INT (s_tick_and_read (&rig, 1000, &req, 2000), 0);
    s_answer (&rig, &req, "200", "{\"data\":[" LIVE_JOB (JOB_A, "running", 3) ","
              LIVE_JOB (JOB_B, "completed", 7) ",{\"id\":\"" JOB_B "\",\"status\":\"lost\"},"
              "{\"status\":\"running\"},17],\"more\":false}");
    CHECK_INT (rig.events, 1 + 2);                  //  the two jobs the hub can relay
    CHECK_INT (rig.answers, 1);
    CHECK_INT (s_entry (&rig, JOB_A)->seq, 5);      //  the cache held newer
    CHECK (s_entry (&rig, JOB_B) != NULL);
    CHECK_INT (s_entry (&rig, JOB_B)->seq, 7);
    CHECK_INT (s_entry (&rig, JOB_B)->kind, EVENT_COMPLETED);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    resync_write_metrics (rig.resync, f);
    fclose (f);
    CHECK (strstr (text, "hub_resyncs_total{reason=\"start\"} 1\n") != NULL);
    CHECK (strstr (text, "hub_resync_corrected_total 1\n") != NULL);
    free (text);
    s_teardown (&rig);
}

TEST (test_an_answer_is_applied_least_recent_first_so_active_jobs_end_up_most_recent)
{
    s_rig_t rig;
    s_setup (&rig);
    fakebroker_request_t req;
    CHECK_INT (s_tick_and_read (&rig, 1000, &req, 2000), 0);
    s_answer (&rig, &req, "200", "{\"data\":[" LIVE_JOB (JOB_A, "running", 3) ","
              LIVE_JOB (JOB_B, "completed", 7) "],\"more\":false}");
    CHECK (s_entry (&rig, JOB_A) && s_entry (&rig, JOB_B));
    CHECK (s_entry (&rig, JOB_B)->stamp < s_entry (&rig, JOB_A)->stamp);
    s_teardown (&rig);
}

//  A rig past its first resync, answered empty at now 1000.
static void
s_setup_synced (s_rig_t *rig)
{
    s_setup (rig);
    fakebroker_request_t req;
    if (s_tick_and_read (rig, 1000, &req, 2000) == 0)
        s_answer (rig, &req, "200", "{\"data\":[],\"more\":false}");
}

TEST (test_a_gap_filled_within_its_grace_asks_nothing_and_one_that_stays_does)
{
    s_rig_t rig;
    s_setup_synced (&rig);
    fakebroker_request_t req;
    s_event (&rig, JOB_A, EVENT_PROGRESS, 1, 3000);
    s_event (&rig, JOB_A, EVENT_PROGRESS, 3, 3000);   //  2 skipped: another worker's, racing
    resync_gap (rig.resync, 3000);
    CHECK_INT (s_tick_and_read (&rig, 3000 + RESYNC_GAP_GRACE_MS - 1, &req, 100), -1);
    s_event (&rig, JOB_A, EVENT_PROGRESS, 2, 3100);   //  here it is
    CHECK_INT (s_tick_and_read (&rig, 3000 + RESYNC_GAP_GRACE_MS, &req, 100), -1);
    s_event (&rig, JOB_A, EVENT_PROGRESS, 9, 4000);   //  4 to 8 never come
    resync_gap (rig.resync, 4000);
    CHECK_INT (s_tick_and_read (&rig, 4000 + RESYNC_GAP_GRACE_MS - 1, &req, 100), -1);
    CHECK_INT (s_tick_and_read (&rig, 4000 + RESYNC_GAP_GRACE_MS, &req, 2000), 0);
    s_answer (&rig, &req, "200", "{\"data\":[],\"more\":false}");
    CHECK (!cache_has_gaps (rig.cache));            //  asked: the holes are moot
    s_teardown (&rig);
}

TEST (test_a_live_job_silent_too_long_is_asked_about)
{
    s_rig_t rig;
    s_setup_synced (&rig);
    fakebroker_request_t req;
    s_event (&rig, JOB_A, EVENT_PROGRESS, 4, 2000);
    CHECK_INT (s_tick_and_read (&rig, 2000 + RESYNC_SILENCE_MS - 1, &req, 100), -1);
    CHECK_INT (s_tick_and_read (&rig, 2000 + RESYNC_SILENCE_MS + 1000, &req, 2000), 0);
    fakebroker_request_clear (&req);
    s_teardown (&rig);
}

TEST (test_a_failed_answer_is_asked_again_after_the_interval_and_not_before)
{
    s_rig_t rig;
    s_setup (&rig);
    fakebroker_request_t req;
    CHECK_INT (s_tick_and_read (&rig, 1000, &req, 2000), 0);
    s_answer (&rig, &req, "503", "{\"error\":{\"code\":\"database_unavailable\"}}");
    CHECK_INT (s_tick_and_read (&rig, 1000 + RESYNC_INTERVAL_MS - 1, &req, 100), -1);
    CHECK_INT (s_tick_and_read (&rig, 1000 + RESYNC_INTERVAL_MS, &req, 2000), 0);
    s_answer (&rig, &req, "200", "not json");      //  a 200 that is no answer fails too
    CHECK_INT (s_tick_and_read (&rig, 2000 + RESYNC_INTERVAL_MS, &req, 2000), 0);
    fakebroker_request_clear (&req);
    s_teardown (&rig);
}

TEST (test_without_a_broker_the_first_resync_waits_and_nothing_breaks)
{
    s_rig_t rig;
    memset (&rig, 0, sizeof rig);
    calls_config_t ccfg = { fakebroker_endpoints ("tcp://127.0.0.1:1"), 10, 5000, s_on_answer, &rig };
    rig.calls = calls_new (&ccfg);
    rig.cache = cache_new (10, 60000);
    resync_config_t rcfg = { rig.calls, rig.cache, 60000, s_on_event, s_on_done, &rig };
    rig.resync = resync_new (&rcfg);
    for (int64_t now = 0; now < 2000; now += 10)
        resync_timers (rig.resync, now);
    CHECK_INT (calls_inflight (rig.calls), 0);
    resync_destroy (&rig.resync);
    resync_destroy (&rig.resync);
    CHECK (rig.resync == NULL);
    calls_destroy (&rig.calls);
    cache_destroy (&rig.cache);
}

TEST_MAIN ("hub_resync",
    T (test_a_new_resync_asks_jobs_live_at_once_for_the_keep_window),
    T (test_an_answer_reaches_the_cache_job_by_job_and_only_newer_states_count),
    T (test_an_answer_is_applied_least_recent_first_so_active_jobs_end_up_most_recent),
    T (test_a_gap_filled_within_its_grace_asks_nothing_and_one_that_stays_does),
    T (test_a_live_job_silent_too_long_is_asked_about),
    T (test_a_failed_answer_is_asked_again_after_the_interval_and_not_before),
    T (test_without_a_broker_the_first_resync_waits_and_nothing_breaks))
