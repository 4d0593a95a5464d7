/*  fuzz_hub_event: a job event as the progress hub reads it from its XSUB (topic frame,
    JSON frame), through proto/event.c's decoder. Input frames as in fuzz_frames.h: the
    first is the topic, the second the body. An accepted event names the topic's kind and
    job in lower case and a uuid creator; a rejected one says why and fills in nothing.
    The same bytes as a job's text must encode to an event or to NULL, never to a message
    the decoder reads as another kind or job.  */
#include "../../proto/event.h"
#include "fuzz_frames.h"
#include <ctype.h>
#include <strings.h>

#define FUZZ_JOB "0b5e2a49-6f0a-4f43-9a55-3d3c1c1f4b10"

static void
s_check_accepted (const event_info_t *info, const char *topic, size_t topic_len)
{
    FUZZ_CHECK (uuid_valid (info->job_id) && uuid_valid (info->created_by));
    for (int i = 0; i < UUID_STRLEN; i++)
        FUZZ_CHECK (!isupper ((unsigned char) info->job_id [i]));
    FUZZ_CHECK (strncasecmp (info->job_id, topic + topic_len - UUID_STRLEN, UUID_STRLEN) == 0);
    FUZZ_CHECK ((int) info->kind >= 0 && info->kind < EVENT_KINDS_N);
    const char *name = event_kind_name (info->kind);
    FUZZ_CHECK (topic_len == 5 + strlen (name) + 1 + UUID_STRLEN);
    FUZZ_CHECK (memcmp (topic + 5, name, strlen (name)) == 0);
}

//  The body's bytes as a job's text, under a kind picked by its length.
static void
s_check_encode (const char *body, size_t len)
{
    char *text = malloc (len + 1);
    memcpy (text, body, len);
    text [len] = 0;
    event_kind_t kind = (event_kind_t) (len % EVENT_KINDS_N);
    zmsg_t *msg = event_encode (kind, FUZZ_JOB, text);
    free (text);
    if (!msg)
        return;
    FUZZ_CHECK (zmsg_size (msg) == EVENT_FRAMES);
    event_info_t info;
    if (event_decode (msg, &info, NULL) == 0)
        FUZZ_CHECK (info.kind == kind && strcmp (info.job_id, FUZZ_JOB) == 0);
    zmsg_destroy (&msg);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zmsg_t *msg = fuzz_frames (data, size);
    zframe_t *topic = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    //  Exact-size copies so one byte read past either frame is caught.
    size_t tlen = topic ? zframe_size (topic) : 0, blen = body ? zframe_size (body) : 0;
    char *t = malloc (tlen ? tlen : 1), *b = malloc (blen ? blen : 1);
    if (tlen)
        memcpy (t, zframe_data (topic), tlen);
    if (blen)
        memcpy (b, zframe_data (body), blen);

    event_info_t info;
    const char *why = NULL;
    int rc = event_decode_frames (topic ? t : NULL, tlen, body ? b : NULL, blen, &info, &why);
    FUZZ_CHECK ((rc == 0) == (why == NULL));
    if (rc == 0)
        s_check_accepted (&info, t, tlen);
    else
        FUZZ_CHECK (info.job_id [0] == 0 && info.processed == -1);
    //  The whole message: the same verdict when it has the two frames, else frame_count.
    event_info_t whole;
    const char *whole_why = NULL;
    int whole_rc = event_decode (msg, &whole, &whole_why);
    if (zmsg_size (msg) == EVENT_FRAMES)
        FUZZ_CHECK (whole_rc == rc && (rc || memcmp (&whole, &info, sizeof info) == 0));
    else
        FUZZ_CHECK (whole_rc == -1 && strcmp (whole_why, "frame_count") == 0);
    s_check_encode (b, blen);
    free (t);
    free (b);
    zmsg_destroy (&msg);
    return 0;
}
