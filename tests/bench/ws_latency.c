/*  ws_latency: P5's WebSocket client. Opens N sockets to ws://127.0.0.1:PORT/PATH and, for
    every text frame any of them receives, prints one line "KEY RECV_NS": KEY is the frame's
    "processed" number (ticketd's job events) or its "t" number (the bare server's echo of
    our own send time), RECV_NS the CLOCK_REALTIME of its arrival. With SEND > 0 it also
    sends, on socket 0, SEND frames {"t":<now ns>} INTERVAL_US apart (default 50 ms; P5 passes
    ticketd's own chunk rate, so that the bare server is measured at the same event rate).
    Without SEND it reads one line from stdin after printing READY, the job id to watch:
    frames before it, and frames not naming it (the hub replays other jobs' last events on
    connect), are ignored. It stops at the job's jobs:completed, after SEND frames came back
    (or 2 s after the last send: the bare server skips frames for a slow reader),
    or at the timeout. One thread and epoll, so the client is not what is measured.  */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define BUF_MAX (256 * 1024)

typedef struct { int fd; size_t len; unsigned char *buf; } conn_t;

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
s_open (int port, const char *path)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &a, sizeof a)) {
        close (fd);
        return -1;
    }
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req [8192];
    int n = snprintf (req, sizeof req,
        "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, port);
    if (write (fd, req, (size_t) n) != n) {
        close (fd);
        return -1;
    }
    //  Reads the 101 answer byte by byte, so no frame that follows it is swallowed.
    char ans [4096];
    size_t got = 0;
    while (got < sizeof ans - 1) {
        if (read (fd, ans + got, 1) != 1)
            break;
        got++;
        if (got >= 4 && !memcmp (ans + got - 4, "\r\n\r\n", 4))
            break;
    }
    ans [got] = 0;
    if (strncmp (ans, "HTTP/1.1 101", 12)) {
        fprintf (stderr, "ws_latency: handshake refused: %.60s\n", ans);
        close (fd);
        return -1;
    }
    fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void
s_send_text (int fd, const char *text)
{
    size_t n = strlen (text);
    unsigned char f [256];
    f [0] = 0x81;
    f [1] = (unsigned char) (0x80 | n);     //  masked, n < 126
    unsigned char mask [4] = { 1, 2, 3, 4 };
    memcpy (f + 2, mask, 4);
    for (size_t i = 0; i < n; i++)
        f [6 + i] = (unsigned char) text [i] ^ mask [i % 4];
    if (write (fd, f, 6 + n) < 0)
        perror ("ws_latency: write");
}

static long long
s_number_after (const char *text, size_t len, const char *key)
{
    char tmp [BUF_MAX];
    if (len >= sizeof tmp)
        len = sizeof tmp - 1;
    memcpy (tmp, text, len);
    tmp [len] = 0;
    const char *p = strstr (tmp, key);
    return p ? atoll (p + strlen (key)) : -1;
}

int
main (int argc, char **argv)
{
    if (argc < 6) {
        fprintf (stderr, "usage: ws_latency PORT PATH N TIMEOUT_S SEND [INTERVAL_US]\n");
        return 2;
    }
    int port = atoi (argv [1]);
    const char *path = argv [2];
    int n = atoi (argv [3]);
    int64_t deadline = s_now_ns () + (int64_t) atoi (argv [4]) * 1000000000;
    int send_n = atoi (argv [5]);
    int64_t interval_ns = argc > 6 ? (int64_t) atol (argv [6]) * 1000 : 50000000;
    if (interval_ns < 1000000)
        interval_ns = 1000000;
    struct rlimit rl;
    getrlimit (RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);

    conn_t *c = calloc ((size_t) n, sizeof (conn_t));
    int ep = epoll_create1 (0);
    for (int i = 0; i < n; i++) {
        c [i].fd = s_open (port, path);
        if (c [i].fd < 0) {
            fprintf (stderr, "ws_latency: socket %d did not open\n", i);
            return 1;
        }
        c [i].buf = malloc (BUF_MAX);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t) i };
        epoll_ctl (ep, EPOLL_CTL_ADD, c [i].fd, &ev);
    }
    fprintf (stderr, "ws_latency: %d sockets open\n", n);
    printf ("READY\n");
    fflush (stdout);
    int sent = 0;
    long echoes = 0;
    int64_t next_send = s_now_ns () + 500000000;
    int done = 0;
    char job [64] = "";
    if (!send_n) {
        fcntl (0, F_SETFL, fcntl (0, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
        epoll_ctl (ep, EPOLL_CTL_ADD, 0, &ev);
    }
    struct epoll_event evs [256];
    while (!done && s_now_ns () < deadline) {
        //  The bare server skips frames for a reader that falls 64 behind: stop 2 s after
        //  the last send rather than wait for echoes that will never come.
        if (send_n && sent == send_n && s_now_ns () >= next_send + 2000000000LL)
            break;
        if (send_n && sent < send_n && s_now_ns () >= next_send) {
            char msg [64];
            snprintf (msg, sizeof msg, "{\"t\":%lld}", (long long) s_now_ns ());
            s_send_text (c [0].fd, msg);
            sent++;
            next_send += interval_ns;
        }
        int k = epoll_wait (ep, evs, 256, 5);
        for (int e = 0; e < k; e++) {
            if (evs [e].data.u32 == UINT32_MAX) {
                ssize_t r = read (0, job, sizeof job - 1);
                job [r > 0 ? r : 0] = 0;
                job [strcspn (job, "\r\n")] = 0;
                epoll_ctl (ep, EPOLL_CTL_DEL, 0, NULL);
                continue;
            }
            conn_t *x = &c [evs [e].data.u32];
            ssize_t r = read (x->fd, x->buf + x->len, BUF_MAX - x->len);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                epoll_ctl (ep, EPOLL_CTL_DEL, x->fd, NULL);
                continue;
            }
            int64_t now = s_now_ns ();
            x->len += (size_t) r;
            size_t off = 0;
            while (x->len - off >= 2) {
                unsigned char *f = x->buf + off;
                uint64_t plen = f [1] & 0x7f;
                size_t hdr = 2;
                if (plen == 126) {
                    if (x->len - off < 4) break;
                    plen = ((uint64_t) f [2] << 8) | f [3];
                    hdr = 4;
                }
                else
                if (plen == 127) {
                    if (x->len - off < 10) break;
                    plen = 0;
                    for (int b = 0; b < 8; b++)
                        plen = (plen << 8) | f [2 + b];
                    hdr = 10;
                }
                if (x->len - off < hdr + plen)
                    break;
                const char *text = (const char *) f + hdr;
                int mine = send_n || (*job && memmem (text, plen, job, strlen (job)));
                if ((f [0] & 0x0f) == 1 && mine) {
                    long long key = s_number_after (text, plen, send_n ? "\"t\":" : "\"processed\":");
                    printf ("%lld %lld\n", key, (long long) now);
                    if (send_n && ++echoes >= (long) send_n * n)
                        done = 1;
                    if (!send_n && memmem (text, plen, "jobs:completed", 14))
                        done = 1;
                }
                off += hdr + plen;
            }
            memmove (x->buf, x->buf + off, x->len - off);
            x->len -= off;
        }
    }
    //  The other sockets also get the completion: give them a moment, then stop.
    fflush (stdout);
    for (int i = 0; i < n; i++)
        close (c [i].fd);
    return 0;
}
