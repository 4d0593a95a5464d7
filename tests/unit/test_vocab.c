/*  test_vocab: the tables expanded from proto/vocab.h (names round-trip through their
    enums, every table is consistent and SQL-safe), the joined wordings and the ORDER BY
    ranking expression, and the MAX_JOB_ITEMS reader's bounds.  */
#include "../../proto/vocab.h"
#include "../../proto/svc.h"
#include "testing.h"

#include <stdlib.h>

static const struct { const char *name; const char *const *names; int count; } s_lists [] = {
    { "ticket statuses", vocab_ticket_statuses, VOCAB_TICKET_STATUS_COUNT },
    { "ticket priorities", vocab_ticket_priorities, VOCAB_TICKET_PRIORITY_COUNT },
    { "job statuses", vocab_job_statuses, VOCAB_JOB_STATUS_COUNT },
    { "job item statuses", vocab_job_item_statuses, VOCAB_JOB_ITEM_STATUS_COUNT },
    { "job types", vocab_job_types, VOCAB_JOB_TYPE_COUNT },
};

TEST (test_every_name_round_trips_through_its_index)
{
    CHECK_INT (vocab_index (vocab_ticket_statuses, "open"), VOCAB_TICKET_OPEN);
    CHECK_INT (vocab_index (vocab_ticket_priorities, "urgent"), VOCAB_PRIORITY_URGENT);
    CHECK_INT (vocab_index (vocab_job_statuses, "canceled"), VOCAB_JOB_CANCELED);
    CHECK_INT (vocab_index (vocab_job_item_statuses, "succeeded"), VOCAB_ITEM_SUCCEEDED);
    CHECK_INT (vocab_index (vocab_job_types, "bulk-delete"), VOCAB_JOB_BULK_DELETE);
    for (size_t l = 0; l < sizeof s_lists / sizeof s_lists [0]; l++)
        for (int i = 0; i < s_lists [l].count; i++)
            CHECK_INT (vocab_index (s_lists [l].names, s_lists [l].names [i]), i);
    CHECK_INT (vocab_index (vocab_ticket_statuses, "Open"), -1);
    CHECK_INT (vocab_index (vocab_ticket_statuses, NULL), -1);
}

TEST (test_tables_are_null_terminated_unique_and_sql_safe)
{
    for (size_t l = 0; l < sizeof s_lists / sizeof s_lists [0]; l++) {
        const char *const *names = s_lists [l].names;
        CHECK (s_lists [l].count > 0);
        CHECK (names [s_lists [l].count] == NULL);
        for (int i = 0; i < s_lists [l].count; i++) {
            CHECK (names [i] && *names [i]);
            //  Pasted into SQL literals and messages: lower-case letters and '-' only.
            CHECK_INT (strspn (names [i], "abcdefghijklmnopqrstuvwxyz-"), strlen (names [i]));
            for (int k = 0; k < i; k++)
                CHECK (strcmp (names [i], names [k]) != 0);
        }
    }
}

TEST (test_sorts_and_deletion_filters_round_trip_and_the_defaults_are_entries)
{
    CHECK_INT (vocab_index (vocab_ticket_sorts, "subject"), VOCAB_SORT_SUBJECT);
    CHECK_INT (vocab_index (vocab_ticket_deleted, "only"), VOCAB_DELETED_ONLY);
    CHECK (vocab_ticket_sorts [VOCAB_TICKET_SORT_COUNT] == NULL);
    CHECK (vocab_ticket_deleted [VOCAB_TICKET_DELETED_COUNT] == NULL);
    //  Readers take the deletion filters by position: live, all, deleted.
    CHECK_INT (VOCAB_DELETED_EXCLUDE, 0);
    CHECK_INT (VOCAB_DELETED_ONLY, VOCAB_TICKET_DELETED_COUNT - 1);
    CHECK_STR (vocab_ticket_statuses [VOCAB_TICKET_STATUS_DEFAULT], "open");
    CHECK_STR (vocab_ticket_priorities [VOCAB_TICKET_PRIORITY_DEFAULT], "normal");
    CHECK_STR (vocab_ticket_deleted [VOCAB_TICKET_DELETED_DEFAULT], "exclude");
    char sort [VOCAB_SORT_TEXT_MAX];
    CHECK_STR (vocab_ticket_sort_default (sort), "-createdAt");
}

TEST (test_limits_table_matches_the_constants)
{
    CHECK_INT (vocab_limits_n, 15);
    long found = 0;
    for (size_t i = 0; i < vocab_limits_n; i++) {
        CHECK (vocab_limits [i].value > 0);
        if (!strcmp (vocab_limits [i].key, "subjectMax"))
            found += vocab_limits [i].value == VOCAB_SUBJECT_MAX;
        if (!strcmp (vocab_limits [i].key, "itemsLimitMax"))
            found += vocab_limits [i].value == VOCAB_ITEMS_LIMIT_MAX;
    }
    CHECK_INT (found, 2);
    CHECK (VOCAB_EMAIL_MIN < VOCAB_EMAIL_MAX);
    CHECK (VOCAB_LIMIT_DEFAULT <= VOCAB_LIMIT_MAX);
    CHECK (VOCAB_ITEMS_LIMIT_DEFAULT <= VOCAB_ITEMS_LIMIT_MAX);
}

TEST (test_must_be_names_every_value_in_order)
{
    char buf [160];
    CHECK_STR (vocab_must_be (vocab_ticket_priorities, buf, sizeof buf),
               "must be one of low, normal, high, urgent");
    CHECK_STR (vocab_must_be (vocab_job_statuses, buf, sizeof buf),
               "must be one of queued, running, completed, failed, canceled");
    CHECK_STR (vocab_must_be (vocab_job_types, buf, sizeof buf),
               "must be one of bulk-delete, bulk-restore, bulk-update");
    CHECK (vocab_must_be (vocab_job_statuses, buf, 20) == NULL);
}

TEST (test_join_quotes_and_refuses_what_does_not_fit)
{
    char buf [64];
    CHECK_STR (vocab_join (vocab_ticket_statuses, ",", "'", buf, sizeof buf),
               "'open','pending','resolved','closed'");
    CHECK_STR (vocab_join (vocab_job_types, " or ", "\"", buf, sizeof buf),
               "\"bulk-delete\" or \"bulk-restore\" or \"bulk-update\"");
    CHECK (vocab_join (vocab_ticket_statuses, ",", "'", buf, 10) == NULL);
    CHECK_STR (buf, "");
}

TEST (test_sql_rank_orders_priorities_by_urgency)
{
    char buf [160];
    CHECK_STR (vocab_sql_rank (vocab_ticket_priorities, "priority", buf, sizeof buf),
               "array_position(ARRAY['low','normal','high','urgent'], priority)");
    CHECK_STR (vocab_sql_rank (vocab_ticket_statuses, "status", buf, sizeof buf),
               "array_position(ARRAY['open','pending','resolved','closed'], status)");
    CHECK (vocab_sql_rank (vocab_ticket_statuses, "status", buf, 30) == NULL);
}

TEST (test_max_job_items_is_read_with_its_bounds)
{
    long n = 0;
    unsetenv ("MAX_JOB_ITEMS");
    CHECK_INT (vocab_max_job_items (&n), 0);
    CHECK_INT (n, VOCAB_JOB_ITEMS_DEFAULT);
    setenv ("MAX_JOB_ITEMS", "5", 1);
    CHECK_INT (vocab_max_job_items (&n), 0);
    CHECK_INT (n, 5);
    char over [32];
    snprintf (over, sizeof over, "%d", SVC_JOB_ITEMS_MAX + 1);
    setenv ("MAX_JOB_ITEMS", over, 1);
    CHECK_INT (vocab_max_job_items (&n), -1);
    setenv ("MAX_JOB_ITEMS", "0", 1);
    CHECK_INT (vocab_max_job_items (&n), -1);
    unsetenv ("MAX_JOB_ITEMS");
}

TEST_MAIN ("vocab",
    T (test_every_name_round_trips_through_its_index),
    T (test_tables_are_null_terminated_unique_and_sql_safe),
    T (test_sorts_and_deletion_filters_round_trip_and_the_defaults_are_entries),
    T (test_limits_table_matches_the_constants),
    T (test_must_be_names_every_value_in_order),
    T (test_join_quotes_and_refuses_what_does_not_fit),
    T (test_sql_rank_orders_priorities_by_urgency),
    T (test_max_job_items_is_read_with_its_bounds))
