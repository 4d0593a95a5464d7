/*  Unit tests for workers/link: the broker link actor against a fake broker (a ROUTER on
    inproc), with the test playing the SQL side on the actor's pipe.  */
#include "testing.h"
#include "../../proto/mdp.h"
#include "../../workers/link.h"

static const char *s_services [] = { "a.one", "a.two" };

//  The next message from the worker that is not a HEARTBEAT (counted in *beats), decoded.
static mdp_msg_t *
s_next (zsock_t *router, int timeout_ms, int *beats)
{
    int64_t until = zclock_mono () + timeout_ms;
    while (zclock_mono () < until) {
        zmsg_t *raw = mdp_recv (router, (int) (until - zclock_mono ()));
        if (!raw)
            break;
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

//  The next message the link hands the SQL side other than BROKER_UP / BROKER_DOWN; NULL
//  when none comes within timeout_ms.
static zmsg_t *
s_pipe_next (zactor_t *link, int timeout_ms)
{
    int64_t until = zclock_mono () + timeout_ms;
    while (true) {
        int64_t left = until - zclock_mono ();
        zmsg_t *msg = mdp_recv (zactor_sock (link), left > 0 ? (int) left : 0);
        char *first = msg ? zframe_strdup (zmsg_first (msg)) : NULL;
        bool presence = first && !strncmp (first, "BROKER_", 7);
        free (first);
        if (!presence)
            return msg;
        zmsg_destroy (&msg);
    }
}

//  The rid of a REQUEST the link handed to the SQL side ("REQUEST" client service rid ...).
static char *
s_take (zactor_t *link)
{
    zmsg_t *msg = s_pipe_next (link, 1000);
    if (!msg || zmsg_size (msg) < 4)
        return NULL;
    char *command = zmsg_popstr (msg);
    char *client = zmsg_popstr (msg);
    char *service = zmsg_popstr (msg);
    char *rid = zmsg_popstr (msg);
    bool ok = !strcmp (command, "REQUEST") && !strcmp (client, "client-1")
           && !strcmp (service, "a.one");
    free (command);
    free (client);
    free (service);
    zmsg_destroy (&msg);
    if (!ok)
        zstr_free (&rid);
    return rid;
}

//  True when the link hands the SQL side the request rid next.
static bool
s_took (zactor_t *link, const char *rid)
{
    char *got = s_take (link);
    bool ok = got && !strcmp (got, rid);
    if (!ok)
        fprintf (stderr, "  expected the SQL side to get %s, got %s\n", rid, got ? got : "nothing");
    zstr_free (&got);
    return ok;
}

//  The broker sends rid and the link hands it to the SQL side at once.
static bool
s_handed (zsock_t *router, zframe_t *worker, zactor_t *link, const char *rid)
{
    s_request (router, worker, rid);
    return s_took (link, rid);
}

//  The next message from the worker is a REPLY (from the sender worker when it is not NULL)
//  holding body_frames frames (any number when -1).
static bool
s_replied (zsock_t *router, zframe_t *worker, int body_frames)
{
    mdp_msg_t *answer = s_next (router, 1000, NULL);
    bool ok = answer && answer->command == MDPW_REPLY
           && (!worker || zframe_eq (answer->sender, worker))
           && (body_frames < 0 || (int) zmsg_size (answer->body) == body_frames);
    mdp_msg_destroy (&answer);
    return ok;
}

//  Starts a link to a fresh ROUTER at endpoint; returns the worker's routing id from READY.
static zframe_t *
s_start (const char *endpoint, size_t services_n, zsock_t **router, zactor_t **link)
{
    *router = zsock_new_router (endpoint);
    link_config_t cfg = { endpoint, 100, s_services, services_n };
    *link = zactor_new (link_actor, &cfg);
    char *status = zstr_recv (*link);
    bool connected = status && !strcmp (status, "CONNECTED");
    zstr_free (&status);
    mdp_msg_t *ready = connected ? s_next (*router, 1000, NULL) : NULL;
    zframe_t *worker = ready && ready->command == MDPW_READY && ready->services_n == services_n
                     ? zframe_dup (ready->sender) : NULL;
    mdp_msg_destroy (&ready);
    return worker;
}

//  The SQL side's answer to the request in hand.
static void
s_reply (zactor_t *link, const char *rid)
{
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "REPLY");
    zmsg_addstr (reply, "client-1");
    zmsg_addstr (reply, rid);
    zmsg_addstr (reply, "200");
    zmsg_addstr (reply, "{}");
    zmsg_send (&reply, link);
}

//  A fake broker, the link connected to it, and the worker's routing id from its READY.
typedef struct {
    zsock_t *router;
    zactor_t *link;
    zframe_t *worker;
} fixture_t;

//  Starts f at endpoint offering services_n services, and hands r1 to the SQL side (the
//  test): false when the link did not get there.
static bool
s_holding_r1 (fixture_t *f, const char *endpoint, size_t services_n)
{
    f->worker = s_start (endpoint, services_n, &f->router, &f->link);
    return f->worker && s_handed (f->router, f->worker, f->link, "r1");
}

static void
s_teardown (fixture_t *f)
{
    zactor_destroy (&f->link);
    zframe_destroy (&f->worker);
    zsock_destroy (&f->router);
}

TEST (test_link_heartbeats_while_sql_holds_a_request_and_refuses_a_third)
{
    fixture_t f;
    CHECK (s_holding_r1 (&f, "inproc://test-worker-link", 2));

    //  The SQL side holds r1: the link keeps the broker convinced, and queues one more.
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
    CHECK (s_pipe_next (f.link, 0) == NULL);              //  r2 waits for r1's reply

    //  r1's reply goes to the broker, and r2 to the SQL side.
    s_reply (f.link, "r1");
    CHECK (s_replied (f.router, NULL, 3));
    CHECK (s_took (f.link, "r2"));

    //  Stopping says DISCONNECT, so the broker hands r2 back.
    zactor_destroy (&f.link);
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
    s_reply (f.link, "r1");
    CHECK (s_replied (f.router, f.worker, -1));
    mdp_msg_t *again = s_next (f.router, 1000, NULL);   //  after LINK_RECONNECT_MIN_MS
    CHECK (again && again->command == MDPW_READY);
    mdp_msg_destroy (&again);
    s_teardown (&f);
}

//  Reads the pipe until the link tells the SQL side word (BROKER_UP / BROKER_DOWN): true as
//  soon as it does, false when timeout_ms pass first.
static bool
s_told (zactor_t *link, const char *word, int timeout_ms)
{
    int64_t until = zclock_mono () + timeout_ms;
    bool told = false;
    while (!told && zclock_mono () < until) {
        zmsg_t *msg = mdp_recv (zactor_sock (link), (int) (until - zclock_mono ()));
        char *first = msg ? zframe_strdup (zmsg_first (msg)) : NULL;
        told = first && !strcmp (first, word);
        free (first);
        zmsg_destroy (&msg);
    }
    return told;
}

TEST (test_link_tells_the_sql_side_when_the_broker_comes_and_goes)
{
    zsock_t *router;
    zactor_t *link;
    zframe_t *worker = s_start ("inproc://test-worker-link-3", 1, &router, &link);
    CHECK (worker);
    //  Nothing heard from the broker yet: nothing to tell.
    CHECK (!s_told (link, "BROKER_UP", 150));

    //  The broker speaks: up. Then it falls silent past 4 heartbeats of 100 ms: down.
    zmsg_t *beat = mdp_worker_command_new (worker, MDPW_HEARTBEAT);
    zmsg_send (&beat, router);
    CHECK (s_told (link, "BROKER_UP", 1000));
    CHECK (s_told (link, "BROKER_DOWN", 2000));

    //  The link reconnects; the broker speaks on the new session: up again.
    mdp_msg_t *ready = s_next (router, 1000, NULL);
    CHECK (ready && ready->command == MDPW_READY);
    zframe_t *again = ready ? zframe_dup (ready->sender) : NULL;
    mdp_msg_destroy (&ready);
    beat = mdp_worker_command_new (again, MDPW_HEARTBEAT);
    zmsg_send (&beat, router);
    CHECK (s_told (link, "BROKER_UP", 1000));

    zactor_destroy (&link);
    zframe_destroy (&again);
    zframe_destroy (&worker);
    zsock_destroy (&router);
}

TEST_MAIN ("worker_link",
    T (test_link_heartbeats_while_sql_holds_a_request_and_refuses_a_third),
    T (test_link_reconnects_after_disconnect_once_the_request_in_hand_is_answered),
    T (test_link_tells_the_sql_side_when_the_broker_comes_and_goes),
)
