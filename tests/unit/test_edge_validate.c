/*  Unit tests for http-edge/validate, http-edge/routes and http-edge/static: the pure
    input rules behind every 4xx the edge produces itself.  */
#include "../../http-edge/validate.h"
#include "../../http-edge/routes.h"
#include "../../http-edge/static.h"
#include "testing.h"

#define UUID1 "6f1c2b8e-4a3d-4e5f-9a7b-1c2d3e4f5a6b"

//  Parses JSON text for a test; NULL on a typo in the test itself.
static json_t *
s_json (const char *text)
{
    return json_loads (text, 0, NULL);
}

//  True when details has an entry for field whose message contains needle.
static bool
s_has (json_t *details, const char *field, const char *needle)
{
    size_t i;
    json_t *d;
    json_array_foreach (details, i, d) {
        const char *f = json_string_value (json_object_get (d, "field"));
        const char *m = json_string_value (json_object_get (d, "message"));
        if (f && m && !strcmp (f, field) && strstr (m, needle))
            return true;
    }
    return false;
}

static json_t *
s_ticket (const char *text, bool create, json_t *details)
{
    json_t *body = s_json (text);
    json_t *fields = validate_ticket (body, create, details);
    json_decref (body);
    return fields;
}

TEST (test_valid_create_body_is_accepted_and_subject_trimmed)
{
    json_t *details = json_array ();
    json_t *f = s_ticket ("{\"subject\":\"  Printer on fire \",\"requesterEmail\":\"a@b.io\","
                          "\"description\":\"\",\"status\":\"open\",\"priority\":\"urgent\","
                          "\"assigneeId\":null}", true, details);
    CHECK (f != NULL);
    CHECK_INT (json_array_size (details), 0);
    CHECK_STR (json_string_value (json_object_get (f, "subject")), "Printer on fire");
    CHECK (json_is_null (json_object_get (f, "assigneeId")));
    json_decref (f);
    json_decref (details);
}

TEST (test_create_requires_subject_and_requester_email)
{
    json_t *details = json_array ();
    json_t *f = s_ticket ("{\"description\":\"x\"}", true, details);
    CHECK (f == NULL);
    CHECK (s_has (details, "subject", "required"));
    CHECK (s_has (details, "requesterEmail", "required"));
    json_decref (details);
}

TEST (test_subject_length_and_blankness_are_checked)
{
    json_t *details = json_array ();
    char big [300];
    memset (big, 'x', 201);
    big [201] = 0;
    char text [400];
    snprintf (text, sizeof text, "{\"subject\":\"%s\"}", big);
    CHECK (s_ticket (text, false, details) == NULL);
    CHECK (s_has (details, "subject", "1 to 200"));
    json_decref (details);
    details = json_array ();
    CHECK (s_ticket ("{\"subject\":\"   \"}", false, details) == NULL);
    CHECK (s_has (details, "subject", "blank"));
    json_decref (details);
    details = json_array ();
    CHECK (s_ticket ("{\"subject\":\"\"}", false, details) == NULL);
    CHECK (s_has (details, "subject", "1 to 200"));
    json_decref (details);
}

TEST (test_subject_length_counts_characters_not_bytes)
{
    //  200 e-acutes are 400 bytes but 200 characters: accepted.
    char text [1024] = "{\"subject\":\"";
    for (int i = 0; i < 200; i++)
        strcat (text, "\xc3\xa9");
    strcat (text, "\"}");
    json_t *details = json_array ();
    json_t *f = s_ticket (text, false, details);
    CHECK (f != NULL);
    json_decref (f);
    json_decref (details);
}

TEST (test_description_over_10000_characters_is_refused)
{
    size_t n = 10001;
    char *text = malloc (n + 32);
    strcpy (text, "{\"description\":\"");
    size_t head = strlen (text);
    memset (text + head, 'd', n);
    strcpy (text + head + n, "\"}");
    json_t *details = json_array ();
    CHECK (s_ticket (text, false, details) == NULL);
    free (text);
    CHECK (s_has (details, "description", "at most 10000"));
    json_decref (details);
}

TEST (test_enums_email_and_assignee_are_checked)
{
    json_t *details = json_array ();
    json_t *f = s_ticket ("{\"status\":\"done\",\"priority\":\"p1\",\"requesterEmail\":\"nope\","
                          "\"assigneeId\":\"not-a-uuid\"}", false, details);
    CHECK (f == NULL);
    CHECK (s_has (details, "status", "open, pending"));
    CHECK (s_has (details, "priority", "low, normal"));
    CHECK (s_has (details, "requesterEmail", "e-mail"));
    CHECK (s_has (details, "assigneeId", "UUID"));
    CHECK_INT (json_array_size (details), 4);
    json_decref (details);
}

TEST (test_wrong_types_name_the_field)
{
    json_t *details = json_array ();
    CHECK (s_ticket ("{\"subject\":5,\"description\":[],\"status\":null,\"assigneeId\":7}",
                     false, details) == NULL);
    CHECK (s_has (details, "subject", "string"));
    CHECK (s_has (details, "description", "string"));
    CHECK (s_has (details, "status", "one of"));
    CHECK (s_has (details, "assigneeId", "UUID"));
    json_decref (details);
}

TEST (test_unknown_and_read_only_fields_are_each_named)
{
    json_t *details = json_array ();
    CHECK (s_ticket ("{\"subject\":\"ok\",\"id\":\"x\",\"version\":3,\"createdAt\":\"t\","
                     "\"foo\":1,\"bar\":2}", false, details) == NULL);
    CHECK (s_has (details, "id", "read-only"));
    CHECK (s_has (details, "version", "read-only"));
    CHECK (s_has (details, "createdAt", "read-only"));
    CHECK (s_has (details, "foo", "unknown field"));
    CHECK (s_has (details, "bar", "unknown field"));
    CHECK_INT (json_array_size (details), 5);
    json_decref (details);
}

TEST (test_empty_update_is_refused)
{
    json_t *details = json_array ();
    CHECK (s_ticket ("{}", false, details) == NULL);
    CHECK (s_has (details, "body", "no writable field given"));
    json_decref (details);
}

TEST (test_email_shapes)
{
    CHECK (validate_email ("agent@example.com"));
    CHECK (validate_email ("a.b+c@sub.example.co"));
    CHECK (!validate_email ("a@b"));
    CHECK (!validate_email ("@example.com"));
    CHECK (!validate_email ("a@@example.com"));
    CHECK (!validate_email ("a b@example.com"));
    CHECK (!validate_email ("a@example..com"));
    CHECK (!validate_email ("a@.example.com"));
    CHECK (!validate_email ("a@example.com."));
}

TEST (test_utf8_counting_rejects_invalid_sequences)
{
    CHECK_INT (validate_utf8_chars ("abc", 3), 3);
    CHECK_INT (validate_utf8_chars ("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9), 3);
    CHECK_INT (validate_utf8_chars ("\xc3", 1), -1);
    CHECK_INT (validate_utf8_chars ("\xc0\xaf", 2), -1);          //  overlong '/'
    CHECK_INT (validate_utf8_chars ("\xed\xa0\x80", 3), -1);      //  surrogate
    CHECK_INT (validate_utf8_chars ("\xff", 1), -1);
}

TEST (test_content_type_must_be_json)
{
    CHECK (validate_json_content_type ("application/json"));
    CHECK (validate_json_content_type ("application/json; charset=utf-8"));
    CHECK (validate_json_content_type ("Application/JSON;charset=UTF-8"));
    CHECK (!validate_json_content_type (NULL));
    CHECK (!validate_json_content_type ("text/plain"));
    CHECK (!validate_json_content_type ("application/jsonx"));
    CHECK (!validate_json_content_type ("application/x-www-form-urlencoded"));
}

TEST (test_json_body_outcomes)
{
    json_t *out = NULL;
    char why [128];
    CHECK_INT (validate_json_body ("application/json", "{\"a\":1}", 7, &out, why, sizeof why), VALIDATE_BODY_OK);
    CHECK (json_is_object (out));
    json_decref (out);
    CHECK_INT (validate_json_body ("text/plain", "{}", 2, &out, why, sizeof why), VALIDATE_BODY_NOT_JSON_TYPE);
    CHECK_INT (validate_json_body ("application/json", "{\"a\":", 5, &out, why, sizeof why), VALIDATE_BODY_INVALID_JSON);
    CHECK (why [0] != 0);
    CHECK_INT (validate_json_body ("application/json", "[1,2]", 5, &out, why, sizeof why), VALIDATE_BODY_NOT_OBJECT);
    CHECK_INT (validate_json_body ("application/json", "\"s\"", 3, &out, why, sizeof why), VALIDATE_BODY_NOT_OBJECT);
    CHECK_INT (validate_json_body ("application/json", "{\"a\":1,\"a\":2}", 13, &out, why, sizeof why), VALIDATE_BODY_INVALID_JSON);
    CHECK_INT (validate_json_body ("application/json", "{\"a\":\"\\u0000\"}", 14, &out, why, sizeof why), VALIDATE_BODY_INVALID_JSON);
    CHECK_INT (validate_json_body ("application/json", "{\"a\":\"\xff\"}", 9, &out, why, sizeof why), VALIDATE_BODY_INVALID_JSON);
    CHECK_INT (validate_json_body ("application/json", "{} x", 4, &out, why, sizeof why), VALIDATE_BODY_INVALID_JSON);
    CHECK_INT (validate_json_body (NULL, "", 0, &out, why, sizeof why), VALIDATE_BODY_EMPTY);
}

static json_t *
s_query (const validate_kv_t *kv, size_t n, json_t *details)
{
    return validate_ticket_query (kv, n, details);
}

TEST (test_query_defaults)
{
    json_t *details = json_array ();
    json_t *p = s_query (NULL, 0, details);
    CHECK (p != NULL);
    CHECK_INT (json_integer_value (json_object_get (p, "page")), 1);
    CHECK_INT (json_integer_value (json_object_get (p, "limit")), 20);
    CHECK_STR (json_string_value (json_object_get (p, "deleted")), "exclude");
    CHECK_STR (json_string_value (json_object_get (p, "sort")), "-createdAt");
    json_decref (p);
    json_decref (details);
}

TEST (test_query_accepts_every_filter)
{
    validate_kv_t kv [] = { { "page", "3" }, { "limit", "100" }, { "status", "open" },
                            { "priority", "high" }, { "assigneeId", UUID1 }, { "q", "printer" },
                            { "deleted", "only" }, { "sort", "-priority" } };
    json_t *details = json_array ();
    json_t *p = s_query (kv, 8, details);
    CHECK (p != NULL);
    CHECK_INT (json_integer_value (json_object_get (p, "limit")), 100);
    CHECK_STR (json_string_value (json_object_get (p, "assigneeId")), UUID1);
    CHECK_STR (json_string_value (json_object_get (p, "sort")), "-priority");
    json_decref (p);
    json_decref (details);
}

TEST (test_query_bounds_and_unknown_parameters_are_all_named)
{
    validate_kv_t kv [] = { { "page", "0" }, { "limit", "101" }, { "status", "x" },
                            { "priority", "" }, { "assigneeId", "1" }, { "deleted", "all" },
                            { "sort", "password" }, { "evil", "1" }, { "limit2", NULL } };
    json_t *details = json_array ();
    CHECK (s_query (kv, 9, details) == NULL);
    CHECK (s_has (details, "page", "1 to"));
    CHECK (s_has (details, "limit", "between 1 and 100"));
    CHECK (s_has (details, "status", "one of"));
    CHECK (s_has (details, "priority", "one of"));
    CHECK (s_has (details, "assigneeId", "UUID"));
    CHECK (s_has (details, "deleted", "exclude"));
    CHECK (s_has (details, "sort", "createdAt"));
    CHECK (s_has (details, "evil", "unknown query parameter"));
    CHECK (s_has (details, "limit2", "unknown query parameter"));
    CHECK_INT (json_array_size (details), 9);
    json_decref (details);
}

//  Found by tests/fuzz/fuzz_query: jansson refuses a non-UTF-8 field name, and the detail
//  used to be dropped, so the unknown parameter was silently accepted.
TEST (test_query_unknown_key_that_is_not_utf8_is_still_refused)
{
    validate_kv_t kv [] = { { "page", "1" }, { "p\xb6\xb3", "2" } };
    json_t *details = json_array ();
    CHECK (s_query (kv, 2, details) == NULL);
    CHECK (s_has (details, "p??", "unknown query parameter"));
    json_decref (details);
}

TEST (test_query_numbers_must_be_plain)
{
    const char *bad [] = { "1.5", "abc", "-1", "+2", " 3", "3 ", "", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        validate_kv_t kv [] = { { "limit", bad [i] } };
        json_t *details = json_array ();
        json_t *p = s_query (kv, 1, details);
        json_decref (details);
        if (p) {
            fprintf (stderr, "  limit '%s' accepted\n", bad [i]);
            json_decref (p);
            CHECK (0);
        }
    }
}

TEST (test_query_q_is_at_most_200_characters_and_repeats_are_refused)
{
    char q [300];
    memset (q, 'q', 201);
    q [201] = 0;
    validate_kv_t kv [] = { { "q", q }, { "page", "1" }, { "page", "2" } };
    json_t *details = json_array ();
    CHECK (s_query (kv, 3, details) == NULL);
    CHECK (s_has (details, "q", "at most 200"));
    CHECK (s_has (details, "page", "more than once"));
    json_decref (details);
}

TEST (test_if_match_forms)
{
    long v = 0;
    CHECK_INT (validate_if_match ("\"3\"", &v), 0);
    CHECK_INT (v, 3);
    CHECK_INT (validate_if_match ("42", &v), 0);
    CHECK_INT (v, 42);
    CHECK_INT (validate_if_match (" \"7\" ", &v), 0);
    CHECK_INT (v, 7);
    CHECK_INT (validate_if_match ("*", &v), 0);
    CHECK_INT (v, -1);
    CHECK_INT (validate_if_match ("W/\"3\"", &v), -1);
    CHECK_INT (validate_if_match ("\"abc\"", &v), -1);
    CHECK_INT (validate_if_match ("\"\"", &v), -1);
    CHECK_INT (validate_if_match ("0", &v), -1);
    CHECK_INT (validate_if_match ("-3", &v), -1);
    CHECK_INT (validate_if_match ("\"3", &v), -1);
    CHECK_INT (validate_if_match ("99999999999", &v), -1);
    CHECK_INT (validate_if_match ("", &v), -1);
}

TEST (test_static_path_guard_refuses_traversal)
{
    CHECK (validate_static_path ("/", 1));
    CHECK (validate_static_path ("/index.html", 11));
    CHECK (validate_static_path ("/assets/app.js", 14));
    CHECK (!validate_static_path ("/../etc/passwd", 14));
    CHECK (!validate_static_path ("/assets/../../x", 15));
    CHECK (!validate_static_path ("/assets/..", 10));
    CHECK (!validate_static_path ("/./index.html", 13));
    CHECK (!validate_static_path ("/a\\b", 4));
    CHECK (!validate_static_path ("/a\0b", 4));
    CHECK (!validate_static_path ("/app.js\xff.html", 13));      //  what the edge makes of %00
    CHECK (!validate_static_path ("/a\nb", 4));
    CHECK (!validate_static_path ("//etc/passwd", 12));
    CHECK (!validate_static_path ("index.html", 10));
    CHECK (!validate_static_path ("", 0));
    CHECK (validate_static_path ("/a..b", 5));            //  ".." inside a name is fine
}

TEST (test_static_content_types)
{
    CHECK_STR (static_content_type ("index.html"), "text/html; charset=utf-8");
    CHECK_STR (static_content_type ("a/app.js"), "text/javascript; charset=utf-8");
    CHECK_STR (static_content_type ("s.css"), "text/css; charset=utf-8");
    CHECK_STR (static_content_type ("i.svg"), "image/svg+xml");
    CHECK_STR (static_content_type ("f.woff2"), "font/woff2");
    CHECK_STR (static_content_type ("favicon.ico"), "image/x-icon");
    CHECK_STR (static_content_type ("x.bin"), "application/octet-stream");
    CHECK_STR (static_content_type ("dir.d/noext"), "application/octet-stream");
}

static void s_h (edge_req_t *req) { (void) req; }

TEST (test_routes_match_capture_404_and_405)
{
    static const route_t table [] = {
        { "GET",  "/api/tickets",             s_h, 0, 0 },
        { "GET",  "/api/tickets/:id",         s_h, 0, 0 },
        { "PUT",  "/api/tickets/:id",         s_h, 0, 0 },
        { "POST", "/api/tickets/:id/restore", s_h, 0, 0 },
    };
    route_match_t m;
    CHECK_INT (routes_match_in (table, 4, "GET", "/api/tickets", &m), 0);
    CHECK (m.route == &table [0]);
    CHECK_INT (routes_match_in (table, 4, "PUT", "/api/tickets/" UUID1, &m), 0);
    CHECK (m.route == &table [2]);
    CHECK_INT (m.params_n, 1);
    CHECK_STR (m.params [0], UUID1);
    CHECK_INT (routes_match_in (table, 4, "POST", "/api/tickets/abc/restore", &m), 0);
    CHECK_STR (m.params [0], "abc");
    CHECK_INT (routes_match_in (table, 4, "DELETE", "/api/tickets/abc", &m), 405);
    CHECK_STR (m.allow, "GET, PUT, OPTIONS");
    CHECK_INT (routes_match_in (table, 4, "GET", "/api/tickets/", &m), 404);
    CHECK_INT (routes_match_in (table, 4, "GET", "/api/tickets/a/b", &m), 404);
    CHECK_INT (routes_match_in (table, 4, "GET", "/api/ticketsx", &m), 404);
    CHECK_INT (routes_match_in (table, 4, "GET", "/api", &m), 404);
}

TEST (test_routes_flag_an_overlong_path_segment)
{
    char path [200] = "/api/tickets/";
    memset (path + strlen (path), 'a', 100);
    route_match_t m;
    CHECK_INT (routes_match ("GET", path, &m), 0);
    CHECK (m.param_too_long);
}

TEST (test_real_table_has_every_contract_route)
{
    route_match_t m;
    CHECK_INT (routes_match ("POST", "/api/auth/login", &m), 0);
    CHECK_INT (routes_match ("GET", "/api/auth/me", &m), 0);
    CHECK (m.route->flags & ROUTE_AUTH);
    CHECK_INT (routes_match ("POST", "/api/tickets/" UUID1 "/restore", &m), 0);
    CHECK (m.route->flags & ROUTE_ADMIN);
    CHECK_INT (routes_match ("GET", "/api/health", &m), 0);
    CHECK (!(m.route->flags & ROUTE_AUTH));
    CHECK_INT (routes_match ("GET", "/api/meta", &m), 0);
    CHECK_INT (m.route->flags, ROUTE_LOCAL);            //  anonymous, from memory
    CHECK_INT (routes_match ("PATCH", "/api/tickets/" UUID1, &m), 405);
    CHECK_STR (m.allow, "GET, PUT, DELETE, OPTIONS");
}

TEST_MAIN ("edge_validate",
    T (test_valid_create_body_is_accepted_and_subject_trimmed),
    T (test_create_requires_subject_and_requester_email),
    T (test_subject_length_and_blankness_are_checked),
    T (test_subject_length_counts_characters_not_bytes),
    T (test_description_over_10000_characters_is_refused),
    T (test_enums_email_and_assignee_are_checked),
    T (test_wrong_types_name_the_field),
    T (test_unknown_and_read_only_fields_are_each_named),
    T (test_empty_update_is_refused),
    T (test_email_shapes),
    T (test_utf8_counting_rejects_invalid_sequences),
    T (test_content_type_must_be_json),
    T (test_json_body_outcomes),
    T (test_query_defaults),
    T (test_query_accepts_every_filter),
    T (test_query_bounds_and_unknown_parameters_are_all_named),
    T (test_query_numbers_must_be_plain),
    T (test_query_unknown_key_that_is_not_utf8_is_still_refused),
    T (test_query_q_is_at_most_200_characters_and_repeats_are_refused),
    T (test_if_match_forms),
    T (test_static_path_guard_refuses_traversal),
    T (test_static_content_types),
    T (test_routes_match_capture_404_and_405),
    T (test_routes_flag_an_overlong_path_segment),
    T (test_real_table_has_every_contract_route))
