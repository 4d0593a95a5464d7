/*  broker_conn: the edge's link to one broker of BROKER_ENDPOINTS. Owns its DEALER, a
    socket monitor that tells at once when the connection drops (a killed broker's kernel
    resets it), and the broker's liveness: mmi.status asked every second and answered
    within the last 3 s, while connected.  */
#ifndef EDGE_BROKER_CONN_H
#define EDGE_BROKER_CONN_H

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _broker_conn_t broker_conn_t;

//  Connects to endpoint (CurveZMQ when configured), sndhwm messages queued at most. NULL
//  after logging.
broker_conn_t *broker_conn_new (const char *endpoint, int sndhwm);
void broker_conn_destroy (broker_conn_t **self_p);

const char *broker_conn_endpoint (broker_conn_t *self);
//  libzmq handles for the edge's zmq_poll: the DEALER, and the monitor's PAIR.
void *broker_conn_dealer (broker_conn_t *self);
void *broker_conn_monitor (broker_conn_t *self);

//  Sends msg (borrowed) without blocking and then, when *blob_p is set, the blob as one
//  more frame that ZeroMQ takes without a copy (a million ids are 16 MB; *blob_p nulled).
//  -1 when it would block or the broker is not connected; *blob_p is then still the caller's.
int broker_conn_send (broker_conn_t *self, zmsg_t *msg, unsigned char **blob_p, size_t blob_len);

//  The next message from the broker, NULL when none is waiting. Any message is a sign of
//  life.
zmsg_t *broker_conn_recv (broker_conn_t *self);

//  Reads the monitor's events: a dropped connection (or a failed attempt) makes the broker
//  down at once; a new one asks mmi.status at once.
void broker_conn_events (broker_conn_t *self);

//  Connected, and mmi.status answered within the last 3 s.
bool broker_conn_up (broker_conn_t *self, int64_t now_ms);

//  Asks mmi.status when due. True once, when the broker has just gone down (it was up):
//  its latest status is dropped and broker_down logged.
bool broker_conn_check (broker_conn_t *self, int64_t now_ms);
//  Milliseconds until broker_conn_check has something to do.
int64_t broker_conn_next_ms (broker_conn_t *self, int64_t now_ms);

//  The broker's latest mmi.status (stolen); NULL until one came and after it went down.
void broker_conn_set_status (broker_conn_t *self, json_t *status);
json_t *broker_conn_status (broker_conn_t *self);
//  The latest status of n brokers (those that have one) as one, in mmi.status's shape:
//  counts of requests and bytes summed (each broker holds its own), counts of workers and
//  credit the largest (every worker registers with every broker). NULL when none has one.
json_t *broker_conn_status_merged (broker_conn_t **conns, size_t n);

#endif
