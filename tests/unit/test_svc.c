/*  test_svc: the application envelope codec (proto/svc.c): request and reply round trips,
    error replies as valid JSON, and rejection of every malformed frame.  */
#include "../../proto/svc.h"
#include "testing.h"

#include <jansson.h>

#define USER "0b7e3a52-9a38-4c3e-8d1c-2f4f6a1e9b10"

static zmsg_t *
s_body (const char *rid, const char *second, const char *payload)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, rid);
    zmsg_addstr (body, second);
    zmsg_addstr (body, payload);
    return body;
}

static int
s_request_rejected (zmsg_t *body)
{
    char err [128] = "";
    svc_request_t *req = svc_request_decode (&body, err, sizeof err);
    if (req) {
        svc_request_destroy (&req);
        return 0;
    }
    return body == NULL && err [0] != 0;
}

static int
s_reply_rejected (zmsg_t *body)
{
    char err [128] = "";
    svc_reply_t *reply = svc_reply_decode (&body, err, sizeof err);
    if (reply) {
        svc_reply_destroy (&reply);
        return 0;
    }
    return body == NULL && err [0] != 0;
}

//  --------------------------------------------------------------------------
//  Round trips

TEST (test_anonymous_request_round_trips)
{
    zmsg_t *body = svc_request_encode ("r-1", NULL, SVC_ROLE_NONE, "{\"email\":\"a\"}", 13);
    CHECK_INT (zmsg_size (body), 3);
    svc_request_t *req = svc_request_decode (&body, NULL, 0);
    CHECK (body == NULL);
    CHECK (req != NULL);
    CHECK_STR (req->rid, "r-1");
    CHECK_STR (req->user, "");
    CHECK_INT (req->role, SVC_ROLE_NONE);
    CHECK_INT (zframe_size (req->payload), 13);
    CHECK (memcmp (zframe_data (req->payload), "{\"email\":\"a\"}", 13) == 0);
    svc_request_destroy (&req);
    CHECK (req == NULL);
}

TEST (test_authenticated_request_round_trips_with_user_and_role)
{
    svc_role_t roles [] = { SVC_ROLE_ADMIN, SVC_ROLE_AGENT };
    for (int i = 0; i < 2; i++) {
        zmsg_t *body = svc_request_encode ("r-2", USER, roles [i], "{}", 2);
        svc_request_t *req = svc_request_decode (&body, NULL, 0);
        CHECK (req != NULL);
        CHECK_STR (req->user, USER);
        CHECK_INT (req->role, roles [i]);
        svc_request_destroy (&req);
    }
}

TEST (test_reply_round_trips_with_status_and_payload)
{
    int statuses [] = { 200, 201, 204, 404, 503, 599, 100 };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses [0]; i++) {
        zmsg_t *body = svc_reply_encode ("r-3", statuses [i], "{\"x\":1}", 7);
        svc_reply_t *reply = svc_reply_decode (&body, NULL, 0);
        CHECK (body == NULL);
        CHECK (reply != NULL);
        CHECK_STR (reply->rid, "r-3");
        CHECK_INT (reply->status, statuses [i]);
        CHECK_INT (zframe_size (reply->payload), 7);
        svc_reply_destroy (&reply);
    }
}

TEST (test_reply_with_empty_payload_round_trips)
{
    zmsg_t *body = svc_reply_encode ("r-4", 204, NULL, 0);
    svc_reply_t *reply = svc_reply_decode (&body, NULL, 0);
    CHECK (reply != NULL);
    CHECK_INT (reply->status, 204);
    CHECK_INT (zframe_size (reply->payload), 0);
    svc_reply_destroy (&reply);
}

TEST (test_reply_without_rid_carries_a_placeholder_rid)
{
    zmsg_t *body = svc_reply_encode (NULL, 500, "{}", 2);
    svc_reply_t *reply = svc_reply_decode (&body, NULL, 0);
    CHECK (reply != NULL);
    CHECK_STR (reply->rid, "-");
    svc_reply_destroy (&reply);
}

TEST (test_error_reply_is_the_contract_error_object)
{
    zmsg_t *body = svc_reply_error ("r-5", 503, "queue_full", "too many requests");
    svc_reply_t *reply = svc_reply_decode (&body, NULL, 0);
    CHECK (reply != NULL);
    CHECK_INT (reply->status, 503);
    json_error_t jerr;
    json_t *root = json_loadb ((const char *) zframe_data (reply->payload),
                               zframe_size (reply->payload), 0, &jerr);
    svc_reply_destroy (&reply);
    CHECK (root != NULL);
    json_t *error = json_object_get (root, "error");
    int ok = json_is_object (error)
          && !strcmp (json_string_value (json_object_get (error, "code")), "queue_full")
          && !strcmp (json_string_value (json_object_get (error, "message")), "too many requests")
          && json_is_array (json_object_get (error, "details"));
    json_decref (root);
    CHECK (ok);
}

TEST (test_error_reply_with_an_overlong_message_stays_valid_json)
{
    char message [1000];
    memset (message, 'm', sizeof message - 1);
    message [sizeof message - 1] = 0;
    zmsg_t *body = svc_reply_error ("r-6", 500, "internal", message);
    svc_reply_t *reply = svc_reply_decode (&body, NULL, 0);
    CHECK (reply != NULL);
    json_t *root = json_loadb ((const char *) zframe_data (reply->payload),
                               zframe_size (reply->payload), 0, NULL);
    svc_reply_destroy (&reply);
    CHECK (root != NULL);
    json_decref (root);
}

TEST (test_error_text_has_the_contract_shape_with_escaped_text)
{
    json_t *details = json_array ();
    json_array_append_new (details, json_pack ("{s:s, s:s}", "field", "limit",
                                               "message", "must be between 1 and 100"));
    size_t len;
    char *text = svc_error_text ("validation_failed", "bad \"input\"", details, &len);
    json_t *root = json_loads (text, 0, NULL);
    CHECK_INT (len, strlen (text));
    CHECK_STR (text, "{\"error\":{\"code\":\"validation_failed\",\"message\":\"bad \\\"input\\\"\","
                     "\"details\":[{\"field\":\"limit\",\"message\":\"must be between 1 and 100\"}]}}");
    free (text);
    CHECK (root != NULL);
    json_decref (root);
    text = svc_error_text ("not_found", "x", NULL, NULL);
    CHECK_STR (text, "{\"error\":{\"code\":\"not_found\",\"message\":\"x\",\"details\":[]}}");
    free (text);
}

TEST (test_error_text_of_text_that_is_not_utf8_is_still_the_contract)
{
    char *text = svc_error_text ("internal", "\xff\xfe", NULL, NULL);
    json_t *root = json_loads (text, 0, NULL);
    free (text);
    CHECK (root != NULL);
    json_t *error = json_object_get (root, "error");
    int ok = !strcmp (json_string_value (json_object_get (error, "code")), "internal")
          && json_is_array (json_object_get (error, "details"));
    json_decref (root);
    CHECK (ok);
    CHECK (svc_error_object ("x", "\xff", NULL) == NULL);
}

TEST (test_peek_rid_reads_a_valid_first_frame_only)
{
    char rid [SVC_RID_MAX + 1];
    zmsg_t *body = s_body ("abc-123", "", "{}");
    svc_peek_rid (body, rid);
    CHECK_STR (rid, "abc-123");
    CHECK_INT (zmsg_size (body), 3);
    zmsg_destroy (&body);

    body = s_body ("bad rid", "", "{}");
    svc_peek_rid (body, rid);
    CHECK_STR (rid, "");
    zmsg_destroy (&body);

    body = zmsg_new ();
    svc_peek_rid (body, rid);
    CHECK_STR (rid, "");
    zmsg_destroy (&body);

    svc_peek_rid (NULL, rid);
    CHECK_STR (rid, "");
}

TEST (test_rid_validity_follows_length_and_characters)
{
    char rid [80];
    memset (rid, 'r', sizeof rid);
    CHECK (svc_rid_valid (rid, 1));
    CHECK (svc_rid_valid (rid, SVC_RID_MAX));
    CHECK (!svc_rid_valid (rid, SVC_RID_MAX + 1));
    CHECK (!svc_rid_valid (rid, 0));
    CHECK (!svc_rid_valid ("a b", 3));
    CHECK (!svc_rid_valid ("a\tb", 3));
    CHECK (!svc_rid_valid ("\xff", 1));
}

TEST (test_role_names_parse_both_ways)
{
    static const struct { const char *name; int value; } roles [] = {
        { "admin", SVC_ROLE_ADMIN }, { "agent", SVC_ROLE_AGENT }, { "root", SVC_ROLE_NONE },
        { NULL, SVC_ROLE_NONE },
    };
    CHECK_PARSES (svc_role_parse, roles);
    CHECK_STR (svc_role_name (SVC_ROLE_ADMIN), "admin");
    CHECK_STR (svc_role_name (SVC_ROLE_AGENT), "agent");
    CHECK_STR (svc_role_name (SVC_ROLE_NONE), "");
}

//  --------------------------------------------------------------------------
//  Malformed input

TEST (test_decode_rejects_a_wrong_number_of_frames)
{
    zmsg_t *body = NULL;
    CHECK (svc_request_decode (&body, NULL, 0) == NULL);
    CHECK (svc_reply_decode (&body, NULL, 0) == NULL);
    CHECK (s_request_rejected (zmsg_new ()));
    body = s_body ("r", "", "{}");
    zmsg_addstr (body, "blob");
    zmsg_addstr (body, "extra");
    CHECK (s_request_rejected (body));
    body = zmsg_new ();
    zmsg_addstr (body, "r");
    zmsg_addstr (body, "200");
    CHECK (s_reply_rejected (body));
}

TEST (test_a_fourth_frame_is_the_blob)
{
    zmsg_t *body = s_body ("r", "", "{}");
    zmsg_addmem (body, "\x00\x01\x02", 3);
    svc_request_t *req = svc_request_decode (&body, NULL, 0);
    CHECK (req != NULL);
    CHECK (req->blob != NULL);
    CHECK_INT ((int) zframe_size (req->blob), 3);
    CHECK (memcmp (zframe_data (req->blob), "\x00\x01\x02", 3) == 0);
    svc_request_destroy (&req);
    body = s_body ("r", "", "{}");
    req = svc_request_decode (&body, NULL, 0);
    CHECK (req != NULL && req->blob == NULL);
    svc_request_destroy (&req);
}

TEST (test_decode_rejects_a_bad_rid)
{
    char long_rid [SVC_RID_MAX + 2];
    memset (long_rid, 'r', SVC_RID_MAX + 1);
    long_rid [SVC_RID_MAX + 1] = 0;
    CHECK (s_request_rejected (s_body ("", "", "{}")));
    CHECK (s_request_rejected (s_body (long_rid, "", "{}")));
    CHECK (s_request_rejected (s_body ("r\x01", "", "{}")));
    CHECK (s_request_rejected (s_body ("r 1", "", "{}")));
    CHECK (s_reply_rejected (s_body ("", "200", "{}")));
    CHECK (s_reply_rejected (s_body (long_rid, "200", "{}")));
}

TEST (test_decode_rejects_a_bad_auth_frame)
{
    CHECK (s_request_rejected (s_body ("r", USER, "{}")));                  //  no role
    CHECK (s_request_rejected (s_body ("r", USER " ", "{}")));              //  empty role
    CHECK (s_request_rejected (s_body ("r", USER " root", "{}")));          //  unknown role
    CHECK (s_request_rejected (s_body ("r", USER " adminx", "{}")));        //  too long
    CHECK (s_request_rejected (s_body ("r", USER "_admin", "{}")));         //  no space
    CHECK (s_request_rejected (s_body ("r", "not-a-uuid admin", "{}")));
    CHECK (s_request_rejected (s_body ("r", "0b7e3a52-9a38-4c3e-8d1c-2f4f6a1e9b1g admin", "{}")));
    CHECK (s_request_rejected (s_body ("r", "admin", "{}")));
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, "r");
    zmsg_addmem (body, USER " ad\0in", UUID_STRLEN + 6);
    zmsg_addstr (body, "{}");
    CHECK (s_request_rejected (body));
}

TEST (test_decode_rejects_a_bad_status_frame)
{
    const char *bad [] = { "20", "2000", "abc", "099", "600", "20x", "", " 20", "-20", "0200" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        CHECK (s_reply_rejected (s_body ("r", bad [i], "{}")));
}

TEST_MAIN ("svc",
    T (test_anonymous_request_round_trips),
    T (test_authenticated_request_round_trips_with_user_and_role),
    T (test_reply_round_trips_with_status_and_payload),
    T (test_reply_with_empty_payload_round_trips),
    T (test_reply_without_rid_carries_a_placeholder_rid),
    T (test_error_reply_is_the_contract_error_object),
    T (test_error_reply_with_an_overlong_message_stays_valid_json),
    T (test_error_text_has_the_contract_shape_with_escaped_text),
    T (test_error_text_of_text_that_is_not_utf8_is_still_the_contract),
    T (test_peek_rid_reads_a_valid_first_frame_only),
    T (test_rid_validity_follows_length_and_characters),
    T (test_role_names_parse_both_ways),
    T (test_decode_rejects_a_wrong_number_of_frames),
    T (test_a_fourth_frame_is_the_blob),
    T (test_decode_rejects_a_bad_rid),
    T (test_decode_rejects_a_bad_auth_frame),
    T (test_decode_rejects_a_bad_status_frame))
