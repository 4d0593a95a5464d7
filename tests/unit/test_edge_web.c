/*  Unit tests for what the edge tells browsers: the host in /config.json (from the Host
    header) and the CORS origins the API accepts.  */
#include "../../http-edge/static.h"
#include "../../http-edge/edge.h"
#include "testing.h"

static const char *
s_host (const char *header)
{
    static char buf [256];
    return static_host_of (header, buf, sizeof buf);
}

TEST (a_host_header_with_a_port_gives_the_name_alone)
{
    CHECK_STR (s_host ("localhost:3000"), "localhost");
    CHECK_STR (s_host ("127.0.0.1:8080"), "127.0.0.1");
    CHECK_STR (s_host ("tickets.example-co.com"), "tickets.example-co.com");
}

TEST (a_bracketed_ipv6_host_keeps_its_brackets)
{
    CHECK_STR (s_host ("[::1]:3000"), "[::1]");
    CHECK_STR (s_host ("[fe80::1]"), "[fe80::1]");
}

TEST (a_host_header_that_could_inject_markup_or_another_origin_falls_back_to_loopback)
{
    CHECK_STR (s_host (NULL), "127.0.0.1");
    CHECK_STR (s_host (""), "127.0.0.1");
    CHECK_STR (s_host ("evil\"},\"x\":\"y"), "127.0.0.1");
    CHECK_STR (s_host ("a.com/path"), "127.0.0.1");
    CHECK_STR (s_host ("user@a.com"), "127.0.0.1");
    CHECK_STR (s_host ("a.com:80x"), "127.0.0.1");
    CHECK_STR (s_host ("a.com:"), "127.0.0.1");
    CHECK_STR (s_host ("[::1"), "127.0.0.1");
    CHECK_STR (s_host ("[]"), "127.0.0.1");
    CHECK_STR (s_host ("[::1]x"), "127.0.0.1");
    CHECK_STR (s_host (":3000"), "127.0.0.1");
}

TEST (a_host_longer_than_the_buffer_falls_back_to_loopback)
{
    char big [400];
    memset (big, 'a', sizeof big - 1);
    big [sizeof big - 1] = 0;
    CHECK_STR (s_host (big), "127.0.0.1");
}

TEST (the_ui_origins_on_loopback_are_always_allowed)
{
    CHECK (req_cors_allowed (NULL, 3000, "http://localhost:3000"));
    CHECK (req_cors_allowed (NULL, 3000, "http://127.0.0.1:3000"));
    CHECK (req_cors_allowed (NULL, 3000, "http://[::1]:3000"));
    CHECK (!req_cors_allowed (NULL, 3000, "http://localhost:3001"));
    CHECK (!req_cors_allowed (NULL, 3000, "http://evil.example"));
    CHECK (!req_cors_allowed (NULL, 3000, NULL));
    CHECK (!req_cors_allowed (NULL, 0, "http://localhost:0"));
}

TEST (frontend_url_may_list_several_origins)
{
    const char *list = "https://a.example, https://b.example/";
    CHECK (req_cors_allowed (list, 3000, "https://a.example"));
    CHECK (req_cors_allowed (list, 3000, "https://b.example"));
    CHECK (!req_cors_allowed (list, 3000, "https://c.example"));
    CHECK (!req_cors_allowed (list, 3000, "https://a.exampl"));
    CHECK (!req_cors_allowed (list, 3000, ""));
}

TEST_MAIN ("edge_web",
    T (a_host_header_with_a_port_gives_the_name_alone),
    T (a_bracketed_ipv6_host_keeps_its_brackets),
    T (a_host_header_that_could_inject_markup_or_another_origin_falls_back_to_loopback),
    T (a_host_longer_than_the_buffer_falls_back_to_loopback),
    T (the_ui_origins_on_loopback_are_always_allowed),
    T (frontend_url_may_list_several_origins))
