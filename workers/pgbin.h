/*  pgbin: PostgreSQL's array forms as the worker meets them. Parameters go out in the
    binary form (array_send: a 20-byte header, then a length-prefixed value an element), so
    a million ids cost no text formatting on either side; results come back in the text
    form ("{0,1,2}") and are read here. Knows nothing of connections or statements.  */
#ifndef WORKERS_PGBIN_H
#define WORKERS_PGBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGBIN_OID_UUID      2950
#define PGBIN_OID_TEXT      25
#define PGBIN_ARRAY_HEADER  20      //  ndim, has_nulls, element oid, length, lower bound

//  Bytes a uuid[] of n ids takes: the header, then a 4-byte length and 16 bytes an id.
#define PGBIN_UUID_ARRAY_SIZE(n)            (PGBIN_ARRAY_HEADER + (size_t) (n) * 20)
//  Bytes a text[] of n elements, each NULL or the same text of len bytes, takes at most.
#define PGBIN_MARK_ARRAY_SIZE(n, len)       (PGBIN_ARRAY_HEADER + (size_t) (n) * (4 + (len)))

//  n ids (16 bytes each) as a binary uuid[] into buf (PGBIN_UUID_ARRAY_SIZE (n) bytes).
//  Returns its length.
int pgbin_uuid_array (unsigned char *buf, const unsigned char *ids, size_t n);

//  A binary text[] of n elements: text where marked [i], else NULL, into buf
//  (PGBIN_MARK_ARRAY_SIZE (n, strlen (text)) bytes). Returns its length.
int pgbin_mark_array (unsigned char *buf, const bool *marked, size_t n, const char *text);

//  Reads the next whole number of an int[] in text form ("{0,1,2}", as a result column
//  holds it): skips anything that is not a digit or a minus sign before one (the plan
//  chunk is seq -1), stores the value in *value and returns where it ended; NULL when
//  there is none left. Values beyond the int range are not ours to meet (sequence numbers
//  of our own jobs) and are clamped.
const char *pgbin_int_next (const char *text, int *value);

#endif
