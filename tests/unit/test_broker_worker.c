/*  test_broker_worker: a worker's id, its services (each once), its places in their waiting
    lists, its credit, the bulk rule, and matching, keeping and handing over what it holds.  */
#include "../../broker/worker.h"
#include "testing.h"

TEST (test_the_id_is_the_routing_id_in_hex)
{
    zframe_t *address = zframe_new ("\x00\xab\x10", 3);
    char id [WORKER_ID_MAX];
    worker_id_of (address, id);
    CHECK_STR (id, "00ab10");
    zframe_destroy (&address);
}

TEST (test_a_sender_is_named_by_its_ready_or_else_by_its_id)
{
    zframe_t *address = zframe_new ("\x00\xab\x10", 3);
    worker_who_t who;
    worker_who_of (address, "host-worker-1", &who);
    CHECK_STR (who.name, "host-worker-1");
    CHECK_STR (who.id, "00ab10");
    //  A frame we built carries no connection properties: no peer address.
    CHECK_STR (who.peer, "-");
    worker_who_of (address, "", &who);
    CHECK_STR (who.name, "00ab10");
    worker_who_of (address, NULL, &who);
    CHECK_STR (who.name, "00ab10");
    worker_t *w = worker_new ("00ab10");
    worker_identify (w, &address, "host-worker-1", 42);
    CHECK (address == NULL && w->address != NULL);
    CHECK_STR (w->name, "host-worker-1");
    CHECK_STR (w->peer, "-");
    CHECK_INT (w->since, 42);
    worker_destroy (&w);
}

//  A service table holding unit.a and unit.b.
static zhashx_t *
s_table (service_t **a, service_t **b)
{
    zhashx_t *table = service_table_new ();
    *a = service_require (table, "unit.a", 10);
    *b = service_require (table, "unit.b", 10);
    return table;
}

//  A worker offering first and, unless NULL, second.
static worker_t *
s_worker (const char *id, service_t *first, service_t *second)
{
    worker_t *w = worker_new (id);
    worker_add_service (w, first);
    if (second)
        worker_add_service (w, second);
    return w;
}

TEST (test_a_service_named_twice_is_offered_once)
{
    service_t *a, *b;
    zhashx_t *table = s_table (&a, &b);
    worker_t *w = s_worker ("01", a, b);
    worker_add_service (w, a);
    CHECK_INT (w->services_n, 2);
    CHECK_STR (w->id, "01");
    worker_destroy (&w);
    CHECK (w == NULL);
    worker_destroy (&w);
    zhashx_destroy (&table);
}

TEST (test_waiting_puts_the_worker_in_each_idle_list_and_unwaiting_takes_it_out)
{
    service_t *a, *b;
    zhashx_t *table = s_table (&a, &b);
    worker_t *first = s_worker ("01", a, NULL);
    worker_t *w = s_worker ("02", a, b);
    worker_wait (first);
    worker_wait (w);
    CHECK (w->idle);
    CHECK_INT (zlistx_size (a->waiting), 2);
    CHECK (zlistx_head (a->waiting) == first);
    CHECK (zlistx_head (b->waiting) == w);
    worker_unwait (w);
    CHECK (!w->idle);
    CHECK_INT (zlistx_size (a->waiting), 1);
    CHECK_INT (zlistx_size (b->waiting), 0);
    //  A second unwait is harmless: the worker is in no list.
    worker_unwait (w);
    CHECK_INT (zlistx_size (a->waiting), 1);
    worker_unwait (first);
    worker_destroy (&first);
    worker_destroy (&w);
    zhashx_destroy (&table);
}

TEST (test_waiting_again_sends_a_waiting_worker_to_the_back)
{
    service_t *a, *b;
    zhashx_t *table = s_table (&a, &b);
    worker_t *first = s_worker ("01", a, b), *second = s_worker ("02", a, b);
    worker_wait (first);
    worker_wait (second);
    worker_wait (first);
    CHECK (zlistx_head (a->waiting) == second);
    CHECK (zlistx_head (b->waiting) == second);
    CHECK_INT (zlistx_size (a->waiting), 2);
    worker_unwait (first);
    worker_unwait (second);
    worker_destroy (&first);
    worker_destroy (&second);
    zhashx_destroy (&table);
}

//  A small request of svc from client, counted in *held.
static request_t *
s_request_from (service_t *svc, const char *client, const char *rid, size_t *held)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, rid);
    zframe_t *address = zframe_new (client, strlen (client));
    return request_new (&address, &body, svc, rid, held, 0, 0);
}

static request_t *
s_request (service_t *svc, const char *rid, size_t *held)
{
    return s_request_from (svc, "c", rid, held);
}

//  Whether client/rid is answered by what self holds; the request is destroyed.
static bool
s_release (worker_t *self, const char *client, const char *rid)
{
    zframe_t *address = zframe_new (client, strlen (client));
    request_t *req = worker_release (self, address, rid);
    zframe_destroy (&address);
    bool found = req != NULL;
    request_destroy (&req);
    return found;
}

//  A worker of some credit offering unit.a, the one service of its table; held counts the
//  bytes of its requests.
typedef struct {
    zhashx_t *table;
    service_t *a;
    worker_t *w;
    size_t held;
} fixture_t;

static void
s_fixture (fixture_t *f, int credit)
{
    f->table = service_table_new ();
    f->a = service_require (f->table, "unit.a", 10);
    f->w = s_worker ("01", f->a, NULL);
    f->w->credit = credit;
    f->held = 0;
}

//  Destroys the worker (and what it holds) and the table; the held bytes left, 0 if none leaked.
static size_t
s_fixture_end (fixture_t *f)
{
    worker_destroy (&f->w);
    zhashx_destroy (&f->table);
    return f->held;
}

TEST (test_a_worker_takes_requests_up_to_its_credit)
{
    fixture_t f;
    s_fixture (&f, 3);
    for (int i = 0; i < 3; i++) {
        CHECK (worker_may_take (f.w, f.a));
        CHECK (worker_may_take (f.w, NULL));
        char rid [16];
        snprintf (rid, sizeof rid, "r%d", i);
        worker_hold (f.w, s_request (f.a, rid, &f.held));
    }
    CHECK (!worker_may_take (f.w, f.a));
    CHECK (!worker_may_take (f.w, NULL));
    CHECK_INT (f.a->in_flight, 3);
    CHECK_INT (f.w->held_n, 3);
    CHECK (s_release (f.w, "c", "r1"));
    CHECK (worker_may_take (f.w, f.a));
    CHECK_INT (f.a->in_flight, 2);
    CHECK_INT (s_fixture_end (&f), 0);
}

TEST (test_bulk_goes_only_to_an_empty_worker_which_then_takes_nothing_else)
{
    size_t held = 0;
    zhashx_t *table = service_table_new ();
    service_t *chunk = service_require (table, "jobs.chunk", 10);
    service_t *get = service_require (table, "tickets.get", 10);
    CHECK (chunk->bulk && !get->bulk);
    worker_t *w = s_worker ("01", chunk, get);
    w->credit = 8;
    worker_hold (w, s_request (get, "get-1", &held));
    //  Holding an interactive request: room for more of those, not for a chunk.
    CHECK (worker_may_take (w, get));
    CHECK (!worker_may_take (w, chunk));
    CHECK (s_release (w, "c", "get-1"));
    CHECK (worker_may_take (w, chunk));
    worker_hold (w, s_request (chunk, "chunk-1", &held));
    //  Holding a chunk: nothing else, whatever its credit, until the chunk is answered.
    CHECK (!worker_may_take (w, get));
    CHECK (!worker_may_take (w, NULL));
    CHECK (!worker_may_take (w, chunk));
    CHECK (s_release (w, "c", "chunk-1"));
    CHECK (worker_may_take (w, get));
    CHECK (!w->bulk);
    worker_destroy (&w);
    zhashx_destroy (&table);
}

TEST (test_a_claimed_worker_takes_no_interactive_request_until_unclaimed)
{
    size_t held = 0;
    zhashx_t *table = service_table_new ();
    service_t *chunk = service_require (table, "jobs.chunk", 10);
    service_t *get = service_require (table, "tickets.get", 10);
    worker_t *w = s_worker ("01", chunk, get);
    w->credit = 4;
    worker_wait (w);
    worker_hold (w, s_request (get, "get-1", &held));
    worker_claim (w, chunk);
    CHECK (!w->idle);
    CHECK_INT (chunk->claimed, 1);
    CHECK (!worker_may_take (w, get));
    CHECK (!worker_may_take (w, NULL));
    CHECK (!worker_may_take (w, chunk));        //  not while it holds the GET
    CHECK (s_release (w, "c", "get-1"));
    CHECK (worker_may_take (w, chunk));
    worker_unclaim (w);
    worker_unclaim (w);
    CHECK_INT (chunk->claimed, 0);
    CHECK (worker_may_take (w, get));
    worker_destroy (&w);
    zhashx_destroy (&table);
}

TEST (test_replies_match_client_and_rid_in_any_order_once)
{
    fixture_t f;
    s_fixture (&f, 4);
    worker_hold (f.w, s_request_from (f.a, "c1", "r1", &f.held));
    worker_hold (f.w, s_request_from (f.a, "c2", "r1", &f.held));
    worker_hold (f.w, s_request_from (f.a, "c1", "r2", &f.held));
    worker_hold (f.w, s_request_from (f.a, "c1", "r3", &f.held));
    CHECK (!s_release (f.w, "c2", "r2"));   //  a rid this client never sent
    CHECK (!s_release (f.w, "c3", "r1"));   //  a client it holds nothing of
    CHECK (s_release (f.w, "c1", "r2"));    //  out of order
    CHECK (!s_release (f.w, "c1", "r2"));   //  the same answer again
    CHECK (s_release (f.w, "c2", "r1"));
    CHECK_INT (f.w->held_n, 2);
    CHECK_INT (f.a->in_flight, 2);
    //  What is left keeps the order it was sent in: r1, then r3.
    CHECK_STR (f.w->held [0]->rid, "r1");
    CHECK_STR (f.w->held [1]->rid, "r3");
    CHECK_INT (s_fixture_end (&f), 0);
}

TEST (test_a_credit_1_worker_is_matched_on_the_client_alone)
{
    fixture_t f;
    s_fixture (&f, 1);
    worker_hold (f.w, s_request_from (f.a, "c1", "r1", &f.held));
    CHECK (!s_release (f.w, "c2", "r1"));
    //  A plain 7/MDP worker's body is its own business: the reply is for what it holds.
    CHECK (s_release (f.w, "c1", "whatever"));
    CHECK (!s_release (f.w, "c1", "r1"));
    CHECK_INT (s_fixture_end (&f), 0);
}

TEST (test_taking_the_last_hands_requests_over_newest_first)
{
    fixture_t f;
    s_fixture (&f, MDP_CREDIT_MAX);
    CHECK (worker_take_last (f.w) == NULL);
    for (int i = 0; i < MDP_CREDIT_MAX; i++) {
        char rid [16];
        snprintf (rid, sizeof rid, "r%d", i);
        worker_hold (f.w, s_request (f.a, rid, &f.held));
    }
    CHECK (!worker_may_take (f.w, f.a));
    request_t *req = worker_take_last (f.w);
    CHECK (req && streq (req->rid, "r63"));
    request_destroy (&req);
    req = worker_take_last (f.w);
    CHECK (req && streq (req->rid, "r62"));
    request_destroy (&req);
    CHECK_INT (f.a->in_flight, MDP_CREDIT_MAX - 2);
    //  A worker destroyed while it holds requests frees them too.
    CHECK_INT (s_fixture_end (&f), 0);
}

TEST_MAIN ("worker",
    T (test_the_id_is_the_routing_id_in_hex),
    T (test_a_sender_is_named_by_its_ready_or_else_by_its_id),
    T (test_a_service_named_twice_is_offered_once),
    T (test_waiting_puts_the_worker_in_each_idle_list_and_unwaiting_takes_it_out),
    T (test_waiting_again_sends_a_waiting_worker_to_the_back),
    T (test_a_worker_takes_requests_up_to_its_credit),
    T (test_bulk_goes_only_to_an_empty_worker_which_then_takes_nothing_else),
    T (test_a_claimed_worker_takes_no_interactive_request_until_unclaimed),
    T (test_replies_match_client_and_rid_in_any_order_once),
    T (test_a_credit_1_worker_is_matched_on_the_client_alone),
    T (test_taking_the_last_hands_requests_over_newest_first))
