/*  test_mdp: the 7/MDP codec (proto/mdp.c): a round trip per message type, and every
    kind of malformed input the decoder must reject without crashing.  */
#include "../../proto/mdp.h"
#include "testing.h"

//  A message from text frames (binary ones are added with zmsg_addmem by the caller).
static zmsg_t *
s_msg (int n, const char **frames)
{
    zmsg_t *msg = zmsg_new ();
    for (int i = 0; i < n; i++)
        zmsg_addstr (msg, frames [i]);
    return msg;
}

//  What a ROUTER hands the broker: the sender's routing id first.
static zmsg_t *
s_from_peer (zmsg_t *msg)
{
    zmsg_pushmem (msg, "\x00\x01\x02\x03\x04", 5);
    return msg;
}

static int s_not_taken;     //  decodes that left the caller's message pointer set

static mdp_msg_t *
s_decode (zmsg_t *msg, mdp_side_t side, char *err, size_t errlen)
{
    mdp_msg_t *m = mdp_msg_decode (&msg, side, err, errlen);
    if (msg) {
        s_not_taken++;
        zmsg_destroy (&msg);
    }
    return m;
}

//  Decoding must fail with a reason; returns 1 when it did.
static int
s_rejects (zmsg_t *msg, mdp_side_t side)
{
    char err [128] = "";
    mdp_msg_t *m = s_decode (msg, side, err, sizeof err);
    if (m) {
        mdp_msg_destroy (&m);
        return 0;
    }
    return err [0] != 0;
}

static bool
s_frame_eq (zframe_t *frame, const char *text)
{
    return frame && zframe_size (frame) == strlen (text)
        && memcmp (zframe_data (frame), text, strlen (text)) == 0;
}

static zmsg_t *
s_body (void)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, "rid-1");
    zmsg_addstr (body, "");
    zmsg_addstr (body, "{\"a\":1}");
    return body;
}

//  --------------------------------------------------------------------------
//  Round trips

TEST (test_client_request_round_trips_through_the_broker_side)
{
    zmsg_t *body = s_body ();
    zmsg_t *msg = s_from_peer (mdp_client_request_new ("tickets.get", &body));
    CHECK (body == NULL);
    char err [128];
    mdp_msg_t *m = s_decode (msg, MDP_AT_BROKER, err, sizeof err);
    CHECK (m != NULL);
    CHECK_INT (m->kind, MDP_CLIENT_MSG);
    CHECK_STR (m->service, "tickets.get");
    CHECK_INT (zframe_size (m->sender), 5);
    CHECK_INT (zmsg_size (m->body), 3);
    CHECK (s_frame_eq (zmsg_first (m->body), "rid-1"));
    CHECK (s_frame_eq (zmsg_last (m->body), "{\"a\":1}"));
    mdp_msg_destroy (&m);
    CHECK (m == NULL);
}

TEST (test_client_request_with_empty_body_decodes_to_an_empty_body)
{
    zmsg_t *msg = s_from_peer (mdp_client_request_new ("mmi.status", NULL));
    mdp_msg_t *m = s_decode (msg, MDP_AT_BROKER, NULL, 0);
    CHECK (m != NULL);
    CHECK (m->body != NULL);
    CHECK_INT (zmsg_size (m->body), 0);
    mdp_msg_destroy (&m);
}

TEST (test_client_reply_round_trips_to_the_client)
{
    zframe_t *client = zframe_new ("\x00\xaa\xbb\xcc\xdd", 5);
    zmsg_t *body = s_body ();
    zmsg_t *msg = mdp_client_reply_new (client, "tickets.get", &body);
    //  The ROUTER strips the address; the client's DEALER sees the rest.
    zframe_t *address = zmsg_pop (msg);
    CHECK (zframe_eq (address, client));
    zframe_destroy (&address);
    mdp_msg_t *m = s_decode (msg, MDP_AT_CLIENT, NULL, 0);
    zframe_destroy (&client);
    CHECK (m != NULL);
    CHECK_INT (m->kind, MDP_CLIENT_MSG);
    CHECK_STR (m->service, "tickets.get");
    CHECK_INT (zmsg_size (m->body), 3);
    mdp_msg_destroy (&m);
}

TEST (test_ready_with_several_services_round_trips)
{
    const char *services [] = { "tickets.get", "tickets.list", "jobs.chunk" };
    zmsg_t *msg = s_from_peer (mdp_worker_ready_new (services, 3, 1, NULL));
    mdp_msg_t *m = s_decode (msg, MDP_AT_BROKER, NULL, 0);
    CHECK (m != NULL);
    CHECK_INT (m->kind, MDP_WORKER_MSG);
    CHECK_INT (m->command, MDPW_READY);
    CHECK_INT (m->services_n, 3);
    CHECK_STR (m->service, "tickets.get");
    CHECK_STR (m->services [0], "tickets.get");
    CHECK_STR (m->services [2], "jobs.chunk");
    mdp_msg_destroy (&m);
}

//  services [i] = "svc.i" for 64 services, written into names.
static void
s_64_services (char names [64][16], const char *services [64])
{
    for (int i = 0; i < 64; i++) {
        snprintf (names [i], 16, "svc.%d", i);
        services [i] = names [i];
    }
}

TEST (test_ready_with_64_services_is_accepted)
{
    char names [64][16];
    const char *services [64];
    s_64_services (names, services);
    zmsg_t *msg = s_from_peer (mdp_worker_ready_new (services, 64, 1, NULL));
    mdp_msg_t *m = s_decode (msg, MDP_AT_BROKER, NULL, 0);
    CHECK (m != NULL);
    CHECK_INT (m->services_n, 64);
    CHECK_STR (m->services [63], "svc.63");
    mdp_msg_destroy (&m);
}

TEST (test_ready_without_a_credit_frame_has_credit_1)
{
    const char *services [] = { "tickets.get" };
    mdp_msg_t *m = s_decode (s_from_peer (mdp_worker_ready_new (services, 1, 1, NULL)), MDP_AT_BROKER,
                             NULL, 0);
    CHECK (m != NULL);
    CHECK_INT (m->credit, 1);
    mdp_msg_destroy (&m);
    //  Credit 1 is the plain READY: no extra frame for a plain broker to misread.
    zmsg_t *msg = mdp_worker_ready_new (services, 1, 1, NULL);
    CHECK_INT (zmsg_size (msg), 4);
    zmsg_destroy (&msg);
}

TEST (test_ready_with_credit_round_trips_after_its_services)
{
    char names [64][16];
    const char *services [64];
    s_64_services (names, services);
    int credits [] = { 2, 16, MDP_CREDIT_MAX };
    for (size_t i = 0; i < sizeof credits / sizeof credits [0]; i++) {
        zmsg_t *msg = mdp_worker_ready_new (services, 64, credits [i], NULL);
        char expect [16];
        snprintf (expect, sizeof expect, "credit %d", credits [i]);
        CHECK (s_frame_eq (zmsg_last (msg), expect));
        char err [128] = "";
        mdp_msg_t *m = s_decode (s_from_peer (msg), MDP_AT_BROKER, err, sizeof err);
        CHECK (m != NULL);
        if (!m) {
            fprintf (stderr, "    credit %d: %s\n", credits [i], err);
            continue;
        }
        CHECK_INT (m->credit, credits [i]);
        CHECK_INT (m->services_n, 64);
        CHECK_STR (m->services [63], "svc.63");
        mdp_msg_destroy (&m);
    }
}

TEST (test_ready_encoder_refuses_a_credit_out_of_range)
{
    const char *services [] = { "tickets.get" };
    CHECK (mdp_worker_ready_new (services, 1, 0, NULL) == NULL);
    CHECK (mdp_worker_ready_new (services, 1, MDP_CREDIT_MAX + 1, NULL) == NULL);
}

TEST (test_decode_rejects_a_malformed_credit_frame)
{
    const char *bad [] = { "credit 0", "credit 65", "credit x", "credit 8 9", "credit ",
                           "credit 08", "credit -1", "credit +4", "credit 100", "credit 4 " };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        zmsg_t *msg = s_from_peer (s_msg (5, (const char *[]) {
            "", "MDPW01", "\x01", "tickets.get", bad [i] }));
        int rejected = s_rejects (msg, MDP_AT_BROKER);
        if (!rejected)
            fprintf (stderr, "    accepted: \"%s\"\n", bad [i]);
        CHECK (rejected);
    }
    //  A credit frame is not a service: alone, the READY names none.
    CHECK (s_rejects (s_from_peer (s_msg (4, (const char *[]) { "", "MDPW01", "\x01", "credit 4" })),
                      MDP_AT_BROKER));
    //  Only the last frame may be one.
    CHECK (s_rejects (s_from_peer (s_msg (5, (const char *[]) {
        "", "MDPW01", "\x01", "credit 4", "tickets.get" })), MDP_AT_BROKER));
    //  65 services are too many with a credit frame too.
    zmsg_t *msg = s_from_peer (s_msg (3, (const char *[]) { "", "MDPW01", "\x01" }));
    for (int i = 0; i < MDP_READY_SERVICES_MAX + 1; i++)
        zmsg_addstrf (msg, "svc.%d", i);
    zmsg_addstr (msg, "credit 4");
    CHECK (s_rejects (msg, MDP_AT_BROKER));
    //  "credit" alone is a service name like any other.
    mdp_msg_t *m = s_decode (s_from_peer (s_msg (4, (const char *[]) { "", "MDPW01", "\x01", "credit" })),
                             MDP_AT_BROKER, NULL, 0);
    CHECK (m != NULL && m->credit == 1 && streq (m->service, "credit"));
    mdp_msg_destroy (&m);
}

TEST (test_ready_with_a_name_round_trips_before_the_credit)
{
    const char *services [] = { "tickets.get", "jobs.chunk" };
    const char *names [] = { "w", "host-worker-1", "a.b_c:d@e/f-9",
        "0123456789012345678901234567890123456789012345678901234567890123" };
    for (size_t i = 0; i < sizeof names / sizeof names [0]; i++)
        for (int credit = 1; credit <= 8; credit += 7) {
            zmsg_t *msg = mdp_worker_ready_new (services, 2, credit, names [i]);
            //  "" MDPW01 0x01 two services, the name, and the credit frame above 1.
            CHECK_INT (zmsg_size (msg), 6 + (credit > 1));
            char expect [80];
            snprintf (expect, sizeof expect, "name %s", names [i]);
            zframe_t *frame = zmsg_first (msg);
            for (int k = 0; k < 5; k++)
                frame = zmsg_next (msg);
            CHECK (s_frame_eq (frame, expect));
            char err [128] = "";
            mdp_msg_t *m = s_decode (s_from_peer (msg), MDP_AT_BROKER, err, sizeof err);
            CHECK (m != NULL);
            if (!m) {
                fprintf (stderr, "    %s credit %d: %s\n", names [i], credit, err);
                continue;
            }
            CHECK_STR (m->name, names [i]);
            CHECK_INT (m->credit, credit);
            CHECK_INT (m->services_n, 2);
            CHECK_STR (m->services [1], "jobs.chunk");
            mdp_msg_destroy (&m);
        }
}

TEST (test_ready_without_a_name_frame_has_no_name)
{
    const char *services [] = { "tickets.get" };
    //  NULL and "" both mean no frame: the plain 7/MDP READY.
    zmsg_t *plain = mdp_worker_ready_new (services, 1, 1, "");
    CHECK_INT (zmsg_size (plain), 4);
    mdp_msg_t *m = s_decode (s_from_peer (plain), MDP_AT_BROKER, NULL, 0);
    CHECK (m != NULL && m->name [0] == 0);
    mdp_msg_destroy (&m);
    //  "name" alone is a service name like any other.
    m = s_decode (s_from_peer (s_msg (4, (const char *[]) { "", "MDPW01", "\x01", "name" })),
                  MDP_AT_BROKER, NULL, 0);
    CHECK (m != NULL && streq (m->service, "name") && m->name [0] == 0);
    mdp_msg_destroy (&m);
}

TEST (test_ready_encoder_refuses_a_bad_name)
{
    const char *services [] = { "tickets.get" };
    const char *bad [] = { "a b", "a=b", "a\"b", "caf\xc3\xa9", "a\tb", "a,b",
        "01234567890123456789012345678901234567890123456789012345678901234" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        zmsg_t *msg = mdp_worker_ready_new (services, 1, 4, bad [i]);
        if (msg)
            fprintf (stderr, "    encoded: \"%s\"\n", bad [i]);
        CHECK (msg == NULL);
        zmsg_destroy (&msg);
    }
}

//  A READY of services tickets.get then the frames extra (text), from a peer.
static zmsg_t *
s_ready_with (int n, const char **extra)
{
    zmsg_t *msg = s_from_peer (s_msg (4, (const char *[]) { "", "MDPW01", "\x01", "tickets.get" }));
    for (int i = 0; i < n; i++)
        zmsg_addstr (msg, extra [i]);
    return msg;
}

TEST (test_decode_rejects_a_malformed_name_frame)
{
    const char *bad [] = { "name ", "name  ", "name a b", "name a=b", "name a\"b", "name a\\b",
        "name caf\xc3\xa9", "name a\tb", "name \x7f", "name a,b", "name a ",
        "name 01234567890123456789012345678901234567890123456789012345678901234" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        for (int credit = 0; credit < 2; credit++) {
            char err [128] = "";
            zmsg_t *msg = s_ready_with (1 + credit, (const char *[]) { bad [i], "credit 4" });
            mdp_msg_t *m = s_decode (msg, MDP_AT_BROKER, err, sizeof err);
            if (m)
                fprintf (stderr, "    accepted: \"%s\"\n", bad [i]);
            CHECK (m == NULL && strstr (err, "name frame"));
            mdp_msg_destroy (&m);
        }
    //  A NUL inside the name, which a C string would cut short.
    zmsg_t *msg = s_ready_with (0, NULL);
    zmsg_addmem (msg, "name ab\0c", 9);
    CHECK (s_rejects (msg, MDP_AT_BROKER));
}

TEST (test_decode_rejects_a_name_frame_out_of_place)
{
    char err [128] = "";
    //  After the credit frame, twice, or before a service: each is refused with the order.
    const char *cases [][3] = {
        { "credit 4", "name w1", NULL },
        { "name w1", "name w2", NULL },
        { "name w1", "name w2", "credit 4" },
        { "credit 4", "credit 4", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        int n = cases [i][2] ? 3 : 2;
        err [0] = 0;
        mdp_msg_t *m = s_decode (s_ready_with (n, cases [i]), MDP_AT_BROKER, err, sizeof err);
        if (m || !strstr (err, "out of order"))
            fprintf (stderr, "    case %zu: %s\n", i, m ? "accepted" : err);
        CHECK (m == NULL && strstr (err, "out of order"));
        mdp_msg_destroy (&m);
    }
    zmsg_t *msg = s_from_peer (s_msg (5, (const char *[]) { "", "MDPW01", "\x01", "name w1",
                                                          "tickets.get" }));
    CHECK (s_rejects (msg, MDP_AT_BROKER));
    //  A name frame is not a service: alone, the READY names none.
    msg = s_from_peer (s_msg (4, (const char *[]) { "", "MDPW01", "\x01", "name w1" }));
    err [0] = 0;
    mdp_msg_t *m = s_decode (msg, MDP_AT_BROKER, err, sizeof err);
    CHECK (m == NULL && strstr (err, "1 to 64 services"));
    mdp_msg_destroy (&m);
}

TEST (test_worker_names_are_checked_for_length_and_characters)
{
    CHECK (mdp_name_valid ("a", 1));
    CHECK (mdp_name_valid (MDP_NAME_CHARS, 64));
    CHECK (!mdp_name_valid ("", 0));
    CHECK (!mdp_name_valid (NULL, 3));
    CHECK (!mdp_name_valid ("a\0b", 3));
    char long_name [MDP_NAME_MAX + 2];
    memset (long_name, 'x', sizeof long_name);
    CHECK (mdp_name_valid (long_name, MDP_NAME_MAX));
    CHECK (!mdp_name_valid (long_name, MDP_NAME_MAX + 1));
    for (int c = 1; c < 256; c++) {
        char one = (char) c;
        CHECK (mdp_name_valid (&one, 1) == (strchr (MDP_NAME_CHARS, c) != NULL));
    }
}

TEST (test_decode_at_broker_names_the_sender_of_a_refused_ready_only)
{
    char err [128] = "";
    zframe_t *refused = NULL;
    zmsg_t *msg = s_from_peer (s_msg (5, (const char *[]) {
        "", "MDPW01", "\x01", "tickets.get", "credit 65" }));
    CHECK (mdp_msg_decode_at_broker (&msg, &refused, err, sizeof err) == NULL);
    CHECK (msg == NULL);
    CHECK (*err != 0);
    CHECK (refused != NULL && zframe_size (refused) == 5);
    zframe_destroy (&refused);
    //  Anything else that fails is just dropped: no sender to answer.
    msg = s_from_peer (s_msg (4, (const char *[]) { "", "MDPW01", "\x04", "x" }));
    CHECK (mdp_msg_decode_at_broker (&msg, &refused, err, sizeof err) == NULL);
    CHECK (refused == NULL);
    msg = s_from_peer (s_msg (3, (const char *[]) { "", "MDPC01", "bad service" }));
    CHECK (mdp_msg_decode_at_broker (&msg, &refused, err, sizeof err) == NULL);
    CHECK (refused == NULL);
    //  A good READY decodes as with mdp_msg_decode.
    msg = s_from_peer (s_msg (5, (const char *[]) { "", "MDPW01", "\x01", "a", "credit 3" }));
    mdp_msg_t *m = mdp_msg_decode_at_broker (&msg, &refused, err, sizeof err);
    CHECK (m != NULL && m->credit == 3 && m->services_n == 1 && refused == NULL);
    mdp_msg_destroy (&m);
}

TEST (test_request_round_trips_to_the_worker)
{
    zframe_t *worker = zframe_new ("W1", 2);
    zframe_t *client = zframe_new ("\x00\x11\x22\x33\x44", 5);
    zmsg_t *body = s_body ();
    zmsg_t *msg = mdp_worker_request_new (worker, client, NULL, &body);
    CHECK (body == NULL);
    zframe_t *address = zmsg_pop (msg);
    CHECK (zframe_eq (address, worker));
    zframe_destroy (&address);
    mdp_msg_t *m = s_decode (msg, MDP_AT_WORKER, NULL, 0);
    CHECK (m != NULL);
    CHECK_INT (m->command, MDPW_REQUEST);
    CHECK (zframe_eq (m->client, client));
    CHECK_INT (zmsg_size (m->body), 3);
    CHECK (s_frame_eq (zmsg_first (m->body), "rid-1"));
    mdp_msg_destroy (&m);
    zframe_destroy (&worker);
    zframe_destroy (&client);
}

TEST (test_request_with_a_service_frame_round_trips_to_a_multi_service_worker)
{
    zframe_t *client = zframe_new ("\x00\x11\x22\x33\x44", 5);
    zmsg_t *body = s_body ();
    zmsg_t *msg = mdp_worker_request_new (NULL, client, "tickets.get", &body);
    mdp_msg_t *m = s_decode (msg, MDP_AT_WORKER, NULL, 0);
    CHECK (m != NULL);
    CHECK_INT (zmsg_size (m->body), 4);
    char err [128] = "";
    CHECK_INT (mdp_request_take_service (m, err, sizeof err), 0);
    CHECK_STR (m->service, "tickets.get");
    CHECK_STR (err, "");
    CHECK_INT (zmsg_size (m->body), 3);         //  the body as the client sent it
    CHECK (s_frame_eq (zmsg_first (m->body), "rid-1"));
    mdp_msg_destroy (&m);
    zframe_destroy (&client);
}

TEST (test_take_service_rejects_a_missing_or_invalid_service_frame)
{
    const char *bad [] = { "", "bad service", "caf\xc3\xa9" };
    zframe_t *client = zframe_new ("C", 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        zmsg_t *body = s_body ();
        zmsg_t *msg = mdp_worker_request_new (NULL, client, bad [i], &body);
        mdp_msg_t *m = s_decode (msg, MDP_AT_WORKER, NULL, 0);
        CHECK (m != NULL);
        char err [128] = "";
        CHECK_INT (mdp_request_take_service (m, err, sizeof err), -1);
        CHECK (err [0] != 0);
        CHECK_STR (m->service, "");
        CHECK_INT (zmsg_size (m->body), 3);     //  the bad frame is gone all the same
        mdp_msg_destroy (&m);
    }
    //  No body at all: nothing to take.
    zmsg_t *empty = zmsg_new ();
    mdp_msg_t *m = s_decode (mdp_worker_request_new (NULL, client, NULL, &empty), MDP_AT_WORKER, NULL, 0);
    CHECK (m != NULL);
    char err [128] = "";
    CHECK_INT (mdp_request_take_service (m, err, sizeof err), -1);
    CHECK_STR (err, "REQUEST has no service frame");
    mdp_msg_destroy (&m);
    //  A name one byte too long.
    char name [MDP_SERVICE_MAX + 2];
    memset (name, 's', sizeof name - 1);
    name [sizeof name - 1] = 0;
    zmsg_t *body = s_body ();
    m = s_decode (mdp_worker_request_new (NULL, client, name, &body), MDP_AT_WORKER, NULL, 0);
    CHECK (m != NULL);
    CHECK_INT (mdp_request_take_service (m, NULL, 0), -1);
    mdp_msg_destroy (&m);
    zframe_destroy (&client);
}

TEST (test_reply_round_trips_to_the_broker)
{
    zframe_t *client = zframe_new ("\x00\x11\x22\x33\x44", 5);
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, "rid-1");
    zmsg_addstr (body, "200");
    zmsg_addstr (body, "{}");
    zmsg_t *msg = s_from_peer (mdp_worker_reply_new (client, &body));
    mdp_msg_t *m = s_decode (msg, MDP_AT_BROKER, NULL, 0);
    CHECK (m != NULL);
    CHECK_INT (m->command, MDPW_REPLY);
    CHECK (zframe_eq (m->client, client));
    CHECK_INT (zmsg_size (m->body), 3);
    CHECK (s_frame_eq (zmsg_last (m->body), "{}"));
    mdp_msg_destroy (&m);
    zframe_destroy (&client);
}

//  True when a and b hold the same frames; prints the first difference.
static bool
s_same_frames (zmsg_t *a, zmsg_t *b)
{
    if (!a || !b || zmsg_size (a) != zmsg_size (b)) {
        fprintf (stderr, "  expected %zu frames, got %zu\n", a ? zmsg_size (a) : 0, b ? zmsg_size (b) : 0);
        return false;
    }
    zframe_t *fa = zmsg_first (a), *fb = zmsg_first (b);
    for (int i = 0; fa; i++, fa = zmsg_next (a), fb = zmsg_next (b))
        if (!zframe_eq (fa, fb) || zframe_more (fa) != zframe_more (fb)) {
            fprintf (stderr, "  frame %d differs\n", i);
            return false;
        }
    return true;
}

//  mdp_worker_reply_send puts on the wire what mdp_worker_reply_new + zmsg_send would,
//  with a body and without one.
TEST (test_reply_send_sends_what_reply_new_builds)
{
    zsock_t *router = zsock_new_router ("inproc://test-mdp-reply-send");
    zsock_t *dealer = zsock_new_dealer (">inproc://test-mdp-reply-send");
    zframe_t *client = zframe_new ("\x00\x11\x22\x33\x44", 5);
    for (int with_body = 1; with_body >= 0; with_body--) {
        zmsg_t *body = with_body ? s_body () : NULL;
        zmsg_t *built = mdp_worker_reply_new (client, &body);
        zmsg_send (&built, dealer);
        zmsg_t *want = mdp_recv (router, 1000);
        body = with_body ? s_body () : NULL;
        CHECK_INT (mdp_worker_reply_send (client, &body, dealer), 0);
        CHECK (body == NULL);
        zmsg_t *got = mdp_recv (router, 1000);
        bool same = s_same_frames (want, got);
        zmsg_destroy (&want);
        zmsg_destroy (&got);
        CHECK (same);
    }
    zframe_destroy (&client);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
}

//  Whether the head (sent on out already, rc its result) followed by a copy of body's
//  frames arrives on in as the message an encoder built (sent whole through the same
//  pair, so that both carry the wire's more flags), the ROUTER's address frame included.
static bool
s_head_is (zsock_t *out, zsock_t *in, int rc, zmsg_t *body, zmsg_t **built_p)
{
    if (body) {
        zframe_t *last = zmsg_last (body);
        for (zframe_t *f = zmsg_first (body); f; f = zmsg_next (body))
            zmq_send (zsock_resolve (out), zframe_data (f), zframe_size (f),
                      f == last ? 0 : ZMQ_SNDMORE);
    }
    zmsg_t *got = rc == 0 ? mdp_recv (in, 1000) : NULL;
    zmsg_send (built_p, out);
    zmsg_t *want = mdp_recv (in, 1000);
    bool same = s_same_frames (want, got);
    zmsg_destroy (&want);
    zmsg_destroy (&got);
    return same;
}

TEST (test_send_heads_send_what_request_new_and_client_reply_new_build)
{
    zsock_t *in = zsock_new_pair ("@inproc://test-mdp-send-head");
    zsock_t *out = zsock_new_pair (">inproc://test-mdp-send-head");
    void *handle = zsock_resolve (out);
    zframe_t *worker = zframe_new ("W1", 2);
    zframe_t *client = zframe_new ("\x00\x11\x22\x33\x44", 5);
    zmsg_t *body = s_body (), *copy = s_body ();
    zmsg_t *built = mdp_worker_request_new (worker, client, NULL, &copy);
    int rc = mdp_worker_request_send_head (handle, worker, client, NULL, true);
    CHECK (s_head_is (out, in, rc, body, &built));
    copy = s_body ();
    built = mdp_worker_request_new (worker, client, "tickets.get", &copy);
    rc = mdp_worker_request_send_head (handle, worker, client, "tickets.get", true);
    CHECK (s_head_is (out, in, rc, body, &built));
    copy = s_body ();
    built = mdp_client_reply_new (client, "tickets.get", &copy);
    rc = mdp_client_reply_send_head (handle, client, "tickets.get", true);
    CHECK (s_head_is (out, in, rc, body, &built));
    //  Without a body, the head ends the message.
    built = mdp_client_reply_new (client, "mmi.x", NULL);
    rc = mdp_client_reply_send_head (handle, client, "mmi.x", false);
    CHECK (s_head_is (out, in, rc, NULL, &built));
    zmsg_destroy (&body);
    zframe_destroy (&worker);
    zframe_destroy (&client);
    zsock_destroy (&out);
    zsock_destroy (&in);
}

TEST (test_heartbeat_and_disconnect_round_trip_both_ways)
{
    mdpw_command_t commands [] = { MDPW_HEARTBEAT, MDPW_DISCONNECT };
    for (int i = 0; i < 2; i++) {
        //  worker -> broker
        zmsg_t *msg = s_from_peer (mdp_worker_command_new (NULL, commands [i]));
        mdp_msg_t *m = s_decode (msg, MDP_AT_BROKER, NULL, 0);
        CHECK (m != NULL);
        CHECK_INT (m->command, commands [i]);
        CHECK_INT (zframe_size (m->sender), 5);
        mdp_msg_destroy (&m);
        //  broker -> worker
        zframe_t *worker = zframe_new ("W", 1);
        msg = mdp_worker_command_new (worker, commands [i]);
        zframe_t *address = zmsg_pop (msg);
        CHECK (zframe_eq (address, worker));
        zframe_destroy (&address);
        zframe_destroy (&worker);
        m = s_decode (msg, MDP_AT_WORKER, NULL, 0);
        CHECK (m != NULL);
        CHECK_INT (m->command, commands [i]);
        mdp_msg_destroy (&m);
    }
}

TEST (test_service_names_are_checked_for_length_and_characters)
{
    char name [300];
    memset (name, 'a', sizeof name);
    CHECK (mdp_service_valid (name, 255));
    CHECK (!mdp_service_valid (name, 256));
    CHECK (!mdp_service_valid (name, 0));
    CHECK (!mdp_service_valid ("a b", 3));
    CHECK (!mdp_service_valid ("a\x01", 2));
    CHECK (!mdp_service_valid ("a\x7f", 2));
    CHECK (!mdp_service_valid ("\xc3\xa9", 2));
    CHECK (!mdp_service_valid (NULL, 3));
    CHECK (mdp_service_valid ("tickets.get", 11));
}

//  --------------------------------------------------------------------------
//  Malformed input

TEST (test_decode_rejects_a_null_message)
{
    zmsg_t *msg = NULL;
    char err [64] = "";
    CHECK (mdp_msg_decode (&msg, MDP_AT_BROKER, err, sizeof err) == NULL);
    CHECK (err [0] != 0);
}

TEST (test_decode_rejects_truncated_messages)
{
    CHECK (s_rejects (zmsg_new (), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (zmsg_new ()), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (1, (const char *[]) { "" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (2, (const char *[]) { "", "MDPC01" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (2, (const char *[]) { "", "MDPW01" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "MDPW01", "\x03" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (4, (const char *[]) { "", "MDPW01", "\x03", "C" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_msg (3, (const char *[]) { "", "MDPW01", "\x02" }), MDP_AT_WORKER));
}

TEST (test_decode_rejects_an_empty_sender_routing_id)
{
    zmsg_t *msg = s_msg (3, (const char *[]) { "", "MDPC01", "svc" });
    zmsg_pushmem (msg, "", 0);
    CHECK (s_rejects (msg, MDP_AT_BROKER));
}

TEST (test_decode_rejects_a_missing_delimiter)
{
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "MDPC01", "svc", "x" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "x", "MDPC01", "svc" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_msg (2, (const char *[]) { "MDPW01", "\x04" }), MDP_AT_WORKER));
}

TEST (test_decode_rejects_a_wrong_header)
{
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "MDPC02", "svc" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "mdpw01", "\x04" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "MDPW0", "\x04" })), MDP_AT_BROKER));
}

TEST (test_decode_rejects_a_bad_command_byte)
{
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "MDPW01", "\x09" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "MDPW01", "\x04\x04" })), MDP_AT_BROKER));
    zmsg_t *msg = s_from_peer (s_msg (2, (const char *[]) { "", "MDPW01" }));
    zmsg_addmem (msg, "\x00", 1);
    CHECK (s_rejects (msg, MDP_AT_BROKER));
    msg = s_from_peer (s_msg (2, (const char *[]) { "", "MDPW01" }));
    zmsg_addmem (msg, "", 0);
    CHECK (s_rejects (msg, MDP_AT_BROKER));
}

TEST (test_decode_rejects_commands_travelling_the_wrong_way)
{
    //  REQUEST from a worker, REPLY and READY to a worker, worker messages to a client,
    //  client messages to a worker.
    CHECK (s_rejects (s_from_peer (s_msg (5, (const char *[]) { "", "MDPW01", "\x02", "C", "" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_msg (5, (const char *[]) { "", "MDPW01", "\x03", "C", "" }), MDP_AT_WORKER));
    CHECK (s_rejects (s_msg (4, (const char *[]) { "", "MDPW01", "\x01", "svc" }), MDP_AT_WORKER));
    CHECK (s_rejects (s_msg (3, (const char *[]) { "", "MDPW01", "\x04" }), MDP_AT_CLIENT));
    CHECK (s_rejects (s_msg (3, (const char *[]) { "", "MDPC01", "svc" }), MDP_AT_WORKER));
}

TEST (test_decode_rejects_an_oversize_service_name)
{
    char name [257];
    memset (name, 's', 256);
    name [256] = 0;
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "MDPC01", name })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (4, (const char *[]) { "", "MDPW01", "\x01", name })), MDP_AT_BROKER));
    name [255] = 0;
    zmsg_t *msg = s_from_peer (s_msg (3, (const char *[]) { "", "MDPC01", name }));
    mdp_msg_t *m = s_decode (msg, MDP_AT_BROKER, NULL, 0);
    CHECK (m != NULL);
    CHECK_INT (strlen (m->service), 255);
    mdp_msg_destroy (&m);
}

TEST (test_decode_rejects_a_non_printable_or_empty_service_name)
{
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "MDPC01", "bad\nname" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "MDPC01", "bad name" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "MDPC01", "" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (5, (const char *[]) { "", "MDPW01", "\x01", "ok", "b\x01" })), MDP_AT_BROKER));
    zmsg_t *msg = s_from_peer (s_msg (2, (const char *[]) { "", "MDPC01" }));
    zmsg_addmem (msg, "a\0b", 3);
    CHECK (s_rejects (msg, MDP_AT_BROKER));
}

TEST (test_decode_rejects_too_many_body_frames)
{
    zmsg_t *msg = s_from_peer (s_msg (3, (const char *[]) { "", "MDPC01", "svc" }));
    for (int i = 0; i < MDP_BODY_FRAMES_MAX + 1; i++)
        zmsg_addstr (msg, "f");
    CHECK (s_rejects (msg, MDP_AT_BROKER));

    msg = s_from_peer (s_msg (5, (const char *[]) { "", "MDPW01", "\x03", "C", "" }));
    for (int i = 0; i < MDP_BODY_FRAMES_MAX + 1; i++)
        zmsg_addstr (msg, "f");
    CHECK (s_rejects (msg, MDP_AT_BROKER));

    msg = s_from_peer (s_msg (3, (const char *[]) { "", "MDPC01", "svc" }));
    for (int i = 0; i < MDP_BODY_FRAMES_MAX; i++)
        zmsg_addstr (msg, "f");
    mdp_msg_t *m = s_decode (msg, MDP_AT_BROKER, NULL, 0);
    CHECK (m != NULL);
    CHECK_INT (zmsg_size (m->body), MDP_BODY_FRAMES_MAX);
    mdp_msg_destroy (&m);
}

TEST (test_decode_rejects_ready_with_0_or_65_services)
{
    CHECK (s_rejects (s_from_peer (s_msg (3, (const char *[]) { "", "MDPW01", "\x01" })), MDP_AT_BROKER));
    zmsg_t *msg = s_from_peer (s_msg (3, (const char *[]) { "", "MDPW01", "\x01" }));
    for (int i = 0; i < MDP_READY_SERVICES_MAX + 1; i++)
        zmsg_addstrf (msg, "svc.%d", i);
    CHECK (s_rejects (msg, MDP_AT_BROKER));
}

TEST (test_decode_rejects_reply_without_client_or_delimiter)
{
    //  empty client address
    CHECK (s_rejects (s_from_peer (s_msg (5, (const char *[]) { "", "MDPW01", "\x03", "", "" })), MDP_AT_BROKER));
    //  no empty frame after the client
    CHECK (s_rejects (s_from_peer (s_msg (5, (const char *[]) { "", "MDPW01", "\x03", "C", "x" })), MDP_AT_BROKER));
    //  client address over 255 bytes
    char big [300];
    memset (big, 'c', 299);
    big [299] = 0;
    CHECK (s_rejects (s_from_peer (s_msg (5, (const char *[]) { "", "MDPW01", "\x03", big, "" })), MDP_AT_BROKER));
}

TEST (test_decode_rejects_trailing_frames_after_heartbeat_or_disconnect)
{
    CHECK (s_rejects (s_from_peer (s_msg (4, (const char *[]) { "", "MDPW01", "\x04", "x" })), MDP_AT_BROKER));
    CHECK (s_rejects (s_from_peer (s_msg (4, (const char *[]) { "", "MDPW01", "\x05", "x" })), MDP_AT_BROKER));
}

TEST (test_decode_survives_random_garbage)
{
    //  Deterministic pseudo-random frames: the decoder must never crash or leak.
    uint32_t state = 12345;
    for (int round = 0; round < 2000; round++) {
        zmsg_t *msg = zmsg_new ();
        int frames = (int) (state % 8);
        for (int f = 0; f < frames; f++) {
            unsigned char buf [16];
            state = state * 1103515245 + 12345;
            size_t len = (state >> 16) % sizeof buf;
            for (size_t i = 0; i < len; i++) {
                state = state * 1103515245 + 12345;
                buf [i] = (unsigned char) (state >> 16);
            }
            //  bias towards valid-looking headers so deeper paths are reached
            if (f == 1 && len % 3 == 0)
                zmsg_addmem (msg, "", 0);
            else
            if (f == 2 && len % 2 == 0)
                zmsg_addstr (msg, (len % 4) ? "MDPW01" : "MDPC01");
            else
                zmsg_addmem (msg, buf, len);
        }
        state = state * 1103515245 + 12345;
        mdp_msg_t *m = s_decode (msg, (mdp_side_t) (state % 3), NULL, 0);
        if (m && m->kind == MDP_CLIENT_MSG)
            CHECK (mdp_service_valid (m->service, strlen (m->service)));
        mdp_msg_destroy (&m);
    }
    CHECK_INT (s_not_taken, 0);
}

TEST_MAIN ("mdp",
    T (test_client_request_round_trips_through_the_broker_side),
    T (test_client_request_with_empty_body_decodes_to_an_empty_body),
    T (test_client_reply_round_trips_to_the_client),
    T (test_ready_with_several_services_round_trips),
    T (test_ready_with_64_services_is_accepted),
    T (test_ready_without_a_credit_frame_has_credit_1),
    T (test_ready_with_credit_round_trips_after_its_services),
    T (test_ready_encoder_refuses_a_credit_out_of_range),
    T (test_decode_rejects_a_malformed_credit_frame),
    T (test_ready_with_a_name_round_trips_before_the_credit),
    T (test_ready_without_a_name_frame_has_no_name),
    T (test_ready_encoder_refuses_a_bad_name),
    T (test_decode_rejects_a_malformed_name_frame),
    T (test_decode_rejects_a_name_frame_out_of_place),
    T (test_worker_names_are_checked_for_length_and_characters),
    T (test_decode_at_broker_names_the_sender_of_a_refused_ready_only),
    T (test_request_round_trips_to_the_worker),
    T (test_request_with_a_service_frame_round_trips_to_a_multi_service_worker),
    T (test_take_service_rejects_a_missing_or_invalid_service_frame),
    T (test_reply_round_trips_to_the_broker),
    T (test_reply_send_sends_what_reply_new_builds),
    T (test_send_heads_send_what_request_new_and_client_reply_new_build),
    T (test_heartbeat_and_disconnect_round_trip_both_ways),
    T (test_service_names_are_checked_for_length_and_characters),
    T (test_decode_rejects_a_null_message),
    T (test_decode_rejects_truncated_messages),
    T (test_decode_rejects_an_empty_sender_routing_id),
    T (test_decode_rejects_a_missing_delimiter),
    T (test_decode_rejects_a_wrong_header),
    T (test_decode_rejects_a_bad_command_byte),
    T (test_decode_rejects_commands_travelling_the_wrong_way),
    T (test_decode_rejects_an_oversize_service_name),
    T (test_decode_rejects_a_non_printable_or_empty_service_name),
    T (test_decode_rejects_too_many_body_frames),
    T (test_decode_rejects_ready_with_0_or_65_services),
    T (test_decode_rejects_reply_without_client_or_delimiter),
    T (test_decode_rejects_trailing_frames_after_heartbeat_or_disconnect),
    T (test_decode_survives_random_garbage))
