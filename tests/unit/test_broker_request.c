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

//  A PAIR sending to another over inproc, as the broker's ROUTER sends to a worker.
typedef struct {
    zsock_t *out, *in;
} pipe_t;

static void
s_pipe (pipe_t *p)
{
    static int n;
    char ep [64];
    snprintf (ep, sizeof ep, "@inproc://test-request-%d", n++);
    p->in = zsock_new_pair (ep);
    zsock_set_rcvtimeo (p->in, 2000);
    snprintf (ep, sizeof ep, ">inproc://test-request-%d", n - 1);
    p->out = zsock_new_pair (ep);
}

//  Sends a one-byte head, then the request's body, as one message; what arrived after the
//  head, or NULL.
static zmsg_t *
s_send_body (pipe_t *p, request_t *req)
{
    zmq_send (zsock_resolve (p->out), "h", 1, ZMQ_SNDMORE);
    if (request_body_send (req, zsock_resolve (p->out)))
        return NULL;
    zmsg_t *got = zmsg_recv (p->in);
    zframe_t *head = got ? zmsg_pop (got) : NULL;
    zframe_destroy (&head);
    return got;
}

TEST (test_a_small_body_is_sent_whole_after_the_head)
{
    size_t held = 0;
    pipe_t p;
    s_pipe (&p);
    zmsg_t *body = s_body (16);
    zframe_t *client = zframe_new ("c", 1);
    request_t *req = request_new (&client, &body, NULL, "rid-1", &held, 0, 0);
    zmsg_t *got = s_send_body (&p, req);
    CHECK (got != NULL);
    CHECK_INT (zmsg_size (got), 2);
    CHECK_INT (zmsg_content_size (got), 5 + 16);
    zmsg_destroy (&got);
    //  And again, as after a hand-back: the request keeps its body.
    got = s_send_body (&p, req);
    CHECK (got != NULL && zmsg_content_size (got) == 5 + 16);
    zmsg_destroy (&got);
    request_destroy (&req);
    zsock_destroy (&p.out);
    zsock_destroy (&p.in);
}

TEST (test_a_large_last_frame_is_sent_by_reference_and_outlives_its_request)
{
    size_t held = 0;
    pipe_t p;
    s_pipe (&p);
    zmsg_t *body = s_body (REQUEST_SHARE_MIN_BYTES);
    zframe_t *client = zframe_new ("c", 1);
    request_t *req = request_new (&client, &body, NULL, "rid-1", &held, 0, 0);
    const void *bytes = zframe_data (zmsg_last (req->body->msg));
    CHECK_INT (zmq_send (zsock_resolve (p.out), "h", 1, ZMQ_SNDMORE), 1);
    CHECK_INT (request_body_send (req, zsock_resolve (p.out)), 0);
    //  The request goes first, as when a worker answers while libzmq still sends: the
    //  message's reference keeps the bytes alive until it is closed.
    request_destroy (&req);
    CHECK_INT (held, 0);
    zmsg_t *got = zmsg_recv (p.in);
    CHECK (got != NULL && zmsg_size (got) == 3);
    zframe_t *last = zmsg_last (got);
    CHECK_INT (zframe_size (last), REQUEST_SHARE_MIN_BYTES);
    CHECK (zframe_data (last) == bytes);
    CHECK_INT (zframe_data (last) [REQUEST_SHARE_MIN_BYTES - 1], 'x');
    zmsg_destroy (&got);
    zsock_destroy (&p.out);
    zsock_destroy (&p.in);
}

TEST_MAIN ("request",
    T (test_a_request_adds_its_bytes_to_the_held_count_and_gives_them_back),
    T (test_a_request_without_rid_logs_a_dash),
    T (test_a_small_body_is_sent_whole_after_the_head),
    T (test_a_large_last_frame_is_sent_by_reference_and_outlives_its_request))
