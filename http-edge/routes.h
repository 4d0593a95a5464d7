/*  routes: the API's route table and the matcher. A route is a method, a path pattern
    whose ":name" segments are captured, a handler and flags. Adding a resource is a few
    table entries in routes.c and one handler file.  */
#ifndef EDGE_ROUTES_H
#define EDGE_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_PARAMS_MAX    2
#define ROUTE_PARAM_MAX     64      //  longer segments match but are marked too long

typedef struct edge_req_s edge_req_t;
typedef void (route_handler_fn) (edge_req_t *req);

enum {
    ROUTE_AUTH  = 1 << 0,           //  needs a valid bearer token
    ROUTE_ADMIN = 1 << 1,           //  token role must be admin (403 otherwise)
    ROUTE_BIG_BODY = 1 << 3,        //  its body limit follows MAX_JOB_ITEMS, not body_max
    ROUTE_LOCAL = 1 << 4,           //  answered from the edge's own state, at once: an
                                    //  anonymous one holds nothing, so no per-address limit
};

//  Body limits, each capped by MAX_BODY_BYTES. A route that reads no body still takes a
//  small one (read and ignored), as clients send "{}" or a stray newline with a POST.
#define ROUTE_BODY_NONE     (4 * 1024)
//  An e-mail (254 characters) and a password (1024) even if every character came as a
//  12-byte escaped surrogate pair.
#define ROUTE_BODY_LOGIN    (16 * 1024)
//  A ticket's fields at their limits (a 10,000-character description), escaped the same way.
#define ROUTE_BODY_TICKET   (160 * 1024)

typedef struct {
    const char *method;
    const char *pattern;            //  "/api/tickets/:id/restore"
    route_handler_fn *handler;
    unsigned flags;
    size_t body_max;                //  413 beyond (ROUTE_BIG_BODY: MAX_JOB_ITEMS decides)
} route_t;

typedef struct {
    const route_t *route;
    size_t params_n;
    char params [ROUTE_PARAMS_MAX][ROUTE_PARAM_MAX + 1];
    bool param_too_long;            //  a captured segment was over ROUTE_PARAM_MAX
    char allow [96];                //  405: the methods the path accepts, "GET, POST"
} route_match_t;

//  0 and m->route on a match; 404 when no pattern matches the path; 405 when some do
//  but not for this method (m->allow filled).
int routes_match (const char *method, const char *path, route_match_t *m);

//  The API's table, for per-route metrics (a route's index is its row).
const route_t *routes_table (size_t *n);

//  Matcher over a caller's table (for tests and for the table above).
int routes_match_in (const route_t *table, size_t n, const char *method, const char *path,
                     route_match_t *m);

#endif
