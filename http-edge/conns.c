/*  conns: connections waiting for headers, oldest first, with their deadline.  */
#include "conns.h"
#include "metrics.h"
#include "../common/log.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

typedef struct s_conn_t s_conn_t;
struct s_conn_t {
    struct MHD_Connection *conn;
    int64_t since_ms;               //  waiting for headers since
    bool waiting;
    s_conn_t *prev, *next;
};

struct _conns_t {
    int64_t timeout_ms;
    s_conn_t *head, *tail;          //  waiting ones, since_ms ascending
    size_t open, waiting;
    uint64_t expired;               //  shut down at the deadline
};

static void
s_unlink (conns_t *self, s_conn_t *c)
{
    if (!c->waiting)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        self->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        self->tail = c->prev;
    c->prev = c->next = NULL;
    c->waiting = false;
    self->waiting--;
}

//  Appends c as the newest waiting connection: now is never older than the tail's time.
static void
s_wait (conns_t *self, s_conn_t *c)
{
    s_unlink (self, c);
    c->since_ms = zclock_mono ();
    c->prev = self->tail;
    if (self->tail)
        self->tail->next = c;
    else
        self->head = c;
    self->tail = c;
    c->waiting = true;
    self->waiting++;
}

static s_conn_t *
s_of (struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? (s_conn_t *) info->socket_context : NULL;
}

void
conns_notify (void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    conns_t *self = (conns_t *) cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        s_conn_t *c = (s_conn_t *) calloc (1, sizeof *c);
        if (!c)
            return;                 //  untracked: it still has libmicrohttpd's own timeout
        c->conn = conn;
        self->open++;
        s_wait (self, c);
        *socket_context = c;
    }
    else
    if (*socket_context) {
        s_conn_t *c = (s_conn_t *) *socket_context;
        s_unlink (self, c);
        self->open--;
        free (c);
        *socket_context = NULL;
    }
}

void
conns_headers_in (conns_t *self, struct MHD_Connection *conn)
{
    s_conn_t *c = s_of (conn);
    if (c)
        s_unlink (self, c);
}

void
conns_request_done (conns_t *self, struct MHD_Connection *conn)
{
    s_conn_t *c = s_of (conn);
    if (c)
        s_wait (self, c);
}

int64_t
conns_expire (conns_t *self, int64_t now)
{
    while (self->head && now - self->head->since_ms >= self->timeout_ms) {
        s_conn_t *c = self->head;
        s_unlink (self, c);
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info (c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info) {
            //  libmicrohttpd reads the end of the stream and closes the connection itself
            //  (and tells conns_notify), as if the client had gone.
            shutdown (info->connect_fd, SHUT_RDWR);
            self->expired++;
            log_debug ("event=header_timeout fd=%d waited_ms=%lld", info->connect_fd,
                       (long long) (now - c->since_ms));
        }
    }
    return self->head ? self->head->since_ms + self->timeout_ms - now : INT64_MAX;
}

void
conns_metrics (conns_t *self, FILE *f)
{
    metrics_gauge (f, "edge_connections", "TCP connections open.", (double) self->open);
    metrics_gauge (f, "edge_connections_waiting_headers",
                   "Connections waiting for a request's headers.", (double) self->waiting);
    metrics_counter (f, "edge_header_timeouts_total",
                     "Connections closed because headers took longer than EDGE_HEADER_TIMEOUT_S.",
                     self->expired);
}

conns_t *
conns_new (int64_t header_timeout_ms)
{
    conns_t *self = (conns_t *) calloc (1, sizeof *self);
    if (self)
        self->timeout_ms = header_timeout_ms;
    return self;
}

void
conns_destroy (conns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    //  Every connection is closed (and notified) before the daemons stop, so none is left.
    free (*self_p);
    *self_p = NULL;
}
