/*  reply: building service answers, as jansson trees or as text a handler already wrote
    (common/jsonw.h); never printf with outside values.  */
#include "reply.h"
#include "../proto/svc.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

void
reply_reset (reply_t *self)
{
    json_decref (self->body);
    free (self->text);
    *self = (reply_t) { 0 };
}

void
reply_json (reply_t *self, int status, json_t *body)
{
    reply_reset (self);
    if (!body && status != 204) {
        //  json_pack fails only on text that is not UTF-8: never answer 2xx with nothing.
        status = 500;
        body = svc_error_object ("internal", "The server failed to encode the answer.", NULL);
    }
    self->status = status;
    self->body = body;
}

void
reply_empty (reply_t *self, int status)
{
    reply_json (self, status, NULL);
}

void
reply_text (reply_t *self, int status, char **text_p, size_t len)
{
    reply_reset (self);
    self->status = status;
    self->text = *text_p;
    self->text_len = len;
    *text_p = NULL;
}

int
reply_encode (reply_t *self)
{
    if (!self->body)
        return 0;
    int rc = 0;
    char *text = json_dumps (self->body, JSON_COMPACT);
    if (!text) {
        reply_internal (self);
        text = json_dumps (self->body, JSON_COMPACT);
        rc = -1;
    }
    if (text)
        reply_text (self, self->status, &text, strlen (text));
    return rc;
}

void
reply_error (reply_t *self, int status, const char *code, const char *message,
             json_t *details)
{
    reply_json (self, status, svc_error_object (code, message, details));
}

void
reply_invalid (reply_t *self, json_t *details)
{
    reply_error (self, 422, "validation_failed", "The request has invalid fields.", details);
}

void
reply_unavailable (reply_t *self)
{
    reply_error (self, 503, "database_unavailable", "The database is unavailable; try again shortly.", NULL);
}

void
reply_internal (reply_t *self)
{
    reply_error (self, 500, "internal", "The server failed to handle the request.", NULL);
}

void
reply_detail (json_t *details, const char *field, const char *message)
{
    json_array_append_new (details, json_pack ("{s:s, s:s}", "field", field, "message", message));
}

static bool
s_digits (const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!isdigit ((unsigned char) s [i]))
            return false;
    return true;
}

int
reply_time (const char *pg, char out [REPLY_TIME_LEN])
{
    //  YYYY-MM-DD HH:MM:SS  (19 chars), then [.f{1,6}], then +00
    if (!pg || strnlen (pg, 40) < 22)
        return -1;
    if (!s_digits (pg, 4) || pg [4] != '-' || !s_digits (pg + 5, 2) || pg [7] != '-'
    ||  !s_digits (pg + 8, 2) || pg [10] != ' ' || !s_digits (pg + 11, 2) || pg [13] != ':'
    ||  !s_digits (pg + 14, 2) || pg [16] != ':' || !s_digits (pg + 17, 2))
        return -1;
    const char *p = pg + 19;
    char ms [4] = "000";
    if (*p == '.') {
        p++;
        int n = 0;
        while (isdigit ((unsigned char) *p)) {
            if (n < 3)
                ms [n] = *p;
            n++;
            p++;
        }
        if (n == 0 || n > 6)
            return -1;
    }
    //  Truncating to ms (not rounding) never carries into the seconds.
    if (strcmp (p, "+00") != 0)
        return -1;
    memcpy (out, pg, 10);
    out [10] = 'T';
    memcpy (out + 11, pg + 11, 8);
    out [19] = '.';
    memcpy (out + 20, ms, 3);
    out [23] = 'Z';
    out [24] = 0;
    return 0;
}
