/*  Unit tests for progress-hub/calls: requests sent as the edge sends them, answers
    matched by id and service, deadlines, the in-flight bound, forgotten calls.
    The broker is a ROUTER on inproc played by the test.  */
#include "../../progress-hub/calls.h"
#include "fakebroker.h"
#include "testing.h"

#include <string.h>

#define USER "11111111-2222-4333-8444-555555555555"

static int s_answers, s_status;
static void *s_owner;
static char s_service [64];
static char s_payload [256];

static void
s_on_answer (void *arg, void *owner, const char *service, int status, zframe_t *payload)
{
    s_answers++;
    s_owner = owner;
    s_status = status;
    snprintf (s_service, sizeof s_service, "%s", service);
    s_payload [0] = 0;
    if (payload)
        snprintf (s_payload, sizeof s_payload, "%.*s", (int) zframe_size (payload),
                  (const char *) zframe_data (payload));
}

//  A broker (ROUTER) and calls connected to it, and what one call sent it.
typedef struct {
    zsock_t *broker;
    calls_t *calls;
    int owner;
    char rid [RAND_ID_STRLEN + 1];
    fakebroker_request_t req;
} fixture_t;

//  max in flight, timeout in ms.
static bool
s_setup (fixture_t *f, long max, long timeout_ms)
{
    memset (f, 0, sizeof *f);
    s_answers = 0;
    s_owner = NULL;
    char endpoint [64];
    f->broker = fakebroker_new (endpoint);
    calls_config_t cfg = { fakebroker_endpoints (endpoint), max, timeout_ms, s_on_answer, NULL };
    f->calls = calls_new (&cfg);
    return f->broker && f->calls;
}

//  Sends one call and reads it at the broker: false when either failed.
static bool
s_call (fixture_t *f, const char *service, const char *user, svc_role_t role, const char *payload)
{
    return calls_send (f->calls, service, user, role, payload, &f->owner, f->rid) == 0
        && fakebroker_read (f->broker, &f->req) == 0;
}

static void
s_teardown (fixture_t *f)
{
    fakebroker_request_clear (&f->req);
    calls_destroy (&f->calls);
    zsock_destroy (&f->broker);
}

//  Drains the calls' socket until the answers came or 2 s passed.
static void
s_wait_answer (calls_t *calls, int answers)
{
    int64_t deadline = zclock_mono () + 2000;
    while (s_answers < answers && zclock_mono () < deadline) {
        zpoller_t *p = zpoller_new (calls_socket (calls), NULL);
        zpoller_wait (p, 50);
        zpoller_destroy (&p);
        calls_drain (calls);
    }
}

TEST (test_a_call_carries_its_service_user_and_payload_and_the_answer_comes_back)
{
    fixture_t f;
    CHECK (s_setup (&f, 10, 5000));
    CHECK (s_call (&f, SVC_AUTH_ME, USER, SVC_ROLE_ADMIN, "{}"));
    CHECK_INT (strlen (f.rid), RAND_ID_STRLEN);
    CHECK_STR (f.req.service, SVC_AUTH_ME);
    CHECK_STR (f.req.rid, f.rid);
    CHECK_STR (f.req.auth, USER " admin");
    CHECK_STR (f.req.payload, "{}");
    fakebroker_reply (f.broker, &f.req, SVC_AUTH_ME, f.rid, "200", "{\"role\":\"agent\"}");
    s_wait_answer (f.calls, 1);
    CHECK_INT (s_answers, 1);
    CHECK (s_owner == &f.owner);
    CHECK_STR (s_service, SVC_AUTH_ME);
    CHECK_INT (s_status, 200);
    CHECK_STR (s_payload, "{\"role\":\"agent\"}");
    CHECK_INT (calls_inflight (f.calls), 0);
    s_teardown (&f);
}

TEST (test_an_anonymous_call_has_an_empty_auth_frame)
{
    fixture_t f;
    CHECK (s_setup (&f, 10, 5000));
    CHECK (s_call (&f, SVC_JOBS_LIVE, NULL, SVC_ROLE_NONE, "{\"limit\":5}"));
    CHECK_STR (f.req.service, SVC_JOBS_LIVE);
    CHECK_STR (f.req.auth, "");
    CHECK_STR (f.req.payload, "{\"limit\":5}");
    fakebroker_reply (f.broker, &f.req, SVC_JOBS_LIVE, f.rid, "503", "{\"error\":{}}");
    s_wait_answer (f.calls, 1);
    CHECK_STR (s_service, SVC_JOBS_LIVE);
    CHECK_INT (s_status, 503);
    s_teardown (&f);
}

TEST (test_a_reply_of_another_service_under_a_waiting_id_answers_nothing)
{
    fixture_t f;
    CHECK (s_setup (&f, 10, 5000));
    CHECK (s_call (&f, SVC_AUTH_ME, USER, SVC_ROLE_AGENT, "{}"));
    fakebroker_reply (f.broker, &f.req, SVC_TICKETS_GET, f.rid, "200", "{\"role\":\"admin\"}");
    fakebroker_reply (f.broker, &f.req, SVC_AUTH_ME, "not-our-id", "200", "{\"role\":\"admin\"}");
    zclock_sleep (100);
    calls_drain (f.calls);
    CHECK_INT (s_answers, 0);
    CHECK_INT (calls_inflight (f.calls), 1);
    s_teardown (&f);
}

TEST (test_an_unanswered_call_times_out_once_and_a_forgotten_one_never_answers)
{
    fixture_t f;
    CHECK (s_setup (&f, 10, 100));
    calls_t *calls = f.calls;
    int a, b;
    char rid_a [RAND_ID_STRLEN + 1], rid_b [RAND_ID_STRLEN + 1];
    CHECK_INT (calls_send (calls, SVC_AUTH_ME, USER, SVC_ROLE_AGENT, "{}", &a, rid_a), 0);
    CHECK_INT (calls_send (calls, SVC_JOBS_LIVE, NULL, SVC_ROLE_NONE, "{}", &b, rid_b), 0);
    CHECK (strcmp (rid_a, rid_b));
    calls_forget (calls, rid_b);
    calls_forget (calls, rid_b);                    //  twice: harmless
    calls_timers (calls, zclock_mono ());
    CHECK_INT (s_answers, 0);
    calls_timers (calls, zclock_mono () + 200);
    CHECK_INT (s_answers, 1);
    CHECK (s_owner == &a);
    CHECK_STR (s_service, SVC_AUTH_ME);
    CHECK_INT (s_status, CALLS_TIMEOUT);
    CHECK_STR (s_payload, "");
    calls_timers (calls, zclock_mono () + 400);
    CHECK_INT (s_answers, 1);
    CHECK_INT (calls_inflight (calls), 0);
    s_teardown (&f);
}

TEST (test_no_more_than_max_inflight_calls_are_sent)
{
    fixture_t f;
    CHECK (s_setup (&f, 2, 5000));
    calls_t *calls = f.calls;
    int owner;
    char rid [RAND_ID_STRLEN + 1];
    CHECK_INT (calls_send (calls, SVC_AUTH_ME, USER, SVC_ROLE_AGENT, "{}", &owner, rid), 0);
    CHECK_INT (calls_send (calls, SVC_AUTH_ME, USER, SVC_ROLE_AGENT, "{}", &owner, rid), 0);
    CHECK_INT (calls_send (calls, SVC_AUTH_ME, USER, SVC_ROLE_AGENT, "{}", &owner, rid), -1);
    CHECK_STR (rid, "");
    CHECK_INT (calls_inflight (calls), 2);
    s_teardown (&f);
}

TEST (test_with_several_brokers_calls_go_to_a_connected_one)
{
    char endpoint [64], list [128];
    zsock_t *broker = fakebroker_new (endpoint);
    //  The first broker of the list does not run: nothing may wait for it.
    snprintf (list, sizeof list, "tcp://127.0.0.1:1,%s", endpoint);
    calls_config_t cfg = { fakebroker_endpoints (list), 10, 5000, s_on_answer, NULL };
    calls_t *calls = calls_new (&cfg);
    CHECK (broker && calls);
    int owner;
    char rid [RAND_ID_STRLEN + 1];
    fakebroker_request_t req = { 0 };
    for (int i = 0; i < 3; i++) {
        CHECK_INT (calls_send (calls, SVC_AUTH_ME, USER, SVC_ROLE_AGENT, "{}", &owner, rid), 0);
        CHECK_INT (fakebroker_read (broker, &req), 0);
        CHECK_STR (req.rid, rid);
        fakebroker_request_clear (&req);
    }
    calls_destroy (&calls);
    zsock_destroy (&broker);
}

TEST (test_without_a_connected_broker_a_call_is_refused_at_once)
{
    calls_config_t cfg = { fakebroker_endpoints ("tcp://127.0.0.1:1"), 10, 5000, s_on_answer, NULL };
    calls_t *calls = calls_new (&cfg);
    CHECK (calls != NULL);
    int owner;
    char rid [RAND_ID_STRLEN + 1];
    CHECK_INT (calls_send (calls, SVC_AUTH_ME, USER, SVC_ROLE_AGENT, "{}", &owner, rid), -1);
    CHECK_INT (calls_inflight (calls), 0);
    calls_destroy (&calls);
    calls_destroy (&calls);
    CHECK (calls == NULL);
}

TEST_MAIN ("hub_calls",
    T (test_a_call_carries_its_service_user_and_payload_and_the_answer_comes_back),
    T (test_an_anonymous_call_has_an_empty_auth_frame),
    T (test_a_reply_of_another_service_under_a_waiting_id_answers_nothing),
    T (test_an_unanswered_call_times_out_once_and_a_forgotten_one_never_answers),
    T (test_no_more_than_max_inflight_calls_are_sent),
    T (test_with_several_brokers_calls_go_to_a_connected_one),
    T (test_without_a_connected_broker_a_call_is_refused_at_once))
