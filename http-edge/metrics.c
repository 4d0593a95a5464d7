/*  metrics: per-route counters and histograms in flat arrays; see metrics.h.  */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#define S_STATUSES  (METRICS_STATUS_MAX + 1)

//  Bucket bounds in microseconds: the API answers in about a millisecond, a bulk create
//  or a timeout takes seconds.
static const int64_t s_bounds_us [METRICS_BUCKETS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000
};

typedef struct {
    uint64_t buckets [METRICS_BUCKETS + 1];     //  not cumulative; the last is +Inf
    uint64_t sum_us;
    uint64_t count;
} s_histogram_t;

struct metrics_s {
    const metrics_row_t *rows;
    size_t rows_n;
    uint64_t *requests;                         //  rows_n x S_STATUSES
    s_histogram_t *latency;                     //  rows_n
};

metrics_t *
metrics_new (const metrics_row_t *rows, size_t n)
{
    metrics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->rows = rows;
    self->rows_n = n;
    self->requests = calloc (n * S_STATUSES, sizeof (uint64_t));
    self->latency = calloc (n, sizeof (s_histogram_t));
    if (!self->requests || !self->latency)
        metrics_destroy (&self);
    return self;
}

void
metrics_destroy (metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    metrics_t *self = *self_p;
    free (self->requests);
    free (self->latency);
    free (self);
    *self_p = NULL;
}

size_t
metrics_bucket (int64_t latency_us)
{
    size_t i = 0;
    while (i < METRICS_BUCKETS && latency_us > s_bounds_us [i])
        i++;
    return i;
}

int64_t
metrics_bucket_bound_us (size_t bucket)
{
    return bucket < METRICS_BUCKETS ? s_bounds_us [bucket] : INT64_MAX;
}

void
metrics_observe (metrics_t *self, size_t row, int status, int64_t latency_us)
{
    if (row >= self->rows_n)
        return;
    if (status < 100 || status > METRICS_STATUS_MAX)
        status = 0;
    if (latency_us < 0)
        latency_us = 0;
    self->requests [row * S_STATUSES + (size_t) status]++;
    s_histogram_t *h = &self->latency [row];
    h->buckets [metrics_bucket (latency_us)]++;
    h->sum_us += (uint64_t) latency_us;
    h->count++;
}

uint64_t
metrics_requests (metrics_t *self, size_t row, int status)
{
    if (row >= self->rows_n || status < 0 || status > METRICS_STATUS_MAX)
        return 0;
    return self->requests [row * S_STATUSES + (size_t) status];
}

uint64_t
metrics_row_count (metrics_t *self, size_t row)
{
    return row < self->rows_n ? self->latency [row].count : 0;
}

void
metrics_write_label (FILE *f, const char *value)
{
    fputc ('"', f);
    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '\\' || *p == '"')
            fputc ('\\', f);
        if (*p == '\n')
            fputs ("\\n", f);
        else
            fputc (*p, f);
    }
    fputc ('"', f);
}

static void
s_row_labels (metrics_t *self, FILE *f, size_t row)
{
    fputs ("route=", f);
    metrics_write_label (f, self->rows [row].route);
    fputs (",method=", f);
    metrics_write_label (f, self->rows [row].method);
}

void
metrics_write (metrics_t *self, FILE *f)
{
    fputs ("# HELP http_requests_total HTTP requests answered, by route pattern, method and status "
           "(status 0: the client left before an answer).\n"
           "# TYPE http_requests_total counter\n", f);
    for (size_t r = 0; r < self->rows_n; r++) {
        if (!self->latency [r].count)
            continue;
        const uint64_t *counts = self->requests + r * S_STATUSES;
        for (int s = 0; s < S_STATUSES; s++) {
            if (!counts [s])
                continue;
            fputs ("http_requests_total{", f);
            s_row_labels (self, f, r);
            fprintf (f, ",status=\"%d\"} %llu\n", s, (unsigned long long) counts [s]);
        }
    }
    fputs ("# HELP http_request_duration_seconds Time from the first byte of a request to the end "
           "of its answer, by route pattern and method.\n"
           "# TYPE http_request_duration_seconds histogram\n", f);
    for (size_t r = 0; r < self->rows_n; r++) {
        const s_histogram_t *h = &self->latency [r];
        if (!h->count)
            continue;
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= METRICS_BUCKETS; b++) {
            cumulative += h->buckets [b];
            fputs ("http_request_duration_seconds_bucket{", f);
            s_row_labels (self, f, r);
            if (b < METRICS_BUCKETS)
                fprintf (f, ",le=\"%g\"} %llu\n", (double) s_bounds_us [b] / 1e6,
                         (unsigned long long) cumulative);
            else
                fprintf (f, ",le=\"+Inf\"} %llu\n", (unsigned long long) cumulative);
        }
        fputs ("http_request_duration_seconds_sum{", f);
        s_row_labels (self, f, r);
        fprintf (f, "} %.6f\n", (double) h->sum_us / 1e6);
        fputs ("http_request_duration_seconds_count{", f);
        s_row_labels (self, f, r);
        fprintf (f, "} %llu\n", (unsigned long long) h->count);
    }
}

double
metrics_rate (int64_t prev, int64_t prev_ms, int64_t cur, int64_t cur_ms)
{
    if (cur_ms <= prev_ms || cur < prev)
        return 0.0;
    return (double) (cur - prev) * 1000.0 / (double) (cur_ms - prev_ms);
}

void
metrics_counter (FILE *f, const char *name, const char *help, uint64_t value)
{
    fprintf (f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
             (unsigned long long) value);
}

void
metrics_gauge (FILE *f, const char *name, const char *help, double value)
{
    fprintf (f, "# HELP %s %s\n# TYPE %s gauge\n%s %.15g\n", name, help, name, name, value);
}
