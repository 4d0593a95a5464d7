/*  svc: application envelope codec.  */
#include "svc.h"
#include "../common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *s_role_names [] = { "", "agent", "admin" };

const char *
svc_role_name (svc_role_t role)
{
    return (role >= SVC_ROLE_NONE && role <= SVC_ROLE_ADMIN) ? s_role_names [role] : "";
}

svc_role_t
svc_role_parse (const char *name)
{
    if (name && !strcmp (name, "admin"))
        return SVC_ROLE_ADMIN;
    if (name && !strcmp (name, "agent"))
        return SVC_ROLE_AGENT;
    return SVC_ROLE_NONE;
}

bool
svc_rid_valid (const char *rid, size_t len)
{
    if (!rid || len == 0 || len > SVC_RID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) rid [i] <= 0x20 || (unsigned char) rid [i] >= 0x7f)
            return false;
    return true;
}

static void
s_set_err (char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, errlen, fmt, ap);
    va_end (ap);
}

//  Copies frame into dst (SVC_RID_MAX + 1 bytes) when it is a valid rid: 0, else -1.
static int
s_copy_rid (zframe_t *frame, char *dst)
{
    if (!frame || !svc_rid_valid ((const char *) zframe_data (frame), zframe_size (frame)))
        return -1;
    memcpy (dst, zframe_data (frame), zframe_size (frame));
    dst [zframe_size (frame)] = 0;
    return 0;
}

static int
s_take_rid (zmsg_t *body, char *dst)
{
    zframe_t *frame = zmsg_pop (body);
    int rc = s_copy_rid (frame, dst);
    zframe_destroy (&frame);
    return rc;
}


//  auth frame: "" or "<uuid> <role>"
static int
s_take_auth (zmsg_t *body, svc_request_t *self)
{
    zframe_t *frame = zmsg_pop (body);
    if (!frame)
        return -1;
    size_t len = zframe_size (frame);
    const char *data = (const char *) zframe_data (frame);
    int rc = -1;
    if (len == 0)
        rc = 0;
    else
    if (len > UUID_STRLEN + 1 && len <= SVC_AUTH_MAX && data [UUID_STRLEN] == ' '
    &&  uuid_valid_n (data, UUID_STRLEN)) {
        char role [8];
        size_t rlen = len - UUID_STRLEN - 1;
        memcpy (role, data + UUID_STRLEN + 1, rlen);
        role [rlen] = 0;
        self->role = svc_role_parse (role);
        if (self->role != SVC_ROLE_NONE) {
            memcpy (self->user, data, UUID_STRLEN);
            self->user [UUID_STRLEN] = 0;
            rc = 0;
        }
    }
    zframe_destroy (&frame);
    return rc;
}

svc_request_t *
svc_request_decode (zmsg_t **body_p, char *err, size_t errlen)
{
    zmsg_t *body = *body_p;
    *body_p = NULL;
    svc_request_t *self = (svc_request_t *) zmalloc (sizeof (svc_request_t));
    if (!body || zmsg_size (body) < 3 || zmsg_size (body) > 4) {
        s_set_err (err, errlen, "request body must be 3 or 4 frames (rid, auth, payload, [blob]), got %zu",
                   body ? zmsg_size (body) : 0);
        goto fail;
    }
    if (s_take_rid (body, self->rid)) {
        s_set_err (err, errlen, "invalid request id frame");
        goto fail;
    }
    if (s_take_auth (body, self)) {
        s_set_err (err, errlen, "invalid auth frame");
        goto fail;
    }
    self->payload = zmsg_pop (body);
    self->blob = zmsg_pop (body);
    zmsg_destroy (&body);
    return self;
fail:
    zmsg_destroy (&body);
    svc_request_destroy (&self);
    return NULL;
}

void
svc_request_destroy (svc_request_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zframe_destroy (&(*self_p)->payload);
    zframe_destroy (&(*self_p)->blob);
    free (*self_p);
    *self_p = NULL;
}

svc_reply_t *
svc_reply_decode (zmsg_t **body_p, char *err, size_t errlen)
{
    zmsg_t *body = *body_p;
    *body_p = NULL;
    svc_reply_t *self = (svc_reply_t *) zmalloc (sizeof (svc_reply_t));
    zframe_t *frame = NULL;
    if (!body || zmsg_size (body) != 3) {
        s_set_err (err, errlen, "reply body must be 3 frames (rid, status, payload), got %zu",
                   body ? zmsg_size (body) : 0);
        goto fail;
    }
    if (s_take_rid (body, self->rid)) {
        s_set_err (err, errlen, "invalid request id frame");
        goto fail;
    }
    frame = zmsg_pop (body);
    const unsigned char *d = zframe_data (frame);
    if (zframe_size (frame) != 3 || d [0] < '1' || d [0] > '5'
    ||  d [1] < '0' || d [1] > '9' || d [2] < '0' || d [2] > '9') {
        s_set_err (err, errlen, "status frame is not three digits 100..599");
        goto fail;
    }
    self->status = (d [0] - '0') * 100 + (d [1] - '0') * 10 + (d [2] - '0');
    zframe_destroy (&frame);
    self->payload = zmsg_pop (body);
    zmsg_destroy (&body);
    return self;
fail:
    zframe_destroy (&frame);
    zmsg_destroy (&body);
    svc_reply_destroy (&self);
    return NULL;
}

void
svc_reply_destroy (svc_reply_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zframe_destroy (&(*self_p)->payload);
    free (*self_p);
    *self_p = NULL;
}

zmsg_t *
svc_request_encode (const char *rid, const char *user, svc_role_t role,
                    const char *payload, size_t len)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, rid);
    if (user && *user)
        zmsg_addstrf (body, "%s %s", user, svc_role_name (role));
    else
        zmsg_addmem (body, "", 0);
    zmsg_addmem (body, payload ? payload : "", payload ? len : 0);
    return body;
}

zmsg_t *
svc_reply_encode (const char *rid, int status, const char *payload, size_t len)
{
    zmsg_t *body = zmsg_new ();
    zmsg_addstr (body, rid && *rid ? rid : "-");
    zmsg_addstrf (body, "%03d", status);
    zmsg_addmem (body, payload ? payload : "", payload ? len : 0);
    return body;
}

json_t *
svc_error_object (const char *code, const char *message, json_t *details)
{
    return json_pack ("{s:{s:s, s:s, s:o}}", "error", "code", code, "message", message,
                      "details", details ? details : json_array ());
}

char *
svc_error_text (const char *code, const char *message, json_t *details, size_t *len)
{
    json_t *root = svc_error_object (code, message, details);
    char *text = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    if (!text) {
        //  Text that is not UTF-8, or no memory: a constant body is still the contract.
        text = strdup ("{\"error\":{\"code\":\"internal\",\"message\":"
                       "\"the server failed to encode the error\",\"details\":[]}}");
        if (!text)
            PANIC ("event=oom where=svc_error_text");
    }
    if (len)
        *len = strlen (text);
    return text;
}

zmsg_t *
svc_reply_error (const char *rid, int status, const char *code, const char *message)
{
    size_t len;
    char *json = svc_error_text (code, message, NULL, &len);
    zmsg_t *body = svc_reply_encode (rid, status, json, len);
    free (json);
    return body;
}

void
svc_peek_rid (zmsg_t *body, char out [SVC_RID_MAX + 1])
{
    if (s_copy_rid (body ? zmsg_first (body) : NULL, out))
        out [0] = 0;
}
