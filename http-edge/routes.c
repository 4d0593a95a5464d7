/*  routes: the table of every API route, and a segment-by-segment matcher.  */
#include "routes.h"
#include "api.h"

#include <stdio.h>
#include <string.h>

static const route_t s_routes [] = {
    { "POST",   "/api/auth/login",          api_auth_login,      0,                      ROUTE_BODY_LOGIN },
    { "GET",    "/api/auth/me",             api_auth_me,         ROUTE_AUTH,             ROUTE_BODY_NONE },
    { "GET",    "/api/tickets",             api_tickets_list,    ROUTE_AUTH,             ROUTE_BODY_NONE },
    { "POST",   "/api/tickets",             api_tickets_create,  ROUTE_AUTH,             ROUTE_BODY_TICKET },
    { "GET",    "/api/tickets/:id",         api_tickets_get,     ROUTE_AUTH,             ROUTE_BODY_NONE },
    { "PUT",    "/api/tickets/:id",         api_tickets_update,  ROUTE_AUTH,             ROUTE_BODY_TICKET },
    { "DELETE", "/api/tickets/:id",         api_tickets_delete,  ROUTE_AUTH,             ROUTE_BODY_NONE },
    { "POST",   "/api/tickets/:id/restore", api_tickets_restore, ROUTE_AUTH | ROUTE_ADMIN, ROUTE_BODY_NONE },
    { "GET",    "/api/tickets/:id/history", api_tickets_history, ROUTE_AUTH,             ROUTE_BODY_NONE },
    { "GET",    "/api/users",               api_users_list,      ROUTE_AUTH,             ROUTE_BODY_NONE },
    { "POST",   "/api/jobs",                api_jobs_create,     ROUTE_AUTH | ROUTE_BIG_BODY, 0 },
    { "GET",    "/api/jobs",                api_jobs_list,       ROUTE_AUTH,             ROUTE_BODY_NONE },
    { "GET",    "/api/jobs/:id",            api_jobs_get,        ROUTE_AUTH,             ROUTE_BODY_NONE },
    { "POST",   "/api/jobs/:id/cancel",     api_jobs_cancel,     ROUTE_AUTH,             ROUTE_BODY_NONE },
    { "POST",   "/api/jobs/:id/resume",     api_jobs_resume,     ROUTE_AUTH | ROUTE_ADMIN, ROUTE_BODY_NONE },
    { "GET",    "/api/health",              api_health_get,      0,                      ROUTE_BODY_NONE },
    { "GET",    "/api/meta",                api_meta_get,        ROUTE_LOCAL,            ROUTE_BODY_NONE },
    { "GET",    "/metrics",                 api_metrics_get,     ROUTE_LOCAL,            ROUTE_BODY_NONE },
};

//  Does path match pattern? Captures ":x" segments into m.
static bool
s_match (const char *pattern, const char *path, route_match_t *m)
{
    m->params_n = 0;
    m->param_too_long = false;
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p != '/' || *u != '/')
            return false;
        p++;
        u++;
        const char *pe = strchr (p, '/');
        const char *ue = strchr (u, '/');
        size_t plen = pe ? (size_t) (pe - p) : strlen (p);
        size_t ulen = ue ? (size_t) (ue - u) : strlen (u);
        if (*p == ':') {
            if (ulen == 0 || m->params_n >= ROUTE_PARAMS_MAX)
                return false;
            if (ulen > ROUTE_PARAM_MAX) {
                m->param_too_long = true;
                m->params [m->params_n++][0] = 0;
            }
            else {
                memcpy (m->params [m->params_n], u, ulen);
                m->params [m->params_n++][ulen] = 0;
            }
        }
        else
        if (plen != ulen || memcmp (p, u, plen))
            return false;
        p += plen;
        u += ulen;
    }
    return *p == 0 && *u == 0;
}

int
routes_match_in (const route_t *table, size_t n, const char *method, const char *path,
                 route_match_t *m)
{
    memset (m, 0, sizeof *m);
    route_match_t tmp;
    bool path_known = false;
    for (size_t i = 0; i < n; i++) {
        if (!s_match (table [i].pattern, path, &tmp))
            continue;
        if (!strcmp (table [i].method, method)) {
            *m = tmp;
            m->route = &table [i];
            return 0;
        }
        //  Collect the Allow list for a 405, each method once.
        if (!strstr (m->allow, table [i].method)) {
            size_t len = strlen (m->allow);
            snprintf (m->allow + len, sizeof m->allow - len, "%s%s",
                      len ? ", " : "", table [i].method);
        }
        path_known = true;
    }
    if (!path_known)
        return 404;
    size_t len = strlen (m->allow);
    snprintf (m->allow + len, sizeof m->allow - len, ", OPTIONS");
    return 405;
}

int
routes_match (const char *method, const char *path, route_match_t *m)
{
    return routes_match_in (s_routes, sizeof s_routes / sizeof s_routes [0], method, path, m);
}

const route_t *
routes_table (size_t *n)
{
    *n = sizeof s_routes / sizeof s_routes [0];
    return s_routes;
}
