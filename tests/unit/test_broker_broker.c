/*  test_broker_broker: the broker actor in-process over inproc, driven by a client and a
    worker built with our own proto codec (the Python integration test covers plain peers).  */
#include "../../broker/broker.h"
#include "../../broker/service.h"
#include "../../common/log.h"
#include "../../proto/mdp.h"
#include "../../proto/svc.h"
#include "testing.h"

#include <jansson.h>
#include <pthread.h>

typedef struct {
    broker_t *broker;
    volatile sig_atomic_t stop;
    pthread_t thread;
    int rc;
} harness_t;

static void *
s_run (void *arg)
{
    harness_t *h = (harness_t *) arg;
    h->rc = broker_run (h->broker, &h->stop);
    return NULL;
}

static int s_port;
//  Most tests queue requests no worker offers yet: only the test of that rule shortens it.
static long s_unoffered_ms = 60000;

//  A broker on a fresh inproc endpoint (written to endpoint, 64 bytes), heartbeat_ms
//  apart, running in a thread.
static harness_t *
s_start_hb (char *endpoint, long queue_max, long ttl_ms, long heartbeat_ms)
{
    snprintf (endpoint, 64, "inproc://test-broker-%d", s_port++);
    broker_config_t cfg = { .endpoint = endpoint, .bind = endpoint, .heartbeat_ms = heartbeat_ms,
                            .queue_max = queue_max, .request_ttl_ms = ttl_ms, .drain_ms = 2000,
                            .bulk_reserve = 1, .held_bytes_max = 256L << 20,
                            .unoffered_ms = s_unoffered_ms };
    harness_t *h = (harness_t *) zmalloc (sizeof (harness_t));
    h->broker = broker_new (&cfg);
    if (!h->broker) {
        free (h);
        return NULL;
    }
    pthread_create (&h->thread, NULL, s_run, h);
    return h;
}

static harness_t *
s_start (char *endpoint, long queue_max, long ttl_ms)
{
    return s_start_hb (endpoint, queue_max, ttl_ms, 100);
}

static int
s_stop (harness_t **h_p)
{
    harness_t *h = *h_p;
    h->stop = 1;
    pthread_join (h->thread, NULL);
    int rc = h->rc;
    broker_destroy (&h->broker);
    free (h);
    *h_p = NULL;
    return rc;
}

static zsock_t *
s_dealer (const char *endpoint)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    mdp_socket_setup (sock);
    zsock_set_rcvtimeo (sock, 2000);
    zsock_connect (sock, "%s", endpoint);
    return sock;
}

//  Next message of the worker that is not a HEARTBEAT, decoded; NULL on timeout.
static mdp_msg_t *
s_worker_recv (zsock_t *worker)
{
    while (true) {
        zmsg_t *msg = zmsg_recv (worker);
        if (!msg)
            return NULL;
        mdp_msg_t *m = mdp_msg_decode (&msg, MDP_AT_WORKER, NULL, 0);
        if (!m || m->command != MDPW_HEARTBEAT)
            return m;
        mdp_msg_destroy (&m);
    }
}

static svc_reply_t *
s_client_recv (zsock_t *client, char *service)
{
    zmsg_t *msg = zmsg_recv (client);
    mdp_msg_t *m = mdp_msg_decode (&msg, MDP_AT_CLIENT, NULL, 0);
    if (!m)
        return NULL;
    strcpy (service, m->service);
    svc_reply_t *reply = svc_reply_decode (&m->body, NULL, 0);
    mdp_msg_destroy (&m);
    return reply;
}

static void
s_send_request (zsock_t *client, const char *service, const char *rid)
{
    zmsg_t *body = svc_request_encode (rid, NULL, SVC_ROLE_NONE, "{}", 2);
    zmsg_t *msg = mdp_client_request_new (service, &body);
    zmsg_send (&msg, client);
}

//  A worker offering services: READY is sent.
static zsock_t *
s_worker_new (const char *endpoint, const char **services, size_t n)
{
    zsock_t *worker = s_dealer (endpoint);
    zmsg_t *ready = mdp_worker_ready_new (services, n, 1, NULL);
    zmsg_send (&ready, worker);
    return worker;
}

//  Serves the next REQUEST the worker gets (it offers several services, so the service name
//  comes first), copying its rid and, when service is not NULL, the service it names; ""
//  on timeout.
static void
s_serve_one (zsock_t *worker, char *rid, char *service)
{
    *rid = 0;
    if (service)
        *service = 0;
    mdp_msg_t *m = s_worker_recv (worker);
    if (!m || m->command != MDPW_REQUEST) {
        mdp_msg_destroy (&m);
        return;
    }
    if (mdp_request_take_service (m, NULL, 0) == 0 && service)
        strcpy (service, m->service);
    svc_request_t *req = svc_request_decode (&m->body, NULL, 0);
    if (req) {
        strcpy (rid, req->rid);
        zmsg_t *body = svc_reply_encode (req->rid, 200, "{}", 2);
        zmsg_t *reply = mdp_worker_reply_new (m->client, &body);
        zmsg_send (&reply, worker);
    }
    svc_request_destroy (&req);
    mdp_msg_destroy (&m);
}

TEST (test_request_and_reply_round_trip_through_the_broker)
{
    char ep [64];
    harness_t *h = s_start (ep, 10, 5000);
    CHECK (h != NULL);
    const char *services [] = { "unit.echo", "unit.other" };
    zsock_t *worker = s_worker_new (ep, services, 2);
    zsock_t *client = s_dealer (ep);
    s_send_request (client, "unit.echo", "rid-1");
    //  It offers two services, so the broker names the one asked for first.
    char rid [SVC_RID_MAX + 1], named [MDP_SERVICE_MAX + 1];
    s_serve_one (worker, rid, named);

    char service [MDP_SERVICE_MAX + 1] = "";
    svc_reply_t *reply = *rid ? s_client_recv (client, service) : NULL;
    int status = reply ? reply->status : 0;
    char reply_rid [SVC_RID_MAX + 1] = "";
    if (reply)
        strcpy (reply_rid, reply->rid);
    svc_reply_destroy (&reply);
    zsock_destroy (&client);
    zsock_destroy (&worker);
    int rc = s_stop (&h);

    CHECK_STR (named, "unit.echo");
    CHECK_STR (rid, "rid-1");
    CHECK_STR (service, "unit.echo");
    CHECK_STR (reply_rid, "rid-1");
    CHECK_INT (status, 200);
    CHECK_INT (rc, 0);
}

TEST (test_full_queue_and_stop_answer_503_with_the_rid)
{
    char ep [64];
    harness_t *h = s_start (ep, 1, 5000);
    CHECK (h != NULL);
    zsock_t *client = s_dealer (ep);
    s_send_request (client, "unit.nobody", "q-1");
    s_send_request (client, "unit.nobody", "q-2");
    char service [MDP_SERVICE_MAX + 1];
    svc_reply_t *full = s_client_recv (client, service);
    h->stop = 1;    //  as SIGTERM does: the queued one is answered too
    svc_reply_t *drained = s_client_recv (client, service);
    int rc = s_stop (&h);
    zsock_destroy (&client);

    int full_ok = full && full->status == 503 && streq (full->rid, "q-2");
    int drained_ok = drained && drained->status == 503 && streq (drained->rid, "q-1");
    json_t *root = drained ? json_loadb ((const char *) zframe_data (drained->payload),
                                         zframe_size (drained->payload), 0, NULL) : NULL;
    const char *code = json_string_value (json_object_get (json_object_get (root, "error"), "code"));
    int code_ok = code && streq (code, "shutting_down");
    json_decref (root);
    svc_reply_destroy (&full);
    svc_reply_destroy (&drained);
    CHECK (full_ok);
    CHECK (drained_ok);
    CHECK (code_ok);
    CHECK_INT (rc, 0);
}

//  The error code of a reply's payload ("" when none).
static const char *
s_code (svc_reply_t *reply, char *buf, size_t size)
{
    json_t *root = reply ? json_loadb ((const char *) zframe_data (reply->payload),
                                       zframe_size (reply->payload), 0, NULL) : NULL;
    const char *code = json_string_value (json_object_get (json_object_get (root, "error"), "code"));
    snprintf (buf, size, "%s", code ? code : "");
    json_decref (root);
    return buf;
}

TEST (test_a_service_whose_workers_all_left_is_answered_503_past_the_grace)
{
    //  A service no worker offered yet is waited for (7/MDP). Once its only worker has
    //  left, a request waits out the grace, then it and every new one are answered 503
    //  service_unavailable at once, long before the ttl. Bulk work keeps waiting.
    char ep [64];
    s_unoffered_ms = 300;
    harness_t *h = s_start (ep, 100, 60000);
    s_unoffered_ms = 60000;
    CHECK (h != NULL);
    zsock_t *client = s_dealer (ep);
    zsock_set_rcvtimeo (client, 600);
    s_send_request (client, "unit.gone", "before");     //  never offered: it waits
    const char *services [] = { "unit.gone", SVC_JOBS_CHUNK };
    zsock_t *worker = s_worker_new (ep, services, 2);
    char rid [SVC_RID_MAX + 1];
    s_serve_one (worker, rid, NULL);
    int served_ok = streq (rid, "before");
    zmsg_t *bye = mdp_worker_command_new (NULL, MDPW_DISCONNECT);
    zmsg_send (&bye, worker);
    zsock_destroy (&worker);
    char service [MDP_SERVICE_MAX + 1], code [64], code2 [64];
    svc_reply_t *answer = s_client_recv (client, service);     //  "before", answered
    int64_t t0 = zclock_mono ();
    s_send_request (client, "unit.gone", "early");
    s_send_request (client, SVC_JOBS_CHUNK, "chunk");
    zsock_set_rcvtimeo (client, 3000);
    svc_reply_t *early = s_client_recv (client, service);
    int64_t waited = zclock_mono () - t0;
    t0 = zclock_mono ();
    s_send_request (client, "unit.gone", "late");
    svc_reply_t *late = s_client_recv (client, service);
    int64_t late_wait = zclock_mono () - t0;
    zsock_set_rcvtimeo (client, 500);
    zmsg_t *chunk = zmsg_recv (client);        //  none: the chunk still waits
    int rc = s_stop (&h);
    zsock_destroy (&client);
    int answer_ok = answer && answer->status == 200 && streq (answer->rid, "before");
    int early_ok = early && early->status == 503 && streq (early->rid, "early")
                && streq (s_code (early, code, sizeof code), "service_unavailable");
    int late_ok = late && late->status == 503 && streq (late->rid, "late")
               && streq (s_code (late, code2, sizeof code2), "service_unavailable");
    svc_reply_destroy (&answer);
    svc_reply_destroy (&early);
    svc_reply_destroy (&late);
    int chunk_waited = chunk == NULL;
    zmsg_destroy (&chunk);
    CHECK (served_ok);
    CHECK (answer_ok);
    CHECK (early_ok);
    CHECK (waited >= 150 && waited < 2000);
    CHECK (late_ok);
    CHECK (late_wait < 200);
    CHECK (chunk_waited);
    CHECK_INT (rc, 0);
}

//  The broker's mmi.status answer, parsed; NULL when none came.
static json_t *
s_status (zsock_t *client)
{
    zmsg_t *msg = mdp_client_request_new (MMI_STATUS, NULL);
    zmsg_send (&msg, client);
    msg = zmsg_recv (client);
    mdp_msg_t *m = mdp_msg_decode (&msg, MDP_AT_CLIENT, NULL, 0);
    json_t *root = NULL;
    if (m && zmsg_size (m->body) == 1) {
        zframe_t *f = zmsg_first (m->body);
        root = json_loadb ((const char *) zframe_data (f), zframe_size (f), 0, NULL);
    }
    mdp_msg_destroy (&m);
    return root;
}

TEST (test_mmi_status_counts_a_worker)
{
    char ep [64];
    harness_t *h = s_start (ep, 10, 5000);
    CHECK (h != NULL);
    const char *services [] = { "unit.status" };
    zsock_t *worker = s_worker_new (ep, services, 1);
    zsock_t *client = s_dealer (ep);
    zclock_sleep (50);
    json_t *root = s_status (client);
    json_int_t workers = json_integer_value (json_object_get (root, "workers"));
    json_t *svc = json_array_get (json_object_get (root, "services"), 0);
    const char *name = json_string_value (json_object_get (svc, "name"));
    int name_ok = name && streq (name, "unit.status");
    json_int_t idle = json_integer_value (json_object_get (svc, "idle"));
    json_decref (root);
    zsock_destroy (&client);
    zsock_destroy (&worker);
    int rc = s_stop (&h);
    CHECK_INT (workers, 1);
    CHECK (name_ok);
    CHECK_INT (idle, 1);
    CHECK_INT (rc, 0);
}

TEST (test_mmi_status_lists_each_worker_by_its_name_or_its_id)
{
    char ep [64];
    harness_t *h = s_start (ep, 10, 5000);
    CHECK (h != NULL);
    const char *services [] = { "unit.a", "unit.b" };
    int64_t before = zclock_time ();
    zsock_t *named = s_dealer (ep);
    zmsg_t *ready = mdp_worker_ready_new (services, 2, 3, "unit-w1");
    zmsg_send (&ready, named);
    zsock_t *plain = zsock_new (ZMQ_DEALER);
    zsock_set_identity (plain, "\x7fplain");     //  before it connects
    zsock_connect (plain, "%s", ep);
    ready = mdp_worker_ready_new (services, 1, 1, NULL);
    zmsg_send (&ready, plain);
    zsock_t *client = s_dealer (ep);
    zclock_sleep (100);
    json_t *root = s_status (client);
    json_t *list = json_object_get (root, "workerList");
    //  Sorted by name: the hex id "7f..." before "unit-w1".
    json_t *first = json_array_get (list, 0), *second = json_array_get (list, 1);
    const char *since = json_string_value (json_object_get (second, "since"));
    CHECK_INT (json_array_size (list), 2);
    CHECK (json_object_get (root, "workerListTruncated") == NULL);
    CHECK_STR (json_string_value (json_object_get (first, "name")), "7f706c61696e");
    CHECK_STR (json_string_value (json_object_get (first, "id")), "7f706c61696e");
    CHECK_STR (json_string_value (json_object_get (second, "name")), "unit-w1");
    //  inproc has no peer address.
    CHECK_STR (json_string_value (json_object_get (second, "address")), "-");
    CHECK_INT (json_integer_value (json_object_get (second, "credit")), 3);
    CHECK_INT (json_integer_value (json_object_get (second, "held")), 0);
    CHECK_INT (json_array_size (json_object_get (second, "services")), 2);
    CHECK_STR (json_string_value (json_array_get (json_object_get (second, "services"), 1)),
               "unit.b");
    //  RFC 3339 UTC with milliseconds, within the test's run.
    char low [32], high [32];
    time_t t = (time_t) (before / 1000) - 1, u = (time_t) (zclock_time () / 1000) + 1;
    strftime (low, sizeof low, "%Y-%m-%dT%H:%M:%S", gmtime (&t));
    strftime (high, sizeof high, "%Y-%m-%dT%H:%M:%S", gmtime (&u));
    CHECK (since && strlen (since) == 24 && since [23] == 'Z' && strcmp (since, low) > 0
           && strcmp (since, high) < 0);
    json_decref (root);
    zsock_destroy (&client);
    zsock_destroy (&named);
    zsock_destroy (&plain);
    CHECK_INT (s_stop (&h), 0);
}

TEST (test_a_ready_with_a_bad_name_is_answered_disconnect)
{
    char ep [64];
    harness_t *h = s_start (ep, 10, 5000);
    CHECK (h != NULL);
    zsock_t *worker = s_dealer (ep);
    zstr_sendm (worker, "");
    zstr_sendm (worker, MDPW_VERSION);
    zstr_sendm (worker, "\x01");
    zstr_sendm (worker, "unit.a");
    zstr_send (worker, "name a b");
    mdp_msg_t *m = s_worker_recv (worker);
    CHECK (m && m->command == MDPW_DISCONNECT);
    mdp_msg_destroy (&m);
    zsock_t *client = s_dealer (ep);
    json_t *root = s_status (client);
    CHECK_INT (json_array_size (json_object_get (root, "workerList")), 0);
    json_decref (root);
    zsock_destroy (&client);
    zsock_destroy (&worker);
    CHECK_INT (s_stop (&h), 0);
}

//  A chunk, then gap_ms later a GET, queue with no worker; then a worker offering both comes.
static void
s_chunk_then_get (int gap_ms, char *first, char *second)
{
    char ep [64];
    harness_t *h = s_start (ep, 10, 5000);
    zsock_t *client = s_dealer (ep);
    s_send_request (client, SVC_JOBS_CHUNK, "chunk-1");
    zclock_sleep (gap_ms);
    s_send_request (client, SVC_TICKETS_GET, "get-1");
    zclock_sleep (50);
    const char *services [] = { SVC_JOBS_CHUNK, SVC_TICKETS_GET };
    zsock_t *worker = s_worker_new (ep, services, 2);
    s_serve_one (worker, first, NULL);
    s_serve_one (worker, second, NULL);
    zsock_destroy (&worker);
    zsock_destroy (&client);
    s_stop (&h);
}

TEST (test_an_interactive_request_goes_before_a_fresh_chunk_queued_earlier)
{
    char first [SVC_RID_MAX + 1], second [SVC_RID_MAX + 1];
    s_chunk_then_get (0, first, second);
    CHECK_STR (first, "get-1");
    CHECK_STR (second, "chunk-1");
}

TEST (test_a_chunk_that_waited_past_the_yield_goes_first_again)
{
    char first [SVC_RID_MAX + 1], second [SVC_RID_MAX + 1];
    s_chunk_then_get (400, first, second);      //  past BULK_YIELD_MS (250)
    CHECK_STR (first, "chunk-1");
    CHECK_STR (second, "get-1");
}

//  The rid of the next REQUEST the worker gets within ms, without answering it ("" if none).
static void
s_take_within (zsock_t *worker, int ms, char *rid, zmsg_t **client_p)
{
    *rid = 0;
    zsock_set_rcvtimeo (worker, ms);
    mdp_msg_t *m = s_worker_recv (worker);
    zsock_set_rcvtimeo (worker, 2000);
    if (m && m->command == MDPW_REQUEST) {
        zframe_t *named = zmsg_pop (m->body);
        zframe_destroy (&named);
        svc_request_t *req = svc_request_decode (&m->body, NULL, 0);
        if (req)
            strcpy (rid, req->rid);
        svc_request_destroy (&req);
        *client_p = zmsg_new ();
        zmsg_append (*client_p, &(zframe_t *) { zframe_dup (m->client) });
    }
    mdp_msg_destroy (&m);
}

static void
s_answer (zsock_t *worker, zmsg_t **client_p, const char *rid)
{
    zframe_t *client = zmsg_pop (*client_p);
    zmsg_destroy (client_p);
    zmsg_t *body = svc_reply_encode (rid, 200, "{}", 2);
    zmsg_t *reply = mdp_worker_reply_new (client, &body);
    zframe_destroy (&client);
    zmsg_send (&reply, worker);
}

//  The rid of the next REQUEST the worker gets within ms ("" if none), answered 200.
static void
s_serve_within (zsock_t *worker, int ms, char *rid)
{
    zmsg_t *to = NULL;
    s_take_within (worker, ms, rid, &to);
    if (to)
        s_answer (worker, &to, rid);
}

//  Two workers offering chunks and GETs, two chunks queued, then a GET (or, with send_get
//  false, nothing: the free worker just waits 1.5 s). Returns how many chunks went out at
//  once; free_rid / next_rid: what the free worker got, then the busy one.
static int
s_two_workers_two_chunks (bool api_traffic, bool send_get, char *free_rid, char *next_rid)
{
    char ep [64];
    //  A 1 s heartbeat: the workers below stay silent while the test waits on them.
    harness_t *h = s_start_hb (ep, 10, 5000, 1000);
    zsock_t *client = s_dealer (ep);
    const char *services [] = { SVC_JOBS_CHUNK, SVC_TICKETS_GET };
    zsock_t *a = s_worker_new (ep, services, 2), *b = s_worker_new (ep, services, 2);
    zclock_sleep (50);
    //  BROKER_BULK_RESERVE is 1 here; a lone worker still takes chunks, as the two tests
    //  above show. The reserve holds only while API requests come in: one nobody serves.
    if (api_traffic)
        s_send_request (client, "unit.nobody", "api-1");
    s_send_request (client, SVC_JOBS_CHUNK, "chunk-1");
    s_send_request (client, SVC_JOBS_CHUNK, "chunk-2");
    char got_a [SVC_RID_MAX + 1], got_b [SVC_RID_MAX + 1], got [SVC_RID_MAX + 1];
    zmsg_t *to_a = NULL, *to_b = NULL, *to = NULL;
    s_take_within (a, 300, got_a, &to_a);
    s_take_within (b, 300, got_b, &to_b);
    //  One worker holds a chunk, the other waits although a chunk is queued.
    int chunks_out = (*got_a != 0) + (*got_b != 0);
    zsock_t *busy = *got_a ? a : b, *free_one = *got_a ? b : a;
    zmsg_t **busy_client = *got_a ? &to_a : &to_b;
    char *busy_rid = *got_a ? got_a : got_b;
    if (send_get)
        s_send_request (client, SVC_TICKETS_GET, "get-1");
    s_take_within (free_one, send_get ? 300 : 1500, got, &to);
    strcpy (free_rid, got);
    if (to)
        s_answer (free_one, &to, got);
    //  When the busy worker finishes its chunk, it takes the next one.
    if (*busy_client)
        s_answer (busy, busy_client, busy_rid);
    s_take_within (busy, 300, got, &to);
    strcpy (next_rid, got);
    if (to)
        s_answer (busy, &to, got);
    zmsg_destroy (&to_a);
    zmsg_destroy (&to_b);
    zsock_destroy (&a);
    zsock_destroy (&b);
    zsock_destroy (&client);
    s_stop (&h);
    return chunks_out;
}

TEST (test_chunks_leave_one_worker_free_while_api_requests_come_in)
{
    char get_rid [SVC_RID_MAX + 1], next_rid [SVC_RID_MAX + 1];
    CHECK_INT (s_two_workers_two_chunks (true, true, get_rid, next_rid), 1);
    CHECK_STR (get_rid, "get-1");
    CHECK_STR (next_rid, "chunk-2");
}

TEST (test_without_api_requests_every_worker_takes_chunks)
{
    char get_rid [SVC_RID_MAX + 1], next_rid [SVC_RID_MAX + 1];
    CHECK_INT (s_two_workers_two_chunks (false, true, get_rid, next_rid), 2);
}

TEST (test_when_api_requests_stop_the_reserve_lapses_and_the_free_worker_takes_a_chunk)
{
    //  No event follows the last API request: the broker's tick must hand the queued chunk
    //  to the worker the reserve held back (BULK_RESERVE_MS, 1 s, after the request).
    char free_rid [SVC_RID_MAX + 1], next_rid [SVC_RID_MAX + 1];
    CHECK_INT (s_two_workers_two_chunks (true, false, free_rid, next_rid), 1);
    CHECK_STR (free_rid, "chunk-2");
}

TEST (test_a_credit_worker_is_sent_its_credit_before_it_answers_and_then_the_rest)
{
    char ep [64];
    //  A 1 s heartbeat: the worker below stays silent while the test waits on it.
    harness_t *h = s_start_hb (ep, 10, 5000, 1000);
    CHECK (h != NULL);
    const char *services [] = { "unit.credit", "unit.other" };
    zsock_t *worker = s_dealer (ep);
    zmsg_t *ready = mdp_worker_ready_new (services, 2, 3, NULL);
    zmsg_send (&ready, worker);
    zsock_t *client = s_dealer (ep);
    for (int i = 0; i < 4; i++) {
        char rid [16];
        snprintf (rid, sizeof rid, "c-%d", i);
        s_send_request (client, "unit.credit", rid);
    }
    char got [4][SVC_RID_MAX + 1];
    zmsg_t *to [4] = { NULL };
    for (int i = 0; i < 3; i++)
        s_take_within (worker, 1000, got [i], &to [i]);
    s_take_within (worker, 300, got [3], &to [3]);
    bool fourth_early = *got [3] != 0;
    //  Answered out of order; the fourth comes once a place is free.
    s_answer (worker, &to [1], got [1]);
    if (!fourth_early)
        s_take_within (worker, 1000, got [3], &to [3]);
    for (int i = 0; i < 4; i++)
        if (to [i])
            s_answer (worker, &to [i], got [i]);
    int answered = 0;
    char service [MDP_SERVICE_MAX + 1];
    for (int i = 0; i < 4; i++) {
        svc_reply_t *reply = s_client_recv (client, service);
        answered += reply && reply->status == 200;
        svc_reply_destroy (&reply);
    }
    zsock_destroy (&client);
    zsock_destroy (&worker);
    int rc = s_stop (&h);
    CHECK_STR (got [0], "c-0");
    CHECK_STR (got [2], "c-2");
    CHECK (!fourth_early);
    CHECK_STR (got [3], "c-3");
    CHECK_INT (answered, 4);
    CHECK_INT (rc, 0);
}

TEST (test_a_due_chunk_claims_a_busy_worker_which_empties_then_takes_it)
{
    char ep [64];
    //  A 1 s heartbeat: the worker below stays silent while the test waits on it.
    harness_t *h = s_start_hb (ep, 10, 5000, 1000);
    CHECK (h != NULL);
    const char *services [] = { SVC_JOBS_CHUNK, SVC_TICKETS_GET };
    zsock_t *worker = s_dealer (ep);
    zmsg_t *ready = mdp_worker_ready_new (services, 2, 4, NULL);
    zmsg_send (&ready, worker);
    zsock_t *client = s_dealer (ep);
    char get1 [SVC_RID_MAX + 1], early [SVC_RID_MAX + 1], chunk [SVC_RID_MAX + 1];
    char get2 [SVC_RID_MAX + 1];
    zmsg_t *to_get1 = NULL, *to_early = NULL;
    s_send_request (client, SVC_TICKETS_GET, "get-1");
    s_take_within (worker, 1000, get1, &to_get1);
    //  Busy with an interactive request: the chunk waits, and past SERVICE_BULK_YIELD_MS
    //  (and a tick) it claims the worker, which then takes no new interactive request.
    s_send_request (client, SVC_JOBS_CHUNK, "chunk-1");
    zclock_sleep (SERVICE_BULK_YIELD_MS + 250);
    s_send_request (client, SVC_TICKETS_GET, "get-2");
    s_take_within (worker, 300, early, &to_early);
    if (to_get1)
        s_answer (worker, &to_get1, get1);
    s_serve_within (worker, 1000, chunk);
    s_serve_within (worker, 1000, get2);
    zmsg_destroy (&to_early);
    zsock_destroy (&client);
    zsock_destroy (&worker);
    s_stop (&h);
    CHECK_STR (get1, "get-1");
    CHECK_STR (early, "");
    CHECK_STR (chunk, "chunk-1");
    CHECK_STR (get2, "get-2");
}

int
main (void)
{
    log_set_level (LOG_WARN);
    zsys_handler_set (NULL);
    static const test_case_t cases [] = {
        T (test_request_and_reply_round_trip_through_the_broker),
        T (test_full_queue_and_stop_answer_503_with_the_rid),
    T (test_a_service_whose_workers_all_left_is_answered_503_past_the_grace),
        T (test_mmi_status_counts_a_worker),
    T (test_mmi_status_lists_each_worker_by_its_name_or_its_id),
    T (test_a_ready_with_a_bad_name_is_answered_disconnect),
        T (test_an_interactive_request_goes_before_a_fresh_chunk_queued_earlier),
        T (test_a_chunk_that_waited_past_the_yield_goes_first_again),
        T (test_chunks_leave_one_worker_free_while_api_requests_come_in),
        T (test_without_api_requests_every_worker_takes_chunks),
        T (test_when_api_requests_stop_the_reserve_lapses_and_the_free_worker_takes_a_chunk),
        T (test_a_credit_worker_is_sent_its_credit_before_it_answers_and_then_the_rest),
        T (test_a_due_chunk_claims_a_busy_worker_which_empties_then_takes_it),
    };
    return test_run_all ("broker", cases, sizeof cases / sizeof cases [0]);
}
