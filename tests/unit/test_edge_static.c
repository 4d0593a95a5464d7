/*  Unit tests for http-edge/static: the content type of a UI file, and the host the UI is
    told in /config.json (from the Host header, never trusted as markup or an origin).  */
#include "../../http-edge/static.h"
#include "testing.h"

//  (input, expected) rows: one check each, naming the row that failed.
typedef struct { const char *in, *want; } s_case_t;

static bool
s_cases_pass (const char *(*fn) (const char *), const s_case_t *cases, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const char *got = fn (cases [i].in);
        if (!got || strcmp (got, cases [i].want)) {
            fprintf (stderr, "  \"%s\": expected \"%s\", got \"%s\"\n", cases [i].in ? cases [i].in : "(null)",
                     cases [i].want, got ? got : "(null)");
            ok = false;
        }
    }
    return ok;
}

static const char *
s_host (const char *header)
{
    static char buf [256];
    return static_host_of (header, buf, sizeof buf);
}

TEST (test_content_types_follow_the_extension)
{
    static const s_case_t cases [] = {
        { "index.html", "text/html; charset=utf-8" },
        { "a/app.js", "text/javascript; charset=utf-8" },
        { "s.css", "text/css; charset=utf-8" },
        { "i.svg", "image/svg+xml" },
        { "f.woff2", "font/woff2" },
        { "favicon.ico", "image/x-icon" },
        { "x.bin", "application/octet-stream" },
        { "dir.d/noext", "application/octet-stream" },
    };
    CHECK (s_cases_pass (static_content_type, cases, sizeof cases / sizeof cases [0]));
}

TEST (test_a_host_header_gives_the_name_alone_and_keeps_ipv6_brackets)
{
    static const s_case_t cases [] = {
        { "localhost:3000", "localhost" },
        { "127.0.0.1:8080", "127.0.0.1" },
        { "tickets.example-co.com", "tickets.example-co.com" },
        { "[::1]:3000", "[::1]" },
        { "[fe80::1]", "[fe80::1]" },
    };
    CHECK (s_cases_pass (s_host, cases, sizeof cases / sizeof cases [0]));
}

TEST (test_a_host_header_that_could_inject_markup_or_another_origin_falls_back_to_loopback)
{
    static const s_case_t cases [] = {
        { NULL, "127.0.0.1" }, { "", "127.0.0.1" }, { "evil\"},\"x\":\"y", "127.0.0.1" },
        { "a.com/path", "127.0.0.1" }, { "user@a.com", "127.0.0.1" },
        { "a.com:80x", "127.0.0.1" }, { "a.com:", "127.0.0.1" }, { "[::1", "127.0.0.1" },
        { "[]", "127.0.0.1" }, { "[::1]x", "127.0.0.1" }, { ":3000", "127.0.0.1" },
    };
    CHECK (s_cases_pass (s_host, cases, sizeof cases / sizeof cases [0]));
}

TEST (test_a_host_longer_than_the_buffer_falls_back_to_loopback)
{
    char big [400];
    memset (big, 'a', sizeof big - 1);
    big [sizeof big - 1] = 0;
    CHECK_STR (s_host (big), "127.0.0.1");
}

TEST_MAIN ("edge_static",
    T (test_content_types_follow_the_extension),
    T (test_a_host_header_gives_the_name_alone_and_keeps_ipv6_brackets),
    T (test_a_host_header_that_could_inject_markup_or_another_origin_falls_back_to_loopback),
    T (test_a_host_longer_than_the_buffer_falls_back_to_loopback))
