/*  event: parse and validate a job event from the XSUB; never trusts a frame.  */
#include "event.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *s_names [] = { "created", "progress", "completed", "failed", "canceled" };
#define S_KINDS ((int) (sizeof s_names / sizeof s_names [0]))

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
event_kind_final (event_kind_t kind)
{
    return kind == EVENT_COMPLETED || kind == EVENT_FAILED || kind == EVENT_CANCELED;
}

const char *
event_kind_name (event_kind_t kind)
{
    return (int) kind >= 0 && (int) kind < S_KINDS ? s_names [kind] : "?";
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
event_parse (const void *topic, size_t topic_len, const void *body, size_t body_len,
             event_t *ev, const char **why)
{
    const char *reason = NULL;
    json_t *root = NULL;
    memset (ev, 0, sizeof *ev);
    ev->processed = -1;

    //  Topic: jobs.<name>.<uuid>
    const char *t = (const char *) topic;
    if (!topic || topic_len < 5 + 1 + 1 + UUID_STRLEN || topic_len > EVENT_TOPIC_MAX
    ||  memcmp (t, "jobs.", 5)) {
        reason = "bad_topic";
        goto done;
    }
    size_t name_len = topic_len - 5 - 1 - UUID_STRLEN;
    const char *name = t + 5;
    const char *id = name + name_len + 1;
    if (name [name_len] != '.' || !uuid_valid_n (id, UUID_STRLEN)) {
        reason = "bad_topic";
        goto done;
    }
    int kind = -1;
    for (int i = 0; i < S_KINDS; i++)
        if (strlen (s_names [i]) == name_len && !memcmp (s_names [i], name, name_len))
            kind = i;
    if (kind < 0) {
        reason = "unknown_event";
        goto done;
    }

    //  Body: a JSON object naming the same event and job.
    if (!body || body_len == 0 || body_len > EVENT_BODY_MAX) {
        reason = "bad_body_size";
        goto done;
    }
    json_error_t jerr;
    root = json_loadb ((const char *) body, body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object (root)) {
        reason = "body_not_json_object";
        goto done;
    }
    const char *event = json_string_value (json_object_get (root, "event"));
    if (!event || strncmp (event, "jobs:", 5) || strlen (event + 5) != name_len
    ||  memcmp (event + 5, name, name_len)) {
        reason = "event_mismatch";
        goto done;
    }
    json_t *data = json_object_get (root, "data");
    if (!json_is_object (data)) {
        reason = "data_not_object";
        goto done;
    }
    const char *data_id = json_string_value (json_object_get (data, "id"));
    if (!data_id || !uuid_valid (data_id) || strncasecmp (data_id, id, UUID_STRLEN)) {
        reason = "data_id_mismatch";
        goto done;
    }
    const char *created_by = json_string_value (json_object_get (data, "createdBy"));
    if (!created_by || !uuid_valid (created_by)) {
        reason = "bad_created_by";
        goto done;
    }
    json_t *processed = json_object_get (data, "processed");
    if (processed && !json_is_integer (processed)) {
        reason = "bad_processed";
        goto done;
    }
    ev->payload = event_payload_new ((const char *) body, body_len);
    if (!ev->payload) {
        reason = "out_of_memory";
        goto done;
    }
    ev->kind = (event_kind_t) kind;
    //  Lower case, so one job is one cache key whatever case a publisher used.
    for (int i = 0; i < UUID_STRLEN; i++) {
        ev->job_id [i] = (char) tolower ((unsigned char) id [i]);
        ev->created_by [i] = (char) tolower ((unsigned char) created_by [i]);
    }
    ev->processed = processed ? (long long) json_integer_value (processed) : -1;
done:
    json_decref (root);
    if (why)
        *why = reason;
    return reason ? -1 : 0;
}
