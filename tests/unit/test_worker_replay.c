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

TEST (test_key_order_and_whitespace_do_not_change_the_hash)
{
    char a [REPLAY_HASH_LEN + 1], b [REPLAY_HASH_LEN + 1];
    CHECK_INT (s_hash ("tickets.update", "{\"id\":\"1\",\"fields\":{\"a\":1,\"b\":2}}", NULL, a), 0);
    CHECK_INT (s_hash ("tickets.update", " { \"fields\" : {\"b\":2, \"a\":1}, \"id\" : \"1\" } ",
                       NULL, b), 0);
    CHECK_STR (a, b);
}

TEST (test_another_payload_has_another_hash)
{
    char a [REPLAY_HASH_LEN + 1], b [REPLAY_HASH_LEN + 1];
    CHECK_INT (s_hash ("jobs.cancel", "{\"id\":\"1\"}", NULL, a), 0);
    CHECK_INT (s_hash ("jobs.cancel", "{\"id\":\"2\"}", NULL, b), 0);
    CHECK (strcmp (a, b) != 0);
}

TEST (test_another_service_has_another_hash)
{
    char a [REPLAY_HASH_LEN + 1], b [REPLAY_HASH_LEN + 1];
    CHECK_INT (s_hash ("jobs.cancel", "{\"id\":\"1\"}", NULL, a), 0);
    CHECK_INT (s_hash ("tickets.delete", "{\"id\":\"1\"}", NULL, b), 0);
    CHECK (strcmp (a, b) != 0);
}

TEST (test_the_blob_counts)
{
    char a [REPLAY_HASH_LEN + 1], b [REPLAY_HASH_LEN + 1], c [REPLAY_HASH_LEN + 1];
    CHECK_INT (s_hash ("jobs.create", "{\"count\":1}", NULL, a), 0);
    CHECK_INT (s_hash ("jobs.create", "{\"count\":1}", "0123456789abcdef", b), 0);
    CHECK_INT (s_hash ("jobs.create", "{\"count\":1}", "0123456789abcdeF", c), 0);
    CHECK (strcmp (a, b) != 0);
    CHECK (strcmp (b, c) != 0);
}

TEST (test_service_and_payload_boundaries_do_not_blur)
{
    //  "jobs.cancel" + "{}" must differ from any split that reads the same bytes in a row.
    char a [REPLAY_HASH_LEN + 1], b [REPLAY_HASH_LEN + 1];
    CHECK_INT (s_hash ("a", "{\"k\":\"v\"}", NULL, a), 0);
    CHECK_INT (s_hash ("a{", "{\"k\":\"v\"}", NULL, b), 0);
    CHECK (strcmp (a, b) != 0);
}

TEST_MAIN ("worker_replay",
    T (test_hash_is_64_lower_hex_digits),
    T (test_key_order_and_whitespace_do_not_change_the_hash),
    T (test_another_payload_has_another_hash),
    T (test_another_service_has_another_hash),
    T (test_the_blob_counts),
    T (test_service_and_payload_boundaries_do_not_blur),
)
