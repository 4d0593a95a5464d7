/*  event: the hub event codec. The encoder builds both frames from our own job text; the
    decoder takes whatever a publisher sent and never trusts a byte of it.  */
#include "event.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

#define S_TOPIC_PREFIX  "jobs."             //  topic: jobs.<name>.<jobId>
#define S_EVENT_PREFIX  "jobs:"             //  body:  {"event":"jobs:<name>", ...}
#define S_PREFIX_LEN    5

static const struct {
    const char *name;
    bool final;
    const char *status;
} s_kinds [] = {
#define EVENT_ROW_(kind, name, final, status) [kind] = { name, final, status },
    EVENT_KINDS (EVENT_ROW_)
#undef EVENT_ROW_
};

static bool
s_kind_valid (event_kind_t kind)
{
    return (int) kind >= 0 && kind < EVENT_KINDS_N;
}

const char *
event_kind_name (event_kind_t kind)
{
    return s_kind_valid (kind) ? s_kinds [kind].name : "?";
}

bool
event_kind_final (event_kind_t kind)
{
    return s_kind_valid (kind) && s_kinds [kind].final;
}

event_kind_t
event_kind_of_status (const char *status)
{
    for (int i = 0; status && i < EVENT_KINDS_N; i++)
        if (!strcmp (s_kinds [i].status, status))
            return (event_kind_t) i;
    return EVENT_KINDS_N;
}

//  The kind called name (len bytes, not NUL-terminated); -1 for none.
static int
s_kind_lookup (const char *name, size_t len)
{
    for (int i = 0; i < EVENT_KINDS_N; i++)
        if (strlen (s_kinds [i].name) == len && !memcmp (s_kinds [i].name, name, len))
            return i;
    return -1;
}

zmsg_t *
event_encode (event_kind_t kind, const char *job_id, const char *job_json)
{
    if (!s_kind_valid (kind) || !job_id || !uuid_valid (job_id) || !job_json)
        return NULL;
    const char *name = s_kinds [kind].name;
    //  {"event":"jobs:<name>","data":<job>}: fewer than 32 bytes around the two. A job
    //  text that cannot fit is refused before it is copied.
    size_t len = strlen (job_json) + strlen (name) + 32;
    if (len > EVENT_BODY_MAX + 32)
        return NULL;
    char *text = (char *) malloc (len);
    if (!text)
        return NULL;
    int n = snprintf (text, len, "{\"event\":\"" S_EVENT_PREFIX "%s\",\"data\":%s}", name, job_json);
    zmsg_t *msg = NULL;
    if (n > 0 && (size_t) n <= EVENT_BODY_MAX) {
        msg = zmsg_new ();
        zmsg_addstrf (msg, S_TOPIC_PREFIX "%s.%s", name, job_id);
        zmsg_addmem (msg, text, (size_t) n);
    }
    free (text);
    return msg;
}

//  Topic: jobs.<name>.<uuid>. Fills info->kind and info->job_id.
static const char *
s_decode_topic (const char *topic, size_t len, event_info_t *info)
{
    if (!topic || len < S_PREFIX_LEN + 1 + 1 + UUID_STRLEN || len > EVENT_TOPIC_MAX
    ||  memcmp (topic, S_TOPIC_PREFIX, S_PREFIX_LEN))
        return "bad_topic";
    size_t name_len = len - S_PREFIX_LEN - 1 - UUID_STRLEN;
    const char *name = topic + S_PREFIX_LEN;
    const char *id = name + name_len + 1;
    if (name [name_len] != '.' || !uuid_valid_n (id, UUID_STRLEN))
        return "bad_topic";
    int kind = s_kind_lookup (name, name_len);
    if (kind < 0)
        return "unknown_event";
    info->kind = (event_kind_t) kind;
    //  Lower case, so one job is one cache key whatever case a publisher used.
    for (int i = 0; i < UUID_STRLEN; i++)
        info->job_id [i] = (char) tolower ((unsigned char) id [i]);
    return NULL;
}

//  "data" of the body: the topic's job (info->job_id), its creator and its progress.
static const char *
s_decode_data (json_t *data, event_info_t *info)
{
    if (!json_is_object (data))
        return "data_not_object";
    const char *data_id = json_string_value (json_object_get (data, "id"));
    if (!data_id || !uuid_valid (data_id) || strncasecmp (data_id, info->job_id, UUID_STRLEN))
        return "data_id_mismatch";
    const char *created_by = json_string_value (json_object_get (data, "createdBy"));
    if (!created_by || !uuid_valid (created_by))
        return "bad_created_by";
    json_t *processed = json_object_get (data, "processed");
    if (processed && !json_is_integer (processed))
        return "bad_processed";
    json_t *seq = json_object_get (data, "seq");
    if (seq && (!json_is_integer (seq) || json_integer_value (seq) < 1
                || json_integer_value (seq) > EVENT_SEQ_MAX))
        return "bad_seq";
    for (int i = 0; i < UUID_STRLEN; i++)
        info->created_by [i] = (char) tolower ((unsigned char) created_by [i]);
    info->processed = processed ? (long long) json_integer_value (processed) : -1;
    info->seq = seq ? (long long) json_integer_value (seq) : -1;
    return NULL;
}

//  Body: a JSON object naming the topic's kind and job.
static const char *
s_decode_body (const char *body, size_t len, event_info_t *info)
{
    if (!body || len == 0 || len > EVENT_BODY_MAX)
        return "bad_body_size";
    json_error_t jerr;
    json_t *root = json_loadb (body, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *reason = NULL;
    const char *event = json_string_value (json_object_get (root, "event"));
    const char *name = s_kinds [info->kind].name;
    if (!json_is_object (root))
        reason = "body_not_json_object";
    else
    if (!event || strncmp (event, S_EVENT_PREFIX, S_PREFIX_LEN) || strcmp (event + S_PREFIX_LEN, name))
        reason = "event_mismatch";
    else
        reason = s_decode_data (json_object_get (root, "data"), info);
    json_decref (root);
    return reason;
}

//  A failed decode leaves nothing half-filled behind.
static int
s_result (event_info_t *info, const char *reason, const char **why)
{
    if (reason) {
        memset (info, 0, sizeof *info);
        info->processed = -1;
        info->seq = -1;
    }
    if (why)
        *why = reason;
    return reason ? -1 : 0;
}

int
event_decode_frames (const void *topic, size_t topic_len, const void *body, size_t body_len,
                     event_info_t *info, const char **why)
{
    memset (info, 0, sizeof *info);
    const char *reason = s_decode_topic ((const char *) topic, topic_len, info);
    if (!reason)
        reason = s_decode_body ((const char *) body, body_len, info);
    return s_result (info, reason, why);
}

int
event_decode (zmsg_t *msg, event_info_t *info, const char **why)
{
    if (!msg || zmsg_size (msg) != EVENT_FRAMES)
        return s_result (info, "frame_count", why);
    zframe_t *topic = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    return event_decode_frames (zframe_data (topic), zframe_size (topic),
                                zframe_data (body), zframe_size (body), info, why);
}
