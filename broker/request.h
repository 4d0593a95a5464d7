/*  request: a client request the broker holds from arrival until its reply goes out. Owns
    the client's routing id and the body (counted, shared with libzmq when large), and
    gives its bytes back to the broker's held count when destroyed.  */
#ifndef BROKER_REQUEST_H
#define BROKER_REQUEST_H

#include "../proto/svc.h"

#include <czmq.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

//  A body whose last frame (a job's id list: 16 bytes an id) is this large goes to a worker
//  by reference instead of as a copy: the broker keeps the body for a hand-back meanwhile.
#define REQUEST_SHARE_MIN_BYTES (256 * 1024)

typedef struct _service_t service_t;

//  A request's body, counted: libzmq's I/O thread may still be sending its last frame to a
//  worker when the request is done, and frees its reference from that thread.
typedef struct {
    atomic_int refs;
    zmsg_t *msg;
} request_body_t;

typedef struct {
    zframe_t *client;           //  the client's routing id
    request_body_t *body;       //  kept while a worker holds it, for a hand-back
    service_t *service;
    char rid [SVC_RID_MAX + 1]; //  "" when the body carries none
    int64_t queued_at;          //  for the TTL; reset on hand-back
    uint64_t seq;               //  arrival order, to pick the oldest across services
    int handbacks;
    size_t bytes;               //  what it counts against BROKER_HELD_BYTES
    size_t *held;               //  the broker's count of those, given back on destroy
} request_t;

//  What a request with this body counts against BROKER_HELD_BYTES.
size_t request_bytes (zmsg_t *body);

//  Takes the client's routing id and the body, nulling the caller's pointers, and adds
//  its bytes to *held (which must outlive the request).
request_t *request_new (zframe_t **client_p, zmsg_t **body_p, service_t *service,
                        const char *rid, size_t *held, int64_t now, uint64_t seq);
void request_destroy (request_t **self_p);

//  The rid for a log line: "-" when the body carries none. Borrowed.
const char *request_log_rid (const request_t *self);

//  Sends the body as the rest of a message on handle (a libzmq socket; at least one frame
//  must have gone before it with ZMQ_SNDMORE): each frame copied, except a last frame of
//  REQUEST_SHARE_MIN_BYTES or more, sent by reference, the body kept until libzmq is done
//  with it. 0, or -1 when a send failed (only on a closing socket).
int request_body_send (request_t *self, void *handle);

#endif
