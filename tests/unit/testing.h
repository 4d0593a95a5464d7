/*  testing: the unit-test harness. One binary per module; each TEST is a function whose
    name reads as a sentence. A failed CHECK prints what was expected and what came.
    main() runs them all and ends with "N passed, N failed".  */
#ifndef TESTS_TESTING_H
#define TESTS_TESTING_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_test_failed_checks;

#define CHECK(cond) do { if (!(cond)) { \
    fprintf (stderr, "  %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
    s_test_failed_checks++; return; } } while (0)

#define CHECK_INT(got, want) do { long long g_ = (long long) (got), w_ = (long long) (want); \
    if (g_ != w_) { fprintf (stderr, "  %s:%d: %s: expected %lld, got %lld\n", \
        __FILE__, __LINE__, #got, w_, g_); s_test_failed_checks++; return; } } while (0)

#define CHECK_STR(got, want) do { const char *g_ = (got), *w_ = (want); \
    if (!g_ || strcmp (g_, w_)) { fprintf (stderr, "  %s:%d: %s: expected \"%s\", got \"%s\"\n", \
        __FILE__, __LINE__, #got, w_, g_ ? g_ : "(null)"); s_test_failed_checks++; return; } } while (0)

//  Checks, for each row of a table of { const char *name; int value; }, that parse (name)
//  gives value; a failure names the row.
#define CHECK_PARSES(parse, rows) do { \
    for (size_t i_ = 0; i_ < sizeof (rows) / sizeof (rows) [0]; i_++) { \
        long long g_ = (long long) parse ((rows) [i_].name), w_ = (long long) (rows) [i_].value; \
        if (g_ != w_) { fprintf (stderr, "  %s:%d: %s (\"%s\"): expected %lld, got %lld\n", \
            __FILE__, __LINE__, #parse, (rows) [i_].name ? (rows) [i_].name : "(null)", w_, g_); \
            s_test_failed_checks++; return; } } } while (0)

//  The text {"key":"<piece repeated times>"}, for tests of lengths; the caller frees it.
static inline char *
test_json_repeat (const char *key, const char *piece, size_t times)
{
    size_t klen = strlen (key), plen = strlen (piece);
    char *text = (char *) malloc (klen + plen * times + 8);
    if (!text)
        abort ();
    char *p = text + sprintf (text, "{\"%s\":\"", key);
    for (size_t i = 0; i < times; i++, p += plen)
        memcpy (p, piece, plen);
    strcpy (p, "\"}");
    return text;
}

typedef struct { const char *name; void (*fn) (void); } test_case_t;
#define TEST(name) static void name (void)
#define T(name) { #name, name }

static inline int
test_run_all (const char *suite, const test_case_t *cases, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        int before = s_test_failed_checks;
        cases [i].fn ();
        if (s_test_failed_checks == before) {
            passed++;
            printf ("ok   %s.%s\n", suite, cases [i].name);
        }
        else {
            failed++;
            printf ("FAIL %s.%s\n", suite, cases [i].name);
        }
    }
    printf ("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}

#define TEST_MAIN(suite, ...) int main (void) { \
    static const test_case_t cases [] = { __VA_ARGS__ }; \
    return test_run_all (suite, cases, sizeof cases / sizeof cases [0]); }

#endif
