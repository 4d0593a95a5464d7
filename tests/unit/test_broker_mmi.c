/*  test_broker_mmi: the broker's answers to mmi.service, mmi.status and other mmi.* names.  */
#include "../../broker/mmi.h"
#include "../../broker/service.h"
#include "../../broker/worker.h"
#include "../../proto/mdp.h"
#include "testing.h"

#include <jansson.h>

static zhashx_t *s_workers;     //  the worker table s_answer passes, NULL for none

//  The one frame of the answer to service with body frame arg (none when NULL), as text.
static char *
s_answer (const char *service, const char *arg, zhashx_t *table, const mmi_counts_t *counts)
{
    zmsg_t *body = zmsg_new ();
    if (arg)
        zmsg_addstr (body, arg);
    zmsg_t *answer = mmi_answer (service, body, table, s_workers, counts);
    zmsg_destroy (&body);
    char *text = zmsg_size (answer) == 1 ? zmsg_popstr (answer) : NULL;
    zmsg_destroy (&answer);
    return text;
}

TEST (test_mmi_service_finds_services_with_workers_and_other_names_are_501)
{
    zhashx_t *table = service_table_new ();
    service_require (table, "unit.live", 10)->workers = 1;
    service_require (table, "unit.gone", 10);
    mmi_counts_t counts = { 0 };
    char *live = s_answer (MMI_SERVICE, "unit.live", table, &counts);
    char *gone = s_answer (MMI_SERVICE, "unit.gone", table, &counts);
    char *bad = s_answer (MMI_SERVICE, "no service", table, &counts);
    char *other = s_answer ("mmi.other", NULL, table, &counts);
    CHECK_STR (live, MMI_FOUND);
    CHECK_STR (gone, MMI_NOT_FOUND);
    CHECK_STR (bad, MMI_NOT_FOUND);
    CHECK_STR (other, MMI_NOT_IMPLEMENTED);
    free (live);
    free (gone);
    free (bad);
    free (other);
    zhashx_destroy (&table);
}

TEST (test_mmi_status_reports_credit_beside_the_counts)
{
    zhashx_t *table = service_table_new ();
    service_t *svc = service_require (table, "unit.credit", 10);
    svc->workers = 2;
    svc->credit = 17;
    svc->in_flight = 3;
    mmi_counts_t counts = { .workers = 2, .in_flight = 3, .credit = 17, .held_bytes = 100,
                            .held_bytes_max = 1000 };
    char *text = s_answer (MMI_STATUS, NULL, table, &counts);
    json_t *root = text ? json_loads (text, 0, NULL) : NULL;
    json_t *one = json_array_get (json_object_get (root, "services"), 0);
    json_int_t credit = json_integer_value (json_object_get (root, "credit"));
    json_int_t svc_credit = json_integer_value (json_object_get (one, "credit"));
    json_int_t svc_in_flight = json_integer_value (json_object_get (one, "inFlight"));
    json_int_t held_max = json_integer_value (json_object_get (root, "heldBytesMax"));
    json_decref (root);
    free (text);
    zhashx_destroy (&table);
    CHECK_INT (credit, 17);
    CHECK_INT (svc_credit, 17);
    CHECK_INT (svc_in_flight, 3);
    CHECK_INT (held_max, 1000);
}

//  A worker table of n workers named w<i> (3 digits), added in reverse order, each offering
//  svc with credit 2, joined at 2009-02-13T23:31:30.123Z.
static zhashx_t *
s_worker_table (size_t n, service_t *svc)
{
    zhashx_t *workers = zhashx_new ();
    zhashx_set_destructor (workers, (zhashx_destructor_fn *) worker_destroy);
    for (size_t i = n; i-- > 0; ) {
        char name [32];
        snprintf (name, sizeof name, "w%03zu", i);
        uint8_t bytes [2] = { (uint8_t) (i >> 8), (uint8_t) i };
        zframe_t *address = zframe_new (bytes, 2);
        worker_t *w = worker_new ("");
        worker_identify (w, &address, name, 1234567890123);
        worker_add_service (w, svc);
        w->credit = 2;
        zhashx_insert (workers, w->id, w);
    }
    return workers;
}

//  The parsed mmi.status of a broker with n workers (s_worker_table) offering unit.list.
static json_t *
s_status_with_workers (size_t n)
{
    zhashx_t *table = service_table_new ();
    s_workers = s_worker_table (n, service_require (table, "unit.list", 10));
    mmi_counts_t counts = { .workers = n };
    char *text = s_answer (MMI_STATUS, NULL, table, &counts);
    zhashx_destroy (&s_workers);
    zhashx_destroy (&table);
    json_t *root = text ? json_loads (text, 0, NULL) : NULL;
    free (text);
    return root;
}

TEST (test_mmi_status_lists_workers_by_name)
{
    json_t *root = s_status_with_workers (3);
    json_t *list = json_object_get (root, "workerList");
    json_t *one = json_array_get (list, 0);
    CHECK_INT (json_array_size (list), 3);
    CHECK (json_object_get (root, "workerListTruncated") == NULL);
    CHECK_STR (json_string_value (json_object_get (one, "name")), "w000");
    CHECK_STR (json_string_value (json_object_get (one, "id")), "0000");
    CHECK_STR (json_string_value (json_object_get (one, "address")), "-");
    CHECK_STR (json_string_value (json_object_get (one, "since")), "2009-02-13T23:31:30.123Z");
    CHECK_INT (json_integer_value (json_object_get (one, "credit")), 2);
    CHECK_INT (json_integer_value (json_object_get (one, "held")), 0);
    CHECK_STR (json_string_value (json_array_get (json_object_get (one, "services"), 0)),
               "unit.list");
    CHECK_STR (json_string_value (json_object_get (json_array_get (list, 2), "name")), "w002");
    json_decref (root);
}

TEST (test_mmi_status_lists_at_most_256_workers_and_says_so)
{
    json_t *root = s_status_with_workers (MMI_WORKER_LIST_MAX + 44);
    json_t *list = json_object_get (root, "workerList");
    CHECK_INT (json_array_size (list), MMI_WORKER_LIST_MAX);
    CHECK (json_is_true (json_object_get (root, "workerListTruncated")));
    CHECK_INT (json_integer_value (json_object_get (root, "workers")), MMI_WORKER_LIST_MAX + 44);
    //  The same first 256 names every time: the lowest.
    CHECK_STR (json_string_value (json_object_get (json_array_get (list, 255), "name")), "w255");
    json_decref (root);
}

TEST_MAIN ("mmi",
    T (test_mmi_service_finds_services_with_workers_and_other_names_are_501),
    T (test_mmi_status_reports_credit_beside_the_counts),
    T (test_mmi_status_lists_workers_by_name),
    T (test_mmi_status_lists_at_most_256_workers_and_says_so))
