/*  mdp: 7/MDP and 8/MMI codec. Decoders take whatever arrived off the wire and either
    return a fully checked message or NULL with a reason; they never abort.  */
#include "mdp.h"
#include "../common/curve.h"
#include "../common/log.h"

#include <stdarg.h>
#include <string.h>

//  The message under decode is left to mdp_msg_decode, which may still need its sender.
static mdp_msg_t *
s_fail (zmsg_t *msg, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err, errlen, fmt, ap);
        va_end (ap);
    }
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
        return s_fail (msg, err, errlen, "body has more than %d frames", MDP_BODY_FRAMES_MAX);
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
        return s_fail (msg, err, errlen, "missing or invalid service name");
    return s_finish_body (self, msg, err, errlen);
}

//  The credit extension's frame, "credit N" (N 1..MDP_CREDIT_MAX, decimal, no leading zero):
//  the requests a worker may hold at once. -1 for anything else that starts "credit ".
static int
s_parse_credit (zframe_t *frame)
{
    const char *data = (const char *) zframe_data (frame);
    size_t size = zframe_size (frame), prefix = strlen (MDP_CREDIT_PREFIX);
    if (size <= prefix || size > prefix + 2 || data [prefix] == '0')
        return -1;
    int credit = 0;
    for (size_t i = prefix; i < size; i++) {
        if (data [i] < '0' || data [i] > '9')
            return -1;
        credit = credit * 10 + (data [i] - '0');
    }
    return credit <= MDP_CREDIT_MAX ? credit : -1;
}

bool
mdp_name_valid (const char *name, size_t len)
{
    if (!name || len == 0 || len > MDP_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name [i] || !strchr (MDP_NAME_CHARS, name [i]))
            return false;
    return true;
}

//  The name extension's frame, "name X": X into dst (MDP_NAME_MAX + 1 bytes). -1 when X
//  is not a valid name.
static int
s_parse_name (zframe_t *frame, char *dst)
{
    size_t prefix = strlen (MDP_NAME_PREFIX), len = zframe_size (frame) - prefix;
    const char *name = (const char *) zframe_data (frame) + prefix;
    if (!mdp_name_valid (name, len))
        return -1;
    memcpy (dst, name, len);
    dst [len] = 0;
    return 0;
}

//  Whether frame starts with prefix: an extension's frame ("credit ", "name "), never a
//  service, whose name has no space.
static bool
s_has_prefix (zframe_t *frame, const char *prefix)
{
    size_t len = strlen (prefix);
    return frame && zframe_size (frame) >= len && memcmp (zframe_data (frame), prefix, len) == 0;
}

static void
s_drop_last (zmsg_t *msg)
{
    zframe_t *frame = zmsg_last (msg);
    zmsg_remove (msg, frame);
    zframe_destroy (&frame);
}

//  READY's frames after the command: 1..MDP_READY_SERVICES_MAX service names, then the
//  optional name frame, then the optional credit frame, in that order only.
static mdp_msg_t *
s_decode_ready (mdp_msg_t *self, zmsg_t *msg, char *err, size_t errlen)
{
    self->credit = 1;
    if (s_has_prefix (zmsg_last (msg), MDP_CREDIT_PREFIX)) {
        self->credit = s_parse_credit (zmsg_last (msg));
        if (self->credit < 0)
            return s_fail (msg, err, errlen, "READY's credit frame is not \"credit N\", N 1 to %d",
                           MDP_CREDIT_MAX);
        s_drop_last (msg);
    }
    if (s_has_prefix (zmsg_last (msg), MDP_NAME_PREFIX)) {
        if (s_parse_name (zmsg_last (msg), self->name))
            return s_fail (msg, err, errlen, "READY's name frame is not \"name X\", X 1 to %d "
                           "of A-Z a-z 0-9 . _ : @ / -", MDP_NAME_MAX);
        s_drop_last (msg);
    }
    size_t n = zmsg_size (msg);
    if (n == 0 || n > MDP_READY_SERVICES_MAX)
        return s_fail (msg, err, errlen, "READY must name 1 to %d services",
                       MDP_READY_SERVICES_MAX);
    self->services = (char **) zmalloc (n * sizeof (char *));
    zframe_t *frame;
    while ((frame = zmsg_pop (msg))) {
        bool extension = s_has_prefix (frame, MDP_NAME_PREFIX)
                      || s_has_prefix (frame, MDP_CREDIT_PREFIX);
        char name [MDP_SERVICE_MAX + 1];
        int rc = s_take_service (frame, name);
        zframe_destroy (&frame);
        if (rc)
            return s_fail (msg, err, errlen, extension
                           ? "READY's frames are out of order or repeated (want services, "
                             "then \"name X\", then \"credit N\")"
                           : "READY names an invalid service");
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
        return s_fail (msg, err, errlen, "missing client address");
    if (!s_take_delimiter (msg))
        return s_fail (msg, err, errlen, "no empty frame after the client address");
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
        return s_fail (msg, err, errlen, "command frame is not one byte");
    }
    self->command = zframe_data (frame) [0];
    zframe_destroy (&frame);
    switch (self->command) {
        case MDPW_READY:
            if (!from_worker)
                return s_fail (msg, err, errlen, "READY sent to a worker");
            return s_decode_ready (self, msg, err, errlen);
        case MDPW_REQUEST:
        case MDPW_REPLY:
            if ((self->command == MDPW_REQUEST) == from_worker)
                return s_fail (msg, err, errlen, "%s travelling the wrong way",
                               self->command == MDPW_REQUEST ? "REQUEST" : "REPLY");
            return s_decode_envelope (self, msg, err, errlen);
        case MDPW_HEARTBEAT:
        case MDPW_DISCONNECT:
            if (zmsg_size (msg) != 0)
                return s_fail (msg, err, errlen, "trailing frames after %s",
                               self->command == MDPW_HEARTBEAT ? "HEARTBEAT" : "DISCONNECT");
            zmsg_destroy (&msg);
            return self;
        default:
            return s_fail (msg, err, errlen, "unknown worker command 0x%02x", self->command);
    }
}

//  Every check of mdp_msg_decode; on failure self is still the caller's to destroy.
static mdp_msg_t *
s_decode (mdp_msg_t *self, zmsg_t *msg, mdp_side_t side, char *err, size_t errlen)
{
    if (side == MDP_AT_BROKER) {
        self->sender = zmsg_pop (msg);
        if (!s_address_valid (self->sender))
            return s_fail (msg, err, errlen, "missing sender routing id");
    }
    if (!s_take_delimiter (msg))
        return s_fail (msg, err, errlen, "first frame is not the empty delimiter");

    zframe_t *frame = zmsg_pop (msg);
    bool client = s_frame_is (frame, MDPC_VERSION), worker = s_frame_is (frame, MDPW_VERSION);
    zframe_destroy (&frame);
    if (client && side == MDP_AT_WORKER)
        return s_fail (msg, err, errlen, "client message sent to a worker");
    if (client)
        return s_decode_client (self, msg, err, errlen);
    if (!worker)
        return s_fail (msg, err, errlen, "unknown protocol header (want MDPC01 or MDPW01)");
    if (side == MDP_AT_CLIENT)
        return s_fail (msg, err, errlen, "worker message sent to a client");
    return s_decode_worker (self, msg, side == MDP_AT_BROKER, err, errlen);
}

//  Takes *msg_p and decodes it; refused_p, when not NULL, gets the sender of a refused READY.
static mdp_msg_t *
s_decode_taking (zmsg_t **msg_p, mdp_side_t side, zframe_t **refused_p, char *err,
                 size_t errlen)
{
    zmsg_t *msg = *msg_p;
    *msg_p = NULL;
    if (!msg)
        return s_fail (NULL, err, errlen, "no message");
    mdp_msg_t *self = (mdp_msg_t *) zmalloc (sizeof (mdp_msg_t));
    if (s_decode (self, msg, side, err, errlen))
        return self;
    //  The command byte is read only after the sender and both headers passed.
    if (refused_p && self->kind == MDP_WORKER_MSG && self->command == MDPW_READY) {
        *refused_p = self->sender;
        self->sender = NULL;
    }
    mdp_msg_destroy (&self);
    return NULL;
}

mdp_msg_t *
mdp_msg_decode (zmsg_t **msg_p, mdp_side_t side, char *err, size_t errlen)
{
    return s_decode_taking (msg_p, side, NULL, err, errlen);
}

mdp_msg_t *
mdp_msg_decode_at_broker (zmsg_t **msg_p, zframe_t **refused_p, char *err, size_t errlen)
{
    *refused_p = NULL;
    return s_decode_taking (msg_p, MDP_AT_BROKER, refused_p, err, errlen);
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
mdp_worker_ready_new (const char *const *services, size_t services_n, int credit,
                      const char *name)
{
    bool named = name && *name;
    if (credit < 1 || credit > MDP_CREDIT_MAX || (named && !mdp_name_valid (name, strlen (name))))
        return NULL;
    zmsg_t *msg = s_header (NULL, MDPW_VERSION);
    s_add_command (msg, MDPW_READY);
    for (size_t i = 0; i < services_n; i++)
        zmsg_addstr (msg, services [i]);
    if (named)
        zmsg_addstrf (msg, MDP_NAME_PREFIX "%s", name);
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

//  Sends n frames as the start of a message, each a plain libzmq send (copied, no zframe_t
//  on the heap); the last with ZMQ_SNDMORE only when more follows. 0, or -1.
static int
s_send_head (void *handle, const void *const *data, const size_t *size, size_t n, bool more)
{
    for (size_t i = 0; i < n; i++)
        if (zmq_send (handle, data [i], size [i], i + 1 < n || more ? ZMQ_SNDMORE : 0) < 0)
            return -1;
    return 0;
}

//  After a head sent with more (rc 0), the body's frames as the frames they are (moved),
//  the last without ZFRAME_MORE. Destroys *body_p whatever happens. rc, or -1.
static int
s_send_body (int rc, bool more, zmsg_t **body_p, zsock_t *zsock)
{
    zmsg_t *body = *body_p;
    zframe_t *frame;
    while (rc == 0 && more && (frame = zmsg_pop (body))) {
        rc = zframe_send (&frame, zsock, zmsg_size (body) ? ZFRAME_MORE : 0);
        zframe_destroy (&frame);            //  still ours when the send failed
    }
    zmsg_destroy (body_p);
    return rc;
}

int
mdp_worker_reply_send (zframe_t *client, zmsg_t **body_p, zsock_t *zsock)
{
    //  The envelope's frames go as plain libzmq sends, the body's as the frames they are.
    uint8_t command = MDPW_REPLY;
    bool more = *body_p && zmsg_size (*body_p);
    const void *data [] = { "", MDPW_VERSION, &command, zframe_data (client), "" };
    size_t size [] = { 0, strlen (MDPW_VERSION), 1, zframe_size (client), 0 };
    int rc = s_send_head (zsock_resolve (zsock), data, size, 5, more);
    return s_send_body (rc, more, body_p, zsock);
}

int
mdp_client_reply_send (zframe_t *client, const char *service, zmsg_t **body_p, zsock_t *zsock)
{
    bool more = *body_p && zmsg_size (*body_p);
    int rc = mdp_client_reply_send_head (zsock_resolve (zsock), client, service, more);
    return s_send_body (rc, more, body_p, zsock);
}

int
mdp_worker_request_send_head (void *handle, zframe_t *worker, zframe_t *client,
                              const char *service, bool body_follows)
{
    uint8_t command = MDPW_REQUEST;
    const void *data [] = { zframe_data (worker), "", MDPW_VERSION, &command,
                            zframe_data (client), "", service };
    size_t size [] = { zframe_size (worker), 0, strlen (MDPW_VERSION), 1,
                       zframe_size (client), 0, service ? strlen (service) : 0 };
    return s_send_head (handle, data, size, service ? 7 : 6, body_follows);
}

int
mdp_client_reply_send_head (void *handle, zframe_t *client, const char *service,
                            bool body_follows)
{
    const void *data [] = { zframe_data (client), "", MDPC_VERSION, service };
    size_t size [] = { zframe_size (client), 0, strlen (MDPC_VERSION), strlen (service) };
    return s_send_head (handle, data, size, 4, body_follows);
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
    if (curve_client_connect_broker (sock, endpoint))
        zsock_destroy (&sock);
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
