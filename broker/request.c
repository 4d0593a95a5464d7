/*  request: a client request the broker holds, and its counted body. See request.h.  */
#include "request.h"

#include <stdlib.h>
#include <string.h>

static request_body_t *
s_body_new (zmsg_t **msg_p)
{
    request_body_t *self = (request_body_t *) zmalloc (sizeof (request_body_t));
    atomic_init (&self->refs, 1);
    self->msg = *msg_p;
    *msg_p = NULL;
    return self;
}

//  Drops one reference; also libzmq's free function for a frame sent by reference.
static void
s_body_release (void *data, void *hint)
{
    request_body_t *self = (request_body_t *) hint;
    if (atomic_fetch_sub (&self->refs, 1) == 1) {
        zmsg_destroy (&self->msg);
        free (self);
    }
}

size_t
request_bytes (zmsg_t *body)
{
    return sizeof (request_t) + zmsg_content_size (body);
}

request_t *
request_new (zframe_t **client_p, zmsg_t **body_p, service_t *service, const char *rid,
             size_t *held, int64_t now, uint64_t seq)
{
    request_t *self = (request_t *) zmalloc (sizeof (request_t));
    self->bytes = request_bytes (*body_p);
    self->held = held;
    *held += self->bytes;
    self->client = *client_p;
    *client_p = NULL;
    self->body = s_body_new (body_p);
    self->service = service;
    snprintf (self->rid, sizeof self->rid, "%s", rid);
    self->queued_at = now;
    self->seq = seq;
    return self;
}

void
request_destroy (request_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    *(*self_p)->held -= (*self_p)->bytes;
    zframe_destroy (&(*self_p)->client);
    if ((*self_p)->body)
        s_body_release (NULL, (*self_p)->body);
    free (*self_p);
    *self_p = NULL;
}

const char *
request_log_rid (const request_t *self)
{
    return *self->rid ? self->rid : "-";
}

//  A zmq_msg_t over shared (a frame of self's body) that holds a reference to the body
//  until libzmq is done with it. Out of memory, part is empty.
static void
s_body_share (request_t *self, zframe_t *shared, zmq_msg_t *part)
{
    atomic_fetch_add (&self->body->refs, 1);
    if (zmq_msg_init_data (part, zframe_data (shared), zframe_size (shared), s_body_release,
                           self->body)) {
        s_body_release (NULL, self->body);
        zmq_msg_init (part);
    }
}

int
request_body_send (request_t *self, void *handle)
{
    zmsg_t *body = self->body->msg;
    zframe_t *last = zmsg_last (body);
    for (zframe_t *f = zmsg_first (body); f; f = zmsg_next (body)) {
        int flags = f == last ? 0 : ZMQ_SNDMORE;
        if (f != last || zframe_size (f) < REQUEST_SHARE_MIN_BYTES) {
            if (zmq_send (handle, zframe_data (f), zframe_size (f), flags) < 0)
                return -1;
            continue;
        }
        //  Out of memory, part is empty: the message must still end; its worker answers
        //  it as malformed.
        zmq_msg_t part;
        s_body_share (self, f, &part);
        if (zmq_msg_send (&part, handle, flags) < 0) {
            zmq_msg_close (&part);          //  gives back our reference, if it holds one
            return -1;
        }
    }
    return 0;
}
