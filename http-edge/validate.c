/*  validate: field rules of the public contract, as pure functions.  */
#include "validate.h"
#include "../common/rfc3339.h"
#include "../common/uuid.h"

#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *s_writable [] = { "subject", "description", "status", "priority",
                                     "requesterEmail", "assigneeId", NULL };
static const char *s_readonly [] = { "id", "createdAt", "updatedAt", "deletedAt", "version", NULL };

static bool
s_in (const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp (s, *set))
            return true;
    return false;
}

void
validate_add (json_t *details, const char *field, const char *message)
{
    json_t *entry = json_pack ("{s:s, s:s}", "field", field, "message", message);
    if (!entry) {
        //  The field name came from outside and is not UTF-8 (a query key, or a key cut
        //  at a byte limit), which jansson refuses: name it with '?' for every byte
        //  outside printable ASCII, since a dropped detail would let the input through.
        char safe [128];
        size_t i;
        for (i = 0; field [i] && i < sizeof safe - 1; i++)
            safe [i] = (unsigned char) field [i] < 0x20 || (unsigned char) field [i] >= 0x7f
                     ? '?' : field [i];
        safe [i] = 0;
        entry = json_pack ("{s:s, s:s}", "field", safe, "message", message);
    }
    json_array_append_new (details, entry);
}

long
validate_utf8_chars (const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    long chars = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p [i];
        size_t n;
        unsigned cp;
        if (c < 0x80) { n = 1; cp = c; }
        else if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; }
        else return -1;
        if (i + n > len)
            return -1;
        for (size_t k = 1; k < n; k++) {
            if ((p [i + k] & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (p [i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
        ||  cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        i += n;
        chars++;
    }
    return chars;
}

bool
validate_email (const char *s)
{
    size_t len = strlen (s);
    if (len < VOCAB_EMAIL_MIN || len > VOCAB_EMAIL_MAX)
        return false;
    const char *at = strchr (s, '@');
    if (!at || at == s || strchr (at + 1, '@'))
        return false;
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == ',' || *p == ';')
            return false;
    //  Domain: labels separated by dots, at least two, none empty.
    const char *domain = at + 1;
    if (!*domain || *domain == '.' || domain [strlen (domain) - 1] == '.'
    ||  !strchr (domain, '.') || strstr (domain, ".."))
        return false;
    return true;
}

bool
validate_json_content_type (const char *ctype)
{
    if (!ctype)
        return false;
    while (*ctype == ' ' || *ctype == '\t')
        ctype++;
    size_t n = strlen ("application/json");
    if (strncasecmp (ctype, "application/json", n))
        return false;
    const char *rest = ctype + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == 0 || *rest == ';';
}

validate_body_t
validate_json_envelope (const char *ctype, size_t len)
{
    if (len == 0)
        return VALIDATE_BODY_EMPTY;
    if (!validate_json_content_type (ctype))
        return VALIDATE_BODY_NOT_JSON_TYPE;
    return VALIDATE_BODY_OK;
}

validate_body_t
validate_json_body (const char *ctype, const char *body, size_t len,
                    json_t **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (errlen)
        errbuf [0] = 0;
    validate_body_t early = validate_json_envelope (ctype, len);
    if (early != VALIDATE_BODY_OK)
        return early;
    json_error_t err;
    json_t *root = json_loadb (body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!root) {
        if (errlen)
            snprintf (errbuf, errlen, "%s (line %d, column %d)", err.text, err.line, err.column);
        return VALIDATE_BODY_INVALID_JSON;
    }
    if (!json_is_object (root)) {
        json_decref (root);
        return VALIDATE_BODY_NOT_OBJECT;
    }
    *out = root;
    return VALIDATE_BODY_OK;
}

//  A string field with a length in code points; adds a detail and returns false if bad.
static bool
s_check_string (json_t *value, const char *field, long min, long max, json_t *details)
{
    char msg [96];
    if (!json_is_string (value)) {
        validate_add (details, field, "must be a string");
        return false;
    }
    long chars = validate_utf8_chars (json_string_value (value), json_string_length (value));
    if (chars < 0) {
        validate_add (details, field, "must be valid UTF-8");
        return false;
    }
    if (chars < min || chars > max) {
        if (min > 0)
            snprintf (msg, sizeof msg, "must be %ld to %ld characters", min, max);
        else
            snprintf (msg, sizeof msg, "must be at most %ld characters", max);
        validate_add (details, field, msg);
        return false;
    }
    return true;
}

//  A value from one of vocab.h's lists; the detail names the list.
static bool
s_check_enum (json_t *value, const char *field, const char *const *set, json_t *details)
{
    if (!json_is_string (value) || !s_in (json_string_value (value), set)) {
        char msg [160];
        validate_add (details, field, vocab_must_be (set, msg, sizeof msg));
        return false;
    }
    return true;
}

//  Subject trimmed of ASCII whitespace at both ends; a new string value.
static json_t *
s_trimmed (json_t *value)
{
    const char *s = json_string_value (value);
    size_t len = json_string_length (value);
    size_t b = 0, e = len;
    while (b < e && isspace ((unsigned char) s [b]))
        b++;
    while (e > b && isspace ((unsigned char) s [e - 1]))
        e--;
    return json_stringn (s + b, e - b);
}

json_t *
validate_ticket (json_t *body, bool create, json_t *details)
{
    size_t before = json_array_size (details);
    json_t *fields = json_object ();
    const char *key;
    json_t *value;
    json_object_foreach (body, key, value) {
        if (s_in (key, s_readonly)) {
            validate_add (details, key, "read-only field");
            continue;
        }
        if (!s_in (key, s_writable)) {
            validate_add (details, key, "unknown field");
            continue;
        }
        if (!strcmp (key, "subject")) {
            if (s_check_string (value, key, 1, VOCAB_SUBJECT_MAX, details)) {
                json_t *t = s_trimmed (value);
                if (json_string_length (t) == 0) {
                    validate_add (details, key, "must not be blank");
                    json_decref (t);
                }
                else
                    json_object_set_new (fields, key, t);
            }
        }
        else
        if (!strcmp (key, "description")) {
            if (s_check_string (value, key, 0, VOCAB_DESCRIPTION_MAX, details))
                json_object_set (fields, key, value);
        }
        else
        if (!strcmp (key, "status")) {
            if (s_check_enum (value, key, vocab_ticket_statuses, details))
                json_object_set (fields, key, value);
        }
        else
        if (!strcmp (key, "priority")) {
            if (s_check_enum (value, key, vocab_ticket_priorities, details))
                json_object_set (fields, key, value);
        }
        else
        if (!strcmp (key, "requesterEmail")) {
            if (s_check_string (value, key, VOCAB_EMAIL_MIN, VOCAB_EMAIL_MAX, details)) {
                if (validate_email (json_string_value (value)))
                    json_object_set (fields, key, value);
                else
                    validate_add (details, key, "must be an e-mail address");
            }
        }
        else
        if (!strcmp (key, "assigneeId")) {
            if (json_is_null (value)
            || (json_is_string (value) && uuid_valid (json_string_value (value))))
                json_object_set (fields, key, value);
            else
                validate_add (details, key, "must be a UUID or null");
        }
    }
    if (create) {
        if (!json_object_get (body, "subject"))
            validate_add (details, "subject", "is required");
        if (!json_object_get (body, "requesterEmail"))
            validate_add (details, "requesterEmail", "is required");
    }
    else
    if (json_object_size (body) == 0)
        validate_add (details, "body", "no writable field given");

    if (json_array_size (details) > before) {
        json_decref (fields);
        return NULL;
    }
    return fields;
}

//  Whole number in [min, max] from a query value; false when it is anything else.
static bool
s_parse_long (const char *s, long min, long max, long *out)
{
    if (!s || !*s || *s == '+' || *s == ' ')
        return false;
    char *end = NULL;
    errno = 0;
    long n = strtol (s, &end, 10);
    if (errno || *end || n < min || n > max)
        return false;
    *out = n;
    return true;
}

//  A query value from one of vocab.h's lists into payload, or a detail naming the list.
static void
s_take_enum (json_t *payload, const char *key, const char *value, const char *const *set,
             json_t *details)
{
    char msg [160];
    if (s_in (value, set))
        json_object_set_new (payload, key, json_string (value));
    else
        validate_add (details, key, vocab_must_be (set, msg, sizeof msg));
}

//  A whole number min..max into payload, or a detail: fmt words it from min and max.
static void
s_take_long (json_t *payload, const char *key, const char *value, long min, long max,
             const char *fmt, json_t *details)
{
    char msg [96];
    long num;
    if (s_parse_long (value, min, max, &num))
        json_object_set_new (payload, key, json_integer (num));
    else {
        snprintf (msg, sizeof msg, fmt, min, max);
        validate_add (details, key, msg);
    }
}

//  A search text: valid UTF-8 of at most max characters; an empty one is no search.
static void
s_take_text (json_t *payload, const char *key, const char *value, long max, json_t *details)
{
    long chars = validate_utf8_chars (value, strlen (value));
    if (chars < 0)
        validate_add (details, key, "must be valid UTF-8");
    else
    if (chars > max) {
        char msg [64];
        snprintf (msg, sizeof msg, "must be at most %ld characters", max);
        validate_add (details, key, msg);
    }
    else
    if (chars > 0)
        json_object_set_new (payload, key, json_string (value));
}

//  A field of set, optionally prefixed with '-' (descending).
static void
s_take_sort (json_t *payload, const char *key, const char *value, const char *const *set,
             json_t *details)
{
    if (s_in (value [0] == '-' ? value + 1 : value, set))
        json_object_set_new (payload, key, json_string (value));
    else {
        char msg [160];
        const char *list = vocab_must_be (set, msg, sizeof msg - 40);
        size_t n = list ? strlen (list) : 0;
        snprintf (msg + n, sizeof msg - n, ", optionally prefixed with '-'");
        validate_add (details, key, msg);
    }
}

//  The wording of a bad page number and of a bad page size, from their bounds.
#define S_PAGE_FMT  "must be a whole number from %ld to %ld"
#define S_LIMIT_FMT "must be between %ld and %ld"

//  One parameter of a list route's query: how its value is checked, and what the payload
//  holds when the query leaves it out.
typedef enum {
    S_INT,                          //  a whole number
    S_ENUM,                         //  a name of a set
    S_UUID,
    S_ASSIGNEE,                     //  a UUID, or "none" (unassigned)
    S_TEXT,                         //  a search text of at most max characters
    S_TIME,                         //  a date, or a date and time with a zone (rfc3339.h)
    S_SORT                          //  a ticket sort: a field of vocab_ticket_sorts, '-' for
                                    //  descending; vocab_ticket_sort_default when left out
} s_kind_t;
typedef struct {
    const char *key;
    s_kind_t kind;
    long min, max;                  //  S_INT: the bounds; S_TEXT: max the length
    long dflt;                      //  S_INT: the default; S_ENUM: its index in set, or -1
    const char *fmt;                //  S_INT: the message, a format of min and max
    const char *const *set;         //  S_ENUM: the names allowed
} s_param_t;

#define S_PARAMS_N(params) (sizeof params / sizeof params [0])

static void
s_take (json_t *payload, const s_param_t *param, const char *value, json_t *details)
{
    const char *key = param->key;
    switch (param->kind) {
        case S_INT:
            s_take_long (payload, key, value, param->min, param->max, param->fmt, details);
            break;
        case S_ENUM:
            s_take_enum (payload, key, value, param->set, details);
            break;
        case S_UUID:
        case S_ASSIGNEE:
            if (uuid_valid (value) || (param->kind == S_ASSIGNEE && !strcmp (value, "none")))
                json_object_set_new (payload, key, json_string (value));
            else
                validate_add (details, key, param->kind == S_ASSIGNEE ? "must be a UUID or none"
                                                                      : "must be a UUID");
            break;
        case S_TEXT:
            s_take_text (payload, key, value, param->max, details);
            break;
        case S_TIME:
            if (rfc3339_valid (value))
                json_object_set_new (payload, key, json_string (value));
            else
                validate_add (details, key, "must be a date (2026-12-07) or a date and time with a"
                                            " zone (2026-12-07T08:30:00Z)");
            break;
        case S_SORT:
            s_take_sort (payload, key, value, vocab_ticket_sorts, details);
            break;
    }
}

//  One pass over a list route's query pairs: every key must be in params, at most once.
//  Returns the payload (defaults included) or NULL with details naming every bad pair.
static json_t *
s_query (const s_param_t *params, size_t np, const validate_kv_t *kv, size_t n, json_t *details)
{
    size_t before = json_array_size (details);
    json_t *payload = json_object ();
    for (size_t p = 0; p < np; p++) {
        const s_param_t *param = &params [p];
        char sort [VOCAB_SORT_TEXT_MAX];
        if (param->kind == S_INT)
            json_object_set_new (payload, param->key, json_integer (param->dflt));
        else
        if (param->kind == S_ENUM && param->dflt >= 0)
            json_object_set_new (payload, param->key, json_string (param->set [param->dflt]));
        else
        if (param->kind == S_SORT)
            json_object_set_new (payload, param->key,
                                 json_string (vocab_ticket_sort_default (sort)));
    }
    json_t *seen = json_object ();
    for (size_t i = 0; i < n; i++) {
        const char *value = kv [i].value ? kv [i].value : "";
        const s_param_t *param = NULL;
        for (size_t p = 0; p < np && !param; p++)
            if (!strcmp (kv [i].key, params [p].key))
                param = &params [p];
        if (!param) {
            validate_add (details, kv [i].key, "unknown query parameter");
            continue;
        }
        if (json_object_get (seen, param->key)) {
            validate_add (details, param->key, "given more than once");
            continue;
        }
        json_object_set_new (seen, param->key, json_true ());
        s_take (payload, param, value, details);
    }
    json_decref (seen);
    if (json_array_size (details) > before) {
        json_decref (payload);
        return NULL;
    }
    return payload;
}

//  The rows of the tables below: a whole number 1..max, a name of set (dflt its index or
//  -1), a ticket sort, a UUID, a search text.
#define S_INT_(key, max, dflt, fmt)     { key, S_INT, 1, max, dflt, fmt, NULL }
#define S_ENUM_(key, set, dflt)         { key, S_ENUM, 0, 0, dflt, NULL, set }
#define S_SORT_(key)                    { key, S_SORT, 0, 0, 0, NULL, NULL }
#define S_UUID_(key)                    { key, S_UUID, 0, 0, 0, NULL, NULL }
#define S_TEXT_(key, max)               { key, S_TEXT, 0, max, 0, NULL, NULL }
#define S_ASSIGNEE_(key)                { key, S_ASSIGNEE, 0, 0, 0, NULL, NULL }
#define S_TIME_(key)                    { key, S_TIME, 0, 0, 0, NULL, NULL }

static const s_param_t s_ticket_params [] = {
    S_INT_ ("page", VOCAB_PAGE_MAX, 1, S_PAGE_FMT),
    S_INT_ ("limit", VOCAB_LIMIT_MAX, VOCAB_LIMIT_DEFAULT, S_LIMIT_FMT),
    S_ENUM_ ("status", vocab_ticket_statuses, -1),
    S_ENUM_ ("priority", vocab_ticket_priorities, -1),
    S_ASSIGNEE_ ("assigneeId"),
    S_TEXT_ ("q", VOCAB_Q_MAX),
    S_TEXT_ ("requesterEmail", VOCAB_EMAIL_MAX),
    S_TIME_ ("createdAfter"),
    S_TIME_ ("createdBefore"),
    S_ENUM_ ("deleted", vocab_ticket_deleted, VOCAB_TICKET_DELETED_DEFAULT),
    S_SORT_ ("sort"),
};

static const s_param_t s_job_params [] = {
    S_INT_ ("page", VOCAB_PAGE_MAX, 1, S_PAGE_FMT),
    S_INT_ ("limit", VOCAB_LIMIT_MAX, VOCAB_LIMIT_DEFAULT, S_LIMIT_FMT),
    S_ENUM_ ("type", vocab_job_types, -1),
    S_ENUM_ ("status", vocab_job_statuses, -1),
};

static const s_param_t s_job_item_params [] = {
    S_INT_ ("itemsPage", VOCAB_PAGE_MAX, 1, S_PAGE_FMT),
    S_INT_ ("itemsLimit", VOCAB_ITEMS_LIMIT_MAX, VOCAB_ITEMS_LIMIT_DEFAULT, S_LIMIT_FMT),
    S_ENUM_ ("itemStatus", vocab_job_item_statuses, -1),
};

static const s_param_t s_history_params [] = {
    S_INT_ ("page", VOCAB_PAGE_MAX, 1, S_PAGE_FMT),
    S_INT_ ("limit", VOCAB_HISTORY_LIMIT_MAX, VOCAB_HISTORY_LIMIT_DEFAULT, S_LIMIT_FMT),
};

static const s_param_t s_user_params [] = {
    S_INT_ ("limit", VOCAB_USERS_LIMIT_MAX, VOCAB_USERS_LIMIT_DEFAULT, S_LIMIT_FMT),
    S_TEXT_ ("q", VOCAB_Q_MAX),
};

json_t *
validate_history_query (const validate_kv_t *kv, size_t n, json_t *details)
{
    return s_query (s_history_params, S_PARAMS_N (s_history_params), kv, n, details);
}

json_t *
validate_user_query (const validate_kv_t *kv, size_t n, json_t *details)
{
    return s_query (s_user_params, S_PARAMS_N (s_user_params), kv, n, details);
}

json_t *
validate_ticket_query (const validate_kv_t *kv, size_t n, json_t *details)
{
    return s_query (s_ticket_params, S_PARAMS_N (s_ticket_params), kv, n, details);
}

json_t *
validate_job_query (const validate_kv_t *kv, size_t n, json_t *details)
{
    return s_query (s_job_params, S_PARAMS_N (s_job_params), kv, n, details);
}

json_t *
validate_job_items_query (const validate_kv_t *kv, size_t n, json_t *details)
{
    return s_query (s_job_item_params, S_PARAMS_N (s_job_item_params), kv, n, details);
}

int
validate_if_match (const char *value, long *version)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t len = strlen (value);
    while (len && (value [len - 1] == ' ' || value [len - 1] == '\t'))
        len--;
    if (len == 1 && value [0] == '*') {
        *version = -1;
        return 0;
    }
    if (len >= 2 && value [0] == '"' && value [len - 1] == '"') {
        value++;
        len -= 2;
    }
    if (len == 0 || len > 10)
        return -1;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        if (value [i] < '0' || value [i] > '9')
            return -1;
        n = n * 10 + (value [i] - '0');
    }
    if (n < 1 || n > 2147483647L)
        return -1;
    *version = n;
    return 0;
}

bool
validate_static_path (const char *path, size_t len)
{
    if (!path || len == 0 || path [0] != '/')
        return false;
    for (size_t k = 0; k < len; k++)
        if ((unsigned char) path [k] < 0x20 || path [k] == '\\' || (unsigned char) path [k] >= 0x7f)
            return false;               //  NUL, control bytes, backslash, non-ASCII names
    //  Walk the segments between slashes.
    size_t i = 1;
    while (i <= len) {
        size_t j = i;
        while (j < len && path [j] != '/')
            j++;
        size_t seg = j - i;
        if (j < len && seg == 0)
            return false;               //  "//" or a trailing slash inside the path
        if ((seg == 1 && path [i] == '.') || (seg == 2 && path [i] == '.' && path [i + 1] == '.'))
            return false;
        i = j + 1;
    }
    return true;
}

//  --------------------------------------------------------------------------
//  Jobs

//  payload.<key> holds a JSON value of the right kind, when present.
static void
s_job_member (json_t *payload, const char *key, bool (*is) (const json_t *), const char *must,
              json_t *details)
{
    json_t *v = json_object_get (payload, key);
    if (v && !is (v)) {
        char field [48];
        snprintf (field, sizeof field, "payload.%s", key);
        validate_add (details, field, must);
    }
}

static bool s_is_object (const json_t *v) { return json_is_object (v); }
static bool s_is_string (const json_t *v) { return json_is_string (v); }
static bool s_is_count (const json_t *v) { return json_is_integer (v) && json_integer_value (v) >= 0; }

//  The id list's checks, when the payload has one.
static void
s_job_ids (const validate_ids_t *ids, long max_items, json_t *details)
{
    if (!ids->seen || ids->count == 0 || ids->count > (size_t) max_items) {
        char msg [96];
        snprintf (msg, sizeof msg, "must be an array of 1 to %ld ticket ids", max_items);
        validate_add (details, "payload.ticketIds", msg);
        return;
    }
    for (size_t i = 0; i < ids->bad && i < VALIDATE_JOB_BAD_MAX; i++) {
        char field [48];
        snprintf (field, sizeof field, "payload.ticketIds[%zu]", ids->bad_index [i]);
        validate_add (details, field, "must be a UUID");
    }
    if (ids->bad > VALIDATE_JOB_BAD_MAX) {
        char msg [96];
        snprintf (msg, sizeof msg, "%zu ids are not UUIDs (the first %d are named)",
                  ids->bad, VALIDATE_JOB_BAD_MAX);
        validate_add (details, "payload.ticketIds", msg);
    }
}

bool
validate_job_create (json_t *body, const validate_ids_t *ids, long max_items, json_t *details)
{
    size_t before = json_array_size (details);
    const char *key;
    json_t *value;
    json_object_foreach (body, key, value) {
        if (strcmp (key, "type") && strcmp (key, "payload"))
            validate_add (details, key, "unknown field");
    }
    json_t *type = json_object_get (body, "type");
    if (!json_is_string (type) || !s_in (json_string_value (type), vocab_job_types)) {
        //  Quoted, as the body holds it: must be "bulk-delete" or ...
        char msg [128] = "must be ", *list = msg + strlen (msg);
        vocab_join (vocab_job_types, " or ", "\"", list, sizeof msg - (size_t) (list - msg));
        validate_add (details, "type", msg);
    }
    json_t *payload = json_object_get (body, "payload");
    if (!json_is_object (payload)) {
        validate_add (details, "payload", "must be an object with ticketIds or filter");
        return false;
    }
    static const char *const known [] = { "ticketIds", "filter", "jobId", "set", "expectedTotal", NULL };
    json_object_foreach (payload, key, value) {
        if (!s_in (key, known)) {
            char field [80];
            snprintf (field, sizeof field, "payload.%.60s", key);
            validate_add (details, field, "unknown field");
        }
    }
    //  The scope's own rules (one of ticketIds, filter, jobId; which type takes which; the
    //  filter's fields) are the workers' (workers/jobscope.c): checked there once.
    if (ids->seen || !(json_object_get (payload, "filter") || json_object_get (payload, "jobId")))
        s_job_ids (ids, max_items, details);
    s_job_member (payload, "filter", s_is_object, "must be an object of GET /api/tickets' filters", details);
    s_job_member (payload, "jobId", s_is_string, "must be a job id", details);
    s_job_member (payload, "set", s_is_object, "must be an object with status, priority or assigneeId", details);
    s_job_member (payload, "expectedTotal", s_is_count, "must be a whole number, 0 or more", details);
    return json_array_size (details) == before;
}

bool
validate_idempotency_key (const char *key)
{
    size_t len = key ? strlen (key) : 0;
    if (len == 0 || len > VOCAB_IDEMPOTENCY_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) key [i] < 0x20 || (unsigned char) key [i] >= 0x7f)
            return false;
    return true;
}
