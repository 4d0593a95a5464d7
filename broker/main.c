/*  broker: entry point. Reads the environment, runs the broker actor until SIGTERM or
    SIGINT, exits 0 after a clean drain.  */
#include "broker.h"
#include "../common/actor.h"
#include "../common/stop.h"

static const char *s_usage =
    "usage: broker [--help] [--version]\n"
    "The 7/MDP broker of ticketd. Settings come from the environment:\n"
    "  BROKER_ENDPOINT        ROUTER endpoint (default tcp://127.0.0.1:5555)\n"
    "  BROKER_LOCAL_ENDPOINT  also bind this ipc:// path, without CURVE, for peers of this\n"
    "                         host and user: its folder must be ours, mode 0700; a peer\n"
    "                         there may act as any role (default: none)\n"
    "  HEARTBEAT_MS           heartbeat interval, 100..2500 (default 1000)\n"
    "  BROKER_QUEUE_MAX       requests queued per service (default 10000)\n"
    "  BROKER_REQUEST_TTL_MS  longest wait for a worker before 503 (default 10000)\n"
    "  BROKER_DRAIN_MS        wait for in-flight replies on SIGTERM (default 5000)\n"
    "  BROKER_BULK_RESERVE    workers kept free of jobs.chunk for interactive requests\n"
    "                         (default 1; chunks always get at least one worker)\n"
    "  BROKER_HELD_BYTES      request bytes held at once, queued or at workers; beyond,\n"
    "                         503 queue_full (default 256 MiB, never below one 64 MiB frame)\n"
    "  CURVE_SERVER_CERT      our CURVE certificate (NAME_secret of ticketd-keygen): the\n"
    "                         ROUTER then admits only CurveZMQ peers (default: plain TCP;\n"
    "                         ./manage.sh sets it)\n"
    "  CURVE_ALLOW_DIR        public certificates of allowed workers, edges and tools,\n"
    "                         each with its role (ticketd-keygen --role): only a worker\n"
    "                         may READY, only an edge may send an auth frame; required\n"
    "                         with CURVE_SERVER_CERT, re-read when it changes\n"
    "  LOG_LEVEL              debug|info|warn|error (default info)\n"
    "  SCHED_POLICY           batch|normal: CPU scheduling policy (default batch)\n";

int
main (int argc, char **argv)
{
    int rc = actor_begin (argc, argv, "broker", s_usage);
    if (rc >= 0)
        return rc;
    broker_config_t cfg;
    if (broker_config_load (&cfg))
        return 1;
    broker_t *broker = broker_new (&cfg);
    if (!broker)
        return 1;
    rc = broker_run (broker, &stop_requested);
    broker_destroy (&broker);
    return rc ? 1 : 0;
}
