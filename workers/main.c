/*  worker: entry point. Reads the environment, then runs the worker actor until
    SIGTERM/SIGINT (worker.c).  */
#include "failpoint.h"
#include "worker.h"
#include "../common/actor.h"
#include "../common/conf.h"
#include "../common/curve.h"
#include "../common/log.h"
#include "../proto/mdp.h"

#include <stdlib.h>

static const char *s_usage =
    "usage: worker [--help] [--version]\n"
    "Serves auth.*, tickets.*, jobs.*, sys.health and sys.metrics for the ticketd broker over 7/MDP.\n"
    "environment:\n"
    "  BROKER_ENDPOINT   broker ROUTER (default tcp://127.0.0.1:5555)\n"
    "  BROKER_ENDPOINTS  several brokers, comma-separated: registers with every one\n"
    "  HUB_PUB_ENDPOINT  progress-hub XSUB for job events (default tcp://127.0.0.1:5556)\n"
    "  HUB_PUB_ENDPOINTS several hubs, comma-separated: every event goes to each\n"
    "  HEARTBEAT_MS      heartbeat interval, 100..2500 (default 1000)\n"
    "  WORKER_CREDIT     requests taken at once, 1..64 (default 8; 1 is a plain 7/MDP worker)\n"
    "  CURVE_CLIENT_CERT our CURVE certificate (NAME_secret of ticketd-keygen); with\n"
    "  CURVE_SERVER_KEY  the broker's and hub's public key (Z85 or its certificate file),\n"
    "                    both sockets use CurveZMQ (default: plain TCP)\n"
    "  CHUNK_SIZE        ticket ids per bulk-delete chunk (default 1000)\n"
    "  JOB_WINDOW        chunks of one job in flight at once (default 8)\n"
    "  MAX_ACTIVE_JOBS   queued + running jobs per user (default 10)\n"
    "  MAX_JOB_ITEMS     ticket ids per job (default 1000000)\n"
    "  CHUNK_LEASE_MS    a sent chunk not started by then is sent again, backing off to\n"
    "                    60 s while nobody starts it (default 5000)\n"
    "  CHUNK_MAX_ATTEMPTS  starts of one chunk that died before its job fails (default 5)\n"
    "  DATABASE_URL      PostgreSQL URL; else DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD,\n"
    "                    else libpq's PG* variables and defaults\n"
    "  LOG_LEVEL         debug|info|warn|error (default info; debug logs every request)\n"
    "  SCHED_POLICY      batch|normal: CPU scheduling policy (default batch)\n"
    "  WORKER_NAME       this worker's name, 1..64 of A-Z a-z 0-9 . _ : @ / - (default\n"
    "                    <hostname>-<pid>; ./manage.sh: <host>-worker-N): in its READY, so\n"
    "                    in the broker's log and mmi.status, and in its own log (inst=NAME)\n";

int
main (int argc, char **argv)
{
    int rc = actor_begin (argc, argv, "worker", s_usage);
    if (rc >= 0)
        return rc;
    //  Several workers share a log (./manage.sh logs), and a broker serves workers of many
    //  hosts: each line, ours and the broker's, says whose it is.
    char name [MDP_NAME_MAX + 1];
    if (config_name_read (name))
        return 1;
    log_set_instance (name);
    worker_config_t cfg = { .name = name };
    long heartbeat;
    if (conf_endpoints ("BROKER_ENDPOINTS", "BROKER_ENDPOINT", "tcp://127.0.0.1:5555", &cfg.brokers)
    ||  conf_endpoints ("HUB_PUB_ENDPOINTS", "HUB_PUB_ENDPOINT", "tcp://127.0.0.1:5556", &cfg.hubs)
    ||  conf_int ("HEARTBEAT_MS", MDP_HEARTBEAT_MS, 100, 2500, &heartbeat)
    ||  config_jobs_read (&cfg.jobs)
    ||  config_credit_read (&cfg.credit)
    ||  failpoint_init ()
    ||  curve_client_init ())
        return 1;
    cfg.heartbeat_ms = (int) heartbeat;
    worker_t *worker = worker_new (&cfg);
    if (!worker)
        return 1;
    rc = worker_run (worker);
    worker_destroy (&worker);
    return rc ? 1 : 0;
}
