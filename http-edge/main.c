/*  http-edge: REST API and static UI in front of the broker. Settings come from the
    environment (see edge.h and docs); this file only parses argv and runs the actor.  */
#include "edge.h"
#include "../common/actor.h"

#include <stdio.h>

static const char *s_usage =
    "usage: http-edge [--help | --version]\n"
    "  REST API on PORT (3001) and the browser UI from WEB_ROOT (web) on WEB_PORT (3000),\n"
    "  both bound to BIND_ADDRESS (127.0.0.1), forwarding to the broker at BROKER_ENDPOINT,\n"
    "  or to the live ones of BROKER_ENDPOINTS (comma-separated) round-robin.\n"
    "  Required: JWT_SECRET (at least 32 bytes). Optional: JWT_TTL, REQUEST_TIMEOUT_MS,\n"
    "  MAX_BODY_BYTES, FRONTEND_URL, EDGE_MAX_INFLIGHT, EDGE_CONNECTION_LIMIT,\n"
    "  EDGE_CONNECTION_TIMEOUT_S, EDGE_BROKER_SNDHWM, MAX_JOB_ITEMS, WS_PORT,\n"
    "  EDGE_MAX_JOB_UPLOADS (4 job bodies over MAX_BODY_BYTES read at once; more: 503),\n"
    "  EDGE_BODY_BUDGET_BYTES (64 MiB of other request bodies held at once; more: 503),\n"
    "  RATE_LIMIT_PER_USER (1000 req/s per user, 0 = off),\n"
    "  RATE_LIMIT_LOGIN_PER_MIN (20 per client address and e-mail, 0 = off),\n"
    "  EDGE_BODY_TIMEOUT_S (30 s for a whole request body, however it trickles),\n"
    "  EDGE_ANON_PER_ADDRESS (16 requests in flight per address without a token),\n"
    "  EDGE_UPLOADS_PER_USER (8 bodies of one user at once), EDGE_MAX_SLOW_INFLIGHT (4\n"
    "  logins with the workers), EDGE_HEADER_TIMEOUT_S (15 s for a request's headers),\n"
    "  EDGE_CONNECTIONS_PER_ADDRESS (512), LOG_LEVEL, SCHED_POLICY (batch or normal).\n"
    "  CurveZMQ to the broker: CURVE_CLIENT_CERT (our NAME_secret certificate from\n"
    "  ticketd-keygen) and CURVE_SERVER_KEY (the broker's public key, Z85 or its file).\n";

int
main (int argc, char **argv)
{
    int rc = actor_begin (argc, argv, "http-edge", s_usage);
    if (rc >= 0)
        return rc;
    edge_config_t cfg;
    if (edge_config_load (&cfg))
        return 1;
    edge_t *edge = edge_new (&cfg);
    if (!edge)
        return 1;
    rc = edge_run (edge);
    edge_destroy (&edge);
    return rc;
}
