/*  Unit tests for http-edge/jobbody: the incremental scanner of POST /api/jobs bodies
    (ids out of payload.ticketIds, every other byte into rest, bounded memory).  */
#include "../../http-edge/jobbody.h"
#include "../../common/uuid.h"
#include "testing.h"

#include <jansson.h>
#include <time.h>

#define U1 "6f1c2b8e-4a3d-4e5f-9a7b-1c2d3e4f5a6b"
#define U2 "00000000-0000-4000-8000-000000000001"
#define U3 "ABCDEF01-2345-4789-AbCd-EF0123456789"

//  Feeds body in pieces of step bytes (0: whole), then finishes. Returns the scanner
//  (the caller destroys it) and the verdict in *rc.
static jobbody_t *
s_scan (const char *body, size_t len, size_t step, size_t max_ids, size_t max_rest, int *rc)
{
    jobbody_t *jb = jobbody_new (max_ids, max_rest);
    *rc = 0;
    if (step == 0)
        step = len ? len : 1;
    for (size_t i = 0; i < len && *rc == 0; i += step)
        *rc = jobbody_feed (jb, body + i, len - i < step ? len - i : step);
    if (*rc == 0)
        *rc = jobbody_finish (jb);
    return jb;
}

static jobbody_t *
s_scan_str (const char *body, int *rc)
{
    return s_scan (body, strlen (body), 0, 1000, 4096, rc);
}

//  The verdict, rest, count and ids of body fed whole and fed in step-byte pieces agree.
static bool
s_same_both_ways (const char *body, size_t step)
{
    int rc1, rc2;
    jobbody_t *a = s_scan (body, strlen (body), 0, 1000, 4096, &rc1);
    jobbody_t *b = s_scan (body, strlen (body), step, 1000, 4096, &rc2);
    size_t la, lb, na, nb;
    const char *ra = jobbody_rest (a, &la), *rb = jobbody_rest (b, &lb);
    unsigned char *ia = jobbody_take_ids (a, &na), *ib = jobbody_take_ids (b, &nb);
    bool same = rc1 == rc2 && la == lb && (!ra) == (!rb) && (!ra || !memcmp (ra, rb, la))
             && jobbody_count (a) == jobbody_count (b) && na == nb
             && (na == 0 || !memcmp (ia, ib, na * 16))
             && jobbody_bad_count (a) == jobbody_bad_count (b)
             && !strcmp (jobbody_error (a), jobbody_error (b));
    if (!same)
        fprintf (stderr, "  differ on step %zu: rc %d/%d rest \"%s\"/\"%s\" errors \"%s\"/\"%s\"\n",
                 step, rc1, rc2, ra ? ra : "-", rb ? rb : "-", jobbody_error (a), jobbody_error (b));
    free (ia);
    free (ib);
    jobbody_destroy (&a);
    jobbody_destroy (&b);
    return same;
}

TEST (test_whole_and_bytewise_feeds_give_the_same_rest_and_ids)
{
    const char *bodies [] = {
        "{\"type\":\"bulk-delete\",\"payload\":{\"ticketIds\":[\"" U1 "\", \"" U2 "\",\n \"" U3 "\"]}}",
        "  {\"payload\" : { \"x\": [1, 2.5e-3, {\"a\":null}], \"ticketIds\" : [ \"" U1 "\" , 7, "
            "\"nope\", {\"k\":[true]}, \"\\u0036f1c2b8e-4a3d-4e5f-9a7b-1c2d3e4f5a6b\" ] } , "
            "\"type\" : \"bulk-delete\" }  ",
        "{\"payload\":{\"ticketIds\":[1x]}}",
        "{\"a\":\"]}\\\"[\",\"payload\":{\"ticketIds\":[-0.5E+2,false]}}",
        "[\"payload\", {\"ticketIds\": [\"" U1 "\"]}]",
        "-12.5e7",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies [0]; i++)
        for (size_t step = 1; step <= 7; step++)
            CHECK (s_same_both_ways (bodies [i], step));
}

TEST (test_rest_is_the_body_without_the_elements)
{
    struct { const char *body, *rest; } cases [] = {
        { "{\"type\":\"bulk-delete\",\"payload\":{\"ticketIds\":[\"" U1 "\",\"" U2 "\"]}}",
          "{\"type\":\"bulk-delete\",\"payload\":{\"ticketIds\":[]}}" },
        { " {\n  \"payload\" : {\n    \"ticketIds\" : [\n      \"" U1 "\",\n      \"" U2 "\"\n    ]\n  },\n"
          "  \"type\" : \"bulk-delete\"\n}\n",
          " {\n  \"payload\" : {\n    \"ticketIds\" : []\n  },\n  \"type\" : \"bulk-delete\"\n}\n" },
        { "{\"payload\":{\"note\":\"x\",\"ticketIds\":[ ],\"more\":[1,2]},\"type\":1}",
          "{\"payload\":{\"note\":\"x\",\"ticketIds\":[],\"more\":[1,2]},\"type\":1}" },
        { "{\"payload\":{\"ticketIds\":[[\"" U1 "\"],{\"a\":[1]}]}}",
          "{\"payload\":{\"ticketIds\":[]}}" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        int rc;
        jobbody_t *jb = s_scan_str (cases [i].body, &rc);
        CHECK_INT (rc, 0);
        size_t len;
        CHECK_STR (jobbody_rest (jb, &len), cases [i].rest);
        CHECK_INT (len, strlen (cases [i].rest));
        CHECK (jobbody_ids_seen (jb));
        CHECK (!jobbody_repeated (jb));
        jobbody_destroy (&jb);
        CHECK (jb == NULL);
    }
}

TEST (test_ids_are_the_bytes_of_the_uuids_in_any_case)
{
    int rc;
    jobbody_t *jb = s_scan_str ("{\"payload\":{\"ticketIds\":[\"" U1 "\",\"" U2 "\",\"" U3 "\"]}}", &rc);
    CHECK_INT (rc, 0);
    CHECK_INT (jobbody_count (jb), 3);
    CHECK_INT (jobbody_bad_count (jb), 0);
    size_t n;
    unsigned char *ids = jobbody_take_ids (jb, &n);
    CHECK_INT (n, 3);
    const char *want [] = { U1, U2, U3 };
    for (size_t i = 0; i < 3; i++) {
        unsigned char b [16];
        CHECK_INT (uuid_to_bytes (want [i], UUID_STRLEN, b), 0);
        CHECK (memcmp (ids + i * 16, b, 16) == 0);
    }
    free (ids);
    //  Taken: self keeps none.
    CHECK (jobbody_take_ids (jb, &n) == NULL);
    CHECK_INT (n, 0);
    CHECK_INT (jobbody_count (jb), 3);
    jobbody_destroy (&jb);
}

TEST (test_bad_elements_are_counted_with_their_indexes)
{
    int rc;
    jobbody_t *jb = s_scan_str ("{\"payload\":{\"ticketIds\":[\"" U1 "\",42,\"not-a-uuid\",{\"id\":\"" U1 "\"},"
                                "null,\"" U2 "\",\"" U1 "x\",\"\",[\"" U2 "\"],\"" U1 "\\u00e9\",true,"
                                "\"6f1c2b8e-4a3d-4e5f-9a7b-1c2d3e4f5a6\"]}}", &rc);
    CHECK_INT (rc, 0);
    CHECK_INT (jobbody_count (jb), 12);
    CHECK_INT (jobbody_bad_count (jb), 10);
    size_t want [] = { 1, 2, 3, 4, 6, 7, 8, 9, 10, 11 };
    for (size_t i = 0; i < 10; i++)
        CHECK_INT (jobbody_bad_index (jb, i), want [i]);
    CHECK (jobbody_bad_index (jb, 10) == (size_t) -1);
    size_t n;
    unsigned char *ids = jobbody_take_ids (jb, &n);
    CHECK_INT (n, 2);
    free (ids);
    jobbody_destroy (&jb);
}

TEST (test_more_than_twenty_bad_elements_keep_only_twenty_indexes)
{
    char body [1024] = "{\"payload\":{\"ticketIds\":[\"" U1 "\"";
    for (int i = 0; i < 30; i++)
        strcat (body, ",0");
    strcat (body, "]}}");
    int rc;
    jobbody_t *jb = s_scan_str (body, &rc);
    CHECK_INT (rc, 0);
    CHECK_INT (jobbody_count (jb), 31);
    CHECK_INT (jobbody_bad_count (jb), 30);
    for (size_t i = 0; i < JOBBODY_BAD_MAX; i++)
        CHECK_INT (jobbody_bad_index (jb, i), i + 1);
    CHECK (jobbody_bad_index (jb, JOBBODY_BAD_MAX) == (size_t) -1);
    jobbody_destroy (&jb);
}

TEST (test_elements_beyond_max_ids_are_counted_not_stored)
{
    const char *body = "{\"payload\":{\"ticketIds\":[\"" U1 "\",\"" U2 "\",\"" U3 "\",\"bad\",\"" U1 "\"]}}";
    int rc;
    jobbody_t *jb = s_scan (body, strlen (body), 0, 2, 4096, &rc);
    CHECK_INT (rc, 0);
    CHECK_INT (jobbody_count (jb), 5);
    CHECK_INT (jobbody_bad_count (jb), 1);
    CHECK_INT (jobbody_bad_index (jb, 0), 3);
    size_t n;
    unsigned char *ids = jobbody_take_ids (jb, &n);
    CHECK_INT (n, 2);
    unsigned char b [16];
    uuid_to_bytes (U2, UUID_STRLEN, b);
    CHECK (memcmp (ids + 16, b, 16) == 0);
    free (ids);
    jobbody_destroy (&jb);

    //  No ids stored at all.
    jb = s_scan (body, strlen (body), 0, 0, 4096, &rc);
    CHECK_INT (rc, 0);
    CHECK_INT (jobbody_count (jb), 5);
    CHECK (jobbody_take_ids (jb, &n) == NULL);
    CHECK_INT (n, 0);
    jobbody_destroy (&jb);
}

TEST (test_escaped_keys_and_escaped_uuids_are_decoded)
{
    //  "payl\u006fad", "ticket\u0049ds", an id with \u escapes and a \/ would-be id.
    const char *body = "{\"payl\\u006fad\":{\"ticket\\u0049ds\":["
                       "\"\\u0036f1c2b8e-4a3d-4e5f-9a7b-1c2d3e4f5a6\\u0062\","
                       "\"6f1c2b8e\\/4a3d-4e5f-9a7b-1c2d3e4f5a6b\"]}}";
    int rc;
    jobbody_t *jb = s_scan_str (body, &rc);
    CHECK_INT (rc, 0);
    CHECK (jobbody_ids_seen (jb));
    CHECK_INT (jobbody_count (jb), 2);
    CHECK_INT (jobbody_bad_count (jb), 1);
    CHECK_INT (jobbody_bad_index (jb, 0), 1);
    CHECK_STR (jobbody_rest (jb, NULL), "{\"payl\\u006fad\":{\"ticket\\u0049ds\":[]}}");
    size_t n;
    unsigned char *ids = jobbody_take_ids (jb, &n), b [16];
    CHECK_INT (n, 1);
    uuid_to_bytes (U1, UUID_STRLEN, b);
    CHECK (memcmp (ids, b, 16) == 0);
    free (ids);
    jobbody_destroy (&jb);

    //  A key that only looks like it once decoded differently is not the path.
    jb = s_scan_str ("{\"payload\\u0000\":{\"ticketIds\":[1]},\"Payload\":{\"ticketIds\":[2]}}", &rc);
    CHECK_INT (rc, 0);
    CHECK (!jobbody_ids_seen (jb));
    CHECK_INT (jobbody_count (jb), 0);
    jobbody_destroy (&jb);
}

TEST (test_brackets_and_quotes_inside_other_strings_do_not_confuse_it)
{
    const char *body = "{\"type\":\"]}\\\"ticketIds\\\":[\",\"payload\":{\"n\\\"\":\"[\\\\\",\"x\":\"\\\\\","
                       "\"ticketIds\":[\"" U1 "\"],\"y\":\"]]]\"},\"z\":\"{\\\"payload\\\":{\"}";
    int rc;
    jobbody_t *jb = s_scan_str (body, &rc);
    CHECK_INT (rc, 0);
    CHECK (jobbody_ids_seen (jb));
    CHECK_INT (jobbody_count (jb), 1);
    CHECK_STR (jobbody_rest (jb, NULL), "{\"type\":\"]}\\\"ticketIds\\\":[\",\"payload\":{\"n\\\"\":\"[\\\\\","
               "\"x\":\"\\\\\",\"ticketIds\":[],\"y\":\"]]]\"},\"z\":\"{\\\"payload\\\":{\"}");
    //  And the rest is JSON again.
    json_t *root = json_loads (jobbody_rest (jb, NULL), 0, NULL);
    CHECK (root != NULL);
    CHECK_INT (json_array_size (json_object_get (json_object_get (root, "payload"), "ticketIds")), 0);
    json_decref (root);
    jobbody_destroy (&jb);
}

TEST (test_ticket_ids_that_is_not_an_array_is_copied_to_rest)
{
    const char *bodies [] = {
        "{\"payload\":{\"ticketIds\":\"" U1 "\"}}",
        "{\"payload\":{\"ticketIds\":{\"a\":[\"" U1 "\"]}}}",
        "{\"payload\":{\"ticketIds\":null}}",
        "{\"payload\":[{\"ticketIds\":[\"" U1 "\"]}]}",
        "{\"x\":{\"payload\":{\"ticketIds\":[\"" U1 "\"]}}}",
        "{\"ticketIds\":[\"" U1 "\"]}",
        "[{\"payload\":{\"ticketIds\":[\"" U1 "\"]}}]",
        "\"payload\"",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies [0]; i++) {
        int rc;
        jobbody_t *jb = s_scan_str (bodies [i], &rc);
        CHECK_INT (rc, 0);
        CHECK (!jobbody_ids_seen (jb));
        CHECK_INT (jobbody_count (jb), 0);
        CHECK_STR (jobbody_rest (jb, NULL), bodies [i]);
        jobbody_destroy (&jb);
    }
}

TEST (test_duplicate_ticket_ids_is_repeated)
{
    const char *bodies [] = {
        "{\"payload\":{\"ticketIds\":[\"" U1 "\"],\"ticketIds\":[\"" U2 "\"]}}",
        "{\"payload\":{\"ticketIds\":[\"" U1 "\"]},\"payload\":{\"ticketIds\":[\"" U2 "\"]}}",
    };
    for (size_t i = 0; i < 2; i++) {
        int rc;
        jobbody_t *jb = s_scan_str (bodies [i], &rc);
        CHECK_INT (rc, 0);
        CHECK (jobbody_ids_seen (jb));
        CHECK (jobbody_repeated (jb));
        CHECK_INT (jobbody_count (jb), 2);
        jobbody_destroy (&jb);
    }
    //  One array and one non-array at the path: seen once.
    int rc;
    jobbody_t *jb = s_scan_str ("{\"payload\":{\"ticketIds\":[],\"ticketIds\":5}}", &rc);
    CHECK_INT (rc, 0);
    CHECK (jobbody_ids_seen (jb));
    CHECK (!jobbody_repeated (jb));
    jobbody_destroy (&jb);
}

TEST (test_syntax_errors_fail_with_a_message_naming_the_byte)
{
    struct { const char *body, *error; } cases [] = {
        { "{\"payload\":{\"ticketIds\":[1x]}}",               "unexpected 'x' at byte 26" },
        { "{\"payload\":{\"ticketIds\":[\"a\" \"b\"]}}",      "unexpected '\"' at byte 29" },
        { "{\"payload\":{\"ticketIds\":[\"" U1 "\",]}}",      "unexpected ']' at byte 64" },
        { "{\"payload\":{\"ticketIds\":[\"a\tb\"]}}",         "unexpected byte 0x09 at byte 27" },
        { "{\"payload\":{\"ticketIds\":[\"\\x\"]}}",          "bad escape '\\x' at byte 27" },
        { "{\"payload\":{\"ticketIds\":[\"\\u12g4\"]}}",      "bad \\u escape at byte 30" },
        { "{\"payload\":{\"ticketIds\":[01]}}",               "unexpected '1' at byte 26" },
        { "{\"payload\":{\"ticketIds\":[1.]}}",               "unexpected ']' at byte 27" },
        { "{\"payload\":{\"ticketIds\":[-]}}",                "unexpected ']' at byte 26" },
        { "{\"payload\":{\"ticketIds\":[1e+]}}",              "unexpected ']' at byte 28" },
        { "{\"payload\":{\"ticketIds\":[tru]}}",              "unexpected ']' at byte 28" },
        { "{\"payload\":{\"ticketIds\":[1}}",                 "unexpected '}' at byte 26" },
        { "{\"a\":1,}",                                       "unexpected '}' at byte 7" },
        { "{\"a\" 1}",                                        "unexpected '1' at byte 5" },
        { "{a:1}",                                            "unexpected 'a' at byte 1" },
        { "{\"a\":[1,2}",                                     "unexpected '}' at byte 9" },
        { "{\"a\":1}}",                                       "unexpected '}' at byte 7" },
        { "{\"a\":1} x",                                      "unexpected 'x' at byte 8" },
        { "{\"a\":+1}",                                       "unexpected '+' at byte 5" },
        { "{\"a\":nul}",                                      "unexpected '}' at byte 8" },
        { "{\"a\":\"\n\"}",                                   "unexpected byte 0x0a at byte 6" },
        { "\xef\xbb\xbf{}",                                   "unexpected byte 0xef at byte 0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        for (size_t step = 0; step <= 1; step++) {
            int rc;
            jobbody_t *jb = s_scan (cases [i].body, strlen (cases [i].body), step, 1000, 4096, &rc);
            CHECK_INT (rc, -1);
            CHECK_STR (jobbody_error (jb), cases [i].error);
            CHECK (!jobbody_too_big (jb));
            CHECK (jobbody_rest (jb, NULL) == NULL);
            jobbody_destroy (&jb);
        }
    }
}

TEST (test_errors_are_sticky)
{
    jobbody_t *jb = jobbody_new (10, 100);
    CHECK_INT (jobbody_feed (jb, "{x", 2), -1);
    CHECK_INT (jobbody_feed (jb, "}", 1), -1);
    CHECK_INT (jobbody_finish (jb), -1);
    CHECK_STR (jobbody_error (jb), "unexpected 'x' at byte 1");
    jobbody_destroy (&jb);
    //  Data after finish is an error too.
    jb = jobbody_new (10, 100);
    CHECK_INT (jobbody_feed (jb, "{}", 2), 0);
    CHECK_INT (jobbody_finish (jb), 0);
    CHECK_INT (jobbody_feed (jb, " ", 1), -1);
    jobbody_destroy (&jb);
    jobbody_destroy (&jb);
}

TEST (test_truncated_body_fails_at_finish)
{
    const char *body = "{\"payload\":{\"ticketIds\":[\"" U1 "\",\"" U2 "\"]}}";
    size_t len = strlen (body);
    for (size_t cut = 1; cut < len; cut++) {
        int rc;
        jobbody_t *jb = s_scan (body, cut, 0, 1000, 4096, &rc);
        CHECK_INT (rc, -1);
        char want [64];
        snprintf (want, sizeof want, "unexpected end of body at byte %zu", cut);
        CHECK_STR (jobbody_error (jb), want);
        jobbody_destroy (&jb);
    }
    const char *partial [] = { "-", "1.", "1e", "tru", "\"abc", "\"\\u12" };
    for (size_t i = 0; i < sizeof partial / sizeof partial [0]; i++) {
        int rc;
        jobbody_t *jb = s_scan_str (partial [i], &rc);
        CHECK_INT (rc, -1);
        jobbody_destroy (&jb);
    }
}

TEST (test_empty_body_fails_at_finish)
{
    const char *bodies [] = { "", "   \r\n\t " };
    for (size_t i = 0; i < 2; i++) {
        int rc;
        jobbody_t *jb = s_scan_str (bodies [i], &rc);
        CHECK_INT (rc, -1);
        CHECK_STR (jobbody_error (jb), "empty body");
        CHECK (jobbody_rest (jb, NULL) == NULL);
        jobbody_destroy (&jb);
    }
}

TEST (test_top_level_scalars_are_plain_json)
{
    const char *bodies [] = { "0", "-0.5e+10", " 12 ", "true", "null", "\"\\ud83d\\ude00\"", "[]", "{}" };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies [0]; i++) {
        int rc;
        jobbody_t *jb = s_scan (bodies [i], strlen (bodies [i]), 1, 10, 100, &rc);
        CHECK_INT (rc, 0);
        CHECK_STR (jobbody_rest (jb, NULL), bodies [i]);
        jobbody_destroy (&jb);
    }
}

TEST (test_rest_over_max_rest_is_too_big)
{
    //  Rest is 30 bytes ({"payload":{"ticketIds":[]}} plus padding); ids do not count.
    const char *body = "{\"payload\":{\"ticketIds\":[\"" U1 "\",\"" U2 "\"]},\"pad\":\"xxxxxxxxxx\"}";
    int rc;
    size_t rest_len = strlen ("{\"payload\":{\"ticketIds\":[]},\"pad\":\"xxxxxxxxxx\"}");
    for (size_t step = 0; step <= 3; step++) {
        jobbody_t *jb = s_scan (body, strlen (body), step, 10, rest_len, &rc);
        CHECK_INT (rc, 0);
        CHECK (!jobbody_too_big (jb));
        jobbody_destroy (&jb);
        jb = s_scan (body, strlen (body), step, 10, rest_len - 1, &rc);
        CHECK_INT (rc, -1);
        CHECK (jobbody_too_big (jb));
        CHECK (strstr (jobbody_error (jb), "over") != NULL);
        jobbody_destroy (&jb);
    }
    //  Too big before a syntax error: too big, however it is split.
    const char *both = "{\"pad\":\"xxxxxxxxxxxxxxxxxxxx\"x}";
    for (size_t step = 0; step <= 5; step++) {
        jobbody_t *jb = s_scan (both, strlen (both), step, 10, 10, &rc);
        CHECK_INT (rc, -1);
        CHECK (jobbody_too_big (jb));
        jobbody_destroy (&jb);
    }
    //  A syntax error before the rest is too big: 400, however it is split.
    const char *early = "{x\"pad\":\"xxxxxxxxxxxxxxxxxxxx\"}";
    for (size_t step = 0; step <= 5; step++) {
        jobbody_t *jb = s_scan (early, strlen (early), step, 10, 10, &rc);
        CHECK_INT (rc, -1);
        CHECK (!jobbody_too_big (jb));
        CHECK_STR (jobbody_error (jb), "unexpected 'x' at byte 1");
        jobbody_destroy (&jb);
    }
}

TEST (test_deep_nesting_fails)
{
    char body [300];
    size_t n = 0;
    for (int i = 0; i < JOBBODY_DEPTH_MAX; i++)
        body [n++] = '[';
    for (int i = 0; i < JOBBODY_DEPTH_MAX; i++)
        body [n++] = ']';
    body [n] = 0;
    int rc;
    jobbody_t *jb = s_scan_str (body, &rc);
    CHECK_INT (rc, 0);
    jobbody_destroy (&jb);

    memmove (body + 1, body, n + 1);
    body [0] = '[';
    strcat (body, "]");
    jb = s_scan_str (body, &rc);
    CHECK_INT (rc, -1);
    CHECK (strstr (jobbody_error (jb), "nested too deeply at byte 64") != NULL);
    jobbody_destroy (&jb);

    //  Inside the ids array too.
    char deep [600] = "{\"payload\":{\"ticketIds\":[";
    for (int i = 0; i < JOBBODY_DEPTH_MAX; i++)
        strcat (deep, "{\"a\":");
    jb = s_scan_str (deep, &rc);
    CHECK_INT (rc, -1);
    CHECK (strstr (jobbody_error (jb), "nested too deeply") != NULL);
    jobbody_destroy (&jb);
}

//  A body of n ids (the i-th is i in its last bytes), ids separated by sep.
static char *
s_big_body (size_t n, const char *sep, size_t *len)
{
    size_t cap = 64 + n * (UUID_STRLEN + 3 + strlen (sep));
    char *body = malloc (cap);
    size_t o = (size_t) sprintf (body, "{\"type\":\"bulk-delete\",\"payload\":{\"ticketIds\":[");
    for (size_t i = 0; i < n; i++) {
        unsigned char b [16] = { 0x6f, 0x1c, 0x2b, 0x8e, 0x4a, 0x3d, 0x4e, 0x5f, 0x9a, 0x7b };
        for (int k = 0; k < 6; k++)
            b [15 - k] = (unsigned char) (i >> (8 * k));
        if (i)
            o += (size_t) sprintf (body + o, "%s", sep);
        body [o++] = '"';
        uuid_from_bytes (b, body + o);
        o += UUID_STRLEN;
        body [o++] = '"';
    }
    o += (size_t) sprintf (body + o, "]}}");
    *len = o;
    return body;
}

static bool
s_id_is (const unsigned char *id, size_t i)
{
    for (int k = 0; k < 6; k++)
        if (id [15 - k] != (unsigned char) (i >> (8 * k)))
            return false;
    return id [0] == 0x6f && id [9] == 0x7b;
}

TEST (test_a_hundred_thousand_ids_are_scanned_in_pieces)
{
    size_t len;
    char *body = s_big_body (100000, ", ", &len);
    int rc;
    //  Odd piece size, as MHD might hand it over.
    jobbody_t *jb = s_scan (body, len, 4093, 100000, 4096, &rc);
    CHECK_INT (rc, 0);
    CHECK_INT (jobbody_count (jb), 100000);
    CHECK_INT (jobbody_bad_count (jb), 0);
    CHECK_STR (jobbody_rest (jb, NULL), "{\"type\":\"bulk-delete\",\"payload\":{\"ticketIds\":[]}}");
    size_t n;
    unsigned char *ids = jobbody_take_ids (jb, &n);
    CHECK_INT (n, 100000);
    CHECK (s_id_is (ids, 0));
    CHECK (s_id_is (ids + 16 * 4242, 4242));
    CHECK (s_id_is (ids + 16 * 99999, 99999));
    free (ids);
    jobbody_destroy (&jb);
    free (body);
}

TEST (test_a_million_ids_scan_fast)
{
    size_t len;
    char *body = s_big_body (1000000, ",", &len);
    //  Twice: the first run also pays the page faults of a fresh 16 MB ids buffer.
    for (int round = 0; round < 2; round++) {
        struct timespec t0, t1;
        clock_gettime (CLOCK_MONOTONIC, &t0);
        int rc;
        //  MHD hands a body over in pieces of its buffer size; 32 KB here.
        jobbody_t *jb = s_scan (body, len, 32768, 1000000, 65536, &rc);
        size_t n;
        unsigned char *ids = jobbody_take_ids (jb, &n);
        clock_gettime (CLOCK_MONOTONIC, &t1);
        double s = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf ("     %s run: %zu bytes, 1000000 ids in %.1f ms: %.0f MB/s\n",
                round ? "second" : "first", len, s * 1e3, (double) len / s / 1e6);
        CHECK_INT (rc, 0);
        CHECK_INT (jobbody_count (jb), 1000000);
        CHECK_INT (n, 1000000);
        CHECK (s_id_is (ids + 16 * 999999, 999999));
        free (ids);
        jobbody_destroy (&jb);
    }
    free (body);
}

TEST_MAIN ("edge_jobbody",
    T (test_whole_and_bytewise_feeds_give_the_same_rest_and_ids),
    T (test_rest_is_the_body_without_the_elements),
    T (test_ids_are_the_bytes_of_the_uuids_in_any_case),
    T (test_bad_elements_are_counted_with_their_indexes),
    T (test_more_than_twenty_bad_elements_keep_only_twenty_indexes),
    T (test_elements_beyond_max_ids_are_counted_not_stored),
    T (test_escaped_keys_and_escaped_uuids_are_decoded),
    T (test_brackets_and_quotes_inside_other_strings_do_not_confuse_it),
    T (test_ticket_ids_that_is_not_an_array_is_copied_to_rest),
    T (test_duplicate_ticket_ids_is_repeated),
    T (test_syntax_errors_fail_with_a_message_naming_the_byte),
    T (test_errors_are_sticky),
    T (test_truncated_body_fails_at_finish),
    T (test_empty_body_fails_at_finish),
    T (test_top_level_scalars_are_plain_json),
    T (test_rest_over_max_rest_is_too_big),
    T (test_deep_nesting_fails),
    T (test_a_hundred_thousand_ids_are_scanned_in_pieces),
    T (test_a_million_ids_scan_fast))
