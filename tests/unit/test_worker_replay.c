/*  Unit tests for workers/replay: what makes a re-delivered request "the same request".
    The database half (record, lookup, sweep) is tested in tests/integration/test_write_once.py
    and test_jobs.py.  */
#include "testing.h"
#include "../../workers/replay.h"

static json_t *
s_json (const char *text)
{
    json_error_t err;
    json_t *v = json_loads (text, 0, &err);
    if (!v)
        abort ();
    return v;
}

//  The hash of service + payload text (+ blob), into out; -1 as replay_hash.
static int
s_hash (const char *service, const char *payload, const char *blob, char out [REPLAY_HASH_LEN + 1])
{
    json_t *p = s_json (payload);
    int rc = replay_hash (service, p, (const unsigned char *) blob, blob ? strlen (blob) : 0, out);
    json_decref (p);
    return rc;
}

TEST (test_hash_is_64_lower_hex_digits)
{
    char h [REPLAY_HASH_LEN + 1];
    CHECK_INT (s_hash ("jobs.cancel", "{\"id\":\"x\"}", NULL, h), 0);
    CHECK_INT (strlen (h), 64);
    CHECK_INT (strspn (h, "0123456789abcdef"), 64);
}

//  One request as replay_hash sees it: service, payload text, blob (NULL for none).
typedef struct { const char *service, *payload, *blob; } s_req_t;
#define S_REQ(service, payload) ((s_req_t) { service, payload, NULL })

//  1 when both requests hash alike, 0 when they hash differently, -1 when one cannot hash.
static int
s_alike (s_req_t x, s_req_t y)
{
    char a [REPLAY_HASH_LEN + 1], b [REPLAY_HASH_LEN + 1];
    if (s_hash (x.service, x.payload, x.blob, a) || s_hash (y.service, y.payload, y.blob, b))
        return -1;
    return !strcmp (a, b);
}

TEST (test_key_order_and_whitespace_do_not_change_the_hash)
{
    CHECK_INT (s_alike (S_REQ ("tickets.update", "{\"id\":\"1\",\"fields\":{\"a\":1,\"b\":2}}"),
                        S_REQ ("tickets.update", " { \"fields\" : {\"b\":2, \"a\":1}, \"id\" : \"1\" } ")),
               1);
}

TEST (test_another_payload_has_another_hash)
{
    CHECK_INT (s_alike (S_REQ ("jobs.cancel", "{\"id\":\"1\"}"),
                        S_REQ ("jobs.cancel", "{\"id\":\"2\"}")), 0);
}

TEST (test_another_service_has_another_hash)
{
    CHECK_INT (s_alike (S_REQ ("jobs.cancel", "{\"id\":\"1\"}"),
                        S_REQ ("tickets.delete", "{\"id\":\"1\"}")), 0);
}

TEST (test_the_blob_counts)
{
    s_req_t none = { "jobs.create", "{\"count\":1}", NULL };
    s_req_t blob = { "jobs.create", "{\"count\":1}", "0123456789abcdef" };
    s_req_t other = { "jobs.create", "{\"count\":1}", "0123456789abcdeF" };
    CHECK_INT (s_alike (none, blob), 0);
    CHECK_INT (s_alike (blob, other), 0);
}

TEST (test_service_and_payload_boundaries_do_not_blur)
{
    //  "jobs.cancel" + "{}" must differ from any split that reads the same bytes in a row.
    CHECK_INT (s_alike (S_REQ ("a", "{\"k\":\"v\"}"), S_REQ ("a{", "{\"k\":\"v\"}")), 0);
}

TEST_MAIN ("worker_replay",
    T (test_hash_is_64_lower_hex_digits),
    T (test_key_order_and_whitespace_do_not_change_the_hash),
    T (test_another_payload_has_another_hash),
    T (test_another_service_has_another_hash),
    T (test_the_blob_counts),
    T (test_service_and_payload_boundaries_do_not_blur),
)
