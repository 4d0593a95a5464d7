/*  fuzz_hub_event: a job event as the progress hub reads it from its XSUB (topic frame,
    JSON frame), through progress-hub/event.c's event_parse. Input frames as in
    fuzz_frames.h: the first is the topic, the second the body. An accepted event names
    the topic's job in lower case, a uuid creator, and carries the body unchanged.  */
#include "../../progress-hub/event.h"
#include "fuzz_frames.h"
#include <ctype.h>
#include <strings.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zmsg_t *msg = fuzz_frames (data, size);
    zframe_t *topic = zmsg_pop (msg);
    zframe_t *body = zmsg_pop (msg);
    //  Exact-size copies so one byte read past either frame is caught.
    size_t tlen = topic ? zframe_size (topic) : 0, blen = body ? zframe_size (body) : 0;
    char *t = malloc (tlen ? tlen : 1), *b = malloc (blen ? blen : 1);
    if (tlen)
        memcpy (t, zframe_data (topic), tlen);
    if (blen)
        memcpy (b, zframe_data (body), blen);

    event_t ev;
    const char *why = NULL;
    int rc = event_parse (topic ? t : NULL, tlen, body ? b : NULL, blen, &ev, &why);
    FUZZ_CHECK ((rc == 0) == (why == NULL));
    if (rc == 0) {
        FUZZ_CHECK (uuid_valid (ev.job_id) && uuid_valid (ev.created_by));
        for (int i = 0; i < UUID_STRLEN; i++)
            FUZZ_CHECK (!isupper ((unsigned char) ev.job_id [i]));
        FUZZ_CHECK (strncasecmp (ev.job_id, t + tlen - UUID_STRLEN, UUID_STRLEN) == 0);
        FUZZ_CHECK (ev.payload && ev.payload->len == blen);
        FUZZ_CHECK (memcmp (EVENT_TEXT (ev.payload), b, blen) == 0);
        FUZZ_CHECK (EVENT_TEXT (ev.payload) [blen] == 0);
        FUZZ_CHECK ((int) ev.kind >= EVENT_CREATED && ev.kind <= EVENT_CANCELED);
    }
    event_clear (&ev);
    FUZZ_CHECK (ev.payload == NULL);
    free (t);
    free (b);
    zframe_destroy (&topic);
    zframe_destroy (&body);
    zmsg_destroy (&msg);
    return 0;
}
