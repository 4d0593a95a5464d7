/*  roles: the broker's per-role refusals. See roles.h.  */
#include "roles.h"
#include "../proto/svc.h"

#include <string.h>

const char *
roles_client_refusal (const mdp_msg_t *m, curve_role_t role)
{
    //  The envelope's auth frame (proto/svc.h) names the user the request acts for: the
    //  workers believe it, so only the edge, which verified the user's token, may fill it.
    zframe_t *rid = zmsg_first (m->body);
    zframe_t *auth = rid ? zmsg_next (m->body) : NULL;
    if (auth && zframe_size (auth) > 0 && !curve_role_acts_as (role, CURVE_ROLE_EDGE))
        return "only an edge may act for a user";
    //  A chunk is work the workers hand each other: nobody else has reason to start one.
    if (!strcmp (m->service, SVC_JOBS_CHUNK) && !curve_role_acts_as (role, CURVE_ROLE_WORKER))
        return "only a worker may dispatch a job's chunk";
    //  Every user's jobs at once: for the hub (which holds the edge's key and scopes what
    //  it relays per user), not for a monitoring key.
    if (!strcmp (m->service, SVC_JOBS_LIVE) && !curve_role_acts_as (role, CURVE_ROLE_EDGE))
        return "only the hub may read every user's live jobs";
    //  A login checks a password: only through the edge, which limits how fast anyone may
    //  guess; a monitoring key has no reason to.
    if (!strcmp (m->service, SVC_AUTH_LOGIN) && !curve_role_acts_as (role, CURVE_ROLE_EDGE))
        return "only an edge may check a password";
    return NULL;
}
