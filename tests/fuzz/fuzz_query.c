/*  fuzz_query: a raw query string (the bytes after '?') as the edge sees it, split and
    decoded the way libmicrohttpd does before the edge's handlers run, then through
    every list route's table: validate_ticket_query, validate_job_query,
    validate_job_items_query, validate_history_query and validate_user_query.

    The split is done here because the edge gets its pairs from MHD
    (MHD_get_connection_values in request.c's req_query), which needs a live connection.
    What it reproduces: pairs split on '&', key and value on the first '=', '+' as a
    space, then MHD_http_unescape plus the edge's own rule (edge.c's s_unescape) that a
    decoded NUL becomes 0xFF so no value can hide one. A key without '=' has value NULL.  */
#include "fuzz_validate.h"
#include <microhttpd.h>

#define QUERY_PAIRS_MAX VALIDATE_QUERY_PAIRS_MAX   //  what req_query_checked reads of any route

//  What edge.c's s_unescape does to each key and value.
static void
s_unescape (char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '+')
            *p = ' ';
    size_t len = MHD_http_unescape (s);
    for (size_t i = 0; i < len; i++)
        if (s [i] == 0)
            s [i] = (char) 0xff;
}

static const char *s_ticket_keys [] = { "page", "limit", "status", "priority", "assigneeId",
                                        "q", "requesterEmail", "createdAfter", "createdBefore",
                                        "deleted", "sort", NULL };
static const char *s_history_keys [] = { "page", "limit", NULL };
static const char *s_user_keys [] = { "limit", "q", NULL };
static const char *s_job_keys [] = { "page", "limit", "type", "status", NULL };
static const char *s_item_keys [] = { "itemsPage", "itemsLimit", "itemStatus", NULL };

static bool
s_known (const char *key, const char *const *keys)
{
    for (; *keys; keys++)
        if (!strcmp (key, *keys))
            return true;
    return false;
}

static void
s_run (json_t *(*check) (const validate_kv_t *, size_t, json_t *), const char *const *keys,
       const validate_kv_t *kv, size_t n)
{
    json_t *details = json_array ();
    json_t *payload = check (kv, n, details);
    fuzz_check_verdict (payload, details, 0);
    if (payload) {
        FUZZ_CHECK (json_is_object (payload));
        //  Every number in a payload is one the contract allows: a page or limit >= 1.
        const char *key;
        json_t *value;
        json_object_foreach (payload, key, value)
            if (json_is_integer (value))
                FUZZ_CHECK (json_integer_value (value) >= 1
                            && json_integer_value (value) <= VOCAB_PAGE_MAX);
        //  Accepting a query means every key was known, each given once.
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK (s_known (kv [i].key, keys));
            for (size_t j = i + 1; j < n; j++)
                FUZZ_CHECK (strcmp (kv [i].key, kv [j].key) != 0);
        }
        json_decref (payload);
    }
    json_decref (details);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *query = malloc (size + 1);
    memcpy (query, data, size);
    query [size] = 0;
    //  MHD only ever sees up to the first NUL of a request line.
    validate_kv_t kv [QUERY_PAIRS_MAX];
    size_t n = 0;
    char *save = NULL;
    for (char *pair = strtok_r (query, "&", &save); pair && n < QUERY_PAIRS_MAX;
         pair = strtok_r (NULL, "&", &save)) {
        char *eq = strchr (pair, '=');
        if (eq)
            *eq = 0;
        s_unescape (pair);
        if (eq)
            s_unescape (eq + 1);
        kv [n].key = pair;
        kv [n].value = eq ? eq + 1 : NULL;
        n++;
    }
    s_run (validate_ticket_query, s_ticket_keys, kv, n);
    s_run (validate_job_query, s_job_keys, kv, n);
    s_run (validate_job_items_query, s_item_keys, kv, n);
    s_run (validate_history_query, s_history_keys, kv, n);
    s_run (validate_user_query, s_user_keys, kv, n);
    free (query);
    return 0;
}
