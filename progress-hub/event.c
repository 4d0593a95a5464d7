/*  event: the hub's hold on a job event: its shared text and who may see it. Decoding
    and validation are proto/event's.  */
#include "event.h"

#include <stdlib.h>
#include <string.h>

event_payload_t *
event_payload_new (const char *text, size_t len)
{
    event_payload_t *self = malloc (sizeof *self + LWS_PRE + len + 1);
    if (!self)
        return NULL;
    self->refs = 1;
    self->len = len;
    memcpy (self->buf + LWS_PRE, text, len);
    self->buf [LWS_PRE + len] = 0;
    return self;
}

event_payload_t *
event_payload_ref (event_payload_t *self)
{
    if (self)
        self->refs++;
    return self;
}

void
event_payload_unref (event_payload_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if (--(*self_p)->refs == 0)
        free (*self_p);
    *self_p = NULL;
}

bool
event_visible (svc_role_t role, const char *sub, const char *created_by)
{
    if (role == SVC_ROLE_ADMIN)
        return true;
    if (role == SVC_ROLE_AGENT && sub && created_by && uuid_valid (sub))
        return strcmp (sub, created_by) == 0;
    return false;
}

void
event_clear (event_t *ev)
{
    if (ev)
        event_payload_unref (&ev->payload);
}

int
event_parse (zmsg_t *msg, event_t *ev, const char **why)
{
    memset (ev, 0, sizeof *ev);
    if (event_decode (msg, &ev->info, why))
        return -1;
    //  Forwarded byte for byte, so the text every client gets is the body frame itself.
    zframe_t *body = zmsg_last (msg);
    ev->payload = event_payload_new ((const char *) zframe_data (body), zframe_size (body));
    if (!ev->payload) {
        if (why)
            *why = "out_of_memory";
        return -1;
    }
    return 0;
}
