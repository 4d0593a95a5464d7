/*  lws_bare: P5's baseline, the bare libwebsockets broadcast server. Every text frame a
    client sends is written, unchanged, to every connected client. No auth, no JSON, no
    ZeroMQ: the floor for "one event to 1,000 sockets" on this machine and library.
    usage: lws_bare PORT  */
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define RING 64
#define MSG_MAX 256

static struct { unsigned char buf [LWS_PRE + MSG_MAX]; size_t len; } s_ring [RING];
static unsigned long s_head;           //  messages received so far
static volatile int s_stop;

typedef struct { unsigned long next; } session_t;

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    session_t *ss = (session_t *) user;
    switch (reason) {
        case LWS_CALLBACK_ESTABLISHED:
            ss->next = s_head;
            break;
        case LWS_CALLBACK_RECEIVE:
            if (len > MSG_MAX)
                break;
            memcpy (s_ring [s_head % RING].buf + LWS_PRE, in, len);
            s_ring [s_head % RING].len = len;
            s_head++;
            lws_callback_on_writable_all_protocol (lws_get_context (wsi), lws_get_protocol (wsi));
            break;
        case LWS_CALLBACK_SERVER_WRITEABLE:
            if (ss->next < s_head) {
                if (s_head - ss->next > RING)
                    ss->next = s_head - RING;     //  a slow reader skips what it lost
                unsigned long i = ss->next % RING;
                if (lws_write (wsi, s_ring [i].buf + LWS_PRE, s_ring [i].len, LWS_WRITE_TEXT) < 0)
                    return -1;
                ss->next++;
                if (ss->next < s_head)
                    lws_callback_on_writable (wsi);
            }
            break;
        default:
            break;
    }
    return 0;
}

static const struct lws_protocols s_protocols [] = {
    { "bare", s_callback, sizeof (session_t), 1024, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

int
main (int argc, char **argv)
{
    lws_set_log_level (LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = argc > 1 ? atoi (argv [1]) : 7681;
    info.iface = "127.0.0.1";
    info.protocols = s_protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    struct lws_context *ctx = lws_create_context (&info);
    if (!ctx)
        return 1;
    signal (SIGTERM, s_on_signal);
    signal (SIGINT, s_on_signal);
    while (!s_stop && lws_service (ctx, 0) >= 0)
        ;
    lws_context_destroy (ctx);
    return 0;
}
