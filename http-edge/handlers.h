/*  handlers: every route handler, one file per resource (auth.c, tickets.c, health.c,
    meta.c).
    routes.c lists them in its table.  */
#ifndef EDGE_HANDLERS_H
#define EDGE_HANDLERS_H

#include "routes.h"

route_handler_fn auth_login;
route_handler_fn auth_me;

route_handler_fn tickets_list;
route_handler_fn tickets_get;
route_handler_fn tickets_create;
route_handler_fn tickets_update;
route_handler_fn tickets_delete;
route_handler_fn tickets_restore;

route_handler_fn jobs_create;
route_handler_fn jobs_list;
route_handler_fn jobs_get;
route_handler_fn jobs_cancel;

route_handler_fn health_get;
route_handler_fn metrics_get;

route_handler_fn meta_get;

#endif
