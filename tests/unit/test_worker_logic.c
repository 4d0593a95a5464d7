/*  Unit tests for the worker's pure logic: payload checks, tickets.list SQL assembly and
    ILIKE escaping, the user cache bound, and timestamp formatting. No database needed.  */
#include "testing.h"
#include "../../workers/auth.h"
#include "../../workers/check.h"
#include "../../workers/reply.h"
#include "../../workers/tickets.h"
#include "../../workers/usercache.h"
#include "../../workers/worker.h"

static json_t *
s_json (const char *text)
{
    json_error_t err;
    return json_loads (text, 0, &err);
}

TEST (test_time_converts_postgres_utc_to_rfc3339_with_milliseconds)
{
    char out [REPLY_TIME_LEN];
    CHECK_INT (reply_time ("2026-11-25 16:17:07.123456+00", out), 0);
    CHECK_STR (out, "2026-11-25T16:17:07.123Z");
    CHECK_INT (reply_time ("2026-11-25 16:17:07.9+00", out), 0);
    CHECK_STR (out, "2026-11-25T16:17:07.900Z");
    CHECK_INT (reply_time ("2026-11-25 16:17:07+00", out), 0);
    CHECK_STR (out, "2026-11-25T16:17:07.000Z");
}

TEST (test_time_truncates_rather_than_rounds_microseconds)
{
    char out [REPLY_TIME_LEN];
    CHECK_INT (reply_time ("2026-12-31 23:59:59.999999+00", out), 0);
    CHECK_STR (out, "2026-12-31T23:59:59.999Z");
}

TEST (test_time_rejects_other_zones_and_garbage)
{
    char out [REPLY_TIME_LEN];
    CHECK_INT (reply_time ("2026-11-25 16:17:07.123+01", out), -1);
    CHECK_INT (reply_time ("2026-11-25T16:17:07.123Z", out), -1);
    CHECK_INT (reply_time ("", out), -1);
    CHECK_INT (reply_time (NULL, out), -1);
    CHECK_INT (reply_time ("2026-11-25 16:17:07.+00", out), -1);
    CHECK_INT (reply_time ("2026-11-25 16:17:07.1234567+00", out), -1);
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
    CHECK (strstr (sql, "deleted_at IS NULL AND status = $1 AND (subject || ' ' || description) ILIKE $2"));
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
    CHECK_INT (tickets_list_sql (16, TICKETS_DELETED_EXCLUDE, 0, false, sql, sizeof sql), -1);
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, TICKETS_SORTS, false, sql, sizeof sql), -1);
    CHECK_INT (tickets_list_sql (0, TICKETS_DELETED_EXCLUDE, -1, false, sql, sizeof sql), -1);
    CHECK_INT (tickets_list_sql (15, TICKETS_DELETED_EXCLUDE, 4, false, sql, 40), -1);
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

TEST (test_string_check_counts_characters_not_bytes)
{
    //  200 two-byte characters are 400 bytes but within subject's 200-character limit.
    char text [512] = "{\"s\":\"";
    for (int i = 0; i < 200; i++)
        strcat (text, "\xc3\xa9");
    strcat (text, "\"}");
    json_t *p = s_json (text);
    json_t *details = json_array ();
    const char *s;
    CHECK (p);
    CHECK_INT (check_string (p, "s", true, 1, 200, details, &s), 0);
    CHECK_INT (check_string (p, "s", true, 1, 199, details, &s), -1);
    json_decref (p);
    json_decref (details);
}

TEST (test_uuid_check_refuses_injection_text)
{
    json_t *p = s_json ("{\"id\":\"00000000-0000-0000-0000-000000000000' OR '1'='1\"}");
    json_t *details = json_array ();
    const char *id;
    CHECK_INT (check_uuid (p, "id", true, false, details, &id, NULL), -1);
    CHECK (id == NULL);
    json_decref (p);
    json_decref (details);
}

TEST (test_user_cache_never_grows_past_its_capacity)
{
    usercache_t *cache = usercache_new (4, 2000);
    char id [UUID_STRLEN + 1];
    for (int i = 0; i < 10; i++) {
        snprintf (id, sizeof id, "00000000-0000-0000-0000-%012d", i);
        usercache_put (cache, id, SVC_ROLE_AGENT, 0);
    }
    CHECK_INT (usercache_size (cache), 4);
    //  The oldest were evicted, the newest kept.
    CHECK_INT (usercache_get (cache, "00000000-0000-0000-0000-000000000000", 1), SVC_ROLE_NONE);
    CHECK_INT (usercache_get (cache, "00000000-0000-0000-0000-000000000009", 1), SVC_ROLE_AGENT);
    usercache_destroy (&cache);
    CHECK (cache == NULL);
}

TEST (test_user_cache_entries_expire_after_ttl)
{
    usercache_t *cache = usercache_new (8, 2000);
    const char *id = "8CEF46F1-1309-4F36-A4A3-28DD803B9DA0";
    usercache_put (cache, id, SVC_ROLE_ADMIN, 1000);
    CHECK_INT (usercache_get (cache, "8cef46f1-1309-4f36-a4a3-28dd803b9da0", 2999), SVC_ROLE_ADMIN);
    CHECK_INT (usercache_get (cache, id, 3000), SVC_ROLE_NONE);
    usercache_put (cache, "not-a-uuid", SVC_ROLE_ADMIN, 1000);
    CHECK_INT (usercache_size (cache), 1);
    usercache_destroy (&cache);
}

TEST (test_constant_time_compare_matches_strcmp_equality)
{
    CHECK (auth_equal_ct ("$2a$10$abc", "$2a$10$abc"));
    CHECK (!auth_equal_ct ("$2a$10$abc", "$2a$10$abd"));
    CHECK (!auth_equal_ct ("$2a$10$abc", "$2a$10$ab"));
    CHECK (!auth_equal_ct ("", "x"));
}

TEST (test_error_reply_has_contract_shape)
{
    reply_t r = { 0, NULL };
    json_t *details = json_array ();
    reply_detail (details, "limit", "must be a whole number from 1 to 100");
    reply_invalid (&r, details);
    CHECK_INT (r.status, 422);
    json_t *err = json_object_get (r.body, "error");
    CHECK_STR (json_string_value (json_object_get (err, "code")), "validation_failed");
    CHECK (json_is_string (json_object_get (err, "message")));
    CHECK_INT (json_array_size (json_object_get (err, "details")), 1);
    reply_reset (&r);
    CHECK (r.body == NULL);
}

TEST (test_reply_without_body_becomes_500_unless_204)
{
    reply_t r = { 0, NULL };
    reply_json (&r, 200, NULL);
    CHECK_INT (r.status, 500);
    reply_empty (&r, 204);
    CHECK_INT (r.status, 204);
    CHECK (r.body == NULL);
}

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

TEST_MAIN ("worker_logic",
    T (test_time_converts_postgres_utc_to_rfc3339_with_milliseconds),
    T (test_time_truncates_rather_than_rounds_microseconds),
    T (test_time_rejects_other_zones_and_garbage),
    T (test_like_pattern_escapes_wildcards_and_backslash),
    T (test_sort_whitelist_accepts_only_known_fields),
    T (test_list_sql_numbers_parameters_in_filter_order),
    T (test_list_sql_sorts_priority_and_status_by_their_vocab_rank),
    T (test_list_sql_refuses_out_of_range_keys_and_small_buffers),
    T (test_query_parse_applies_defaults),
    T (test_query_parse_names_every_bad_field),
    T (test_query_parse_treats_empty_q_as_no_search),
    T (test_fields_check_rejects_unknown_and_null_required_fields),
    T (test_fields_check_accepts_null_assignee_and_any_subset),
    T (test_string_check_counts_characters_not_bytes),
    T (test_uuid_check_refuses_injection_text),
    T (test_user_cache_never_grows_past_its_capacity),
    T (test_user_cache_entries_expire_after_ttl),
    T (test_constant_time_compare_matches_strcmp_equality),
    T (test_error_reply_has_contract_shape),
    T (test_reply_without_body_becomes_500_unless_204),
    T (test_dispatch_table_knows_every_offered_service))
