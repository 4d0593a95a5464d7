/*  test_broker_service: the service table (bounded, one entry a name) and the bulk rule:
    the reserve while API requests come in, and a fresh chunk ranking after interactive work.  */
#include "../../broker/service.h"
#include "../../proto/svc.h"
#include "testing.h"

TEST (test_require_finds_or_creates_and_refuses_beyond_the_maximum)
{
    zhashx_t *table = service_table_new ();
    service_t *a = service_require (table, "unit.a", 2);
    CHECK (a != NULL);
    CHECK_STR (a->name, "unit.a");
    CHECK (!a->bulk);
    CHECK (service_require (table, "unit.a", 2) == a);
    CHECK (service_require (table, "unit.b", 2) != NULL);
    CHECK (service_require (table, "unit.c", 2) == NULL);
    CHECK_INT (zhashx_size (table), 2);
    zhashx_destroy (&table);
}

TEST (test_only_jobs_chunk_is_bulk)
{
    zhashx_t *table = service_table_new ();
    service_t *chunk = service_require (table, SVC_JOBS_CHUNK, 10);
    CHECK (chunk && chunk->bulk);
    zhashx_destroy (&table);
}

TEST (test_bulk_work_leaves_the_reserve_free_only_while_api_requests_come_in)
{
    zhashx_t *table = service_table_new ();
    service_t *chunk = service_require (table, SVC_JOBS_CHUNK, 10);
    service_t *api = service_require (table, "unit.api", 10);
    chunk->workers = api->workers = 3;
    chunk->in_flight = api->in_flight = 2;
    //  An API request 10 ms ago: a reserve of 1 leaves 2 of 3 workers for chunks.
    CHECK (!service_has_room (chunk, 1010, 1000, 1));
    CHECK (service_has_room (api, 1010, 1000, 1));
    chunk->in_flight = 1;
    CHECK (service_has_room (chunk, 1010, 1000, 1));
    //  A reserve as large as the pool still lets one chunk run.
    chunk->in_flight = 0;
    CHECK (service_has_room (chunk, 1010, 1000, 5));
    chunk->in_flight = 1;
    CHECK (!service_has_room (chunk, 1010, 1000, 5));
    //  A worker claimed for a chunk counts as holding one.
    chunk->in_flight = 0;
    chunk->claimed = 1;
    CHECK (!service_has_room (chunk, 1010, 1000, 5));
    chunk->claimed = 0;
    //  No API request for SERVICE_BULK_RESERVE_MS: every worker may take chunks.
    chunk->in_flight = 2;
    CHECK (service_has_room (chunk, 1000 + SERVICE_BULK_RESERVE_MS, 1000, 1));
    zhashx_destroy (&table);
}

static request_t *
s_queue (service_t *svc, int64_t now, uint64_t seq, size_t *held)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, "x");
    zframe_t *client = zframe_new ("c", 1);
    request_t *req = request_new (&client, &body, svc, "", held, now, seq);
    zlistx_add_end (svc->requests, req);
    return req;
}

TEST (test_a_fresh_chunk_ranks_after_interactive_work_until_the_yield_passes)
{
    size_t held = 0;
    zhashx_t *table = service_table_new ();
    service_t *chunk = service_require (table, SVC_JOBS_CHUNK, 10);
    service_t *api = service_require (table, "unit.api", 10);
    CHECK (service_head_rank (api, 0) == UINT64_MAX);
    s_queue (chunk, 1000, 1, &held);
    s_queue (api, 1100, 2, &held);
    CHECK (service_head_rank (chunk, 1100) > service_head_rank (api, 1100));
    CHECK_INT (service_head_rank (chunk, 1000 + SERVICE_BULK_YIELD_MS), 1);
    CHECK_INT (service_head_rank (api, 1000 + SERVICE_BULK_YIELD_MS), 2);
    //  The table owns the services, and they their queued requests.
    zhashx_destroy (&table);
    CHECK_INT (held, 0);
}

TEST (test_due_counts_the_chunks_that_waited_past_the_yield_up_to_a_maximum)
{
    size_t held = 0;
    zhashx_t *table = service_table_new ();
    service_t *chunk = service_require (table, SVC_JOBS_CHUNK, 10);
    CHECK_INT (service_due (chunk, 5000, 10), 0);
    s_queue (chunk, 1000, 1, &held);
    s_queue (chunk, 1100, 2, &held);
    s_queue (chunk, 1200, 3, &held);
    CHECK_INT (service_due (chunk, 1000 + SERVICE_BULK_YIELD_MS, 10), 1);
    CHECK_INT (service_due (chunk, 1100 + SERVICE_BULK_YIELD_MS, 10), 2);
    CHECK_INT (service_due (chunk, 1200 + SERVICE_BULK_YIELD_MS, 2), 2);
    zhashx_destroy (&table);
}

TEST_MAIN ("service",
    T (test_require_finds_or_creates_and_refuses_beyond_the_maximum),
    T (test_only_jobs_chunk_is_bulk),
    T (test_bulk_work_leaves_the_reserve_free_only_while_api_requests_come_in),
    T (test_a_fresh_chunk_ranks_after_interactive_work_until_the_yield_passes),
    T (test_due_counts_the_chunks_that_waited_past_the_yield_up_to_a_maximum))
