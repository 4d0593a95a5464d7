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

TEST_MAIN ("worker_worker",
    T (test_dispatch_table_knows_every_offered_service))
