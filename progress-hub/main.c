/*  progress-hub: entry point. Reads the environment, runs the hub until SIGTERM or
    SIGINT (every WebSocket is closed with 1001), exits 0.  */
#include "hub.h"
#include "../common/actor.h"
#include "../common/log.h"
#include "../common/stop.h"

#include <sys/resource.h>

static const char *s_usage =
    "usage: progress-hub [--help] [--version]\n"
    "Job events: XSUB on HUB_PUB_ENDPOINT, XPUB on HUB_SUB_ENDPOINT, WebSocket on WS_PORT/ws.\n"
    "WebSocket users are checked with the broker (auth.me) at connect and every HUB_RECHECK_MS.\n"
    "Settings come from the environment:\n"
    "  HUB_PUB_ENDPOINT      XSUB bind, workers publish here (default tcp://127.0.0.1:5556)\n"
    "  HUB_SUB_ENDPOINT      XPUB bind, monitoring SUBs read here (default tcp://127.0.0.1:5557)\n"
    "  WS_PORT               WebSocket port (default 3002), on BIND_ADDRESS (127.0.0.1)\n"
    "  JWT_SECRET            HS256 secret, required, at least 32 bytes\n"
    "  FRONTEND_URL          allowed Origins, comma-separated (default\n"
    "                        http://localhost:WEB_PORT,http://127.0.0.1:WEB_PORT)\n"
    "  PROGRESS_INTERVAL_MS  least time between two progress frames of one job (100)\n"
    "  HUB_MAX_CLIENTS       WebSocket clients at once (10000; beyond: close 1013)\n"
    "  HUB_CLIENT_QUEUE      live events pending per client (64; beyond: close 4009);\n"
    "                        the current state sent on connect is not queued\n"
    "  HUB_CACHE_MAX         jobs in the last-value cache (10000)\n"
    "  HUB_FINISHED_KEEP_MS  how long a finished job stays in the cache (60000)\n"
    "  HUB_AUTH_TIMEOUT_MS   time to send the token frame (5000; then close 4001)\n"
    "  HUB_PENDING_PER_ADDRESS  sockets of one address not authenticated yet (256; beyond:\n"
    "                        close 1013; 0: no bound)\n"
    "  BROKER_ENDPOINT       the broker, asked auth.me for every WebSocket user (default\n"
    "                        tcp://127.0.0.1:5555): an unknown user is closed with 4001\n"
    "  BROKER_ENDPOINTS      several brokers, comma-separated (in place of BROKER_ENDPOINT):\n"
    "                        calls go to any connected one\n"
    "  HUB_CHECK_TIMEOUT_MS  auth.me unanswered this long, or 503: close 1013 (5000)\n"
    "  HUB_RECHECK_MS        every live user is asked again this often (60000); a role\n"
    "                        that changed applies at once, a deleted user is closed 4001\n"
    "  CURVE_SERVER_CERT     our CURVE certificate (NAME_secret of ticketd-keygen): XSUB\n"
    "                        and XPUB then admit only CurveZMQ peers (default: plain TCP)\n"
    "  CURVE_ALLOW_DIR       public certificates of allowed publishers and subscribers;\n"
    "                        required with CURVE_SERVER_CERT, re-read when it changes\n"
    "  CURVE_CLIENT_CERT     our certificate towards the broker (the edge role's: the\n"
    "                        broker takes a user's auth frame from the edge role only)\n"
    "  CURVE_SERVER_KEY      the broker's public key or certificate file\n"
    "  LOG_LEVEL             debug|info|warn|error (default info)\n"
    "  SCHED_POLICY          batch|normal: CPU scheduling policy (default batch)\n";

int
main (int argc, char **argv)
{
    int rc = actor_begin (argc, argv, "progress-hub", s_usage);
    if (rc >= 0)
        return rc;
    hub_config_t cfg;
    if (hub_config_load (&cfg))
        return 1;

    //  One descriptor per client: raise the soft limit toward what HUB_MAX_CLIENTS needs
    //  (not to the hard limit: lws sizes its tables from it).
    struct rlimit lim;
    rlim_t want = (rlim_t) cfg.max_clients + 256;
    if (getrlimit (RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < want) {
        lim.rlim_cur = want < lim.rlim_max ? want : lim.rlim_max;
        setrlimit (RLIMIT_NOFILE, &lim);
    }
    if (getrlimit (RLIMIT_NOFILE, &lim) == 0 && (long) lim.rlim_cur < cfg.max_clients + 64)
        log_warn ("event=fd_limit_low nofile=%ld max_clients=%ld", (long) lim.rlim_cur,
                  cfg.max_clients);

    hub_t *hub = hub_new (&cfg);
    if (!hub)
        return 1;
    rc = hub_run (hub, &stop_requested);
    hub_destroy (&hub);
    return rc ? 1 : 0;
}
