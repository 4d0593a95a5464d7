/*  ticketd-watch: prints every job event the hub re-publishes on HUB_SUB_ENDPOINT, one
    line each (topic, a space, the JSON), until SIGINT. An optional argument is a topic
    prefix to subscribe to (e.g. "jobs.completed." or "jobs.progress.<jobId>").  */
#include "../common/conf.h"
#include "../common/curve.h"
#include "../common/stop.h"

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char *s_usage =
    "usage: ticketd-watch [--help] [--version] [TOPIC-PREFIX]\n"
    "Prints each job event from the progress-hub's XPUB (HUB_SUB_ENDPOINT, default\n"
    "tcp://127.0.0.1:5557) as one line: the topic jobs.<event>.<jobId>, a space, the JSON.\n"
    "TOPIC-PREFIX limits the subscription (default: every event). Stops on SIGINT.\n"
    "CurveZMQ: CURVE_CLIENT_CERT (our NAME_secret certificate) and CURVE_SERVER_KEY (the\n"
    "hub's public key, Z85 or its certificate file); default plain TCP.\n";

int
main (int argc, char **argv)
{
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
    if (conf_endpoint ("HUB_SUB_ENDPOINT", "tcp://127.0.0.1:5557", &endpoint)
    ||  curve_client_init ())
        return 2;

    stop_install ();

    zsock_t *sub = zsock_new (ZMQ_SUB);
    if (!sub || curve_client_apply (sub) || zsock_connect (sub, "%s", endpoint)) {
        fprintf (stderr, "ticketd-watch: cannot connect to %s\n", endpoint);
        zsock_destroy (&sub);
        return 1;
    }
    zsock_set_subscribe (sub, prefix);
    zsock_set_rcvtimeo (sub, 200);          //  wakes to see SIGINT
    setvbuf (stdout, NULL, _IOLBF, 0);
    fprintf (stderr, "ticketd-watch: %s prefix=\"%s\"\n", endpoint, prefix);
    while (!stop_requested) {
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg)
            continue;
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
    zsock_destroy (&sub);
    return 0;
}
