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

zmsg_t *
request_body_copy (request_t *self, zframe_t **shared_p)
{
    zmsg_t *copy = zmsg_new ();
    zframe_t *last = zmsg_last (self->body->msg);
    bool share = last && zframe_size (last) >= REQUEST_SHARE_MIN_BYTES;
    for (zframe_t *f = zmsg_first (self->body->msg); f; f = zmsg_next (self->body->msg))
        if (f != last || !share)
            zmsg_append (copy, &(zframe_t *) { zframe_dup (f) });
    *shared_p = share ? last : NULL;
    return copy;
}

int
request_body_share (request_t *self, zframe_t *shared, zmq_msg_t *part)
{
    atomic_fetch_add (&self->body->refs, 1);
    if (zmq_msg_init_data (part, zframe_data (shared), zframe_size (shared), s_body_release,
                           self->body)) {
        s_body_release (NULL, self->body);
        zmq_msg_init (part);
        return -1;
    }
    return 0;
}
