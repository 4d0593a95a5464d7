/*  ticketd-status: asks the broker (BROKER_ENDPOINT) for mmi.status as a plain MDP client
    and prints services, workers, queue depths and requests in flight as a table, then one
    line per worker (name, address, held/credit, since, services), or the raw JSON with
    --json. Exits 1 when the broker does not answer within 2 s, saying why
    as far as the socket monitor tells (nothing listens, our key refused).  */
#include "../common/conf.h"
#include "../common/curve.h"
#include "../common/linkwatch.h"
#include "../common/log.h"
#include "../common/toolconf.h"
#include "../proto/mdp.h"

#include <czmq.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define S_TIMEOUT_MS 2000

static const char *s_usage =
    "usage: ticketd-status [--env FILE] [--json] [--help] [--version]\n"
    "Asks the broker at BROKER_ENDPOINT for mmi.status and prints services, workers, queue\n"
    "depths and in-flight requests, then one line per worker: its name (WORKER_NAME), peer\n"
    "address, requests held / credit, since when it is registered (UTC) and how many\n"
    "services it offers; --json prints the raw answer. Exits 1 if the broker\n"
    "does not answer within 2 s (saying why, as far as ZeroMQ tells), 2 on bad settings.\n"
    "The endpoint: BROKER_ENDPOINT (default tcp://127.0.0.1:5555).\n"
    TOOLCONF_USAGE;

static long
s_int (json_t *obj, const char *key)
{
    json_t *v = json_object_get (obj, key);
    return json_is_integer (v) ? (long) json_integer_value (v) : -1;
}

//  A DEALER connected to the broker, with our CURVE key if any, and *watch on it; NULL
//  (printed) on failure.
static zsock_t *
s_connect (const char *endpoint, linkwatch_t **watch)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    *watch = dealer ? linkwatch_new (dealer) : NULL;
    if (!*watch || curve_client_apply (dealer) || zsock_connect (dealer, "%s", endpoint)) {
        fprintf (stderr, "ticketd-status: cannot connect to %s\n", endpoint);
        linkwatch_destroy (watch);
        zsock_destroy (&dealer);
        return NULL;
    }
    mdp_socket_setup (dealer);
    zsock_set_linger (dealer, 0);
    zsock_set_sndtimeo (dealer, S_TIMEOUT_MS);
    zsock_set_rcvtimeo (dealer, S_TIMEOUT_MS);
    return dealer;
}

//  The one line of a broker that did not answer: where, why, and whose settings.
static void
s_no_answer (const char *endpoint, linkwatch_t *watch)
{
    linkwatch_read (watch);
    fprintf (stderr, "ticketd-status: the broker at %s did not answer within 2 s: %s (%s)\n",
             endpoint, linkwatch_up (watch) ? "connected, but it did not reply"
                                            : linkwatch_reason (watch),
             toolconf_source_text ());
}

//  Sends mmi.status and waits for the answer; the caller owns it. NULL (printed) when the
//  broker does not take or answer it in time, or the answer has no status frame.
static mdp_msg_t *
s_ask_status (zsock_t *dealer, linkwatch_t *watch, const char *endpoint)
{
    zmsg_t *body = zmsg_new ();
    zmsg_t *request = mdp_client_request_new (MMI_STATUS, &body);
    if (!request || zmsg_send (&request, dealer)) {
        zmsg_destroy (&request);
        s_no_answer (endpoint, watch);
        return NULL;
    }
    zmsg_t *reply = zmsg_recv (dealer);
    if (!reply) {
        s_no_answer (endpoint, watch);
        return NULL;
    }
    char err [128] = "";
    mdp_msg_t *m = mdp_msg_decode (&reply, MDP_AT_CLIENT, err, sizeof err);
    zmsg_destroy (&reply);
    if (!m || strcmp (m->service, MMI_STATUS) || !zmsg_first (m->body)) {
        fprintf (stderr, "ticketd-status: malformed answer from the broker: %s\n",
                 err [0] ? err : "no status frame");
        mdp_msg_destroy (&m);
        return NULL;
    }
    return m;
}

static const char *
s_str (json_t *obj, const char *key)
{
    const char *v = json_string_value (json_object_get (obj, key));
    return v ? v : "?";
}

//  One line per worker of the status's workerList, after the services.
static void
s_print_workers (json_t *root)
{
    json_t *list = json_object_get (root, "workerList");
    if (!json_is_array (list))
        return;                     //  a broker older than the list
    printf ("\n%-32s %-24s %11s %-24s %8s\n", "WORKER", "ADDRESS", "HELD/CREDIT", "SINCE",
            "SERVICES");
    size_t i;
    json_t *w;
    json_array_foreach (list, i, w) {
        char held [32];
        snprintf (held, sizeof held, "%ld/%ld", s_int (w, "held"), s_int (w, "credit"));
        printf ("%-32s %-24s %11s %-24s %8zu\n", s_str (w, "name"), s_str (w, "address"), held,
                s_str (w, "since"), json_array_size (json_object_get (w, "services")));
    }
    if (json_is_true (json_object_get (root, "workerListTruncated")))
        printf ("(the broker lists %zu of its %ld workers)\n", json_array_size (list),
                s_int (root, "workers"));
}

//  Prints the status (the JSON of frame) as a table. Returns the exit code.
static int
s_print_table (const char *endpoint, zframe_t *frame)
{
    json_error_t jerr;
    json_t *root = json_loadb ((const char *) zframe_data (frame), zframe_size (frame), 0, &jerr);
    if (!json_is_object (root)) {
        fprintf (stderr, "ticketd-status: the broker's answer is not a JSON object\n");
        json_decref (root);
        return 1;
    }
    printf ("broker %s: workers %ld, queued %ld, in flight %ld", endpoint,
            s_int (root, "workers"), s_int (root, "queued"), s_int (root, "inFlight"));
    //  Peers whose CurveZMQ role forbade what they sent: a misconfigured key or a probe.
    long refused = s_int (root, "refusedUnauthorized");
    if (refused > 0)
        printf (", refused for their role %ld", refused);
    printf ("\n\n");
    printf ("%-32s %8s %8s %8s %9s %8s\n", "SERVICE", "WORKERS", "IDLE", "QUEUED", "INFLIGHT",
            "CREDIT");
    size_t i;
    json_t *svc;
    json_array_foreach (json_object_get (root, "services"), i, svc) {
        const char *name = json_string_value (json_object_get (svc, "name"));
        printf ("%-32s %8ld %8ld %8ld %9ld %8ld\n", name ? name : "?", s_int (svc, "workers"),
                s_int (svc, "idle"), s_int (svc, "queued"), s_int (svc, "inFlight"),
                s_int (svc, "credit"));
    }
    s_print_workers (root);
    json_decref (root);
    return 0;
}

int
main (int argc, char **argv)
{
    if (log_init ("ticketd-status"))           //  a bad LOG_LEVEL, said
        return 2;
    const char *env_path;
    if (toolconf_take_env_arg (&argc, argv, "ticketd-status", &env_path))
        return 2;
    bool raw = false;
    if (argc == 2 && !strcmp (argv [1], "--json"))
        raw = true;
    else {
        int rc = conf_handle_args (argc, argv, "ticketd-status", s_usage);
        if (rc)
            return rc > 0 ? 0 : 2;
    }
    const char *endpoint;
    if (toolconf_load ("ticketd-status", env_path)
    ||  conf_endpoint ("BROKER_ENDPOINT", "tcp://127.0.0.1:5555", &endpoint)
    ||  curve_client_init ())
        return 2;
    zsys_handler_set (NULL);

    int rc = 1;
    linkwatch_t *watch = NULL;
    zsock_t *dealer = s_connect (endpoint, &watch);
    mdp_msg_t *m = dealer ? s_ask_status (dealer, watch, endpoint) : NULL;
    if (m) {
        zframe_t *frame = zmsg_first (m->body);
        if (raw) {
            printf ("%.*s\n", (int) zframe_size (frame), (char *) zframe_data (frame));
            rc = 0;
        }
        else
            rc = s_print_table (endpoint, frame);
    }
    mdp_msg_destroy (&m);
    linkwatch_destroy (&watch);
    zsock_destroy (&dealer);
    return rc;
}
