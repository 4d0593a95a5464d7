/*  test_broker_worker: a worker's id, its services (each once), its places in their idle
    lists, and handing over the request it holds.  */
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

//  A small request of svc, counted in *held.
static request_t *
s_request (service_t *svc, const char *rid, size_t *held)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, "x");
    zframe_t *client = zframe_new ("c", 1);
    return request_new (&client, &body, svc, rid, held, 0, 0);
}

TEST (test_taking_the_request_hands_it_over_and_counts_one_in_flight_fewer)
{
    size_t held = 0;
    zhashx_t *table = service_table_new ();
    service_t *a = service_require (table, "unit.a", 10);
    worker_t *w = worker_new ("01");
    CHECK (worker_take_request (w) == NULL);
    w->request = s_request (a, "rid-1", &held);
    a->in_flight = 1;
    request_t *req = worker_take_request (w);
    CHECK (req != NULL && w->request == NULL);
    CHECK_INT (a->in_flight, 0);
    request_destroy (&req);
    //  A worker destroyed while it holds one frees it too.
    w->request = s_request (a, "rid-2", &held);
    worker_destroy (&w);
    CHECK_INT (held, 0);
    zhashx_destroy (&table);
}

TEST_MAIN ("worker",
    T (test_the_id_is_the_routing_id_in_hex),
    T (test_a_service_named_twice_is_offered_once),
    T (test_waiting_puts_the_worker_in_each_idle_list_and_unwaiting_takes_it_out),
    T (test_taking_the_request_hands_it_over_and_counts_one_in_flight_fewer))
