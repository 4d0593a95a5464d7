/*  event: one job event as the hub holds it: what proto/event decoded from the XSUB, and
    the shared, reference-counted text every client is sent. The frames, the kinds and
    their validation are proto/event's.  */
#ifndef HUB_EVENT_H
#define HUB_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>
#include "../common/uuid.h"
#include "../proto/event.h"
#include "../proto/svc.h"

//  The JSON text of one event, shared by every queue it sits in. LWS_PRE bytes of
//  headroom precede the text so lws_write can frame it in place.
typedef struct {
    int refs;
    size_t len;
    unsigned char buf [];                   //  LWS_PRE + len + 1 (NUL)
} event_payload_t;

#define EVENT_TEXT(p) ((char *) (p)->buf + LWS_PRE)

event_payload_t *event_payload_new (const char *text, size_t len);
event_payload_t *event_payload_ref (event_payload_t *self);
void event_payload_unref (event_payload_t **self_p);

typedef struct {
    event_info_t info;                      //  kind, job, creator, progress
    event_payload_t *payload;               //  owned reference: the body frame's text
} event_t;

//  Decodes one XSUB message with event_decode (msg stays the caller's). Returns 0 and
//  fills ev, with a payload reference that event_clear releases, or -1 with a constant
//  reason in *why.
int event_parse (zmsg_t *msg, event_t *ev, const char **why);
void event_clear (event_t *ev);

//  The scoping rule: admins see every job, agents the jobs they created, nobody else any.
bool event_visible (svc_role_t role, const char *sub, const char *created_by);

#endif
