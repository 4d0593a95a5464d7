/*  jobbody: reads a POST /api/jobs body incrementally, in whatever pieces MHD hands over,
    turning the elements of payload.ticketIds into 16-byte ids and keeping every other
    byte as a small "rest" document for the usual jansson validation. Memory is bounded by
    max_ids * 16 + max_rest, whatever the body size.  */
#ifndef EDGE_JOBBODY_H
#define EDGE_JOBBODY_H

#include <stdbool.h>
#include <stddef.h>
#include "idlist.h"

typedef struct _jobbody_t jobbody_t;

//  Bad elements remembered by index (the rest are only counted).
#define JOBBODY_BAD_MAX    IDLIST_BAD_MAX
//  Deepest nesting of objects and arrays accepted; deeper is an error.
#define JOBBODY_DEPTH_MAX  64

//  A scanner that stores at most max_ids ids (later valid ids are only counted) and keeps
//  at most max_rest bytes of rest (more is an error, see jobbody_too_big). NULL when out
//  of memory. The caller owns it and ends it with jobbody_destroy.
jobbody_t *jobbody_new (size_t max_ids, size_t max_rest);

//  Frees the scanner and any ids not taken; sets *self_p to NULL. NULL-safe.
void jobbody_destroy (jobbody_t **self_p);

//  Scans the next len bytes of the body; data is only read during the call. Returns 0,
//  or -1 when the body is not valid JSON, nests deeper than JOBBODY_DEPTH_MAX, or its rest
//  outgrows max_rest (or on out of memory). Errors are sticky: every later feed and the
//  finish return -1 too. Results do not depend on how the body is split into feeds.
int jobbody_feed (jobbody_t *self, const char *data, size_t len);

//  The end of the body: 0 when everything fed was one complete JSON value with nothing
//  but whitespace after it; -1 when it is empty, truncated, or a feed failed.
int jobbody_finish (jobbody_t *self);

//  Why the last -1: short text naming the byte offset (from 0), e.g.
//  "unexpected 'x' at byte 17". Borrowed, "" when there was no error.
const char *jobbody_error (jobbody_t *self);

//  True when the -1 came from the rest outgrowing max_rest (an HTTP 413, not a 400).
//  When a body is both too big and invalid, this tells which came first in the body.
bool jobbody_too_big (jobbody_t *self);

//  Bytes the scanner holds now (ids and rest buffers).
size_t jobbody_memory (const jobbody_t *self);

//  True when the -1 came from running out of memory (neither the client's fault nor a
//  verdict on the body: the edge answers 503).
bool jobbody_out_of_memory (jobbody_t *self);

//  The body without the elements of payload.ticketIds (and without whitespace inside that
//  array), so it holds "ticketIds":[]; every other byte verbatim. NUL-terminated, its
//  length in *len (may be NULL). Borrowed, owned by self. NULL (and *len 0) unless finish
//  succeeded.
const char *jobbody_rest (jobbody_t *self, size_t *len);

//  True when an array was found at payload.ticketIds (top-level object, key "payload"
//  holding an object, key "ticketIds" holding an array; keys compared after decoding
//  escapes). Anything else at that path is ordinary rest.
bool jobbody_ids_seen (jobbody_t *self);

//  True when that path held an array more than once (duplicate "payload" or "ticketIds"
//  keys). Count, bad elements and ids then cover all those arrays in body order, indexes
//  continuing; the caller should refuse such a body.
bool jobbody_repeated (jobbody_t *self);

//  Elements in that array, all of them (also beyond max_ids and the bad ones).
size_t jobbody_count (jobbody_t *self);

//  Elements that are not a string whose decoded text is a uuid (any case).
size_t jobbody_bad_count (jobbody_t *self);

//  The index (from 0) of the i-th bad element, for i < min (bad_count, JOBBODY_BAD_MAX),
//  in body order; (size_t) -1 for any other i.
size_t jobbody_bad_index (jobbody_t *self, size_t i);

//  The stored ids, 16 bytes each in body order (at most max_ids of them), their number
//  in *count. The caller frees the buffer; self keeps none afterwards (a second call
//  returns NULL). NULL and *count 0 when there are none.
unsigned char *jobbody_take_ids (jobbody_t *self, size_t *count);

#endif
