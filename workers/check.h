/*  check: validation of payload fields that came over the wire. Each check appends one
    {"field","message"} to details when the field is bad, so a 422 names every bad field.  */
#ifndef WORKERS_CHECK_H
#define WORKERS_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "../proto/vocab.h"         //  the lists check_enum is given, the field limits

//  Each returns 0 when the field is valid or absent and optional, else -1 (detail added).
//  *out is borrowed from obj, NULL when the field is absent (or JSON null where allowed).

//  A string of min..max characters (code points, as PostgreSQL's length() counts).
int check_string (json_t *obj, const char *key, bool required, size_t min, size_t max,
                  json_t *details, const char **out);
//  A string equal to one of allowed (NULL-terminated, e.g. vocab_ticket_statuses).
int check_enum (json_t *obj, const char *key, bool required, const char *const *allowed,
                json_t *details, const char **out);
//  A uuid string; with nullable, JSON null is accepted (*is_null set, *out NULL).
int check_uuid (json_t *obj, const char *key, bool required, bool nullable,
                json_t *details, const char **out, bool *is_null);
//  A timestamp as rfc3339.h accepts it (a date, or a date and time with a zone).
int check_time (json_t *obj, const char *key, bool required, json_t *details, const char **out);
//  An integer in min..max (*present false when absent).
int check_int (json_t *obj, const char *key, bool required, long min, long max,
               json_t *details, long *out, bool *present);

//  Code points in valid UTF-8 text (jansson only hands out valid UTF-8).
size_t check_utf8_len (const char *s);

#endif
