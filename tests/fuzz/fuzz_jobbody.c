/*  fuzz_jobbody: a POST /api/jobs body as http-edge/jobbody.c scans it, fed whole, split in
    two at a point taken from the data, and one byte at a time: all three must agree. When
    jansson accepts the input, the scanner must too (unless the depth or rest bound is hit),
    its rest must be the same document with payload.ticketIds emptied, and its ids, count
    and bad indexes must be what jansson's view of that array says. The whole input is the
    body.  */
#include "../../http-edge/jobbody.h"
#include "../../common/uuid.h"
#include "fuzz_frames.h"
#include <jansson.h>

#define MAX_IDS  8
#define MAX_REST 2048

typedef struct {
    int rc;
    bool too_big, seen, repeated;
    size_t count, bad_count, bad [JOBBODY_BAD_MAX];
    char error [128];
    char *rest;                 //  copies, owned here
    size_t rest_len;
    unsigned char *ids;
    size_t ids_n;
} outcome_t;

//  Scans body in pieces of step bytes (0: whole), or in two at split when step is 0 and
//  split < size.
static void
s_run (const char *body, size_t size, size_t step, size_t split, outcome_t *o)
{
    memset (o, 0, sizeof *o);
    jobbody_t *jb = jobbody_new (MAX_IDS, MAX_REST);
    FUZZ_CHECK (jb);
    int rc = 0;
    if (step)
        for (size_t i = 0; i < size && rc == 0; i += step)
            rc = jobbody_feed (jb, body + i, size - i < step ? size - i : step);
    else
    if (split < size) {
        rc = jobbody_feed (jb, body, split);
        if (rc == 0)
            rc = jobbody_feed (jb, body + split, size - split);
    }
    else
        rc = jobbody_feed (jb, body, size);
    if (rc == 0)
        rc = jobbody_finish (jb);
    //  Errors are sticky.
    if (rc)
        FUZZ_CHECK (jobbody_finish (jb) == -1 && jobbody_feed (jb, "1", 1) == -1);
    o->rc = rc;
    o->too_big = jobbody_too_big (jb);
    o->seen = jobbody_ids_seen (jb);
    o->repeated = jobbody_repeated (jb);
    o->count = jobbody_count (jb);
    o->bad_count = jobbody_bad_count (jb);
    for (size_t i = 0; i < JOBBODY_BAD_MAX; i++)
        o->bad [i] = jobbody_bad_index (jb, i);
    snprintf (o->error, sizeof o->error, "%s", jobbody_error (jb));
    FUZZ_CHECK ((rc == 0) == (o->error [0] == 0));
    size_t len;
    const char *rest = jobbody_rest (jb, &len);
    FUZZ_CHECK ((rc == 0) == (rest != NULL));
    if (rest) {
        FUZZ_CHECK (rest [len] == 0 && strlen (rest) == len && len <= MAX_REST && len <= size);
        o->rest = malloc (len + 1);
        memcpy (o->rest, rest, len + 1);
        o->rest_len = len;
    }
    o->ids = jobbody_take_ids (jb, &o->ids_n);
    FUZZ_CHECK ((o->ids == NULL) == (o->ids_n == 0));
    FUZZ_CHECK (o->ids_n <= MAX_IDS && o->ids_n <= o->count && o->count <= size);
    FUZZ_CHECK (o->bad_count <= o->count && o->ids_n + o->bad_count <= o->count);
    FUZZ_CHECK (!o->count || o->seen);
    jobbody_destroy (&jb);
    FUZZ_CHECK (jb == NULL);
}

static void
s_same (const outcome_t *a, const outcome_t *b)
{
    FUZZ_CHECK (a->rc == b->rc && a->too_big == b->too_big && !strcmp (a->error, b->error));
    if (a->rc)
        return;         //  after an error the counts depend on where it stopped
    FUZZ_CHECK (a->seen == b->seen && a->repeated == b->repeated);
    FUZZ_CHECK (a->count == b->count && a->bad_count == b->bad_count);
    FUZZ_CHECK (!memcmp (a->bad, b->bad, sizeof a->bad));
    FUZZ_CHECK (a->rest_len == b->rest_len && !memcmp (a->rest, b->rest, a->rest_len));
    FUZZ_CHECK (a->ids_n == b->ids_n && (!a->ids_n || !memcmp (a->ids, b->ids, a->ids_n * 16)));
}

static void
s_free (outcome_t *o)
{
    free (o->rest);
    free (o->ids);
}

//  The input as jansson reads it agrees with the scan.
static void
s_check_against_jansson (const char *body, size_t size, const outcome_t *o)
{
    //  jansson stops at a NUL byte as if the input ended there ("1\0" is 1); the scanner
    //  rightly refuses a NUL outside a string. Compare only bodies without one.
    if (memchr (body, 0, size))
        return;
    json_t *in = json_loadb (body, size, JSON_DECODE_ANY, NULL);
    if (!in)
        return;         //  the scanner may accept more (lone surrogates, bad UTF-8, huge numbers)
    if (o->rc) {
        FUZZ_CHECK (o->too_big || strstr (o->error, "nested too deeply"));
        json_decref (in);
        return;
    }
    json_t *rest = json_loadb (o->rest, o->rest_len, JSON_DECODE_ANY, NULL);
    FUZZ_CHECK (rest != NULL);
    //  jansson keeps the last of duplicate keys; the scanner empties every array at the
    //  path, so emptying the one jansson kept gives the same document.
    json_t *payload = json_is_object (in) ? json_object_get (in, "payload") : NULL;
    json_t *ids = json_is_object (payload) ? json_object_get (payload, "ticketIds") : NULL;
    if (!json_is_array (ids))
        ids = NULL;
    FUZZ_CHECK (!ids || o->seen);
    if (!o->seen)
        FUZZ_CHECK (o->rest_len == size && !memcmp (o->rest, body, size));
    if (ids && !o->repeated) {
        //  The only array at the path: element by element.
        FUZZ_CHECK (o->count == json_array_size (ids));
        size_t stored = 0, bad = 0;
        for (size_t i = 0; i < json_array_size (ids); i++) {
            json_t *e = json_array_get (ids, i);
            unsigned char b [16];
            if (json_is_string (e)
            &&  uuid_to_bytes (json_string_value (e), json_string_length (e), b) == 0) {
                if (stored < MAX_IDS) {
                    FUZZ_CHECK (stored < o->ids_n && !memcmp (o->ids + stored * 16, b, 16));
                    stored++;
                }
            }
            else {
                if (bad < JOBBODY_BAD_MAX)
                    FUZZ_CHECK (o->bad [bad] == i);
                bad++;
            }
        }
        FUZZ_CHECK (stored == o->ids_n && bad == o->bad_count);
    }
    if (ids) {
        json_t *copy = json_deep_copy (in);
        json_array_clear (json_object_get (json_object_get (copy, "payload"), "ticketIds"));
        FUZZ_CHECK (json_equal (copy, rest));
        json_decref (copy);
    }
    else
        FUZZ_CHECK (json_equal (in, rest));
    json_decref (rest);
    json_decref (in);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  A private copy, so reading one byte past the body is caught.
    char *body = malloc (size ? size : 1);
    memcpy (body, data, size);
    size_t split = size ? ((size_t) data [0] * 257 + data [size - 1]) % (size + 1) : 0;

    outcome_t whole, two, bytes;
    s_run (body, size, 0, size, &whole);
    s_run (body, size, 0, split, &two);
    s_run (body, size, 1, 0, &bytes);
    s_same (&whole, &two);
    s_same (&whole, &bytes);
    s_check_against_jansson (body, size, &whole);
    s_free (&whole);
    s_free (&two);
    s_free (&bytes);
    free (body);
    return 0;
}
