/*  Unit tests for workers/worker: the SQL side's dispatch table of services.  */
#include "testing.h"
#include "../../workers/worker.h"

TEST (test_dispatch_table_knows_every_offered_service)
{
    CHECK (worker_service ("tickets.get") != NULL);
    CHECK (worker_service ("tickets.restore")->needs_user);
    CHECK (!worker_service ("auth.login")->needs_user);
    CHECK (!worker_service ("sys.health")->needs_user);
    CHECK (worker_service ("jobs.create")->needs_user);
    CHECK (!worker_service ("jobs.chunk")->needs_user);
    CHECK (worker_service ("jobs.nothing") == NULL);
}

//  The broker gives a worker nothing more until it replies: a request without a valid rid
//  must still get an answer (rid "-"), or the worker would be out of service for good.
TEST (test_a_request_without_a_valid_rid_is_still_answered)
{
    worker_config_t cfg = { .heartbeat_ms = 1000, .credit = 1 };
    setenv ("TEST_ENDPOINTS", "tcp://127.0.0.1:1", 1);
    CHECK_INT (conf_endpoints ("TEST_ENDPOINTS", "TEST_ENDPOINT", NULL, &cfg.brokers), 0);
    CHECK_INT (conf_endpoints ("TEST_ENDPOINTS", "TEST_ENDPOINT", NULL, &cfg.hubs), 0);
    unsetenv ("TEST_ENDPOINTS");
    worker_t *worker = worker_new (&cfg);
    CHECK (worker != NULL);
    const char *bad_rids [] = { "a b", "", "\x01\xff",
        "0123456789012345678901234567890123456789012345678901234567890123456789" };
    for (size_t i = 0; i < sizeof bad_rids / sizeof bad_rids [0]; i++) {
        zmsg_t *body = zmsg_new ();
        zmsg_addstr (body, bad_rids [i]);
        zmsg_addstr (body, "");
        zmsg_addstr (body, "{}");
        zmsg_t *reply = worker_handle (worker, "sys.health", &body);
        CHECK (body == NULL);
        CHECK (reply != NULL);
        char *rid = reply ? zmsg_popstr (reply) : NULL;
        char *status = reply ? zmsg_popstr (reply) : NULL;
        CHECK_STR (rid, "-");
        CHECK_STR (status, "400");
        free (rid);
        free (status);
        zmsg_destroy (&reply);
    }
    worker_destroy (&worker);
}

TEST_MAIN ("worker_worker",
    T (test_dispatch_table_knows_every_offered_service),
    T (test_a_request_without_a_valid_rid_is_still_answered))
