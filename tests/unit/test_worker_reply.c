/*  Unit tests for workers/reply: the contract's error object and timestamps as a worker answers them.  */
#include "testing.h"
#include "../../workers/reply.h"

TEST (test_time_converts_postgres_utc_to_rfc3339_with_milliseconds)
{
    char out [REPLY_TIME_LEN];
    CHECK_INT (reply_time ("2026-11-25 16:17:07.123456+00", out), 0);
    CHECK_STR (out, "2026-11-25T16:17:07.123Z");
    CHECK_INT (reply_time ("2026-11-25 16:17:07.9+00", out), 0);
    CHECK_STR (out, "2026-11-25T16:17:07.900Z");
    CHECK_INT (reply_time ("2026-11-25 16:17:07+00", out), 0);
    CHECK_STR (out, "2026-11-25T16:17:07.000Z");
}

TEST (test_time_truncates_rather_than_rounds_microseconds)
{
    char out [REPLY_TIME_LEN];
    CHECK_INT (reply_time ("2026-12-31 23:59:59.999999+00", out), 0);
    CHECK_STR (out, "2026-12-31T23:59:59.999Z");
}

TEST (test_time_rejects_other_zones_and_garbage)
{
    char out [REPLY_TIME_LEN];
    CHECK_INT (reply_time ("2026-11-25 16:17:07.123+01", out), -1);
    CHECK_INT (reply_time ("2026-11-25T16:17:07.123Z", out), -1);
    CHECK_INT (reply_time ("", out), -1);
    CHECK_INT (reply_time (NULL, out), -1);
    CHECK_INT (reply_time ("2026-11-25 16:17:07.+00", out), -1);
    CHECK_INT (reply_time ("2026-11-25 16:17:07.1234567+00", out), -1);
}

TEST (test_error_reply_has_contract_shape)
{
    reply_t r = { 0 };
    json_t *details = json_array ();
    reply_detail (details, "limit", "must be a whole number from 1 to 100");
    reply_invalid (&r, details);
    CHECK_INT (r.status, 422);
    json_t *err = json_object_get (r.body, "error");
    CHECK_STR (json_string_value (json_object_get (err, "code")), "validation_failed");
    CHECK (json_is_string (json_object_get (err, "message")));
    CHECK_INT (json_array_size (json_object_get (err, "details")), 1);
    reply_reset (&r);
    CHECK (r.body == NULL);
}

TEST (test_reply_without_body_becomes_500_unless_204)
{
    reply_t r = { 0 };
    reply_json (&r, 200, NULL);
    CHECK_INT (r.status, 500);
    reply_empty (&r, 204);
    CHECK_INT (r.status, 204);
    CHECK (r.body == NULL);
}

TEST (test_encode_turns_a_tree_into_its_compact_text_once)
{
    reply_t r = { 0 };
    reply_json (&r, 201, json_pack ("{s:s, s:n}", "a", "\u2028\"", "b"));
    CHECK_INT (reply_encode (&r), 0);
    CHECK (r.body == NULL);
    CHECK_STR (r.text, "{\"a\":\"\u2028\\\"\",\"b\":null}");
    CHECK_INT (r.text_len, strlen (r.text));
    CHECK_INT (r.status, 201);
    CHECK_INT (reply_encode (&r), 0);                //  text stays as it is
    CHECK_INT (r.text_len, strlen (r.text));
    reply_empty (&r, 204);
    CHECK_INT (reply_encode (&r), 0);
    CHECK (r.text == NULL && r.body == NULL);
}

TEST (test_text_reply_takes_the_buffer_and_a_setter_frees_it)
{
    reply_t r = { 0 };
    char *text = strdup ("{\"id\":1}");
    reply_text (&r, 200, &text, 8);
    CHECK (text == NULL);
    CHECK_INT (r.status, 200);
    CHECK_STR (r.text, "{\"id\":1}");
    reply_internal (&r);                            //  frees the text (ASan: no leak)
    CHECK (r.text == NULL);
    CHECK_INT (r.status, 500);
    reply_reset (&r);
}

TEST_MAIN ("worker_reply",
    T (test_time_converts_postgres_utc_to_rfc3339_with_milliseconds),
    T (test_time_truncates_rather_than_rounds_microseconds),
    T (test_time_rejects_other_zones_and_garbage),
    T (test_error_reply_has_contract_shape),
    T (test_reply_without_body_becomes_500_unless_204),
    T (test_encode_turns_a_tree_into_its_compact_text_once),
    T (test_text_reply_takes_the_buffer_and_a_setter_frees_it))
