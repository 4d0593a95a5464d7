/*  Unit tests for workers/tickets: tickets.list's query, its SQL assembly and ILIKE
    escaping, and the checks of ticket fields. No database needed.  */
#include "testing.h"
#include <math.h>
#include "../../workers/tickets.h"
#include "../../workers/reply.h"

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
                                 TICKETS_LIST_PAGE, sql, sizeof sql), 0);
    CHECK (strstr (sql, "deleted_at IS NULL AND status = $1 AND ((subject || ' ' || description)"
                        " ILIKE $2 OR requester_email ILIKE $2)"));
    CHECK (strstr (sql, "ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"));
    CHECK_INT (tickets_list_sql (15, TICKETS_DELETED_ONLY, 0, TICKETS_LIST_COUNT, sql, sizeof sql), 0);
    CHECK (strstr (sql, "SELECT count(*) FROM (SELECT 1 FROM tickets WHERE deleted_at IS NOT NULL"));
    CHECK (strstr (sql, "assignee_id = $3::uuid"));
    CHECK (strstr (sql, " LIMIT 10001) c"));
    CHECK (!strstr (sql, "ORDER BY"));
    CHECK_INT (tickets_list_sql (TICKETS_F_STATUS, TICKETS_DELETED_EXCLUDE, 0, TICKETS_LIST_ESTIMATE,
                                 sql, sizeof sql), 0);
    CHECK_STR (sql, "EXPLAIN (FORMAT JSON) SELECT 1 FROM tickets WHERE deleted_at IS NULL AND status = $1");
}

TEST (test_list_total_is_exact_up_to_the_cap)
{
    bool estimated = true;
    CHECK_INT (tickets_list_total (0, NAN, 0, 0, 20, &estimated), 0);
    CHECK (!estimated);
    CHECK_INT (tickets_list_total (TICKETS_COUNT_EXACT_MAX, 123456.0, 0, 20, 20, &estimated),
               TICKETS_COUNT_EXACT_MAX);
    CHECK (!estimated);
}

TEST (test_list_total_past_the_cap_is_the_rounded_estimate)
{
    bool estimated = false;
    long long over = TICKETS_COUNT_EXACT_MAX + 1;
    CHECK_INT (tickets_list_total (over, 201347.4, 0, 20, 20, &estimated), 201000);
    CHECK (estimated);
    //  Never below what the count saw, nor below the rows the page shows.
    CHECK_INT (tickets_list_total (over, 40.0, 0, 20, 20, &estimated), 10000);
    CHECK_INT (tickets_list_total (over, NAN, 0, 20, 20, &estimated), 10000);
    CHECK_INT (tickets_list_total (over, 1e300, 0, 20, 20, &estimated), 10000);
    CHECK_INT (tickets_list_total (over, 30000.0, 40000, 20, 20, &estimated), 40020);
    CHECK (estimated);
    //  A partial page is the list's end: the total is exact again.
    CHECK_INT (tickets_list_total (over, 30000.0, 31000, 7, 20, &estimated), 31007);
    CHECK (!estimated);
}

TEST (test_list_sql_sorts_priority_and_status_by_their_vocab_rank)
{
    char sql [1024];
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, tickets_sort_parse ("-priority"),
                                 TICKETS_LIST_PAGE, sql, sizeof sql), 0);
    CHECK (strstr (sql, " ORDER BY array_position(ARRAY['low','normal','high','urgent'], priority)"
                        " DESC, id DESC LIMIT $1 OFFSET $2"));
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, tickets_sort_parse ("status"),
                                 TICKETS_LIST_PAGE, sql, sizeof sql), 0);
    CHECK (strstr (sql, " ORDER BY array_position(ARRAY['open','pending','resolved','closed'], status)"
                        " ASC, id ASC LIMIT $1 OFFSET $2"));
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, tickets_sort_parse ("subject"),
                                 TICKETS_LIST_PAGE, sql, sizeof sql), 0);
    CHECK (strstr (sql, " ORDER BY subject ASC, id ASC LIMIT"));
}

TEST (test_list_sql_refuses_out_of_range_keys_and_small_buffers)
{
    char sql [1024];
    CHECK_INT (tickets_list_sql (TICKETS_F_ALL << 1, TICKETS_DELETED_EXCLUDE, 0, TICKETS_LIST_PAGE, sql, sizeof sql), -1);
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, TICKETS_SORTS, TICKETS_LIST_PAGE, sql, sizeof sql), -1);
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, -1, TICKETS_LIST_PAGE, sql, sizeof sql), -1);
    CHECK_INT (tickets_list_sql (15, TICKETS_DELETED_EXCLUDE, 4, TICKETS_LIST_PAGE, sql, 40), -1);
    //  Every filter at once: status, priority, assignee, q, e-mail, and "unassigned".
    CHECK_INT (tickets_list_sql (TICKETS_F_ALL * 2 - 1, TICKETS_DELETED_ONLY, 0, TICKETS_LIST_COUNT, sql, sizeof sql), 0);
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


//  ---------------------------------------------------------------------------------
//  tickets_row_write against the jansson tree it replaced: the same bytes for every row

//  The tree the worker built before it wrote tickets directly, kept as the oracle.
static json_t *
s_time_or_null (PGresult *res, int row, int col)
{
    if (PQgetisnull (res, row, col))
        return json_null ();
    char out [REPLY_TIME_LEN];
    return reply_time (PQgetvalue (res, row, col), out) ? NULL : json_string (out);
}

static json_t *
s_oracle_row (PGresult *res, int row)
{
    json_t *created = s_time_or_null (res, row, 7);
    json_t *updated = s_time_or_null (res, row, 8);
    json_t *deleted = s_time_or_null (res, row, 9);
    if (!created || !updated || !deleted) {
        json_decref (created);
        json_decref (updated);
        json_decref (deleted);
        return NULL;
    }
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I}",
                      "id", PQgetvalue (res, row, 0),
                      "subject", PQgetvalue (res, row, 1),
                      "description", PQgetvalue (res, row, 2),
                      "status", PQgetvalue (res, row, 3),
                      "priority", PQgetvalue (res, row, 4),
                      "requesterEmail", PQgetvalue (res, row, 5),
                      "assigneeId", PQgetisnull (res, row, 6)
                                  ? json_null () : json_string (PQgetvalue (res, row, 6)),
                      "createdAt", created, "updatedAt", updated, "deletedAt", deleted,
                      "version", (json_int_t) strtoll (PQgetvalue (res, row, 10), NULL, 10));
}

//  A result shaped as T_COLS selects it, rows given as 11 texts each (NULL: SQL NULL).
static PGresult *
s_result (const char *const rows [][11], int n)
{
    static const char *names [] = { "id", "subject", "description", "status", "priority",
        "requester_email", "assignee_id", "created_at", "updated_at", "deleted_at", "version" };
    PGresAttDesc attrs [11];
    for (int c = 0; c < 11; c++)
        attrs [c] = (PGresAttDesc) { .name = (char *) names [c], .format = 0, .typid = 25,
                                     .typlen = -1, .atttypmod = -1 };
    PGresult *res = PQmakeEmptyPGresult (NULL, PGRES_TUPLES_OK);
    PQsetResultAttrs (res, 11, attrs);
    for (int r = 0; r < n; r++)
        for (int c = 0; c < 11; c++)
            PQsetvalue (res, r, c, (char *) rows [r][c], rows [r][c] ? (int) strlen (rows [r][c]) : -1);
    return res;
}

#define ID   "6f1c2a9e-0d7b-4c55-9a31-1b2c3d4e5f60"
#define WHEN "2026-11-25 16:17:07.123456+00"

//  The writer's text for row (NULL when it refused it) and the oracle's (NULL alike).
static void
s_both (PGresult *res, int row, char **got, char **want)
{
    jsonw_t w;
    jsonw_init (&w, 1 << 20);
    size_t len;
    *got = tickets_row_write (&w, res, row) == 0 ? jsonw_take (&w, &len) : NULL;
    jsonw_reset (&w);
    json_t *tree = s_oracle_row (res, row);
    *want = tree ? json_dumps (tree, JSON_COMPACT) : NULL;
    json_decref (tree);
}

TEST (test_row_write_matches_json_dumps_of_the_tree_for_nasty_rows)
{
    static char long_text [10001];
    for (int i = 0; i < 10000; i++)
        long_text [i] = "x\"\\\n\x01"[i % 5];
    static const char *const rows [][11] = {
        { ID, "Printer on fire", "", "open", "normal", "a@b.co", NULL, WHEN, WHEN, NULL, "1" },
        { ID, "quote \" back \\ slash /", "ctl \x01\x02\x1f\x7f tab\t nl\n cr\r bs\b ff\f",
          "in_progress", "urgent", "x+y@example.com", ID, "2026-01-02 03:04:05+00",
          "2026-01-02 03:04:05.1+00", "2026-12-31 23:59:59.999999+00", "2147483647" },
        { ID, "line\xe2\x80\xa8sep\xe2\x80\xa9", "emoji \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf caf\xc3\xa9",
          "closed", "low", "\xc3\xa9@b.co", NULL, WHEN, WHEN, WHEN, "0" },
        { ID, "<b>&amp;</b>", long_text, "resolved", "high", "a@b.co", ID, WHEN, WHEN, NULL,
          "-5" },
    };
    int n = sizeof rows / sizeof rows [0];
    PGresult *res = s_result (rows, n);
    for (int r = 0; r < n; r++) {
        char *got, *want;
        s_both (res, r, &got, &want);
        int same = got && want && !strcmp (got, want);
        if (!same)
            fprintf (stderr, "  row %d: want %.200s\n  got  %.200s\n", r, want ? want : "(refused)",
                     got ? got : "(refused)");
        free (got);
        free (want);
        CHECK (same);
    }
    PQclear (res);
}

TEST (test_row_write_refuses_what_the_tree_refused)
{
    static const char *const rows [][11] = {
        { ID, "bad \xff utf8", "", "open", "normal", "a@b.co", NULL, WHEN, WHEN, NULL, "1" },
        { ID, "surrogate \xed\xa0\x80", "", "open", "normal", "a@b.co", NULL, WHEN, WHEN, NULL, "1" },
        { ID, "s", "", "open", "normal", "a@b.co", NULL, "yesterday", WHEN, NULL, "1" },
        { ID, "s", "", "open", "normal", "a@b.co", NULL, WHEN, WHEN, "2026-11-25 16:17:07+01", "1" },
    };
    int n = sizeof rows / sizeof rows [0];
    PGresult *res = s_result (rows, n);
    for (int r = 0; r < n; r++) {
        char *got, *want;
        s_both (res, r, &got, &want);
        if (got || want)
            fprintf (stderr, "  row %d: want refused, got %s / %s\n", r, want ? want : "-",
                     got ? got : "-");
        int refused = !got && !want;
        free (got);
        free (want);
        CHECK (refused);
    }
    PQclear (res);
}

TEST_MAIN ("worker_tickets",
    T (test_like_pattern_escapes_wildcards_and_backslash),
    T (test_sort_whitelist_accepts_only_known_fields),
    T (test_list_sql_numbers_parameters_in_filter_order),
    T (test_list_total_is_exact_up_to_the_cap),
    T (test_list_total_past_the_cap_is_the_rounded_estimate),
    T (test_list_sql_sorts_priority_and_status_by_their_vocab_rank),
    T (test_list_sql_refuses_out_of_range_keys_and_small_buffers),
    T (test_query_parse_applies_defaults),
    T (test_query_parse_names_every_bad_field),
    T (test_query_parse_treats_empty_q_as_no_search),
    T (test_fields_check_rejects_unknown_and_null_required_fields),
    T (test_fields_check_accepts_null_assignee_and_any_subset),
    T (test_row_write_matches_json_dumps_of_the_tree_for_nasty_rows),
    T (test_row_write_refuses_what_the_tree_refused))
