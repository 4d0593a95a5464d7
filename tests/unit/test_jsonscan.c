/*  jsonscan: what the edge lets through as a worker's answer, and the top-level "id" and
    "version" it reads on the way (tests/fuzz/fuzz_jsonscan.c holds the rest to jansson).  */
#include "testing.h"
#include "../../common/jsonscan.h"

static int
s_check (const char *text)
{
    return jsonscan_check (text, strlen (text), NULL);
}

//  "[[...]]" nested depth times; the caller frees it.
static char *
s_nested (size_t depth)
{
    char *text = malloc (2 * depth + 1);
    if (!text)
        return NULL;
    memset (text, '[', depth);
    memset (text + depth, ']', depth);
    text [2 * depth] = '\0';
    return text;
}

TEST (test_every_kind_of_json_value_is_accepted)
{
    const char *ok [] = {
        "{}", "[]", " {\"a\" : [1, -0, 0.5, 1e3, 2E-7, -12.5e+10, true, false, null]} \n",
        "\"\"", "\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
        "9223372036854775807", "-9223372036854775808", "1e308", "1e-400", "\"\x7f\"",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok [0]; i++)
        CHECK_INT (s_check (ok [i]), 0);
}

TEST (test_what_is_not_one_json_value_is_refused)
{
    const char *bad [] = {
        "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "[01]", "[-]", "[1.]", "[.5]",
        "[1e]", "[+1]", "tru", "nul", "truex", "[true1]", "{} {}", "1 2", "'a'", "\"a", "\"\t\"",
        "\"\\x\"", "\"\\u12\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\"\x80\"",
        "9223372036854775808", "-9223372036854775809", "123456789012345678901", "1e400",
        "-1e400", "NaN", "Infinity", "\xef\xbb\xbf{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        if (s_check (bad [i]) != -1)
            fprintf (stderr, "  accepted: %s\n", bad [i]);
        CHECK_INT (s_check (bad [i]), -1);
    }
    CHECK_INT (jsonscan_check ("1\0", 2, NULL), -1);
    CHECK_INT (jsonscan_check ("\"a\0\"", 4, NULL), -1);
    CHECK_INT (jsonscan_check (NULL, 0, NULL), -1);
}

TEST (test_nesting_stops_at_jansson_depth)
{
    char *deepest = s_nested (JSONSCAN_DEPTH_MAX);
    char *deeper = s_nested (JSONSCAN_DEPTH_MAX + 1);
    CHECK (deepest && deeper);
    int ok = s_check (deepest), refused = s_check (deeper);
    free (deepest);
    free (deeper);
    CHECK_INT (ok, 0);
    CHECK_INT (refused, -1);
}

TEST (test_the_top_level_id_and_version_are_read_the_last_one_winning)
{
    jsonscan_top_t top;
    const char *t = "{\"a\":{\"id\":\"inner\",\"version\":1},\"id\":\"x\",\"subject\":\"s\","
                    "\"version\":7,\"id\":\"\\u0061bc\"}";
    CHECK_INT (jsonscan_check (t, strlen (t), &top), 0);
    CHECK (top.is_object && top.has_version && top.has_id);
    CHECK_INT (top.version, 7);
    CHECK_STR (top.id, "abc");

    t = "{\"version\":7,\"id\":\"x\",\"version\":\"8\",\"id\":null}";
    CHECK_INT (jsonscan_check (t, strlen (t), &top), 0);
    CHECK (top.is_object && !top.has_version && !top.has_id);
    t = "{\"version\":7.0}";
    CHECK_INT (jsonscan_check (t, strlen (t), &top), 0);
    CHECK (!top.has_version);
    t = "[{\"version\":7}]";
    CHECK_INT (jsonscan_check (t, strlen (t), &top), 0);
    CHECK (!top.is_object && !top.has_version);
    t = "{\"id\":\"0123456789012345678901234567890123456789012345678901234567890123\"}";
    CHECK_INT (jsonscan_check (t, strlen (t), &top), 0);
    CHECK (!top.has_id);        //  64 bytes: past JSONSCAN_ID_MAX - 1
    t = "{\"version\":7,";
    CHECK_INT (jsonscan_check (t, strlen (t), &top), -1);
    CHECK (!top.has_version);   //  nothing is reported from a refused text
}

TEST_MAIN ("jsonscan",
    T (test_every_kind_of_json_value_is_accepted),
    T (test_what_is_not_one_json_value_is_refused),
    T (test_nesting_stops_at_jansson_depth),
    T (test_the_top_level_id_and_version_are_read_the_last_one_winning),
)
