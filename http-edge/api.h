/*  api: every route handler of the REST API, one file per resource (api_auth.c,
    api_tickets.c, api_jobs.c, api_health.c, api_meta.c); routes.c lists them in its table.
    The workers' services of the same names (workers/auth.c...) are the other side.  */
#ifndef EDGE_API_H
#define EDGE_API_H

#include "routes.h"

route_handler_fn api_auth_login;
route_handler_fn api_auth_me;

route_handler_fn api_tickets_list;
route_handler_fn api_tickets_get;
route_handler_fn api_tickets_create;
route_handler_fn api_tickets_update;
route_handler_fn api_tickets_delete;
route_handler_fn api_tickets_restore;
route_handler_fn api_tickets_history;
route_handler_fn api_users_list;

route_handler_fn api_jobs_create;
route_handler_fn api_jobs_list;
route_handler_fn api_jobs_get;
route_handler_fn api_jobs_cancel;
route_handler_fn api_jobs_resume;

route_handler_fn api_health_get;
route_handler_fn api_metrics_get;

route_handler_fn api_meta_get;

#endif
