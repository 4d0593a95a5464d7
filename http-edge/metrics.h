/*  metrics: the edge's request counters and latency histograms by route and status, in
    arrays sized once at start (nothing allocated per request), their Prometheus text, and
    the small helpers the rest of /metrics uses (label escaping, a rate from two samples).  */
#ifndef EDGE_METRICS_H
#define EDGE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_BUCKETS     14      //  finite histogram bounds, 0.5 ms .. 10 s; +Inf follows
#define METRICS_STATUS_MAX  599     //  counted statuses: 0 (no answer sent) and 100..599

typedef struct metrics_s metrics_t;

//  The labels of one row: a route of routes.c's table, or a pseudo route ("static").
typedef struct {
    const char *route;
    const char *method;
} metrics_row_t;

//  rows (borrowed: must outlive the object) names each of the n rows.
metrics_t *metrics_new (const metrics_row_t *rows, size_t n);
void metrics_destroy (metrics_t **self_p);

//  Counts one answered request. A row out of range is ignored; a status outside
//  100..599 counts as 0 (the client went away before an answer was queued).
void metrics_observe (metrics_t *self, size_t row, int status, int64_t latency_us);

//  Requests counted for (row, status), and for row over all statuses.
uint64_t metrics_requests (metrics_t *self, size_t row, int status);
uint64_t metrics_row_count (metrics_t *self, size_t row);

//  Appends http_requests_total and http_request_duration_seconds (rows with at least
//  one request) to f.
void metrics_write (metrics_t *self, FILE *f);

//  The histogram bucket of a latency: the first whose bound (microseconds) is >= it,
//  METRICS_BUCKETS for +Inf.
size_t metrics_bucket (int64_t latency_us);
int64_t metrics_bucket_bound_us (size_t bucket);

//  One unlabelled sample with its HELP and TYPE lines.
void metrics_counter (FILE *f, const char *name, const char *help, uint64_t value);
void metrics_gauge (FILE *f, const char *name, const char *help, double value);

//  Writes value as a Prometheus label value (quotes included), escaping \ " and newline.
void metrics_write_label (FILE *f, const char *value);

//  Per-second rate between two samples of a counter; 0 when time did not advance or the
//  counter went down (rows deleted, a database restored).
double metrics_rate (int64_t prev, int64_t prev_ms, int64_t cur, int64_t cur_ms);

#endif
