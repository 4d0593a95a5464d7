/*  broker_link: the edge's side of its brokers (BROKER_ENDPOINTS, one broker_conn each).
    Owns the table of requests waiting for a reply (by id, and by deadline), their
    correlation and timeouts, which broker holds each (new ones go round-robin to the live
    brokers; those of a broker that goes down are sent once more elsewhere), and the jobs
    sample for /metrics.  */
#ifndef EDGE_BROKER_LINK_H
#define EDGE_BROKER_LINK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <zmq.h>
#include "config.h"
#include "request.h"

typedef struct _broker_link_t broker_link_t;

//  Connects to each of cfg->brokers (CurveZMQ when configured). NULL after logging.
broker_link_t *broker_link_new (const edge_config_t *cfg);
void broker_link_destroy (broker_link_t **self_p);

//  The sockets the edge's zmq_poll watches for the link (each broker's DEALER and socket
//  monitor), written into items (room for BROKER_LINK_POLL_MAX); returns how many.
#define BROKER_LINK_POLL_MAX    (2 * CONF_ENDPOINTS_MAX)
size_t broker_link_poll_items (broker_link_t *self, zmq_pollitem_t *items);

//  Sends payload (stolen) to service (a constant, borrowed) as one MDP request, with the
//  blob (malloc'd, stolen: *blob_p nulled; NULL for none) as its fourth frame without a
//  copy, and waits for the reply under an id of our own (common/rand: 128 bits, never
//  reused) until timeout_ms (0: REQUEST_TIMEOUT_MS), through the next live broker
//  round-robin. -1 after answering 503 itself when no broker is up or takes it, or too
//  many requests are in flight. Should that broker go down, the request is sent once more
//  to another (same rid, same frames) unless it carried a blob; else answered 503.
int broker_link_call (broker_link_t *self, edge_req_t *req, const char *service,
                      json_t *payload, unsigned char **blob_p, size_t blob_len,
                      req_reply_fn *on_reply, long timeout_ms);

//  Reads every reply and connection event waiting on the items zmq_poll marked, completes
//  the requests the replies answer (a reply completes the request waiting under its id for
//  that very service, nothing else) and hands on those of a broker whose connection
//  dropped. True when a request was completed (its connection resumed).
bool broker_link_drain (broker_link_t *self, const zmq_pollitem_t *items);

//  Pings, each broker's liveness, and deadlines (504): true when a request was completed.
bool broker_link_timers (broker_link_t *self, int64_t now_ms);
//  Milliseconds until broker_link_timers has something to do (0: now).
int64_t broker_link_next_ms (broker_link_t *self, int64_t now_ms);

//  Takes req out of the table (its client went away); nothing if it was not waiting.
void broker_link_forget (broker_link_t *self, edge_req_t *req);
//  Answers every waiting request 503 with code and message (the broker is gone, or we are).
void broker_link_fail_all (broker_link_t *self, const char *code, const char *message);

size_t broker_link_inflight (broker_link_t *self);
//  A broker is up: connected, and answered mmi.status within the last 3 s.
bool broker_link_up (broker_link_t *self);
//  Brokers up, and brokers configured.
size_t broker_link_live (broker_link_t *self);
size_t broker_link_total (broker_link_t *self);
//  Workers per the live brokers' latest mmi.status (-1 unknown), and those offering
//  service: the largest count any broker gives, as every worker registers with each.
int broker_link_workers (broker_link_t *self);
int broker_link_service_workers (broker_link_t *self, const char *service);

//  Requests answered 503 overloaded because EDGE_MAX_INFLIGHT was reached.
uint64_t broker_link_overloads (broker_link_t *self);

//  Prometheus text of what the link knows: its own counters, each broker's liveness and
//  load, the brokers' latest status (requests summed, workers the largest count) and the
//  jobs sample.
void broker_link_metrics (broker_link_t *self, FILE *f);

#endif
