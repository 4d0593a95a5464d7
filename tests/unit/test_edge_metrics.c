/*  Unit tests for http-edge/metrics: histogram buckets, per-route counters, the
    Prometheus text they produce, label escaping and the rate of a sampled counter.  */
#include "testing.h"
#include "../../http-edge/metrics.h"

#include <stdlib.h>

static const metrics_row_t s_rows [] = {
    { "/api/tickets/:id", "GET" },
    { "/api/tickets", "POST" },
};

//  The text metrics_write produces; caller frees.
static char *
s_text (metrics_t *m)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    metrics_write (m, f);
    fclose (f);
    return text;
}

TEST (test_a_latency_falls_in_the_first_bucket_whose_bound_covers_it)
{
    CHECK_INT (metrics_bucket (0), 0);
    CHECK_INT (metrics_bucket (500), 0);            //  bounds are inclusive (le)
    CHECK_INT (metrics_bucket (501), 1);
    CHECK_INT (metrics_bucket (1000), 1);
    CHECK_INT (metrics_bucket (10000000), METRICS_BUCKETS - 1);
    CHECK_INT (metrics_bucket (10000001), METRICS_BUCKETS);     //  +Inf
    CHECK_INT (metrics_bucket_bound_us (0), 500);
    CHECK_INT (metrics_bucket_bound_us (METRICS_BUCKETS - 1), 10000000);
}

TEST (test_bucket_bounds_increase)
{
    for (size_t i = 1; i < METRICS_BUCKETS; i++)
        CHECK (metrics_bucket_bound_us (i) > metrics_bucket_bound_us (i - 1));
}

TEST (test_requests_are_counted_by_row_and_status)
{
    metrics_t *m = metrics_new (s_rows, 2);
    CHECK (m);
    metrics_observe (m, 0, 200, 100);
    metrics_observe (m, 0, 200, 100);
    metrics_observe (m, 0, 404, 100);
    metrics_observe (m, 1, 201, 100);
    CHECK_INT (metrics_requests (m, 0, 200), 2);
    CHECK_INT (metrics_requests (m, 0, 404), 1);
    CHECK_INT (metrics_requests (m, 1, 200), 0);
    CHECK_INT (metrics_requests (m, 1, 201), 1);
    CHECK_INT (metrics_row_count (m, 0), 3);
    CHECK_INT (metrics_row_count (m, 1), 1);
    metrics_destroy (&m);
    CHECK (m == NULL);
    metrics_destroy (&m);                           //  twice is harmless
}

TEST (test_an_unknown_row_is_ignored_and_an_odd_status_counts_as_zero)
{
    metrics_t *m = metrics_new (s_rows, 2);
    metrics_observe (m, 2, 200, 100);
    metrics_observe (m, 99, 200, 100);
    CHECK_INT (metrics_row_count (m, 0) + metrics_row_count (m, 1), 0);
    metrics_observe (m, 1, 0, 100);
    metrics_observe (m, 1, 600, 100);
    metrics_observe (m, 1, 42, 100);
    CHECK_INT (metrics_requests (m, 1, 0), 3);
    CHECK_INT (metrics_requests (m, 1, 600), 0);    //  out of range reads as nothing
    metrics_destroy (&m);
}

TEST (test_the_text_has_cumulative_buckets_and_a_count_equal_to_the_requests)
{
    metrics_t *m = metrics_new (s_rows, 2);
    metrics_observe (m, 0, 200, 300);               //  le 0.0005
    metrics_observe (m, 0, 200, 2000);              //  le 0.0025
    metrics_observe (m, 0, 404, 20000000);          //  +Inf only
    char *text = s_text (m);
    CHECK (text);
    const char *want [] = {
        "# TYPE http_requests_total counter\n",
        "http_requests_total{route=\"/api/tickets/:id\",method=\"GET\",status=\"200\"} 2\n",
        "http_requests_total{route=\"/api/tickets/:id\",method=\"GET\",status=\"404\"} 1\n",
        "# TYPE http_request_duration_seconds histogram\n",
        "http_request_duration_seconds_bucket{route=\"/api/tickets/:id\",method=\"GET\",le=\"0.0005\"} 1\n",
        "http_request_duration_seconds_bucket{route=\"/api/tickets/:id\",method=\"GET\",le=\"0.001\"} 1\n",
        "http_request_duration_seconds_bucket{route=\"/api/tickets/:id\",method=\"GET\",le=\"0.0025\"} 2\n",
        "http_request_duration_seconds_bucket{route=\"/api/tickets/:id\",method=\"GET\",le=\"10\"} 2\n",
        "http_request_duration_seconds_bucket{route=\"/api/tickets/:id\",method=\"GET\",le=\"+Inf\"} 3\n",
        "http_request_duration_seconds_sum{route=\"/api/tickets/:id\",method=\"GET\"} 20.002300\n",
        "http_request_duration_seconds_count{route=\"/api/tickets/:id\",method=\"GET\"} 3\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want [0]; i++)
        if (!strstr (text, want [i])) {
            fprintf (stderr, "  missing line: %s  in:\n%s\n", want [i], text);
            CHECK (false);
        }
    //  A route with no request yet is not listed.
    CHECK (!strstr (text, "route=\"/api/tickets\""));
    free (text);
    metrics_destroy (&m);
}

TEST (test_label_values_are_escaped)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    metrics_write_label (f, "a\"b\\c\nd");
    metrics_write_label (f, NULL);
    fclose (f);
    CHECK_STR (text, "\"a\\\"b\\\\c\\nd\"\"\"");
    free (text);
}

TEST (test_a_rate_is_per_second_and_never_negative)
{
    CHECK (metrics_rate (100, 1000, 600, 6000) == 100.0);
    CHECK (metrics_rate (100, 1000, 100, 6000) == 0.0);
    CHECK (metrics_rate (600, 1000, 100, 6000) == 0.0);     //  counter went down
    CHECK (metrics_rate (100, 6000, 600, 6000) == 0.0);     //  no time passed
}

TEST_MAIN ("edge_metrics",
    T (test_a_latency_falls_in_the_first_bucket_whose_bound_covers_it),
    T (test_bucket_bounds_increase),
    T (test_requests_are_counted_by_row_and_status),
    T (test_an_unknown_row_is_ignored_and_an_odd_status_counts_as_zero),
    T (test_the_text_has_cumulative_buckets_and_a_count_equal_to_the_requests),
    T (test_label_values_are_escaped),
    T (test_a_rate_is_per_second_and_never_negative))
