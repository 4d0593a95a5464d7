/*  pgbin: the binary array form of parameters and the text array form of results.  */
#include "pgbin.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

//  Big-endian int32, as PostgreSQL's binary format wants.
static unsigned char *
s_put32 (unsigned char *p, int32_t v)
{
    uint32_t u = (uint32_t) v;
    p [0] = (unsigned char) (u >> 24);
    p [1] = (unsigned char) (u >> 16);
    p [2] = (unsigned char) (u >> 8);
    p [3] = (unsigned char) u;
    return p + 4;
}

//  The header of a one-dimensional array with lower bound 1.
static unsigned char *
s_array_header (unsigned char *p, bool has_nulls, int32_t elem_oid, size_t n)
{
    p = s_put32 (p, 1);
    p = s_put32 (p, has_nulls);
    p = s_put32 (p, elem_oid);
    p = s_put32 (p, (int32_t) n);
    return s_put32 (p, 1);
}

int
pgbin_uuid_array (unsigned char *buf, const unsigned char *ids, size_t n)
{
    unsigned char *p = s_array_header (buf, false, PGBIN_OID_UUID, n);
    for (size_t i = 0; i < n; i++) {
        p = s_put32 (p, 16);
        memcpy (p, ids + 16 * i, 16);
        p += 16;
    }
    return (int) (p - buf);
}

int
pgbin_mark_array (unsigned char *buf, const bool *marked, size_t n, const char *text)
{
    size_t len = strlen (text);
    unsigned char *p = s_array_header (buf, true, PGBIN_OID_TEXT, n);
    for (size_t i = 0; i < n; i++)
        if (marked [i]) {
            p = s_put32 (p, (int32_t) len);
            memcpy (p, text, len);
            p += len;
        }
        else
            p = s_put32 (p, -1);            //  NULL
    return (int) (p - buf);
}

const char *
pgbin_int_next (const char *text, int *value)
{
    //  A sign belongs to the number it precedes: the plan chunk is seq -1.
    while (*text && (*text < '0' || *text > '9') && !(*text == '-' && text [1] >= '0' && text [1] <= '9'))
        text++;
    if (!*text)
        return NULL;
    char *end;
    long v = strtol (text, &end, 10);
    *value = v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int) v;
    return end;
}
