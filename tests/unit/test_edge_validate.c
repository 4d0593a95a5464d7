/*  Unit tests for http-edge/validate: the pure input rules behind every 4xx the edge
    produces itself (bodies, ticket fields, queries, If-Match, static paths).  */
#include "../../http-edge/validate.h"
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

//  A detail the answer must hold: its field, and words of its message.
typedef struct { const char *field, *words; } s_want_t;
#define S_N(array) (sizeof array / sizeof array [0])

//  True when details holds every wanted detail and, unless count is -1, no other; says
//  which is missing.
static bool
s_details_are (json_t *details, const s_want_t *want, size_t n, long count)
{
    for (size_t i = 0; i < n; i++)
        if (!s_has (details, want [i].field, want [i].words)) {
            char *got = json_dumps (details, JSON_COMPACT);
            fprintf (stderr, "  no detail %s \"%s\" in %s\n", want [i].field, want [i].words, got);
            free (got);
            return false;
        }
    if (count >= 0 && (long) json_array_size (details) != count) {
        fprintf (stderr, "  expected %ld details, got %zu\n", count, json_array_size (details));
        return false;
    }
    return true;
}

//  True when result is NULL (refused) with exactly the details wanted; frees both.
static bool
s_refused (json_t *result, json_t *details, const s_want_t *want, size_t n, long count)
{
    bool ok = !result && s_details_are (details, want, n, count);
    json_decref (result);
    json_decref (details);
    return ok;
}

//  True when the ticket body text is refused with those details (any count: -1).
static bool
s_ticket_refused (const char *text, bool create, const s_want_t *want, size_t n, long count)
{
    json_t *details = json_array ();
    return s_refused (s_ticket (text, create, details), details, want, n, count);
}

//  The same for a GET /api/tickets query.
static bool
s_query_refused (const validate_kv_t *kv, size_t nkv, const s_want_t *want, size_t n, long count)
{
    json_t *details = json_array ();
    return s_refused (validate_ticket_query (kv, nkv, details), details, want, n, count);
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
    static const s_want_t want [] = { { "subject", "required" }, { "requesterEmail", "required" } };
    CHECK (s_ticket_refused ("{\"description\":\"x\"}", true, want, S_N (want), -1));
}

TEST (test_subject_length_and_blankness_are_checked)
{
    static const s_want_t too_long [] = { { "subject", "1 to 200" } };
    static const s_want_t blank [] = { { "subject", "blank" } };
    char *text = test_json_repeat ("subject", "x", 201);
    CHECK (s_ticket_refused (text, false, too_long, 1, -1));
    free (text);
    CHECK (s_ticket_refused ("{\"subject\":\"   \"}", false, blank, 1, -1));
    CHECK (s_ticket_refused ("{\"subject\":\"\"}", false, too_long, 1, -1));
}

TEST (test_subject_length_counts_characters_not_bytes)
{
    //  200 e-acutes are 400 bytes but 200 characters: accepted.
    char *text = test_json_repeat ("subject", "\xc3\xa9", 200);
    json_t *details = json_array ();
    json_t *f = s_ticket (text, false, details);
    free (text);
    CHECK (f != NULL);
    json_decref (f);
    json_decref (details);
}

TEST (test_description_over_10000_characters_is_refused)
{
    static const s_want_t want [] = { { "description", "at most 10000" } };
    char *text = test_json_repeat ("description", "d", 10001);
    bool refused = s_ticket_refused (text, false, want, 1, -1);
    free (text);
    CHECK (refused);
}

TEST (test_enums_email_and_assignee_are_checked)
{
    static const s_want_t want [] = {
        { "status", "open, pending" }, { "priority", "low, normal" },
        { "requesterEmail", "e-mail" }, { "assigneeId", "UUID" },
    };
    CHECK (s_ticket_refused ("{\"status\":\"done\",\"priority\":\"p1\",\"requesterEmail\":\"nope\","
                             "\"assigneeId\":\"not-a-uuid\"}", false, want, S_N (want), 4));
}

TEST (test_wrong_types_name_the_field)
{
    static const s_want_t want [] = {
        { "subject", "string" }, { "description", "string" }, { "status", "one of" },
        { "assigneeId", "UUID" },
    };
    CHECK (s_ticket_refused ("{\"subject\":5,\"description\":[],\"status\":null,\"assigneeId\":7}",
                             false, want, S_N (want), -1));
}

TEST (test_unknown_and_read_only_fields_are_each_named)
{
    static const s_want_t want [] = {
        { "id", "read-only" }, { "version", "read-only" }, { "createdAt", "read-only" },
        { "foo", "unknown field" }, { "bar", "unknown field" },
    };
    CHECK (s_ticket_refused ("{\"subject\":\"ok\",\"id\":\"x\",\"version\":3,\"createdAt\":\"t\","
                             "\"foo\":1,\"bar\":2}", false, want, S_N (want), 5));
}

TEST (test_empty_update_is_refused)
{
    static const s_want_t want [] = { { "body", "no writable field given" } };
    CHECK (s_ticket_refused ("{}", false, want, 1, -1));
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

TEST (test_query_defaults)
{
    json_t *details = json_array ();
    json_t *p = validate_ticket_query (NULL, 0, details);
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
    json_t *p = validate_ticket_query (kv, 8, details);
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
    static const s_want_t want [] = {
        { "page", "1 to" }, { "limit", "between 1 and 100" }, { "status", "one of" },
        { "priority", "one of" }, { "assigneeId", "UUID" }, { "deleted", "exclude" },
        { "sort", "createdAt" }, { "evil", "unknown query parameter" },
        { "limit2", "unknown query parameter" },
    };
    CHECK (s_query_refused (kv, S_N (kv), want, S_N (want), 9));
}

//  Found by tests/fuzz/fuzz_query: jansson refuses a non-UTF-8 field name, and the detail
//  was dropped, so the unknown parameter was silently accepted.
TEST (test_query_unknown_key_that_is_not_utf8_is_still_refused)
{
    validate_kv_t kv [] = { { "page", "1" }, { "p\xb6\xb3", "2" } };
    static const s_want_t want [] = { { "p??", "unknown query parameter" } };
    CHECK (s_query_refused (kv, S_N (kv), want, 1, -1));
}

TEST (test_query_numbers_must_be_plain)
{
    const char *bad [] = { "1.5", "abc", "-1", "+2", " 3", "3 ", "", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        validate_kv_t kv [] = { { "limit", bad [i] } };
        json_t *details = json_array ();
        json_t *p = validate_ticket_query (kv, 1, details);
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
    static const s_want_t want [] = { { "q", "at most 200" }, { "page", "more than once" } };
    CHECK (s_query_refused (kv, S_N (kv), want, S_N (want), -1));
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
    T (test_static_path_guard_refuses_traversal))
