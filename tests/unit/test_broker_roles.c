/*  test_broker_roles: what each CurveZMQ role may ask of the broker.  */
#include "../../broker/roles.h"
#include "../../proto/svc.h"
#include "testing.h"

//  A client request for service as the broker decodes it, with auth ("" for none).
static mdp_msg_t *
s_request (const char *service, const char *auth)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, "rid-1");
    zmsg_addstr (body, auth);
    zmsg_addstr (body, "{}");
    zmsg_t *msg = mdp_client_request_new (service, &body);
    zmsg_pushmem (msg, "peer", 4);
    return mdp_msg_decode (&msg, MDP_AT_BROKER, NULL, 0);
}

//  Whether a peer of role may send this request.
static bool
s_allowed (const char *service, const char *auth, curve_role_t role)
{
    mdp_msg_t *m = s_request (service, auth);
    bool allowed = m && roles_client_refusal (m, role) == NULL;
    mdp_msg_destroy (&m);
    return allowed;
}

TEST (test_only_the_edge_may_act_for_a_user)
{
    const char *auth = "0b6c4f5e-8f2d-4c55-9d6e-3a1f2b7c9d10 agent";
    CHECK (s_allowed (SVC_TICKETS_GET, auth, CURVE_ROLE_EDGE));
    CHECK (!s_allowed (SVC_TICKETS_GET, auth, CURVE_ROLE_TOOL));
    CHECK (!s_allowed (SVC_TICKETS_GET, auth, CURVE_ROLE_WORKER));
    CHECK (s_allowed (SVC_TICKETS_GET, "", CURVE_ROLE_TOOL));
}

TEST (test_chunks_come_from_workers_and_logins_and_live_jobs_from_the_edge)
{
    CHECK (s_allowed (SVC_JOBS_CHUNK, "", CURVE_ROLE_WORKER));
    CHECK (!s_allowed (SVC_JOBS_CHUNK, "", CURVE_ROLE_EDGE));
    CHECK (s_allowed (SVC_AUTH_LOGIN, "", CURVE_ROLE_EDGE));
    CHECK (!s_allowed (SVC_AUTH_LOGIN, "", CURVE_ROLE_TOOL));
    CHECK (s_allowed (SVC_JOBS_LIVE, "", CURVE_ROLE_EDGE));
    CHECK (!s_allowed (SVC_JOBS_LIVE, "", CURVE_ROLE_WORKER));
}

TEST_MAIN ("roles",
    T (test_only_the_edge_may_act_for_a_user),
    T (test_chunks_come_from_workers_and_logins_and_live_jobs_from_the_edge))
