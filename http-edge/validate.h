/*  validate: pure input checks for the edge (request bodies, query strings, headers,
    static paths). Each check appends {"field","message"} to a details array, so one 422
    names every bad field; nothing here touches the network or MHD.  */
#ifndef EDGE_VALIDATE_H
#define EDGE_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "../proto/vocab.h"         //  the words and field limits checked here

//  Appends {"field": field, "message": message} to details.
void validate_add (json_t *details, const char *field, const char *message);

//  Code points in s[0..len) when it is valid UTF-8 (no overlongs, no surrogates),
//  else -1.
long validate_utf8_chars (const char *s, size_t len);

//  A sane e-mail shape: local@domain.tld, no spaces or control bytes,
//  VOCAB_EMAIL_MIN..VOCAB_EMAIL_MAX bytes.
bool validate_email (const char *s);

//  True for "application/json" with optional parameters (e.g. "; charset=utf-8").
bool validate_json_content_type (const char *ctype);

//  Outcome of reading a JSON request body.
typedef enum {
    VALIDATE_BODY_OK = 0,
    VALIDATE_BODY_NOT_JSON_TYPE,    //  415 unsupported_media_type
    VALIDATE_BODY_INVALID_JSON,     //  400 invalid_json
    VALIDATE_BODY_NOT_OBJECT,       //  422 validation_failed
    VALIDATE_BODY_EMPTY,            //  400 a body is required
} validate_body_t;

//  The checks that come before parsing: a body is there and is typed JSON. OK, EMPTY or
//  NOT_JSON_TYPE; a body read as it streams (jobbody.h) is held to them too.
validate_body_t validate_json_envelope (const char *ctype, size_t len);

//  Parses body as one JSON object (duplicate keys and NUL in strings rejected).
//  *out is a new reference on success. errbuf gets jansson's reason on invalid JSON.
validate_body_t validate_json_body (const char *ctype, const char *body, size_t len,
                                    json_t **out, char *errbuf, size_t errlen);

//  Ticket fields. create=true: subject and requesterEmail required, every other field
//  optional. Returns a new object holding the accepted fields (subject trimmed), or NULL
//  when details got at least one entry. Unknown fields and read-only fields are named.
json_t *validate_ticket (json_t *body, bool create, json_t *details);

//  Query pairs a list route accepts at most (more: 422 "too many query parameters").
#define VALIDATE_QUERY_PAIRS_MAX 32

//  Query of GET /api/tickets as (key, value) pairs. Returns the tickets.list payload
//  with defaults filled in, or NULL when details got entries (every bad or unknown
//  parameter, and any given twice). value NULL means "key without '='".
typedef struct { const char *key; const char *value; } validate_kv_t;
json_t *validate_ticket_query (const validate_kv_t *kv, size_t n, json_t *details);

//  GET /api/jobs query (page, limit, type, status) and GET /api/jobs/:id query (itemsPage,
//  itemsLimit, itemStatus): the payload with defaults, or NULL with details.
json_t *validate_job_query (const validate_kv_t *kv, size_t n, json_t *details);
//  GET /api/tickets/:id/history (page, limit) and GET /api/users (q, limit), the same way.
json_t *validate_history_query (const validate_kv_t *kv, size_t n, json_t *details);
json_t *validate_user_query (const validate_kv_t *kv, size_t n, json_t *details);
json_t *validate_job_items_query (const validate_kv_t *kv, size_t n, json_t *details);

//  What the streaming reader (jobbody.h) found at payload.ticketIds: the array's elements
//  never become JSON values, so the rest of the body (holding "ticketIds":[]) is checked
//  with this summary of them.
#define VALIDATE_JOB_BAD_MAX 20         //  bad ids named one by one, then one summary
typedef struct {
    bool seen;                          //  an array was at payload.ticketIds
    size_t count;                       //  its elements
    size_t bad;                         //  elements that are not uuid strings
    size_t bad_index [VALIDATE_JOB_BAD_MAX];    //  the first of them
} validate_ids_t;

//  POST /api/jobs body {"type":"bulk-delete","payload":{"ticketIds":[uuid...]}} with its
//  ids summarised in ids: true, or false with details (unknown fields, bad type, the
//  array's size, and each bad id by index, the first 20 of them).
bool validate_job_create (json_t *body, const validate_ids_t *ids, long max_items, json_t *details);

//  Idempotency-Key: 1..VOCAB_IDEMPOTENCY_KEY_MAX printable ASCII bytes.
bool validate_idempotency_key (const char *key);

//  If-Match: "3", 3, W/ is not accepted; "*" gives *version = -1 (any). Returns -1 when
//  malformed.
int validate_if_match (const char *value, long *version);

//  Static file path from a URL path: must start with '/', no ".." or "." segment, no
//  "//", only printable ASCII (no NUL, control byte, backslash or non-ASCII byte within
//  len). Returns true when safe to join to the root.
bool validate_static_path (const char *path, size_t len);

#endif
