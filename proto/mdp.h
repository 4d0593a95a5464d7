/*  mdp: the one codec for 7/MDP (Majordomo, rfc.zeromq.org spec 7) and 8/MMI as this
    system speaks them. Every frame layout of clients, broker and workers is here and in
    proto/README.md; no other file builds or parses an MDP envelope.

    Frames as they travel (the broker's ROUTER adds/strips the peer's routing id):
      client  -> broker  : ""  "MDPC01"  service  body...
      broker  -> client  : ""  "MDPC01"  service  body...
      worker  -> broker  : ""  "MDPW01"  0x01 READY       service [service...] ["name X"] ["credit N"] (*)
                           ""  "MDPW01"  0x03 REPLY       client  ""  body...
                           ""  "MDPW01"  0x04 HEARTBEAT
                           ""  "MDPW01"  0x05 DISCONNECT
      broker  -> worker  : ""  "MDPW01"  0x02 REQUEST     client  ""  [service] body...  (**)
                           ""  "MDPW01"  0x04 HEARTBEAT
                           ""  "MDPW01"  0x05 DISCONNECT
    (*) Extension: a READY may name up to MDP_READY_SERVICES_MAX services in extra frames;
        a plain 7/MDP worker names one and is served exactly as the spec says. A last
        frame "credit N" (N 1..MDP_CREDIT_MAX) lets the worker hold N requests at once;
        without it N is 1. Before it (or last, without it), a frame "name X" names the
        worker (X 1..MDP_NAME_MAX bytes of MDP_NAME_CHARS) for the broker's logs and
        mmi.status; without it the broker names the worker by its routing id. Neither can
        be a service: a service name has no space.
    (**) Extension: a REQUEST to a worker whose READY named several services carries the
        service's name as the first body frame, since the worker could not tell otherwise;
        mdp_worker_request_new adds it, mdp_request_take_service takes it.  */
#ifndef PROTO_MDP_H
#define PROTO_MDP_H

#include <czmq.h>
#include <stdbool.h>

#define MDPC_VERSION "MDPC01"
#define MDPW_VERSION "MDPW01"

typedef enum {
    MDPW_READY      = 0x01,
    MDPW_REQUEST    = 0x02,
    MDPW_REPLY      = 0x03,
    MDPW_HEARTBEAT  = 0x04,
    MDPW_DISCONNECT = 0x05,
} mdpw_command_t;

//  Limits every decoder enforces.
#define MDP_SERVICE_MAX         255     //  bytes in a service name, printable ASCII
#define MDP_READY_SERVICES_MAX  64      //  services one READY may offer
#define MDP_CREDIT_MAX          64      //  requests a worker may announce it takes at once
#define MDP_CREDIT_PREFIX       "credit "   //  READY's last frame: "credit N"
#define MDP_NAME_MAX            64      //  bytes in a worker's name
#define MDP_NAME_PREFIX         "name "     //  READY's frame before the credit: "name X"
//  What a worker's name may hold: written as is in a logfmt value and a JSON string.
#define MDP_NAME_CHARS          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
                                "0123456789._:@/-"
#define MDP_ADDRESS_MAX         255     //  bytes in a routing id (ZeroMQ's own limit)
#define MDP_BODY_FRAMES_MAX     16      //  frames in a request or reply body
#define MDP_MSG_MAX_BYTES       (64L * 1024 * 1024)   //  ZMQ_MAXMSGSIZE on every MDP socket

//  Heartbeats (docs/API.md: a peer silent for MDP_HEARTBEAT_LIVENESS intervals is dead).
#define MDP_HEARTBEAT_MS        1000
#define MDP_HEARTBEAT_LIVENESS  4

//  8/MMI
#define MMI_PREFIX              "mmi."
#define MMI_SERVICE             "mmi.service"
#define MMI_STATUS              "mmi.status"    //  extension: broker status as JSON (proto/README.md)
#define MMI_FOUND               "200"
#define MMI_NOT_FOUND           "404"
#define MMI_NOT_IMPLEMENTED     "501"

//  Where a message was read, which fixes the frames to expect.
typedef enum {
    MDP_AT_BROKER,      //  read from the broker's ROUTER: first frame is the sender's routing id
    MDP_AT_CLIENT,      //  read by a client's DEALER: a reply from the broker
    MDP_AT_WORKER,      //  read by a worker's DEALER: a command from the broker
} mdp_side_t;

typedef enum {
    MDP_CLIENT_MSG = 1, //  a client's request (at broker) or the broker's reply (at client)
    MDP_WORKER_MSG = 2, //  a worker command: see mdpw_command_t
} mdp_kind_t;

typedef struct {
    mdp_kind_t kind;
    int command;                        //  mdpw_command_t for MDP_WORKER_MSG, else 0
    zframe_t *sender;                   //  MDP_AT_BROKER only: the peer's routing id
    char service [MDP_SERVICE_MAX + 1]; //  client messages, and READY's first service
    char **services;                    //  READY: every offered service (services [0] == service)
    size_t services_n;
    int credit;                         //  READY: requests it may hold at once, 1 without the frame
    char name [MDP_NAME_MAX + 1];       //  READY: the worker's name, "" without the frame
    zframe_t *client;                   //  REQUEST and REPLY: the client's routing id
    zmsg_t *body;                       //  client messages, REQUEST, REPLY; never NULL there
                                        //  (but in the worker link's REPLY: nothing to send)
    int via;                            //  not on the wire: the receiver's own note of where
                                        //  it read the message (the worker link's broker)
} mdp_msg_t;

//  Decodes and takes ownership of *msg_p (always nulled). Returns NULL for a malformed
//  message, with the reason in err. Never trusts a frame: every size is checked.
mdp_msg_t *mdp_msg_decode (zmsg_t **msg_p, mdp_side_t side, char *err, size_t errlen);
void mdp_msg_destroy (mdp_msg_t **self_p);

//  mdp_msg_decode at MDP_AT_BROKER, and when what it refused is a worker's READY, *refused_p
//  gets that sender's routing id (the caller owns it; else NULL): the broker answers it
//  DISCONNECT, so a worker whose READY was bad does not wait for requests that never come.
mdp_msg_t *mdp_msg_decode_at_broker (zmsg_t **msg_p, zframe_t **refused_p, char *err,
                                     size_t errlen);

//  For a worker whose READY named several services: takes the first body frame of a
//  decoded REQUEST, the service frame (**), off self->body. Returns 0 with its name in
//  self->service, or -1 with the reason in err and self->service "" when the body had no
//  frame or the frame is not a valid service name (the frame is gone either way, so the
//  body is the envelope behind it).
int mdp_request_take_service (mdp_msg_t *self, char *err, size_t errlen);

//  True for 1..MDP_SERVICE_MAX printable, non-space ASCII bytes.
bool mdp_service_valid (const char *name, size_t len);

//  True for a worker's name: 1..MDP_NAME_MAX bytes, each one of MDP_NAME_CHARS.
bool mdp_name_valid (const char *name, size_t len);

//  Encoders. Each takes ownership of *body_p (nulled) and copies address frames.
//  Messages meant for a ROUTER to send start with the destination's routing id.
zmsg_t *mdp_client_request_new (const char *service, zmsg_t **body_p);
zmsg_t *mdp_client_reply_new (zframe_t *client, const char *service, zmsg_t **body_p);
//  credit: requests the worker takes at once, 1..MDP_CREDIT_MAX; above 1 the READY ends
//  with the frame "credit N" (*), at 1 it is the plain 7/MDP READY. NULL for a credit out
//  of that range. name: NULL or "" for none, else the frame "name X" goes before the
//  credit frame; NULL for a name mdp_name_valid refuses.
zmsg_t *mdp_worker_ready_new (const char *const *services, size_t services_n, int credit,
                              const char *name);
//  service: NULL for the plain 7/MDP REQUEST, or the name to put before the body for a
//  worker whose READY named several services (the extension (**) above).
zmsg_t *mdp_worker_request_new (zframe_t *worker, zframe_t *client, const char *service,
                                zmsg_t **body_p);
zmsg_t *mdp_worker_reply_new (zframe_t *client, zmsg_t **body_p);
//  Sends what mdp_worker_reply_new builds, straight to zsock (a zsock_t), without the
//  zmsg_t: the worker's hot path, at about a third of the instructions. Takes ownership
//  of *body_p (nulled) whatever happens. 0, or -1 when the send failed.
int mdp_worker_reply_send (zframe_t *client, zmsg_t **body_p, zsock_t *zsock);
//  The same for what mdp_client_reply_new builds, on the broker's ROUTER (zsock): a reply
//  to client, its body's frames moved, not copied.
int mdp_client_reply_send (zframe_t *client, const char *service, zmsg_t **body_p,
                           zsock_t *zsock);
//  The broker's hot path, on its ROUTER (handle: a libzmq socket): the frames of a REQUEST
//  to worker (service as for mdp_worker_request_new), or of a reply to client, up to the
//  body, sent without building a zmsg_t, with ZMQ_SNDMORE when body_follows: the caller
//  then sends the body's frames, the last without it. 0, or -1 when a send failed.
int mdp_worker_request_send_head (void *handle, zframe_t *worker, zframe_t *client,
                                  const char *service, bool body_follows);
int mdp_client_reply_send_head (void *handle, zframe_t *client, const char *service,
                                bool body_follows);
//  HEARTBEAT or DISCONNECT; worker NULL when a worker sends it to the broker.
zmsg_t *mdp_worker_command_new (zframe_t *worker, mdpw_command_t command);

//  Sets the socket options every MDP peer uses (max message size, linger, handover).
void mdp_socket_setup (void *zsock);

//  A DEALER for an MDP client with many requests in flight (the edge, the hub's user
//  checks): never blocks (sndhwm bounds what is queued, replies are bounded by what was
//  sent), refuses to queue toward a broker that is not connected (a send fails at once
//  instead of delivering a stale request minutes later), CurveZMQ when configured
//  (common/curve.h). NULL after logging when it cannot be made or connected.
zsock_t *mdp_client_socket_new (const char *endpoint, int sndhwm);

//  Receives one message, waiting at most timeout_ms (0: only what is there); NULL with
//  zmq_errno EAGAIN when none came. In place of zmq_poll and ZMQ_EVENTS: libzmq then checks
//  its command mailbox (a system call) once per wake-up, not once per poll and per message.
zmsg_t *mdp_recv (void *zsock, int timeout_ms);

#endif
