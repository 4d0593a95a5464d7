/*  mdp: 7/MDP and 8/MMI codec. Decoders take whatever arrived off the wire and either
    return a fully checked message or NULL with a reason; they never abort.  */
#include "mdp.h"
#include "../common/curve.h"
#include "../common/log.h"

#include <stdarg.h>
#include <string.h>

static mdp_msg_t *
s_fail (mdp_msg_t *self, zmsg_t *msg, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err, errlen, fmt, ap);
        va_end (ap);
    }
    mdp_msg_destroy (&self);
    zmsg_destroy (&msg);
    return NULL;
}

static bool
s_frame_is (zframe_t *frame, const char *text)
{
    size_t len = strlen (text);
    return frame && zframe_size (frame) == len && memcmp (zframe_data (frame), text, len) == 0;
}

bool
mdp_service_valid (const char *name, size_t len)
{
    if (!name || len == 0 || len > MDP_SERVICE_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) name [i] <= 0x20 || (unsigned char) name [i] >= 0x7f)
            return false;
    return true;
}

//  Copies a service frame into dst (MDP_SERVICE_MAX + 1 bytes) after checking it.
static int
s_take_service (zframe_t *frame, char *dst)
{
    if (!frame || !mdp_service_valid ((const char *) zframe_data (frame), zframe_size (frame)))
        return -1;
    memcpy (dst, zframe_data (frame), zframe_size (frame));
    dst [zframe_size (frame)] = 0;
    return 0;
}

static bool
s_address_valid (zframe_t *frame)
{
    return frame && zframe_size (frame) > 0 && zframe_size (frame) <= MDP_ADDRESS_MAX;
}

//  The remaining frames become the body; an empty body is an empty zmsg.
static int
s_take_body (mdp_msg_t *self, zmsg_t *msg)
{
    if (zmsg_size (msg) > MDP_BODY_FRAMES_MAX)
        return -1;
    self->body = zmsg_new ();
    zframe_t *frame;
    while ((frame = zmsg_pop (msg)))
        zmsg_append (self->body, &frame);
    return 0;
}

//  Pops the next frame; true when it was the empty delimiter frame.
static bool
s_take_delimiter (zmsg_t *msg)
{
    zframe_t *frame = zmsg_pop (msg);
    bool empty = frame && zframe_size (frame) == 0;
    zframe_destroy (&frame);
    return empty;
}

//  The frames left are the body: the last step of every message that carries one.
static mdp_msg_t *
s_finish_body (mdp_msg_t *self, zmsg_t *msg, char *err, size_t errlen)
{
    if (s_take_body (self, msg))
        return s_fail (self, msg, err, errlen, "body has more than %d frames", MDP_BODY_FRAMES_MAX);
    zmsg_destroy (&msg);
    return self;
}

//  After "MDPC01": service body... The message is the client's request or the broker's reply.
static mdp_msg_t *
s_decode_client (mdp_msg_t *self, zmsg_t *msg, char *err, size_t errlen)
{
    self->kind = MDP_CLIENT_MSG;
    zframe_t *frame = zmsg_pop (msg);
    int rc = s_take_service (frame, self->service);
    zframe_destroy (&frame);
    if (rc)
        return s_fail (self, msg, err, errlen, "missing or invalid service name");
    return s_finish_body (self, msg, err, errlen);
}

//  READY's frames after the command: 1..MDP_READY_SERVICES_MAX service names.
static mdp_msg_t *
s_decode_ready (mdp_msg_t *self, zmsg_t *msg, char *err, size_t errlen)
{
    size_t n = zmsg_size (msg);
    if (n == 0 || n > MDP_READY_SERVICES_MAX)
        return s_fail (self, msg, err, errlen, "READY must name 1 to %d services",
                       MDP_READY_SERVICES_MAX);
    self->services = (char **) zmalloc (n * sizeof (char *));
    zframe_t *frame;
    while ((frame = zmsg_pop (msg))) {
        char name [MDP_SERVICE_MAX + 1];
        int rc = s_take_service (frame, name);
        zframe_destroy (&frame);
        if (rc)
            return s_fail (self, msg, err, errlen, "READY names an invalid service");
        self->services [self->services_n++] = strdup (name);
    }
    strcpy (self->service, self->services [0]);
    zmsg_destroy (&msg);
    return self;
}

//  REQUEST's and REPLY's frames after the command: client-address "" body...
static mdp_msg_t *
s_decode_envelope (mdp_msg_t *self, zmsg_t *msg, char *err, size_t errlen)
{
    self->client = zmsg_pop (msg);
    if (!s_address_valid (self->client))
        return s_fail (self, msg, err, errlen, "missing client address");
    if (!s_take_delimiter (msg))
        return s_fail (self, msg, err, errlen, "no empty frame after the client address");
    return s_finish_body (self, msg, err, errlen);
}

//  After "MDPW01": the command byte and its frames, each command only the way it travels.
static mdp_msg_t *
s_decode_worker (mdp_msg_t *self, zmsg_t *msg, bool from_worker, char *err, size_t errlen)
{
    self->kind = MDP_WORKER_MSG;
    zframe_t *frame = zmsg_pop (msg);
    if (!frame || zframe_size (frame) != 1) {
        zframe_destroy (&frame);
        return s_fail (self, msg, err, errlen, "command frame is not one byte");
    }
    self->command = zframe_data (frame) [0];
    zframe_destroy (&frame);
    switch (self->command) {
        case MDPW_READY:
            if (!from_worker)
                return s_fail (self, msg, err, errlen, "READY sent to a worker");
            return s_decode_ready (self, msg, err, errlen);
        case MDPW_REQUEST:
        case MDPW_REPLY:
            if ((self->command == MDPW_REQUEST) == from_worker)
                return s_fail (self, msg, err, errlen, "%s travelling the wrong way",
                               self->command == MDPW_REQUEST ? "REQUEST" : "REPLY");
            return s_decode_envelope (self, msg, err, errlen);
        case MDPW_HEARTBEAT:
        case MDPW_DISCONNECT:
            if (zmsg_size (msg) != 0)
                return s_fail (self, msg, err, errlen, "trailing frames after %s",
                               self->command == MDPW_HEARTBEAT ? "HEARTBEAT" : "DISCONNECT");
            zmsg_destroy (&msg);
            return self;
        default:
            return s_fail (self, msg, err, errlen, "unknown worker command 0x%02x", self->command);
    }
}

mdp_msg_t *
mdp_msg_decode (zmsg_t **msg_p, mdp_side_t side, char *err, size_t errlen)
{
    zmsg_t *msg = *msg_p;
    *msg_p = NULL;
    if (!msg)
        return s_fail (NULL, NULL, err, errlen, "no message");
    mdp_msg_t *self = (mdp_msg_t *) zmalloc (sizeof (mdp_msg_t));
    if (side == MDP_AT_BROKER) {
        self->sender = zmsg_pop (msg);
        if (!s_address_valid (self->sender))
            return s_fail (self, msg, err, errlen, "missing sender routing id");
    }
    if (!s_take_delimiter (msg))
        return s_fail (self, msg, err, errlen, "first frame is not the empty delimiter");

    zframe_t *frame = zmsg_pop (msg);
    bool client = s_frame_is (frame, MDPC_VERSION), worker = s_frame_is (frame, MDPW_VERSION);
    zframe_destroy (&frame);
    if (client && side == MDP_AT_WORKER)
        return s_fail (self, msg, err, errlen, "client message sent to a worker");
    if (client)
        return s_decode_client (self, msg, err, errlen);
    if (!worker)
        return s_fail (self, msg, err, errlen, "unknown protocol header (want MDPC01 or MDPW01)");
    if (side == MDP_AT_CLIENT)
        return s_fail (self, msg, err, errlen, "worker message sent to a client");
    return s_decode_worker (self, msg, side == MDP_AT_BROKER, err, errlen);
}

int
mdp_request_take_service (mdp_msg_t *self, char *err, size_t errlen)
{
    self->service [0] = 0;
    zframe_t *frame = self->command == MDPW_REQUEST && self->body ? zmsg_pop (self->body) : NULL;
    int rc = s_take_service (frame, self->service);
    if (rc && err && errlen)
        snprintf (err, errlen, "%s", !frame ? "REQUEST has no service frame"
                                            : "REQUEST's service frame is not a service name");
    zframe_destroy (&frame);
    return rc;
}

void
mdp_msg_destroy (mdp_msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mdp_msg_t *self = *self_p;
    zframe_destroy (&self->sender);
    zframe_destroy (&self->client);
    zmsg_destroy (&self->body);
    for (size_t i = 0; i < self->services_n; i++)
        free (self->services [i]);
    free (self->services);
    free (self);
    *self_p = NULL;
}

static zmsg_t *
s_header (zframe_t *address, const char *version)
{
    zmsg_t *msg = zmsg_new ();
    if (address)
        zmsg_append (msg, &(zframe_t *) { zframe_dup (address) });
    zmsg_addmem (msg, "", 0);
    zmsg_addstr (msg, version);
    return msg;
}

static void
s_append_body (zmsg_t *msg, zmsg_t **body_p)
{
    if (!body_p || !*body_p)
        return;
    zframe_t *frame;
    while ((frame = zmsg_pop (*body_p)))
        zmsg_append (msg, &frame);
    zmsg_destroy (body_p);
}

static void
s_add_command (zmsg_t *msg, mdpw_command_t command)
{
    uint8_t byte = (uint8_t) command;
    zmsg_addmem (msg, &byte, 1);
}

zmsg_t *
mdp_client_request_new (const char *service, zmsg_t **body_p)
{
    zmsg_t *msg = s_header (NULL, MDPC_VERSION);
    zmsg_addstr (msg, service);
    s_append_body (msg, body_p);
    return msg;
}

zmsg_t *
mdp_client_reply_new (zframe_t *client, const char *service, zmsg_t **body_p)
{
    zmsg_t *msg = s_header (client, MDPC_VERSION);
    zmsg_addstr (msg, service);
    s_append_body (msg, body_p);
    return msg;
}

zmsg_t *
mdp_worker_ready_new (const char *const *services, size_t services_n, int credit)
{
    zmsg_t *msg = s_header (NULL, MDPW_VERSION);
    s_add_command (msg, MDPW_READY);
    for (size_t i = 0; i < services_n; i++)
        zmsg_addstr (msg, services [i]);
    if (credit > 1)
        zmsg_addstrf (msg, MDP_CREDIT_PREFIX "%d", credit);
    return msg;
}

zmsg_t *
mdp_worker_request_new (zframe_t *worker, zframe_t *client, const char *service,
                        zmsg_t **body_p)
{
    zmsg_t *msg = s_header (worker, MDPW_VERSION);
    s_add_command (msg, MDPW_REQUEST);
    zmsg_append (msg, &(zframe_t *) { zframe_dup (client) });
    zmsg_addmem (msg, "", 0);
    if (service)
        zmsg_addstr (msg, service);
    s_append_body (msg, body_p);
    return msg;
}

zmsg_t *
mdp_worker_reply_new (zframe_t *client, zmsg_t **body_p)
{
    zmsg_t *msg = s_header (NULL, MDPW_VERSION);
    s_add_command (msg, MDPW_REPLY);
    zmsg_append (msg, &(zframe_t *) { zframe_dup (client) });
    zmsg_addmem (msg, "", 0);
    s_append_body (msg, body_p);
    return msg;
}

int
mdp_worker_reply_send (zframe_t *client, zmsg_t **body_p, zsock_t *zsock)
{
    zmsg_t *body = *body_p;
    *body_p = NULL;
    //  The envelope's frames go as plain libzmq sends (copied, no zframe_t on the heap),
    //  the body's as the frames they are (moved).
    void *handle = zsock_resolve (zsock);
    uint8_t command = MDPW_REPLY;
    int last = body && zmsg_size (body) ? ZMQ_SNDMORE : 0;
    int rc = zmq_send (handle, "", 0, ZMQ_SNDMORE) < 0
          || zmq_send (handle, MDPW_VERSION, strlen (MDPW_VERSION), ZMQ_SNDMORE) < 0
          || zmq_send (handle, &command, 1, ZMQ_SNDMORE) < 0
          || zmq_send (handle, zframe_data (client), zframe_size (client), ZMQ_SNDMORE) < 0
          || zmq_send (handle, "", 0, last) < 0 ? -1 : 0;
    zframe_t *frame;
    while (rc == 0 && last && (frame = zmsg_pop (body))) {
        rc = zframe_send (&frame, zsock, zmsg_size (body) ? ZFRAME_MORE : 0);
        zframe_destroy (&frame);            //  still ours when the send failed
    }
    zmsg_destroy (&body);
    return rc;
}

zmsg_t *
mdp_worker_command_new (zframe_t *worker, mdpw_command_t command)
{
    zmsg_t *msg = s_header (worker, MDPW_VERSION);
    s_add_command (msg, command);
    return msg;
}

void
mdp_socket_setup (void *zsock)
{
    zsock_set_maxmsgsize (zsock, MDP_MSG_MAX_BYTES);
    zsock_set_linger (zsock, 0);
}

zsock_t *
mdp_client_socket_new (const char *endpoint, int sndhwm)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock)
        return NULL;
    mdp_socket_setup (sock);
    zsock_set_sndhwm (sock, sndhwm);
    zsock_set_rcvhwm (sock, 0);
    zsock_set_sndtimeo (sock, 0);
    zsock_set_rcvtimeo (sock, 0);
    zsock_set_immediate (sock, 1);
    if (curve_client_apply (sock))
        zsock_destroy (&sock);
    else
    if (zsock_connect (sock, "%s", endpoint)) {
        log_error ("event=connect_failed endpoint=%s", endpoint);
        zsock_destroy (&sock);
    }
    return sock;
}

zmsg_t *
mdp_recv (void *zsock, int timeout_ms)
{
    zsock_set_rcvtimeo (zsock, timeout_ms);
    //  zmsg_recv, but with the more flag zframe_recv has already read: zmsg_recv asks the
    //  socket again (a getsockopt) after every frame.
    zmsg_t *msg = zmsg_new ();
    while (true) {
        zframe_t *frame = zframe_recv (zsock);
        if (!frame) {
            if (zmq_errno () == EINTR && zmsg_size (msg))
                continue;                   //  the rest of a message is there: only EINTR delays it
            zmsg_destroy (&msg);
            return NULL;
        }
        bool more = zframe_more (frame);
        zmsg_append (msg, &frame);
        if (!more)
            return msg;
    }
}
