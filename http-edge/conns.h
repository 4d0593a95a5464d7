/*  conns: the TCP connections libmicrohttpd holds, and a deadline for a request's headers.
    libmicrohttpd 0.9 only times out a connection that is silent; one that sends a header
    line every few seconds would be held for ever, and a few thousand of them hold every
    connection the edge has (slowloris). Each connection waiting for headers (just
    accepted, or idle between two requests) is listed oldest first; one still waiting at
    EDGE_HEADER_TIMEOUT_S has its socket shut down, which libmicrohttpd sees as the
    client leaving.  */
#ifndef EDGE_CONNS_H
#define EDGE_CONNS_H

#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>

typedef struct _conns_t conns_t;

conns_t *conns_new (int64_t header_timeout_ms);
void conns_destroy (conns_t **self_p);

//  libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION, with a conns_t as cls.
void conns_notify (void *cls, struct MHD_Connection *conn, void **socket_context,
                   enum MHD_ConnectionNotificationCode toe);

//  A request's headers are in (its first access call): its connection stops waiting.
void conns_headers_in (conns_t *self, struct MHD_Connection *conn);
//  A request is done and the connection stays open: it waits for the next headers.
void conns_request_done (conns_t *self, struct MHD_Connection *conn);

//  Shuts down every connection past the deadline; the milliseconds until the next one
//  is due (INT64_MAX when none waits).
int64_t conns_expire (conns_t *self, int64_t now_ms);

void conns_metrics (conns_t *self, FILE *f);

#endif
