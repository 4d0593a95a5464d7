/*  reply: what a service handler answers (status + JSON body), the contract's error
    object, and the conversion of PostgreSQL timestamps to RFC 3339 with milliseconds.  */
#ifndef WORKERS_REPLY_H
#define WORKERS_REPLY_H

#include <jansson.h>

//  The body is a tree (body) or text already serialized (text), never both; neither means
//  an empty payload (204).
typedef struct {
    int status;
    json_t *body;               //  owned
    char *text;                 //  owned, NUL-terminated, text_len bytes before the NUL
    size_t text_len;
} reply_t;

//  "2026-11-25T16:17:07.123Z" plus NUL
#define REPLY_TIME_LEN 25

//  Each setter replaces what the reply held. reply_json takes ownership of body.
void reply_json (reply_t *self, int status, json_t *body);
void reply_empty (reply_t *self, int status);
//  The body as compact JSON text, taken from *text_p (which must not be NULL).
void reply_text (reply_t *self, int status, char **text_p, size_t len);
//  Serializes a tree body into text, once: the worker sends and the replay record stores
//  the same bytes. 0; -1 when the tree cannot be encoded (the reply is then 500 internal,
//  already encoded; the caller logs).
int reply_encode (reply_t *self);
//  code and message are our constants; details (taken, may be NULL) an array.
void reply_error (reply_t *self, int status, const char *code, const char *message,
                  json_t *details);
//  422 validation_failed naming every bad field in details (taken).
void reply_invalid (reply_t *self, json_t *details);
void reply_unavailable (reply_t *self);         //  503 database_unavailable
void reply_internal (reply_t *self);            //  500 internal
void reply_reset (reply_t *self);

//  Appends {"field": field, "message": message} to details.
void reply_detail (json_t *details, const char *field, const char *message);

//  Converts PostgreSQL's ISO output in UTC ("2026-11-25 16:17:07.123456+00", fraction
//  optional) to "2026-11-25T16:17:07.123Z". Returns -1 for anything else.
int reply_time (const char *pg, char out [REPLY_TIME_LEN]);

#endif
