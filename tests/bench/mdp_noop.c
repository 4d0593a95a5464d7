/*  mdp_noop: P7's client and worker. "worker EP [K [CREDIT]]" offers the no-op service
    bench.noop over 7/MDP (READY, heartbeats, each request's body echoed as its reply), K
    workers in one thread, each announcing CREDIT (proto/README.md; 1, the default, is the
    plain READY) and answering what it holds as it comes; "client EP N INFLIGHT" sends N
    requests through the broker keeping INFLIGHT outstanding, and prints the round trip
    percentiles (each reply matched to its request by the id it echoes) and the requests
    per second.  */
#include "../../proto/mdp.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVICE "bench.noop"

#define WORKERS_MAX 64

//  Answers every request waiting on sock, echoing its body. -1 when the broker said
//  DISCONNECT or the socket failed.
static int
s_worker_drain (zsock_t *sock)
{
    zmsg_t *msg;
    while ((msg = mdp_recv (sock, 0))) {
        char err [128];
        mdp_msg_t *m = mdp_msg_decode (&msg, MDP_AT_WORKER, err, sizeof err);
        int command = m ? m->command : 0;
        if (command == MDPW_REQUEST)
            mdp_worker_reply_send (m->client, &m->body, sock);
        mdp_msg_destroy (&m);
        if (command == MDPW_DISCONNECT)
            return -1;
    }
    return zmq_errno () == EAGAIN ? 0 : -1;
}

//  K workers in one thread: K DEALERs, each a separate MDP worker to the broker.
static int
s_worker (const char *endpoint, int k, int credit)
{
    zsock_t *socks [WORKERS_MAX];
    if (k < 1 || k > WORKERS_MAX)
        k = 1;
    zpoller_t *poller = zpoller_new (NULL);
    const char *services [] = { SERVICE };
    for (int i = 0; i < k; i++) {
        socks [i] = zsock_new (ZMQ_DEALER);
        mdp_socket_setup (socks [i]);
        if (zsock_connect (socks [i], "%s", endpoint)) {
            fprintf (stderr, "mdp_noop: cannot connect %s\n", endpoint);
            return 1;
        }
        zmsg_t *ready = mdp_worker_ready_new (services, 1, credit, NULL);
        if (!ready) {
            fprintf (stderr, "mdp_noop: credit must be 1 to %d\n", MDP_CREDIT_MAX);
            return 1;
        }
        zmsg_send (&ready, socks [i]);
        zpoller_add (poller, socks [i]);
    }
    int64_t next_hb = zclock_mono () + MDP_HEARTBEAT_MS;
    while (!zsys_interrupted) {
        zsock_t *sock = (zsock_t *) zpoller_wait (poller, MDP_HEARTBEAT_MS / 2);
        if (sock && s_worker_drain (sock))
            break;
        if (!sock && zpoller_terminated (poller))
            break;
        if (zclock_mono () >= next_hb) {
            for (int i = 0; i < k; i++) {
                zmsg_t *hb = mdp_worker_command_new (NULL, MDPW_HEARTBEAT);
                zmsg_send (&hb, socks [i]);
            }
            next_hb = zclock_mono () + MDP_HEARTBEAT_MS;
        }
    }
    zpoller_destroy (&poller);
    for (int i = 0; i < k; i++)
        zsock_destroy (&socks [i]);
    return 0;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static int
s_client (const char *endpoint, long n, long inflight)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    mdp_socket_setup (sock);
    zsock_set_sndhwm (sock, 0);
    zsock_set_rcvhwm (sock, 0);
    if (zsock_connect (sock, "%s", endpoint))
        return 1;
    zclock_sleep (200);
    int64_t *lat = (int64_t *) calloc ((size_t) n, sizeof (int64_t));
    int64_t *sent_at = (int64_t *) calloc ((size_t) n, sizeof (int64_t));
    long sent = 0, got = 0;
    int64_t t0 = zclock_usecs ();
    while (got < n && !zsys_interrupted) {
        while (sent < n && sent - got < inflight) {
            zmsg_t *body = zmsg_new ();
            zmsg_addstrf (body, "%ld", sent);
            zmsg_t *req = mdp_client_request_new (SERVICE, &body);
            sent_at [sent] = zclock_usecs ();
            zmsg_send (&req, sock);
            sent++;
        }
        zmsg_t *msg = zmsg_recv (sock);
        if (!msg)
            break;
        char err [128];
        mdp_msg_t *m = mdp_msg_decode (&msg, MDP_AT_CLIENT, err, sizeof err);
        if (!m) {
            fprintf (stderr, "mdp_noop: bad reply: %s\n", err);
            continue;
        }
        //  Replies come back in any order (several workers, each holding several): each
        //  echoes the id it was sent with.
        char *id = zmsg_popstr (m->body);
        long i = id ? atol (id) : -1;
        free (id);
        mdp_msg_destroy (&m);
        if (i < 0 || i >= sent || sent_at [i] < 0) {
            fprintf (stderr, "mdp_noop: a reply for no request in flight\n");
            continue;
        }
        lat [got++] = zclock_usecs () - sent_at [i];
        sent_at [i] = -1;
    }
    int64_t elapsed = zclock_usecs () - t0;
    qsort (lat, (size_t) got, sizeof (int64_t), s_cmp);
    printf ("mdp_noop n=%ld inflight=%ld rps=%.0f p50_us=%ld p99_us=%ld mean_us=%.1f\n", got, inflight,
            got * 1e6 / (double) elapsed, (long) lat [got / 2], (long) lat [got * 99 / 100],
            (double) elapsed / (double) got);
    free (lat);
    free (sent_at);
    zsock_destroy (&sock);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc >= 3 && !strcmp (argv [1], "worker"))
        return s_worker (argv [2], argc > 3 ? atoi (argv [3]) : 1, argc > 4 ? atoi (argv [4]) : 1);
    if (argc >= 5 && !strcmp (argv [1], "client"))
        return s_client (argv [2], atol (argv [3]), atol (argv [4]));
    fprintf (stderr, "usage: mdp_noop worker EP [K [CREDIT]] | client EP N INFLIGHT\n");
    return 2;
}
