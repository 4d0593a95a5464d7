/*  test_broker_request: a held request counts its bytes against the broker's total and
    gives them back; a large last frame is shared by reference, not copied.  */
#include "../../broker/request.h"
#include "testing.h"

static zmsg_t *
s_body (size_t last_size)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, "rid-1");
    zframe_t *last = zframe_new (NULL, last_size);
    memset (zframe_data (last), 'x', last_size);
    zmsg_append (body, &last);
    return body;
}

TEST (test_a_request_adds_its_bytes_to_the_held_count_and_gives_them_back)
{
    size_t held = 100;
    zmsg_t *body = s_body (10);
    size_t bytes = request_bytes (body);
    zframe_t *client = zframe_new ("c", 1);
    request_t *req = request_new (&client, &body, NULL, "rid-1", &held, 5, 7);
    CHECK (client == NULL && body == NULL);
    CHECK_INT (held, 100 + bytes);
    CHECK_INT (req->seq, 7);
    CHECK_INT (req->queued_at, 5);
    CHECK_STR (request_log_rid (req), "rid-1");
    request_destroy (&req);
    CHECK (req == NULL);
    request_destroy (&req);
    CHECK_INT (held, 100);
}

TEST (test_a_request_without_rid_logs_a_dash)
{
    size_t held = 0;
    zmsg_t *body = s_body (1);
    zframe_t *client = zframe_new ("c", 1);
    request_t *req = request_new (&client, &body, NULL, "", &held, 0, 0);
    CHECK_STR (request_log_rid (req), "-");
    request_destroy (&req);
}

TEST (test_a_small_body_is_copied_whole)
{
    size_t held = 0;
    zmsg_t *body = s_body (16);
    zframe_t *client = zframe_new ("c", 1);
    request_t *req = request_new (&client, &body, NULL, "rid-1", &held, 0, 0);
    zframe_t *shared = (zframe_t *) 1;
    zmsg_t *copy = request_body_copy (req, &shared);
    CHECK (shared == NULL);
    CHECK_INT (zmsg_size (copy), 2);
    CHECK_INT (zmsg_content_size (copy), 5 + 16);
    zmsg_destroy (&copy);
    request_destroy (&req);
}

TEST (test_a_large_last_frame_is_left_out_of_the_copy_and_shared_until_released)
{
    size_t held = 0;
    zmsg_t *body = s_body (REQUEST_SHARE_MIN_BYTES);
    zframe_t *client = zframe_new ("c", 1);
    request_t *req = request_new (&client, &body, NULL, "rid-1", &held, 0, 0);
    zframe_t *shared = NULL;
    zmsg_t *copy = request_body_copy (req, &shared);
    CHECK (shared != NULL);
    CHECK_INT (zmsg_size (copy), 1);
    zmsg_destroy (&copy);
    zmq_msg_t part;
    CHECK_INT (request_body_share (req, shared, &part), 0);
    CHECK_INT (zmq_msg_size (&part), REQUEST_SHARE_MIN_BYTES);
    //  The request goes first, as when a worker answers while libzmq still sends: the
    //  part's reference keeps the bytes alive until it is closed.
    request_destroy (&req);
    CHECK_INT (held, 0);
    CHECK_INT (((const char *) zmq_msg_data (&part)) [REQUEST_SHARE_MIN_BYTES - 1], 'x');
    zmq_msg_close (&part);
}

TEST_MAIN ("request",
    T (test_a_request_adds_its_bytes_to_the_held_count_and_gives_them_back),
    T (test_a_request_without_rid_logs_a_dash),
    T (test_a_small_body_is_copied_whole),
    T (test_a_large_last_frame_is_left_out_of_the_copy_and_shared_until_released))
