/*  fuzz_mdp: the body of the three 7/MDP harnesses (fuzz_mdp_broker.c, _client.c,
    _worker.c), one per side, since each side expects different frames. The input is
    split into frames (fuzz_frames.h) and decoded as FUZZ_MDP_SIDE reads it; a message
    the decoder accepts must hold only what the limits allow and survive a round trip
    through the encoders unchanged.  */
#ifndef TESTS_FUZZ_MDP_H
#define TESTS_FUZZ_MDP_H

#include "../../proto/mdp.h"
#include "fuzz_frames.h"

static void
s_check_limits (mdp_msg_t *m, mdp_side_t side)
{
    FUZZ_CHECK (m->kind == MDP_CLIENT_MSG || m->kind == MDP_WORKER_MSG);
    FUZZ_CHECK ((side == MDP_AT_BROKER) == (m->sender != NULL));
    if (m->sender)
        FUZZ_CHECK (zframe_size (m->sender) >= 1 && zframe_size (m->sender) <= MDP_ADDRESS_MAX);
    if (m->client)
        FUZZ_CHECK (zframe_size (m->client) >= 1 && zframe_size (m->client) <= MDP_ADDRESS_MAX);
    if (m->body)
        FUZZ_CHECK (zmsg_size (m->body) <= MDP_BODY_FRAMES_MAX);
    if (m->kind == MDP_CLIENT_MSG || m->command == MDPW_READY)
        FUZZ_CHECK (mdp_service_valid (m->service, strlen (m->service)));
    if (m->kind == MDP_CLIENT_MSG)
        FUZZ_CHECK (m->body != NULL);
    if (m->command == MDPW_READY) {
        FUZZ_CHECK (m->services_n >= 1 && m->services_n <= MDP_READY_SERVICES_MAX);
        FUZZ_CHECK (m->credit >= 1 && m->credit <= MDP_CREDIT_MAX);
        FUZZ_CHECK (strcmp (m->services [0], m->service) == 0);
        for (size_t i = 0; i < m->services_n; i++)
            FUZZ_CHECK (mdp_service_valid (m->services [i], strlen (m->services [i])));
        FUZZ_CHECK (!*m->name || mdp_name_valid (m->name, strlen (m->name)));
    }
    if (m->command == MDPW_REQUEST || m->command == MDPW_REPLY)
        FUZZ_CHECK (m->client != NULL && m->body != NULL);
}

//  Encodes m again with the encoders its peer would use.
static zmsg_t *
s_encode (mdp_msg_t *m)
{
    zmsg_t *body = m->body ? zmsg_dup (m->body) : NULL;
    zmsg_t *msg = NULL;
    if (m->kind == MDP_CLIENT_MSG)
        msg = mdp_client_request_new (m->service, &body);
    else
    switch (m->command) {
        case MDPW_READY:
            msg = mdp_worker_ready_new ((const char *const *) m->services, m->services_n,
                                        m->credit, m->name);
            break;
        case MDPW_REQUEST:
            msg = mdp_worker_request_new (NULL, m->client, NULL, &body);
            break;
        case MDPW_REPLY:
            msg = mdp_worker_reply_new (m->client, &body);
            break;
        default:
            msg = mdp_worker_command_new (NULL, (mdpw_command_t) m->command);
    }
    zmsg_destroy (&body);
    if (m->sender)
        zmsg_prepend (msg, &(zframe_t *) { zframe_dup (m->sender) });
    return msg;
}

static void
s_check_same (mdp_msg_t *a, mdp_msg_t *b)
{
    FUZZ_CHECK (a->kind == b->kind && a->command == b->command);
    FUZZ_CHECK (strcmp (a->service, b->service) == 0);
    FUZZ_CHECK (a->services_n == b->services_n);
    FUZZ_CHECK (a->credit == b->credit);
    FUZZ_CHECK (strcmp (a->name, b->name) == 0);
    for (size_t i = 0; i < a->services_n; i++)
        FUZZ_CHECK (strcmp (a->services [i], b->services [i]) == 0);
    FUZZ_CHECK ((a->sender == NULL) == (b->sender == NULL));
    if (a->sender)
        FUZZ_CHECK (fuzz_frame_eq (a->sender, b->sender));
    FUZZ_CHECK ((a->client == NULL) == (b->client == NULL));
    if (a->client)
        FUZZ_CHECK (fuzz_frame_eq (a->client, b->client));
    FUZZ_CHECK ((a->body == NULL) == (b->body == NULL));
    if (a->body)
        FUZZ_CHECK (fuzz_msg_eq (a->body, b->body));
}

//  A REQUEST as a worker that named several services reads it: taking the service frame
//  either fails with a reason, or yields a valid name that encodes back to the same body.
static void
s_check_take_service (mdp_msg_t *m)
{
    zmsg_t *body = zmsg_dup (m->body);
    char err [256] = "";
    if (mdp_request_take_service (m, err, sizeof err)) {
        FUZZ_CHECK (err [0] != 0 && m->service [0] == 0);
        zmsg_destroy (&body);
        return;
    }
    FUZZ_CHECK (mdp_service_valid (m->service, strlen (m->service)));
    zmsg_t *rest = zmsg_dup (m->body);
    zmsg_t *msg = mdp_worker_request_new (NULL, m->client, m->service, &rest);
    mdp_msg_t *again = mdp_msg_decode (&msg, MDP_AT_WORKER, err, sizeof err);
    FUZZ_CHECK (again != NULL && fuzz_msg_eq (again->body, body));
    mdp_msg_destroy (&again);
    zmsg_destroy (&body);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zmsg_t *msg = fuzz_frames (data, size);
    char err [256] = "";
    mdp_msg_t *m = mdp_msg_decode (&msg, FUZZ_MDP_SIDE, err, sizeof err);
    FUZZ_CHECK (msg == NULL);                   //  the decoder always takes the message
    if (!m) {
        FUZZ_CHECK (err [0] != 0);              //  a rejection always says why
        return 0;
    }
    s_check_limits (m, FUZZ_MDP_SIDE);
    zmsg_t *again = s_encode (m);
    mdp_msg_t *m2 = mdp_msg_decode (&again, FUZZ_MDP_SIDE, err, sizeof err);
    FUZZ_CHECK (m2 != NULL);
    s_check_same (m, m2);
    if (m->command == MDPW_REQUEST)
        s_check_take_service (m);
    mdp_msg_destroy (&m2);
    mdp_msg_destroy (&m);
    return 0;
}

#endif
