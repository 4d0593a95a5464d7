/*  check: field validators for service payloads (the frame is outside input).  */
#include "check.h"
#include "../common/rfc3339.h"
#include "reply.h"
#include "../common/uuid.h"

#include <stdio.h>
#include <string.h>

size_t
check_utf8_len (const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

//  The field's value, or NULL (and a detail when required) when absent.
static json_t *
s_get (json_t *obj, const char *key, bool required, json_t *details, int *rc)
{
    json_t *value = json_object_get (obj, key);
    *rc = 0;
    if (!value && required) {
        reply_detail (details, key, "is required");
        *rc = -1;
    }
    return value;
}

int
check_string (json_t *obj, const char *key, bool required, size_t min, size_t max,
              json_t *details, const char **out)
{
    int rc;
    *out = NULL;
    json_t *value = s_get (obj, key, required, details, &rc);
    if (!value)
        return rc;
    if (!json_is_string (value)) {
        reply_detail (details, key, "must be a string");
        return -1;
    }
    size_t len = check_utf8_len (json_string_value (value));
    if (len < min || len > max) {
        char msg [96];
        snprintf (msg, sizeof msg, "must be %zu to %zu characters long", min, max);
        reply_detail (details, key, msg);
        return -1;
    }
    *out = json_string_value (value);
    return 0;
}

int
check_enum (json_t *obj, const char *key, bool required, const char *const *allowed,
            json_t *details, const char **out)
{
    int rc;
    *out = NULL;
    json_t *value = s_get (obj, key, required, details, &rc);
    if (!value)
        return rc;
    if (json_is_string (value))
        for (const char *const *a = allowed; *a; a++)
            if (!strcmp (json_string_value (value), *a)) {
                *out = *a;
                return 0;
            }
    char msg [160];
    reply_detail (details, key, vocab_must_be (allowed, msg, sizeof msg));
    return -1;
}

int
check_uuid (json_t *obj, const char *key, bool required, bool nullable,
            json_t *details, const char **out, bool *is_null)
{
    int rc;
    *out = NULL;
    if (is_null)
        *is_null = false;
    json_t *value = s_get (obj, key, required, details, &rc);
    if (!value)
        return rc;
    if (nullable && json_is_null (value)) {
        if (is_null)
            *is_null = true;
        return 0;
    }
    if (!json_is_string (value) || !uuid_valid (json_string_value (value))
    ||  strlen (json_string_value (value)) != UUID_STRLEN) {
        reply_detail (details, key, nullable ? "must be a UUID or null" : "must be a UUID");
        return -1;
    }
    *out = json_string_value (value);
    return 0;
}

int
check_time (json_t *obj, const char *key, bool required, json_t *details, const char **out)
{
    int rc;
    *out = NULL;
    json_t *value = s_get (obj, key, required, details, &rc);
    if (!value)
        return rc;
    if (!json_is_string (value) || !rfc3339_valid (json_string_value (value))) {
        reply_detail (details, key, "must be a date (2026-12-07) or a date and time with a zone"
                                    " (2026-12-07T08:30:00Z)");
        return -1;
    }
    *out = json_string_value (value);
    return 0;
}

int
check_int (json_t *obj, const char *key, bool required, long min, long max,
           json_t *details, long *out, bool *present)
{
    int rc;
    if (present)
        *present = false;
    json_t *value = s_get (obj, key, required, details, &rc);
    if (!value)
        return rc;
    if (!json_is_integer (value) || json_integer_value (value) < min
    ||  json_integer_value (value) > max) {
        char msg [96];
        snprintf (msg, sizeof msg, "must be a whole number from %ld to %ld", min, max);
        reply_detail (details, key, msg);
        return -1;
    }
    *out = (long) json_integer_value (value);
    if (present)
        *present = true;
    return 0;
}
