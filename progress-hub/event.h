/*  event: one job event as the hub receives it on XSUB (topic frame + JSON frame),
    validated once, and the shared, reference-counted text every client is sent.  */
#ifndef HUB_EVENT_H
#define HUB_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>
#include "../common/uuid.h"
#include "../proto/svc.h"

//  Bounds on what the hub accepts from publishers; anything larger is dropped.
#define EVENT_TOPIC_MAX     64              //  "jobs." name "." uuid is at most 51 bytes
#define EVENT_BODY_MAX      (64 * 1024)     //  a job is < 1 KiB; its error text is bounded too

typedef enum {
    EVENT_CREATED = 0,
    EVENT_PROGRESS,
    EVENT_COMPLETED,
    EVENT_FAILED,
    EVENT_CANCELED,
} event_kind_t;

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
    event_kind_t kind;
    char job_id [UUID_STRLEN + 1];
    char created_by [UUID_STRLEN + 1];
    long long processed;                    //  data.processed, -1 when absent
    event_payload_t *payload;               //  owned reference
} event_t;

//  Validates both frames: topic "jobs.<name>.<jobId>", body a JSON object with
//  "event" == "jobs:<name>" and "data" an object whose "id" is the topic's uuid and
//  whose "createdBy" is a uuid. Returns 0 and fills ev (with a payload reference that
//  event_clear releases), or -1 with a constant reason in *why.
int event_parse (const void *topic, size_t topic_len, const void *body, size_t body_len,
                 event_t *ev, const char **why);
void event_clear (event_t *ev);

bool event_kind_final (event_kind_t kind);
const char *event_kind_name (event_kind_t kind);    //  "created", "progress", ...

//  The scoping rule: admins see every job, agents the jobs they created, nobody else any.
bool event_visible (svc_role_t role, const char *sub, const char *created_by);

#endif
