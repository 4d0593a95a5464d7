/*  test_broker_mmi: the broker's answers to mmi.service, mmi.status and other mmi.* names.  */
#include "../../broker/mmi.h"
#include "../../broker/service.h"
#include "../../proto/mdp.h"
#include "testing.h"

#include <jansson.h>

//  The one frame of the answer to service with body frame arg (none when NULL), as text.
static char *
s_answer (const char *service, const char *arg, zhashx_t *table, const mmi_counts_t *counts)
{
    zmsg_t *body = zmsg_new ();
    if (arg)
        zmsg_addstr (body, arg);
    zmsg_t *answer = mmi_answer (service, body, table, counts);
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

TEST_MAIN ("mmi",
    T (test_mmi_service_finds_services_with_workers_and_other_names_are_501),
    T (test_mmi_status_reports_credit_beside_the_counts))
