/*  Unit tests for progress-hub/usercheck: auth.me sent as the edge sends it, answers
    matched by id and service, deadlines, the in-flight bound, forgotten checks.
    The broker is a ROUTER on inproc played by the test.  */
#include "../../progress-hub/usercheck.h"
#include "../../proto/mdp.h"
#include "testing.h"

#define USER "11111111-2222-4333-8444-555555555555"

static int s_answers, s_status;
static svc_role_t s_role;
static void *s_owner;

static void
s_on_answer (void *arg, void *owner, int status, svc_role_t role)
{
    s_answers++;
    s_owner = owner;
    s_status = status;
    s_role = role;
}

static int s_endpoint_n;

//  A broker (ROUTER) and a usercheck connected to it. max in flight, timeout in ms.
static usercheck_t *
s_setup (zsock_t **broker, long max, long timeout_ms)
{
    s_answers = 0;
    s_owner = NULL;
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://test-usercheck-%d", s_endpoint_n++);
    *broker = zsock_new_router (endpoint);
    zsock_set_rcvtimeo (*broker, 2000);
    usercheck_config_t cfg = { endpoint, max, timeout_ms, s_on_answer, NULL };
    return usercheck_new (&cfg);
}

//  Reads the request at the broker: its sender, and the rid; checks the frames.
static zframe_t *
s_read_request (zsock_t *broker, char rid [SVC_RID_MAX + 1], char auth [64])
{
    zmsg_t *msg = zmsg_recv (broker);
    if (!msg || zmsg_size (msg) != 7)
        return NULL;
    zframe_t *sender = zmsg_pop (msg);
    char *empty = zmsg_popstr (msg), *version = zmsg_popstr (msg), *service = zmsg_popstr (msg);
    char *r = zmsg_popstr (msg), *a = zmsg_popstr (msg);
    bool ok = !*empty && !strcmp (version, MDPC_VERSION) && !strcmp (service, SVC_AUTH_ME);
    snprintf (rid, SVC_RID_MAX + 1, "%s", r);
    snprintf (auth, 64, "%s", a);
    free (empty); free (version); free (service); free (r); free (a);
    zmsg_destroy (&msg);
    if (!ok)
        zframe_destroy (&sender);
    return sender;
}

static void
s_reply (zsock_t *broker, zframe_t *sender, const char *service, const char *rid,
         const char *status, const char *payload)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &sender);
    zmsg_addstr (msg, "");
    zmsg_addstr (msg, MDPC_VERSION);
    zmsg_addstr (msg, service);
    zmsg_addstr (msg, rid);
    zmsg_addstr (msg, status);
    zmsg_addstr (msg, payload);
    zmsg_send (&msg, broker);
}

//  Drains the check's socket until an answer came or 2 s passed.
static void
s_wait_answer (usercheck_t *uc, int answers)
{
    int64_t deadline = zclock_mono () + 2000;
    while (s_answers < answers && zclock_mono () < deadline) {
        zsock_t *s = usercheck_socket (uc);
        zpoller_t *p = zpoller_new (s, NULL);
        zpoller_wait (p, 50);
        zpoller_destroy (&p);
        usercheck_drain (uc);
    }
}

//  A broker, a usercheck connected to it that asked about USER, and the request as the
//  broker read it.
typedef struct {
    zsock_t *broker;
    usercheck_t *uc;
    int owner;
    char rid [RAND_ID_STRLEN + 1];          //  the id usercheck chose
    char got_rid [SVC_RID_MAX + 1];         //  the id the broker read
    char auth [64];                         //  the auth frame the broker read
    zframe_t *sender;                       //  NULL when the request was not as it should be
} fixture_t;

//  Sets up f and asks as role; false when the ask was refused or its request malformed.
static bool
s_asked (fixture_t *f, svc_role_t role)
{
    memset (f, 0, sizeof *f);
    f->uc = s_setup (&f->broker, 10, 5000);
    if (usercheck_ask (f->uc, USER, role, &f->owner, f->rid))
        return false;
    f->sender = s_read_request (f->broker, f->got_rid, f->auth);
    return f->sender != NULL;
}

//  The broker answers the request (taking the sender), and the check reads the answer.
static void
s_answer (fixture_t *f, const char *status, const char *payload)
{
    s_reply (f->broker, f->sender, SVC_AUTH_ME, f->rid, status, payload);
    f->sender = NULL;
    s_wait_answer (f->uc, 1);
}

static void
s_teardown (fixture_t *f)
{
    zframe_destroy (&f->sender);
    usercheck_destroy (&f->uc);
    zsock_destroy (&f->broker);
}

TEST (test_auth_me_carries_the_tokens_claims_and_the_reply_gives_the_databases_role)
{
    fixture_t f;
    CHECK (s_asked (&f, SVC_ROLE_ADMIN));
    CHECK_INT (strlen (f.rid), RAND_ID_STRLEN);
    CHECK_STR (f.got_rid, f.rid);
    CHECK_STR (f.auth, USER " admin");
    s_answer (&f, "200", "{\"id\":\"" USER "\",\"role\":\"agent\"}");
    CHECK_INT (s_answers, 1);
    CHECK (s_owner == &f.owner);
    CHECK_INT (s_status, 200);
    CHECK_INT (s_role, SVC_ROLE_AGENT);
    CHECK_INT (usercheck_inflight (f.uc), 0);
    s_teardown (&f);
}

TEST (test_a_reply_of_another_service_under_a_waiting_id_answers_nothing)
{
    fixture_t f;
    CHECK (s_asked (&f, SVC_ROLE_AGENT));
    zframe_t *again = zframe_dup (f.sender);
    s_reply (f.broker, f.sender, SVC_TICKETS_GET, f.rid, "200", "{\"role\":\"admin\"}");
    f.sender = NULL;
    s_reply (f.broker, again, SVC_AUTH_ME, "not-our-id", "200", "{\"role\":\"admin\"}");
    zclock_sleep (100);
    usercheck_drain (f.uc);
    CHECK_INT (s_answers, 0);
    CHECK_INT (usercheck_inflight (f.uc), 1);
    s_teardown (&f);
}

TEST (test_a_user_that_no_longer_exists_is_answered_401)
{
    fixture_t f;
    CHECK (s_asked (&f, SVC_ROLE_AGENT));
    s_answer (&f, "401", "{\"error\":{}}");
    CHECK_INT (s_status, 401);
    CHECK_INT (s_role, SVC_ROLE_NONE);
    s_teardown (&f);
}

TEST (test_a_200_without_a_role_is_not_taken_as_a_user)
{
    fixture_t f;
    CHECK (s_asked (&f, SVC_ROLE_AGENT));
    s_answer (&f, "200", "{\"role\":\"root\"}");
    CHECK (s_status != 200);
    s_teardown (&f);
}

TEST (test_an_unanswered_check_times_out_once_and_a_forgotten_one_never_answers)
{
    zsock_t *broker;
    usercheck_t *uc = s_setup (&broker, 10, 100);
    int a, b;
    char rid_a [RAND_ID_STRLEN + 1], rid_b [RAND_ID_STRLEN + 1];
    CHECK_INT (usercheck_ask (uc, USER, SVC_ROLE_AGENT, &a, rid_a), 0);
    CHECK_INT (usercheck_ask (uc, USER, SVC_ROLE_AGENT, &b, rid_b), 0);
    CHECK (strcmp (rid_a, rid_b));
    usercheck_forget (uc, rid_b);
    usercheck_forget (uc, rid_b);                   //  twice: harmless
    usercheck_timers (uc, zclock_mono ());
    CHECK_INT (s_answers, 0);
    usercheck_timers (uc, zclock_mono () + 200);
    CHECK_INT (s_answers, 1);
    CHECK (s_owner == &a);
    CHECK_INT (s_status, USERCHECK_TIMEOUT);
    usercheck_timers (uc, zclock_mono () + 400);
    CHECK_INT (s_answers, 1);
    CHECK_INT (usercheck_inflight (uc), 0);
    usercheck_destroy (&uc);
    zsock_destroy (&broker);
}

TEST (test_no_more_than_max_inflight_checks_are_sent)
{
    zsock_t *broker;
    usercheck_t *uc = s_setup (&broker, 2, 5000);
    int owner;
    char rid [RAND_ID_STRLEN + 1];
    CHECK_INT (usercheck_ask (uc, USER, SVC_ROLE_AGENT, &owner, rid), 0);
    CHECK_INT (usercheck_ask (uc, USER, SVC_ROLE_AGENT, &owner, rid), 0);
    CHECK_INT (usercheck_ask (uc, USER, SVC_ROLE_AGENT, &owner, rid), -1);
    CHECK_STR (rid, "");
    CHECK_INT (usercheck_inflight (uc), 2);
    usercheck_destroy (&uc);
    zsock_destroy (&broker);
}

TEST (test_without_a_connected_broker_a_check_is_refused_at_once)
{
    usercheck_config_t cfg = { "tcp://127.0.0.1:1", 10, 5000, s_on_answer, NULL };
    usercheck_t *uc = usercheck_new (&cfg);
    CHECK (uc != NULL);
    int owner;
    char rid [RAND_ID_STRLEN + 1];
    CHECK_INT (usercheck_ask (uc, USER, SVC_ROLE_AGENT, &owner, rid), -1);
    CHECK_INT (usercheck_inflight (uc), 0);
    usercheck_destroy (&uc);
    usercheck_destroy (&uc);
    CHECK (uc == NULL);
}

TEST_MAIN ("hub_usercheck",
    T (test_auth_me_carries_the_tokens_claims_and_the_reply_gives_the_databases_role),
    T (test_a_reply_of_another_service_under_a_waiting_id_answers_nothing),
    T (test_a_user_that_no_longer_exists_is_answered_401),
    T (test_a_200_without_a_role_is_not_taken_as_a_user),
    T (test_an_unanswered_check_times_out_once_and_a_forgotten_one_never_answers),
    T (test_no_more_than_max_inflight_checks_are_sent),
    T (test_without_a_connected_broker_a_check_is_refused_at_once))
