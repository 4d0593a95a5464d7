/*  jsonw: JSON text written straight into one growing buffer, for answers made from database
    rows without building a jansson tree first. Its text is byte for byte what jansson 2.14's
    json_dumps (JSON_COMPACT) makes of the same values (tests/unit/test_jsonw.c compares them),
    so a client cannot tell which of the two wrote an answer.  */
#ifndef COMMON_JSONW_H
#define COMMON_JSONW_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    JSONW_OK = 0,
    JSONW_TOO_BIG,              //  the text would pass max bytes
    JSONW_NOT_UTF8,             //  a string is not UTF-8 (json_pack's "s" refuses it alike)
} jsonw_error_t;

//  Embedded by its user (one per answer): jsonw_init, the writes, jsonw_take, jsonw_reset.
//  A failed write sets error, and every later write does nothing: a caller checks once, at
//  jsonw_take. Commas are the writer's: a value after a value in the same container gets one.
typedef struct {
    char *data;
    size_t len, size;           //  text so far; bytes allocated
    size_t max;                 //  the hard cap on the text, its NUL not counted
    bool comma;                 //  the next key or value follows one in its container
    jsonw_error_t error;
} jsonw_t;

//  max: the longest text this writer may hold; a write that would pass it fails the
//  whole text (JSONW_TOO_BIG), so a caller never sends a truncated answer.
void jsonw_init (jsonw_t *self, size_t max);
//  Frees what the writer holds (not a taken text); it may be initialized again.
void jsonw_reset (jsonw_t *self);

void jsonw_object_begin (jsonw_t *self);
void jsonw_object_end (jsonw_t *self);
void jsonw_array_begin (jsonw_t *self);
void jsonw_array_end (jsonw_t *self);
//  A member's name: the caller's constant, escaped all the same.
void jsonw_key (jsonw_t *self, const char *key);
//  len bytes of s, which must be UTF-8 (NUL bytes included, as \u0000).
void jsonw_string (jsonw_t *self, const char *s, size_t len);
void jsonw_integer (jsonw_t *self, long long value);
void jsonw_bool (jsonw_t *self, bool value);
void jsonw_null (jsonw_t *self);
//  len bytes of text that already is one JSON value, written as they are.
void jsonw_raw (jsonw_t *self, const char *text, size_t len);

//  The text (NUL-terminated, the caller frees) and its length; NULL when a write failed
//  (self->error says why). The writer is empty afterwards either way.
char *jsonw_take (jsonw_t *self, size_t *len_p);
//  The error's name for a log line: "too_big", "not_utf8", or "none".
const char *jsonw_error_name (jsonw_error_t error);

#endif
