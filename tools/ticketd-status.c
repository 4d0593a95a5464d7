/*  ticketd-status: asks the broker (BROKER_ENDPOINT) for mmi.status as a plain MDP client
    and prints services, workers, queue depths and requests in flight as a table, or the
    raw JSON with --json. Exits 1 when the broker does not answer within 2 s.  */
#include "../common/conf.h"
#include "../common/curve.h"
#include "../proto/mdp.h"

#include <czmq.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define S_TIMEOUT_MS 2000

static const char *s_usage =
    "usage: ticketd-status [--json] [--help] [--version]\n"
    "Asks the broker at BROKER_ENDPOINT (default tcp://127.0.0.1:5555) for mmi.status and\n"
    "prints services, workers, queue depths and in-flight requests; --json prints the raw\n"
    "answer. Exits 1 if the broker does not answer within 2 s.\n"
    "CurveZMQ: CURVE_CLIENT_CERT (our NAME_secret certificate) and CURVE_SERVER_KEY (the\n"
    "broker's public key, Z85 or its certificate file); default plain TCP.\n";

static long
s_int (json_t *obj, const char *key)
{
    json_t *v = json_object_get (obj, key);
    return json_is_integer (v) ? (long) json_integer_value (v) : -1;
}

//  A DEALER connected to the broker, with our CURVE key if any; NULL (printed) on failure.
static zsock_t *
s_connect (const char *endpoint)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (!dealer || curve_client_apply (dealer) || zsock_connect (dealer, "%s", endpoint)) {
        fprintf (stderr, "ticketd-status: cannot connect to %s\n", endpoint);
        zsock_destroy (&dealer);
        return NULL;
    }
    mdp_socket_setup (dealer);
    zsock_set_linger (dealer, 0);
    zsock_set_sndtimeo (dealer, S_TIMEOUT_MS);
    zsock_set_rcvtimeo (dealer, S_TIMEOUT_MS);
    return dealer;
}

//  Sends mmi.status and waits for the answer; the caller owns it. NULL (printed) when the
//  broker does not take or answer it in time, or the answer has no status frame.
static mdp_msg_t *
s_ask_status (zsock_t *dealer, const char *endpoint)
{
    zmsg_t *body = zmsg_new ();
    zmsg_t *request = mdp_client_request_new (MMI_STATUS, &body);
    if (!request || zmsg_send (&request, dealer)) {
        zmsg_destroy (&request);
        fprintf (stderr, "ticketd-status: broker at %s did not take the request within 2 s\n",
                 endpoint);
        return NULL;
    }
    zmsg_t *reply = zmsg_recv (dealer);
    if (!reply) {
        fprintf (stderr, "ticketd-status: broker at %s did not answer within 2 s\n", endpoint);
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
    json_decref (root);
    return 0;
}

int
main (int argc, char **argv)
{
    bool raw = false;
    if (argc == 2 && !strcmp (argv [1], "--json"))
        raw = true;
    else {
        int rc = conf_handle_args (argc, argv, "ticketd-status", s_usage);
        if (rc)
            return rc > 0 ? 0 : 2;
    }
    const char *endpoint;
    if (conf_endpoint ("BROKER_ENDPOINT", "tcp://127.0.0.1:5555", &endpoint)
    ||  curve_client_init ())
        return 2;
    zsys_handler_set (NULL);

    int rc = 1;
    zsock_t *dealer = s_connect (endpoint);
    mdp_msg_t *m = dealer ? s_ask_status (dealer, endpoint) : NULL;
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
    zsock_destroy (&dealer);
    return rc;
}
