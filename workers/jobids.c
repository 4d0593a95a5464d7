/*  jobids: reading a jobs.create request's ids, and their Idempotency-Key hash.  */
#include "jobids.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The JSON form: each element a uuid string. 0, or -1 with a detail naming the first bad one.
static int
s_read_json (json_t *list, unsigned char **owned, json_t *details)
{
    size_t len = json_array_size (list);
    *owned = (unsigned char *) malloc (16 * len);
    if (!*owned)
        return -1;
    for (size_t i = 0; i < len; i++) {
        json_t *v = json_array_get (list, i);
        if (!json_is_string (v)
        ||  uuid_to_bytes (json_string_value (v), json_string_length (v), *owned + 16 * i)) {
            char field [48];
            snprintf (field, sizeof field, "payload.ticketIds[%zu]", i);
            reply_detail (details, field, "must be a uuid");
            free (*owned);
            *owned = NULL;
            return -1;
        }
    }
    return 0;
}

int
jobids_read (const svc_call_t *call, long max_items, const unsigned char **ids,
             unsigned char **owned, size_t *n, json_t *details)
{
    json_t *list = json_object_get (call->payload, "ticketIds");
    json_t *count = json_object_get (call->payload, "count");
    *owned = NULL;
    if (call->blob && !list) {
        if (!json_is_integer (count) || json_integer_value (count) < 1
        ||  json_integer_value (count) > max_items
        ||  (size_t) json_integer_value (count) * 16 != call->blob_size) {
            reply_detail (details, "count", "must be the number of 16-byte ids in the blob");
            return -1;
        }
        *ids = call->blob;
        *n = (size_t) json_integer_value (count);
        return 0;
    }
    size_t len = json_array_size (list);
    if (call->blob || !json_is_array (list) || len == 0 || (long) len > max_items) {
        char msg [96];
        snprintf (msg, sizeof msg, "must be an array of 1 to %ld ticket ids", max_items);
        reply_detail (details, "payload.ticketIds", msg);
        return -1;
    }
    if (s_read_json (list, owned, details))
        return -1;
    *ids = *owned;
    *n = len;
    return 0;
}

//  Formatted in blocks of 64 ids, never as one string: a million ids would be 37 MB.
void
jobids_hash (const char *type, const unsigned char *ids, size_t n, char out [JOBIDS_HASH_LEN + 1])
{
    unsigned char md [EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char block [64 * (UUID_STRLEN + 1) + 2];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
    EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
    EVP_DigestUpdate (ctx, type, strlen (type));
    EVP_DigestUpdate (ctx, ":{", 2);
    for (size_t i = 0; i < n; ) {
        size_t used = 0;
        for (size_t k = 0; k < 64 && i < n; k++, i++) {
            if (i)
                block [used++] = ',';
            uuid_from_bytes (ids + 16 * i, block + used);
            used += UUID_STRLEN;
        }
        EVP_DigestUpdate (ctx, block, used);
    }
    EVP_DigestUpdate (ctx, "}", 1);
    EVP_DigestFinal_ex (ctx, md, &len);
    EVP_MD_CTX_free (ctx);
    out [0] = 0;
    for (unsigned int i = 0; i < len && i * 2 < JOBIDS_HASH_LEN; i++)
        snprintf (out + 2 * i, 3, "%02x", md [i]);
}
