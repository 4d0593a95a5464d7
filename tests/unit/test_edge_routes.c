/*  Unit tests for http-edge/routes: matching a method and path to a route, capturing its
    parameters, and telling 404 from 405.  */
#include "../../http-edge/routes.h"
#include "testing.h"

#define UUID1 "6f1c2b8e-4a3d-4e5f-9a7b-1c2d3e4f5a6b"

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

TEST_MAIN ("edge_routes",
    T (test_routes_match_capture_404_and_405),
    T (test_routes_flag_an_overlong_path_segment),
    T (test_real_table_has_every_contract_route))
