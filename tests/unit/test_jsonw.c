/*  Unit tests for common/jsonw: its text is what jansson 2.14's json_dumps (JSON_COMPACT)
    makes of the same values, strings with every kind of character included; it refuses
    what json_stringn refuses, and an answer past its cap.  */
#include "testing.h"
#include <jansson.h>
#include <limits.h>
#include "../../common/jsonw.h"

//  What jansson makes of the string s[0..len) ("" when it refuses it: not UTF-8).
static char *
s_jansson (const char *s, size_t len)
{
    json_t *value = json_stringn (s, len);
    char *text = value ? json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY) : strdup ("");
    json_decref (value);
    return text;
}

//  What jsonw makes of it ("" when it refuses it).
static char *
s_jsonw (const char *s, size_t len)
{
    jsonw_t w;
    jsonw_init (&w, 1 << 20);
    jsonw_string (&w, s, len);
    size_t n;
    char *text = jsonw_take (&w, &n);
    return text ? text : strdup ("");
}

//  Compares both writers on s[0..len); prints the first difference.
static int
s_same (const char *s, size_t len)
{
    char *want = s_jansson (s, len), *got = s_jsonw (s, len);
    int same = !strcmp (want, got);
    if (!same)
        fprintf (stderr, "  input of %zu bytes: jansson \"%s\", jsonw \"%s\"\n", len, want, got);
    free (want);
    free (got);
    return same;
}

TEST (test_nasty_strings_are_escaped_as_jansson_escapes_them)
{
    static const char *strings [] = {
        "", "plain", "quote \" and backslash \\ and slash /", "\b\f\n\r\t", "\x01\x1f\x7f",
        "line\xe2\x80\xa8sep\xe2\x80\xa9para", "emoji \xf0\x9f\x98\x80 max \xf4\x8f\xbf\xbf",
        "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80", "caf\xc3\xa9 \xe4\xb8\xad",
        "<script>alert('x')</script>", "tab\tin\"side\\",
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings [0]; i++)
        CHECK (s_same (strings [i], strlen (strings [i])));
    CHECK (s_same ("a\0b", 3));
}

TEST (test_every_byte_alone_and_every_two_byte_pair_match_jansson)
{
    char s [2];
    for (int a = 0; a < 256; a++) {
        s [0] = (char) a;
        CHECK (s_same (s, 1));
        for (int b = 0; b < 256; b++) {
            s [1] = (char) b;
            CHECK (s_same (s, 2));
        }
    }
}

TEST (test_three_and_four_byte_edges_match_jansson)
{
    //  Overlong forms, surrogates, the last code point and past it, cut sequences.
    static const char *strings [] = {
        "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\x9f\xbf", "\xed\xa0\x80",
        "\xed\xbf\xbf", "\xee\x80\x80", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80", "\xff", "\xe2\x80", "\xf0\x9f\x98", "ok\xf0\x9f\x98\x80\x80",
        "\xe2\x28\xa1", "\xf0\x28\x8c\xbc",
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings [0]; i++)
        CHECK (s_same (strings [i], strlen (strings [i])));
}

TEST (test_long_strings_match_jansson)
{
    size_t len = 100000;
    char *s = malloc (len);
    for (size_t i = 0; i < len; i++)
        s [i] = "ab\"\\\n\x01 \xe2\x80\xa8"[i % 10];
    //  Cut where a whole sequence ends: 10 bytes a round.
    CHECK (s_same (s, len));
    free (s);
}

TEST (test_containers_and_scalars_are_written_as_json_dumps_writes_them)
{
    json_t *tree = json_pack ("{s:[], s:{}, s:[i, I, I, b, b, n, s], s:{s:[{}]}}",
                              "empty", "none", "list", 0, (json_int_t) LLONG_MIN,
                              (json_int_t) LLONG_MAX, 1, 0, "x", "nest", "in");
    char *want = json_dumps (tree, JSON_COMPACT);
    jsonw_t w;
    jsonw_init (&w, 4096);
    jsonw_object_begin (&w);
    jsonw_key (&w, "empty");
    jsonw_array_begin (&w);
    jsonw_array_end (&w);
    jsonw_key (&w, "none");
    jsonw_object_begin (&w);
    jsonw_object_end (&w);
    jsonw_key (&w, "list");
    jsonw_array_begin (&w);
    jsonw_integer (&w, 0);
    jsonw_integer (&w, LLONG_MIN);
    jsonw_integer (&w, LLONG_MAX);
    jsonw_bool (&w, true);
    jsonw_bool (&w, false);
    jsonw_null (&w);
    jsonw_string (&w, "x", 1);
    jsonw_array_end (&w);
    jsonw_key (&w, "nest");
    jsonw_object_begin (&w);
    jsonw_key (&w, "in");
    jsonw_array_begin (&w);
    jsonw_raw (&w, "{}", 2);
    jsonw_array_end (&w);
    jsonw_object_end (&w);
    jsonw_object_end (&w);
    size_t len;
    char *got = jsonw_take (&w, &len);
    CHECK_STR (got, want);
    CHECK_INT (len, strlen (want));
    free (got);
    free (want);
    json_decref (tree);
}

TEST (test_text_past_the_cap_fails_whole)
{
    jsonw_t w;
    jsonw_init (&w, 10);
    jsonw_string (&w, "12345678", 8);           //  10 bytes with its quotes: fits
    size_t len;
    char *text = jsonw_take (&w, &len);
    CHECK_STR (text, "\"12345678\"");
    free (text);
    jsonw_init (&w, 10);
    jsonw_array_begin (&w);
    jsonw_string (&w, "12345678", 8);
    jsonw_array_end (&w);
    jsonw_integer (&w, 1);                      //  nothing is written after a failure
    CHECK (jsonw_take (&w, &len) == NULL);
    CHECK_INT (w.error, JSONW_TOO_BIG);
    CHECK_STR (jsonw_error_name (w.error), "too_big");
    CHECK_INT (len, 0);
}

TEST (test_a_string_that_is_not_utf8_fails_the_text)
{
    jsonw_t w;
    jsonw_init (&w, 1000);
    jsonw_array_begin (&w);
    jsonw_string (&w, "ok", 2);
    jsonw_string (&w, "bad\xff", 4);
    jsonw_array_end (&w);
    size_t len;
    CHECK (jsonw_take (&w, &len) == NULL);
    CHECK_STR (jsonw_error_name (w.error), "not_utf8");
    jsonw_reset (&w);                           //  harmless on a taken writer
    CHECK_INT (w.error, JSONW_OK);
}

TEST_MAIN ("jsonw",
    T (test_nasty_strings_are_escaped_as_jansson_escapes_them),
    T (test_every_byte_alone_and_every_two_byte_pair_match_jansson),
    T (test_three_and_four_byte_edges_match_jansson),
    T (test_long_strings_match_jansson),
    T (test_containers_and_scalars_are_written_as_json_dumps_writes_them),
    T (test_text_past_the_cap_fails_whole),
    T (test_a_string_that_is_not_utf8_fails_the_text),
)
