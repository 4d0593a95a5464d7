/*  ticketd-watch: prints every job event the hub re-publishes on HUB_SUB_ENDPOINT, one
    line each (topic, a space, the JSON), until SIGINT. An optional argument is a topic
    prefix to subscribe to (e.g. "jobs.completed." or "jobs.progress.<jobId>"). While no
    hub answers it says so on stderr and keeps trying: a monitor should wait for the hub,
    not make its user restart it, but never wait in silence.  */
#include "../common/conf.h"
#include "../common/curve.h"
#include "../common/linkwatch.h"
#include "../common/log.h"
#include "../common/stop.h"
#include "../common/toolconf.h"

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

//  How long a connection may take before the user hears that none is there: a local hub
//  answers in milliseconds, even under load.
#define S_NO_HUB_MS     3000

static const char *s_usage =
    "usage: ticketd-watch [--env FILE] [--help] [--version] [TOPIC-PREFIX]\n"
    "Prints each job event from the progress-hub's XPUB (HUB_SUB_ENDPOINT) as one line:\n"
    "the topic jobs.<event>.<jobId>, a space, the JSON. TOPIC-PREFIX limits the\n"
    "subscription (default: every event). Stops on SIGINT (exit 0).\n"
    "When no hub has answered for 3 s (or the connection is lost) it says so on stderr,\n"
    "naming the endpoint and why, and keeps trying; it says so again once connected.\n"
    "The endpoint: HUB_SUB_ENDPOINT (default tcp://127.0.0.1:5557).\n"
    TOOLCONF_USAGE;

//  What the monitor saw, told to the user once per change; trouble once per outage.
static void
s_report (linkwatch_t *watch, const char *endpoint, int64_t *since, bool *told)
{
    linkwatch_change_t change = linkwatch_read (watch);
    if (change == LINKWATCH_UP) {
        fprintf (stderr, "ticketd-watch: connected to the hub at %s\n", endpoint);
        *told = false;
    }
    else
    if (change == LINKWATCH_DOWN) {
        fprintf (stderr, "ticketd-watch: lost the hub at %s; still trying\n", endpoint);
        *since = zclock_mono ();
        *told = true;
    }
    if (!linkwatch_up (watch) && !*told && zclock_mono () - *since >= S_NO_HUB_MS) {
        fprintf (stderr, "ticketd-watch: cannot connect: no hub answers at %s after %d s "
                 "(%s); still trying, Ctrl-C to stop (%s)\n", endpoint, S_NO_HUB_MS / 1000,
                 linkwatch_reason (watch), toolconf_source_text ());
        *told = true;
    }
}

static void
s_print (zsock_t *sub)
{
    zmsg_t *msg = zmsg_recv (sub);
    if (!msg)
        return;
    //  Exactly two frames by contract; print whatever came, bounded, on one line.
    zframe_t *topic = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    if (zmsg_size (msg) == 2)
        printf ("%.*s %.*s\n", (int) zframe_size (topic), (char *) zframe_data (topic),
                (int) zframe_size (body), (char *) zframe_data (body));
    else
        fprintf (stderr, "ticketd-watch: skipped a message of %zu frames\n", zmsg_size (msg));
    zmsg_destroy (&msg);
}

static int
s_watch (const char *endpoint, const char *prefix)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    linkwatch_t *watch = sub ? linkwatch_new (sub) : NULL;
    if (!watch || curve_client_apply (sub) || zsock_connect (sub, "%s", endpoint)) {
        fprintf (stderr, "ticketd-watch: cannot connect to %s\n", endpoint);
        linkwatch_destroy (&watch);
        zsock_destroy (&sub);
        return 1;
    }
    zsock_set_subscribe (sub, prefix);
    zpoller_t *poller = zpoller_new (sub, linkwatch_sock (watch), NULL);
    setvbuf (stdout, NULL, _IOLBF, 0);
    fprintf (stderr, "ticketd-watch: %s prefix=\"%s\" (%s)\n", endpoint, prefix,
             toolconf_source_text ());
    int64_t since = zclock_mono ();
    bool told = false;
    while (poller && !stop_requested) {
        //  Wakes every 200 ms to see SIGINT and the no-hub deadline.
        void *which = zpoller_wait (poller, 200);
        if (which == sub)
            s_print (sub);
        s_report (watch, endpoint, &since, &told);
    }
    zpoller_destroy (&poller);
    linkwatch_destroy (&watch);
    zsock_destroy (&sub);
    return 0;
}

int
main (int argc, char **argv)
{
    if (log_init ("ticketd-watch"))           //  a bad LOG_LEVEL, said
        return 2;
    const char *env_path;
    if (toolconf_take_env_arg (&argc, argv, "ticketd-watch", &env_path))
        return 2;
    const char *prefix = "";
    if (argc == 2 && argv [1][0] != '-')
        prefix = argv [1];
    else {
        int rc = conf_handle_args (argc, argv, "ticketd-watch", s_usage);
        if (rc)
            return rc > 0 ? 0 : 2;
        if (argc > 1) {
            fputs (s_usage, stderr);
            return 2;
        }
    }
    const char *endpoint;
    if (toolconf_load ("ticketd-watch", env_path)
    ||  conf_endpoint ("HUB_SUB_ENDPOINT", "tcp://127.0.0.1:5557", &endpoint)
    ||  curve_client_init ())
        return 2;
    stop_install ();
    return s_watch (endpoint, prefix);
}
