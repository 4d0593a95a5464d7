/*  upload: request bodies. Decides what a body may cost and holds it: the route's limit
    (413), the edge's EDGE_BODY_BUDGET_BYTES for bodies held at once and EDGE_MAX_JOB_UPLOADS
    for large job bodies (503 overloaded), the body's absolute deadline (EDGE_BODY_TIMEOUT_S),
    and the reading and dropping of a refused request's body so its client reads the answer.
    Owns the job-body reader (jobbody) of a request until the handler takes its result.  */
#ifndef EDGE_UPLOAD_H
#define EDGE_UPLOAD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "config.h"
#include "request.h"

typedef struct _upload_t upload_t;

upload_t *upload_new (const edge_config_t *cfg);
void upload_destroy (upload_t **self_p);

//  An accepted request whose body is to come: its deadline starts to count and, for a
//  route with ROUTE_BIG_BODY, its job-body reader is made (taking an upload slot when the
//  body may be large; without a free one the request is answered 503 at once). MHD_NO
//  when memory runs out.
enum MHD_Result upload_begin (upload_t *self, edge_req_t *req, bool has_body, bool has_length,
                              unsigned long long declared);

//  A request the headers refused (its answer set): answered now, or once its body has
//  been read and dropped.
enum MHD_Result upload_refuse_early (upload_t *self, edge_req_t *req, bool has_body,
                                     bool has_length, unsigned long long declared);

//  Body bytes: held within the limits, or dropped for a refused request; MHD_NO closes
//  the connection (past the deadline, or too much dropped).
enum MHD_Result upload_feed (upload_t *self, edge_req_t *req, const char *data, size_t n);

//  The body is all in: the connection's usual inactivity timeout again.
void upload_done (upload_t *self, edge_req_t *req);

//  Frees what req's body holds (buffer, job-body reader, upload slot, budget).
void upload_release (upload_t *self, edge_req_t *req);

//  Requests answered 503 overloaded for the budget or the upload slots.
uint64_t upload_overloads (upload_t *self);
void upload_metrics (upload_t *self, FILE *f);

#endif
