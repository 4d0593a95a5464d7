/*  broker_link: the edge's side of the broker. Owns the DEALER, the table of requests
    waiting for a reply (by id, and by deadline), their correlation and timeouts, the
    mmi.status pings that tell whether the broker lives, and the jobs sample for /metrics.  */
#ifndef EDGE_BROKER_LINK_H
#define EDGE_BROKER_LINK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "config.h"
#include "request.h"

typedef struct _broker_link_t broker_link_t;

//  Connects to cfg->broker_endpoint (CurveZMQ when configured). NULL after logging.
broker_link_t *broker_link_new (const edge_config_t *cfg);
void broker_link_destroy (broker_link_t **self_p);

//  The DEALER's libzmq handle, for the edge's zmq_poll.
void *broker_link_socket (broker_link_t *self);

//  Sends payload (stolen) to service (a constant, borrowed) as one MDP request, with the
//  blob (malloc'd, stolen: *blob_p nulled; NULL for none) as its fourth frame without a
//  copy, and waits for the reply under an id of our own (common/rand: 128 bits, never
//  reused) until timeout_ms (0: REQUEST_TIMEOUT_MS). -1 after answering 503 itself when
//  the broker is down, too many requests are in flight, or the socket would block.
int broker_link_call (broker_link_t *self, edge_req_t *req, const char *service,
                      json_t *payload, unsigned char **blob_p, size_t blob_len,
                      req_reply_fn *on_reply, long timeout_ms);

//  Reads every reply waiting and completes the requests they answer (a reply completes
//  the request waiting under its id for that very service, nothing else). True when a
//  request was completed (its connection resumed).
bool broker_link_drain (broker_link_t *self);

//  Pings, the broker's liveness, and deadlines (504): true when a request was completed.
bool broker_link_timers (broker_link_t *self, int64_t now_ms);
//  Milliseconds until broker_link_timers has something to do (0: now).
int64_t broker_link_next_ms (broker_link_t *self, int64_t now_ms);

//  Takes req out of the table (its client went away); nothing if it was not waiting.
void broker_link_forget (broker_link_t *self, edge_req_t *req);
//  Answers every waiting request 503 with code and message (the broker is gone, or we are).
void broker_link_fail_all (broker_link_t *self, const char *code, const char *message);

size_t broker_link_inflight (broker_link_t *self);
//  The broker answered mmi.status within the last 3 s.
bool broker_link_up (broker_link_t *self);
//  Workers per the latest mmi.status (-1 unknown), and those offering service.
int broker_link_workers (broker_link_t *self);
int broker_link_service_workers (broker_link_t *self, const char *service);

//  Requests answered 503 overloaded because EDGE_MAX_INFLIGHT was reached.
uint64_t broker_link_overloads (broker_link_t *self);

//  Prometheus text of what the link knows: its own counters, the broker's latest status
//  and the jobs sample.
void broker_link_metrics (broker_link_t *self, FILE *f);

#endif
