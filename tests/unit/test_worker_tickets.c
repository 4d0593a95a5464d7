/*  Unit tests for workers/tickets: tickets.list's query, its SQL assembly and ILIKE
    escaping, and the checks of ticket fields. No database needed.  */
#include "testing.h"
#include "../../workers/tickets.h"

static json_t *
s_json (const char *text)
{
    json_error_t err;
    return json_loads (text, 0, &err);
}

TEST (test_like_pattern_escapes_wildcards_and_backslash)
{
    char *p = tickets_like_pattern ("50%_off\\now");
    CHECK_STR (p, "%50\\%\\_off\\\\now%");
    free (p);
    p = tickets_like_pattern ("");
    CHECK_STR (p, "%%");
    free (p);
}

TEST (test_sort_whitelist_accepts_only_known_fields)
{
    CHECK_INT (tickets_sort_parse ("createdAt"), 0);
    CHECK_INT (tickets_sort_parse ("-createdAt"), 1);
    CHECK_INT (tickets_sort_parse ("-subject"), 9);
    CHECK_INT (tickets_sort_parse ("id"), -1);
    CHECK_INT (tickets_sort_parse ("createdAt; DROP TABLE tickets"), -1);
    CHECK_INT (tickets_sort_parse ("--createdAt"), -1);
    CHECK_INT (tickets_sort_parse (NULL), -1);
}

TEST (test_list_sql_numbers_parameters_in_filter_order)
{
    char sql [1024];
    CHECK_INT (tickets_list_sql (TICKETS_F_STATUS | TICKETS_F_Q, TICKETS_DELETED_EXCLUDE, 1,
                                 false, sql, sizeof sql), 0);
    CHECK (strstr (sql, "deleted_at IS NULL AND status = $1 AND ((subject || ' ' || description)"
                        " ILIKE $2 OR requester_email ILIKE $2)"));
    CHECK (strstr (sql, "ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"));
    CHECK_INT (tickets_list_sql (15, TICKETS_DELETED_ONLY, 0, true, sql, sizeof sql), 0);
    CHECK (strstr (sql, "SELECT count(*) FROM tickets WHERE deleted_at IS NOT NULL"));
    CHECK (strstr (sql, "assignee_id = $3::uuid"));
    CHECK (!strstr (sql, "ORDER BY"));
}

TEST (test_list_sql_sorts_priority_and_status_by_their_vocab_rank)
{
    char sql [1024];
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, tickets_sort_parse ("-priority"),
                                 false, sql, sizeof sql), 0);
    CHECK (strstr (sql, " ORDER BY array_position(ARRAY['low','normal','high','urgent'], priority)"
                        " DESC, id DESC LIMIT $1 OFFSET $2"));
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, tickets_sort_parse ("status"),
                                 false, sql, sizeof sql), 0);
    CHECK (strstr (sql, " ORDER BY array_position(ARRAY['open','pending','resolved','closed'], status)"
                        " ASC, id ASC LIMIT $1 OFFSET $2"));
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, tickets_sort_parse ("subject"),
                                 false, sql, sizeof sql), 0);
    CHECK (strstr (sql, " ORDER BY subject ASC, id ASC LIMIT"));
}

TEST (test_list_sql_refuses_out_of_range_keys_and_small_buffers)
{
    char sql [1024];
    CHECK_INT (tickets_list_sql (TICKETS_F_ALL << 1, TICKETS_DELETED_EXCLUDE, 0, false, sql, sizeof sql), -1);
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, TICKETS_SORTS, false, sql, sizeof sql), -1);
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, -1, false, sql, sizeof sql), -1);
    CHECK_INT (tickets_list_sql (15, TICKETS_DELETED_EXCLUDE, 4, false, sql, 40), -1);
    //  Every filter at once: status, priority, assignee, q, e-mail, and "unassigned".
    CHECK_INT (tickets_list_sql (TICKETS_F_ALL * 2 - 1, TICKETS_DELETED_ONLY, 0, true, sql, sizeof sql), 0);
    CHECK (strstr (sql, "lower(requester_email) = lower($5) AND created_at >= $6::timestamptz"
                        " AND created_at < $7::timestamptz AND assignee_id IS NULL"));
    CHECK (strstr (sql, "ILIKE $4 OR requester_email ILIKE $4)"));
}

TEST (test_query_parse_applies_defaults)
{
    json_t *p = s_json ("{}");
    json_t *details = json_array ();
    tickets_query_t q;
    CHECK_INT (tickets_query_parse (p, &q, details), 0);
    CHECK_INT (q.page, 1);
    CHECK_INT (q.limit, 20);
    CHECK_INT (q.sort, 1);
    CHECK_INT (q.deleted, TICKETS_DELETED_EXCLUDE);
    CHECK_INT (q.filters, 0);
    json_decref (p);
    json_decref (details);
}

TEST (test_query_parse_names_every_bad_field)
{
    json_t *p = s_json ("{\"page\":0,\"limit\":\"20\",\"status\":\"new\",\"priority\":1,"
                        "\"assigneeId\":\"x\",\"q\":5,\"deleted\":\"all\",\"sort\":\"id\"}");
    json_t *details = json_array ();
    tickets_query_t q;
    CHECK_INT (tickets_query_parse (p, &q, details), -1);
    CHECK_INT (json_array_size (details), 8);
    CHECK_STR (json_string_value (json_object_get (json_array_get (details, 0), "field")), "page");
    json_decref (p);
    json_decref (details);
}

TEST (test_query_parse_treats_empty_q_as_no_search)
{
    json_t *p = s_json ("{\"q\":\"\",\"status\":\"open\",\"deleted\":\"only\",\"sort\":\"priority\"}");
    json_t *details = json_array ();
    tickets_query_t q;
    CHECK_INT (tickets_query_parse (p, &q, details), 0);
    CHECK_INT (q.filters, TICKETS_F_STATUS);
    CHECK_INT (q.deleted, TICKETS_DELETED_ONLY);
    CHECK_INT (q.sort, 4);
    json_decref (p);
    json_decref (details);
}

TEST (test_fields_check_rejects_unknown_and_null_required_fields)
{
    json_t *details = json_array ();
    json_t *f = s_json ("{\"version\":3}");
    CHECK_INT (tickets_fields_check (f, details), -1);
    json_decref (f);
    f = s_json ("{\"subject\":null}");
    CHECK_INT (tickets_fields_check (f, details), -1);
    json_decref (f);
    CHECK_INT (tickets_fields_check (NULL, details), -1);
    CHECK_INT (json_array_size (details), 3);
    json_decref (details);
}

TEST (test_fields_check_accepts_null_assignee_and_any_subset)
{
    json_t *details = json_array ();
    json_t *f = s_json ("{\"assigneeId\":null,\"status\":\"closed\",\"description\":\"\"}");
    CHECK_INT (tickets_fields_check (f, details), 0);
    json_decref (f);
    f = s_json ("{}");
    CHECK_INT (tickets_fields_check (f, details), 0);
    json_decref (f);
    CHECK_INT (json_array_size (details), 0);
    json_decref (details);
}

TEST_MAIN ("worker_tickets",
    T (test_like_pattern_escapes_wildcards_and_backslash),
    T (test_sort_whitelist_accepts_only_known_fields),
    T (test_list_sql_numbers_parameters_in_filter_order),
    T (test_list_sql_sorts_priority_and_status_by_their_vocab_rank),
    T (test_list_sql_refuses_out_of_range_keys_and_small_buffers),
    T (test_query_parse_applies_defaults),
    T (test_query_parse_names_every_bad_field),
    T (test_query_parse_treats_empty_q_as_no_search),
    T (test_fields_check_rejects_unknown_and_null_required_fields),
    T (test_fields_check_accepts_null_assignee_and_any_subset))
