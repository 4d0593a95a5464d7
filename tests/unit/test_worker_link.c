/*  Unit tests for workers/link: the broker link against a fake broker (a ROUTER on inproc),
    with the test playing the worker. Link and broker share the test's one thread, as link
    and statements share the worker's: while the test waits on the broker, the link is
    served as db.c serves it while a statement waits (link_wait_fd).  */
#include "testing.h"
#include "../../proto/mdp.h"
#include "../../workers/link.h"

static const char *s_services [] = { "a.one", "a.two" };

//  The link the fake broker's waits serve (as a statement's wait would), NULL when none.
static link_t *s_serving;

//  Serves s_serving for up to ms, as a statement waiting that long would.
static void
s_serve_link (int ms)
{
    if (s_serving)
        link_wait_fd (s_serving, -1, 0, ms);
    else
        zclock_sleep (ms);
}

//  The next message from the worker that is not a HEARTBEAT (counted in *beats), decoded.
static mdp_msg_t *
s_next (zsock_t *router, int timeout_ms, int *beats)
{
    int64_t until = zclock_mono () + timeout_ms;
    while (zclock_mono () < until) {
        zmsg_t *raw = mdp_recv (router, 0);
        if (!raw) {
            s_serve_link (5);
            continue;
        }
        char err [128];
        mdp_msg_t *msg = mdp_msg_decode (&raw, MDP_AT_BROKER, err, sizeof err);
        if (msg && msg->command == MDPW_HEARTBEAT) {
            if (beats)
                (*beats)++;
            mdp_msg_destroy (&msg);
            continue;
        }
        return msg;
    }
    return NULL;
}

static void
s_request (zsock_t *router, zframe_t *worker, const char *rid)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, rid);
    zmsg_addstr (body, "");
    zmsg_addstr (body, "{}");
    zframe_t *client = zframe_new ("client-1", 8);
    zmsg_t *msg = mdp_worker_request_new (worker, client, "a.one", &body);
    zmsg_send (&msg, router);
    zframe_destroy (&client);
}

//  The next thing the link hands the worker other than BROKER_UP / BROKER_DOWN: a
//  request (then ours) in *request_p, or LINK_NOTHING when none comes within timeout_ms.
static link_event_t
s_link_next (link_t *link, int timeout_ms, mdp_msg_t **request_p)
{
    int64_t until = zclock_mono () + timeout_ms;
    while (true) {
        int64_t left = until - zclock_mono ();
        link_event_t event = link_recv (link, left > 0 ? (int) left : 0, request_p);
        if (event != LINK_BROKER_UP && event != LINK_BROKER_DOWN)
            return event;
    }
}

//  Starts a link with credit to a fresh ROUTER at endpoint; returns the worker's routing
//  id from its READY, which must name services_n services and end with "credit N" above
//  credit 1 (read as raw frames: the broker's decoder is not this test's subject).
static zframe_t *
s_start_credit (const char *endpoint, size_t services_n, int credit, zsock_t **router,
                link_t **link)
{
    *router = zsock_new_router (endpoint);
    link_config_t cfg = { &endpoint, 1, 100, s_services, services_n, credit, NULL };
    s_serving = *link = link_new (&cfg);
    zmsg_t *ready = *link ? mdp_recv (*router, 1000) : NULL;
    //  sender "" "MDPW01" 0x01 services... ["credit N"]
    char want [32] = "";
    if (credit > 1)
        snprintf (want, sizeof want, "credit %d", credit);
    size_t frames = 4 + services_n + (*want ? 1 : 0);
    zframe_t *worker = ready && zmsg_size (ready) == frames ? zmsg_pop (ready) : NULL;
    zmsg_first (ready);
    zmsg_next (ready);
    zframe_t *command = zmsg_next (ready);
    bool ok = worker && zframe_size (command) == 1 && *zframe_data (command) == MDPW_READY
           && zframe_streq (zmsg_next (ready), s_services [0])
           && (!*want || zframe_streq (zmsg_last (ready), want));
    if (!ok) {
        fprintf (stderr, "  expected a READY of %zu frames ending %s\n", frames,
                 *want ? want : "with the last service");
        zframe_destroy (&worker);
    }
    zmsg_destroy (&ready);
    return worker;
}

static zframe_t *
s_start (const char *endpoint, size_t services_n, zsock_t **router, link_t **link)
{
    return s_start_credit (endpoint, services_n, 1, router, link);
}

//  link_stop, and the fake broker's waits serve no link from then on.
static int
s_stop (link_t **link_p)
{
    if (*link_p == s_serving)
        s_serving = NULL;
    return link_stop (link_p);
}

//  A fake broker, the link connected to it, the worker's routing id from its READY, and
//  the request the test, as the worker, holds.
typedef struct {
    zsock_t *router;
    link_t *link;
    zframe_t *worker;
    mdp_msg_t *request;
} fixture_t;

//  True when the link hands the worker the request rid (from client-1, for a.one) next;
//  the test then holds it in f->request.
static bool
s_took (fixture_t *f, const char *rid)
{
    mdp_msg_destroy (&f->request);
    bool ok = s_link_next (f->link, 1000, &f->request) == LINK_REQUEST
           && zframe_streq (f->request->client, "client-1")
           && !strcmp (f->request->service, "a.one")
           && zframe_streq (zmsg_first (f->request->body), rid);
    if (!ok)
        fprintf (stderr, "  expected the worker to get %s from client-1 for a.one\n", rid);
    return ok;
}

//  The worker answers the request it holds: rid 200 {} (no body when rid is NULL).
static void
s_reply (fixture_t *f, const char *rid)
{
    zmsg_t *body = rid ? zmsg_new () : NULL;
    if (body) {
        zmsg_addstr (body, rid);
        zmsg_addstr (body, "200");
        zmsg_addstr (body, "{}");
    }
    link_reply (f->link, &f->request, &body);
}

//  The next message from the worker is a REPLY for client-1 (from the sender worker when
//  it is not NULL) holding body_frames frames (any number when -1).
static bool
s_replied (zsock_t *router, zframe_t *worker, int body_frames)
{
    mdp_msg_t *answer = s_next (router, 1000, NULL);
    bool ok = answer && answer->command == MDPW_REPLY
           && zframe_streq (answer->client, "client-1")
           && (!worker || zframe_eq (answer->sender, worker))
           && (body_frames < 0 || (int) zmsg_size (answer->body) == body_frames);
    mdp_msg_destroy (&answer);
    return ok;
}

//  Starts f at endpoint offering services_n services, and hands r1 to the worker (the
//  test): false when the link did not get there.
static bool
s_holding_r1 (fixture_t *f, const char *endpoint, size_t services_n)
{
    f->request = NULL;
    f->worker = s_start (endpoint, services_n, &f->router, &f->link);
    if (!f->worker)
        return false;
    s_request (f->router, f->worker, "r1");
    return s_took (f, "r1");
}

static void
s_teardown (fixture_t *f)
{
    mdp_msg_destroy (&f->request);
    s_stop (&f->link);
    zframe_destroy (&f->worker);
    zsock_destroy (&f->router);
}

TEST (test_link_heartbeats_while_a_statement_waits_and_refuses_a_third)
{
    fixture_t f;
    CHECK (s_holding_r1 (&f, "inproc://test-worker-link", 2));

    //  The worker holds r1 and waits on a statement (s_next serves the link meanwhile):
    //  the link keeps the broker convinced, and queues one more.
    int beats = 0;
    s_request (f.router, f.worker, "r2");
    s_request (f.router, f.worker, "r3");
    mdp_msg_t *refused = s_next (f.router, 450, &beats);
    CHECK (refused && refused->command == MDPW_REPLY);
    zmsg_first (refused->body);
    char *status_frame = zframe_strdup (zmsg_next (refused->body));
    CHECK_STR (status_frame, "503");
    free (status_frame);
    mdp_msg_destroy (&refused);
    CHECK (s_next (f.router, 350, &beats) == NULL);
    CHECK (beats >= 3);
    mdp_msg_t *early = NULL;
    CHECK (s_link_next (f.link, 0, &early) == LINK_NOTHING);  //  r2 waits for r1's reply

    //  r1's reply goes to the broker, and r2 to the worker.
    s_reply (&f, "r1");
    CHECK (s_replied (f.router, NULL, 3));
    CHECK (s_took (&f, "r2"));

    //  Stopping says DISCONNECT, so the broker hands r2 back.
    mdp_msg_destroy (&f.request);
    CHECK_INT (s_stop (&f.link), 0);
    mdp_msg_t *bye = s_next (f.router, 1000, NULL);
    CHECK (bye && bye->command == MDPW_DISCONNECT);
    mdp_msg_destroy (&bye);
    s_teardown (&f);
}

TEST (test_link_reconnects_after_disconnect_once_the_request_in_hand_is_answered)
{
    fixture_t f;
    CHECK (s_holding_r1 (&f, "inproc://test-worker-link-2", 1));
    zmsg_t *disconnect = mdp_worker_command_new (f.worker, MDPW_DISCONNECT);
    zmsg_send (&disconnect, f.router);
    //  No new session while r1 is in hand: its reply must leave on this one.
    CHECK (s_next (f.router, 300, NULL) == NULL);
    s_reply (&f, "r1");
    CHECK (s_replied (f.router, f.worker, -1));
    mdp_msg_t *again = s_next (f.router, 1000, NULL);   //  after LINK_RECONNECT_MIN_MS
    CHECK (again && again->command == MDPW_READY);
    mdp_msg_destroy (&again);
    s_teardown (&f);
}

TEST (test_link_sends_nothing_for_an_answer_without_body_and_hands_over_the_next)
{
    fixture_t f;
    CHECK (s_holding_r1 (&f, "inproc://test-worker-link-5", 1));
    s_request (f.router, f.worker, "r2");
    s_reply (&f, NULL);                         //  r1 had no rid, say: nothing to answer
    CHECK (s_took (&f, "r2"));
    CHECK (s_next (f.router, 200, NULL) == NULL);
    s_reply (&f, "r2");
    CHECK (s_replied (f.router, f.worker, 3));
    s_teardown (&f);
}

//  Reads the link until it tells the worker word (LINK_BROKER_UP / _DOWN): true as
//  soon as it does, false when timeout_ms pass first.
static bool
s_told (link_t *link, link_event_t word, int timeout_ms)
{
    int64_t until = zclock_mono () + timeout_ms;
    bool told = false;
    while (!told && zclock_mono () < until) {
        mdp_msg_t *request = NULL;
        told = link_recv (link, (int) (until - zclock_mono ()), &request) == word;
        mdp_msg_destroy (&request);
    }
    return told;
}

TEST (test_link_tells_the_worker_when_the_broker_comes_and_goes)
{
    zsock_t *router;
    link_t *link;
    zframe_t *worker = s_start ("inproc://test-worker-link-3", 1, &router, &link);
    CHECK (worker);
    //  Nothing heard from the broker yet: nothing to tell.
    CHECK (!s_told (link, LINK_BROKER_UP, 150));

    //  The broker speaks: up. Then it falls silent past 4 heartbeats of 100 ms: down.
    zmsg_t *beat = mdp_worker_command_new (worker, MDPW_HEARTBEAT);
    zmsg_send (&beat, router);
    CHECK (s_told (link, LINK_BROKER_UP, 1000));
    CHECK (s_told (link, LINK_BROKER_DOWN, 2000));

    //  The link reconnects; the broker speaks on the new session: up again.
    mdp_msg_t *ready = s_next (router, 1000, NULL);
    CHECK (ready && ready->command == MDPW_READY);
    zframe_t *again = ready ? zframe_dup (ready->sender) : NULL;
    mdp_msg_destroy (&ready);
    beat = mdp_worker_command_new (again, MDPW_HEARTBEAT);
    zmsg_send (&beat, router);
    CHECK (s_told (link, LINK_BROKER_UP, 1000));

    s_stop (&link);
    zframe_destroy (&again);
    zframe_destroy (&worker);
    zsock_destroy (&router);
}

//  The link has read a request from the broker and not yet handed it to the worker:
//  freeing it is link_stop's (LeakSanitizer fails the SAN
//  build on a leak): link_stop frees it, and still says DISCONNECT.
TEST (test_link_stop_frees_a_request_read_and_not_handed_over)
{
    fixture_t f = { 0 };
    f.worker = s_start ("inproc://test-worker-link-4", 1, &f.router, &f.link);
    CHECK (f.worker);
    s_request (f.router, f.worker, "r1");
    s_serve_link (300);                         //  a statement's wait reads r1
    CHECK_INT (s_stop (&f.link), 1);
    CHECK (f.link == NULL);
    mdp_msg_t *bye = s_next (f.router, 1000, NULL);
    CHECK (bye && bye->command == MDPW_DISCONNECT);
    mdp_msg_destroy (&bye);
    s_teardown (&f);
}

//  The worker's end, for tests that hold several requests: the next request handed over
//  (ours), checked to be rid from client-1; NULL after saying what came instead.
static mdp_msg_t *
s_take (link_t *link, const char *rid)
{
    mdp_msg_t *request = NULL;
    if (s_link_next (link, 1000, &request) == LINK_REQUEST
    &&  zframe_streq (zmsg_first (request->body), rid))
        return request;
    fprintf (stderr, "  expected the worker to get %s\n", rid);
    mdp_msg_destroy (&request);
    return NULL;
}

//  Answers a held request rid 200 {}.
static void
s_answer (link_t *link, mdp_msg_t **request_p, const char *rid)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, rid);
    zmsg_addstr (body, "200");
    zmsg_addstr (body, "{}");
    link_reply (link, request_p, &body);
}

//  The next REPLY from the worker carries rid as its first body frame, and status.
static bool
s_replied_rid (zsock_t *router, const char *rid, const char *status)
{
    mdp_msg_t *answer = s_next (router, 1000, NULL);
    bool ok = answer && answer->command == MDPW_REPLY
           && zframe_streq (zmsg_first (answer->body), rid)
           && zframe_streq (zmsg_next (answer->body), status);
    if (!ok)
        fprintf (stderr, "  expected the REPLY of %s with %s\n", rid, status);
    mdp_msg_destroy (&answer);
    return ok;
}

//  At credit 3 the worker holds three requests at once, their replies leave in the order
//  they come back, a fourth waits in the link and a fifth is refused 503 by the link.
TEST (test_link_with_credit_hands_over_that_many_and_replies_in_any_order)
{
    zsock_t *router;
    link_t *link;
    zframe_t *worker = s_start_credit ("inproc://test-worker-link-c1", 2, 3, &router, &link);
    CHECK (worker);
    const char *rids [] = { "r1", "r2", "r3", "r4", "r5" };
    for (int i = 0; i < 5; i++)
        s_request (router, worker, rids [i]);
    mdp_msg_t *held [4] = { NULL };
    for (int i = 0; i < 3; i++)
        held [i] = s_take (link, rids [i]);
    CHECK (held [0] && held [1] && held [2]);
    CHECK (s_replied_rid (router, "r5", "503"));   //  r4 waits in the link, r5 is one too many
    mdp_msg_t *early = NULL;
    CHECK (s_link_next (link, 100, &early) == LINK_NOTHING);

    s_answer (link, &held [1], "r2");              //  out of order: leaves at once
    CHECK (s_replied_rid (router, "r2", "200"));
    CHECK ((held [3] = s_take (link, "r4")) != NULL);
    s_answer (link, &held [3], "r4");
    s_answer (link, &held [0], "r1");
    s_answer (link, &held [2], "r3");
    CHECK (s_replied_rid (router, "r4", "200"));
    CHECK (s_replied_rid (router, "r1", "200"));
    CHECK (s_replied_rid (router, "r3", "200"));
    CHECK_INT (s_stop (&link), 0);
    zframe_destroy (&worker);
    zsock_destroy (&router);
}

//  A DISCONNECT while two requests are held: the session is replaced only once both are
//  answered, so each reply leaves on the session its request came from.
TEST (test_link_replaces_a_session_only_once_every_held_request_is_answered)
{
    zsock_t *router;
    link_t *link;
    zframe_t *worker = s_start_credit ("inproc://test-worker-link-c2", 1, 4, &router, &link);
    CHECK (worker);
    s_request (router, worker, "r1");
    s_request (router, worker, "r2");
    mdp_msg_t *r1 = s_take (link, "r1"), *r2 = s_take (link, "r2");
    CHECK (r1 && r2);
    zmsg_t *disconnect = mdp_worker_command_new (worker, MDPW_DISCONNECT);
    zmsg_send (&disconnect, router);
    CHECK (s_next (router, 300, NULL) == NULL);
    s_answer (link, &r1, "r1");
    CHECK (s_replied_rid (router, "r1", "200"));
    CHECK (s_next (router, 300, NULL) == NULL);    //  r2 still held: no new READY yet
    s_answer (link, &r2, "r2");
    CHECK (s_replied_rid (router, "r2", "200"));
    //  After LINK_RECONNECT_MIN_MS; the old session's last heartbeats may come first.
    mdp_msg_t *ready = s_next (router, 3000, NULL);
    CHECK (ready && ready->command == MDPW_READY && ready->credit == 4);
    mdp_msg_destroy (&ready);
    s_stop (&link);
    zframe_destroy (&worker);
    zsock_destroy (&router);
}

//  Every request read and not handed over at shutdown is freed, not only one.
TEST (test_link_stop_frees_every_request_read_and_not_handed_over)
{
    zsock_t *router;
    link_t *link;
    zframe_t *worker = s_start_credit ("inproc://test-worker-link-c3", 1, 8, &router, &link);
    CHECK (worker);
    const char *rids [] = { "r1", "r2", "r3", "r4" };
    for (int i = 0; i < 4; i++)
        s_request (router, worker, rids [i]);
    s_serve_link (300);                             //  a statement's wait reads all four
    CHECK_INT (s_stop (&link), 4);
    mdp_msg_t *bye = s_next (router, 1000, NULL);
    CHECK (bye && bye->command == MDPW_DISCONNECT);
    mdp_msg_destroy (&bye);
    zframe_destroy (&worker);
    zsock_destroy (&router);
}

//  The READY a worker sent a fresh ROUTER: its routing id, or NULL.
static zframe_t *
s_ready_from (zsock_t *router)
{
    mdp_msg_t *ready = s_next (router, 1000, NULL);
    zframe_t *worker = ready && ready->command == MDPW_READY ? zframe_dup (ready->sender) : NULL;
    mdp_msg_destroy (&ready);
    return worker;
}

//  Two brokers: the worker registers with both, takes requests from each, answers each on
//  the broker it came from, and the worker hears BROKER_DOWN only when both are away; one
//  broker's DISCONNECT leaves the other's request in hand alone.
TEST (test_link_registers_with_every_broker_and_answers_each_on_its_own)
{
    const char *endpoints [] = { "inproc://test-worker-link-m1", "inproc://test-worker-link-m2" };
    zsock_t *a = zsock_new_router (endpoints [0]), *b = zsock_new_router (endpoints [1]);
    link_config_t cfg = { endpoints, 2, 100, s_services, 1, 2, NULL };
    link_t *link = s_serving = link_new (&cfg);
    CHECK (link != NULL);
    zframe_t *wa = s_ready_from (a), *wb = s_ready_from (b);
    CHECK (wa && wb);

    s_request (b, wb, "rb1");
    s_request (a, wa, "ra1");
    mdp_msg_t *first = NULL, *second = NULL;
    CHECK (s_link_next (link, 1000, &first) == LINK_REQUEST);
    CHECK (s_link_next (link, 1000, &second) == LINK_REQUEST);
    mdp_msg_t *rb1 = zframe_streq (zmsg_first (first->body), "rb1") ? first : second;
    mdp_msg_t *ra1 = rb1 == first ? second : first;
    CHECK (zframe_streq (zmsg_first (ra1->body), "ra1"));

    //  a says DISCONNECT: b's request is still answered on b, a's on a.
    zmsg_t *disconnect = mdp_worker_command_new (wa, MDPW_DISCONNECT);
    zmsg_send (&disconnect, a);
    s_answer (link, &rb1, "rb1");
    CHECK (s_replied_rid (b, "rb1", "200"));
    s_answer (link, &ra1, "ra1");
    CHECK (s_replied_rid (a, "ra1", "200"));
    //  a gets a new READY; b goes on with its session.
    zframe_t *wa2 = s_ready_from (a);
    CHECK (wa2 != NULL);
    s_request (b, wb, "rb2");
    mdp_msg_t *rb2 = s_take (link, "rb2");
    CHECK (rb2 != NULL);
    s_answer (link, &rb2, "rb2");
    CHECK (s_replied_rid (b, "rb2", "200"));

    //  (Both brokers were heard from: the BROKER_UP went by with the requests.) a falls
    //  silent while b still speaks: no BROKER_DOWN; then both silent: down.
    zmsg_t *beat;
    int64_t until = zclock_mono () + 700;
    bool down = false;
    while (zclock_mono () < until && !down) {
        beat = mdp_worker_command_new (wb, MDPW_HEARTBEAT);
        zmsg_send (&beat, b);
        down = s_told (link, LINK_BROKER_DOWN, 50);
    }
    CHECK (!down);
    CHECK (s_told (link, LINK_BROKER_DOWN, 2000));

    s_stop (&link);
    zframe_destroy (&wa);
    zframe_destroy (&wa2);
    zframe_destroy (&wb);
    zsock_destroy (&a);
    zsock_destroy (&b);
}

TEST_MAIN ("worker_link",
    T (test_link_heartbeats_while_a_statement_waits_and_refuses_a_third),
    T (test_link_reconnects_after_disconnect_once_the_request_in_hand_is_answered),
    T (test_link_sends_nothing_for_an_answer_without_body_and_hands_over_the_next),
    T (test_link_tells_the_worker_when_the_broker_comes_and_goes),
    T (test_link_stop_frees_a_request_read_and_not_handed_over),
    T (test_link_with_credit_hands_over_that_many_and_replies_in_any_order),
    T (test_link_replaces_a_session_only_once_every_held_request_is_answered),
    T (test_link_stop_frees_every_request_read_and_not_handed_over),
    T (test_link_registers_with_every_broker_and_answers_each_on_its_own),
)
