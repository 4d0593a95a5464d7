/*  zmq_pingpong: the libzmq floor for P7. Debian ships no local_lat/remote_lat (libzmq5 and
    libzmq3-dev carry only the library), so this is their equivalent with zmq_send/zmq_recv:
    "echo EP" binds a ROUTER that sends every message back; "ping EP N INFLIGHT SIZE" connects
    a DEALER and keeps INFLIGHT messages of SIZE bytes outstanding. With INFLIGHT 1 that is
    local_lat/remote_lat's round trip; with more, the request rate one hop allows.
    MDP crosses two such hops (client-broker, broker-worker).  */
#include <zmq.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t
s_usecs (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
    void *ctx = zmq_ctx_new ();
    char buf [65536];
    if (argc >= 3 && !strcmp (argv [1], "echo")) {
        void *s = zmq_socket (ctx, ZMQ_ROUTER);
        if (zmq_bind (s, argv [2]))
            return 1;
        for (;;) {
            char id [256];
            int idn = zmq_recv (s, id, sizeof id, 0);
            int n = zmq_recv (s, buf, sizeof buf, 0);
            if (idn < 0 || n < 0)
                break;
            zmq_send (s, id, (size_t) idn, ZMQ_SNDMORE);
            zmq_send (s, buf, (size_t) n, 0);
        }
        return 0;
    }
    if (argc < 6 || strcmp (argv [1], "ping")) {
        fprintf (stderr, "usage: zmq_pingpong echo EP | ping EP N INFLIGHT SIZE\n");
        return 2;
    }
    long n = atol (argv [3]), inflight = atol (argv [4]), size = atol (argv [5]);
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt (s, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt (s, ZMQ_RCVHWM, &zero, sizeof zero);
    if (zmq_connect (s, argv [2]))
        return 1;
    memset (buf, 'x', sizeof buf);
    int64_t *lat = calloc ((size_t) n, sizeof (int64_t)), *at = calloc ((size_t) n, sizeof (int64_t));
    long sent = 0, got = 0;
    //  A first round trip, so the connection is up before the clock starts.
    zmq_send (s, buf, (size_t) size, 0);
    zmq_recv (s, buf, sizeof buf, 0);
    int64_t t0 = s_usecs ();
    while (got < n) {
        while (sent < n && sent - got < inflight) {
            at [sent++] = s_usecs ();
            zmq_send (s, buf, (size_t) size, 0);
        }
        if (zmq_recv (s, buf, sizeof buf, 0) < 0)
            break;
        lat [got] = s_usecs () - at [got];
        got++;
    }
    int64_t elapsed = s_usecs () - t0;
    qsort (lat, (size_t) got, sizeof (int64_t), s_cmp);
    printf ("zmq_pingpong n=%ld inflight=%ld rps=%.0f p50_us=%ld p99_us=%ld mean_us=%.1f\n", got,
            inflight, got * 1e6 / (double) elapsed, (long) lat [got / 2], (long) lat [got * 99 / 100],
            (double) elapsed / (double) got);
    zmq_close (s);
    zmq_ctx_term (ctx);
    return 0;
}
