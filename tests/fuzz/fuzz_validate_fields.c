#define _GNU_SOURCE
/*  fuzz_validate_fields: the edge's checks of single values from headers and paths
    (validate_if_match, validate_static_path, validate_email, validate_idempotency_key,
    validate_json_content_type) and validate_utf8_chars, each given the whole input.
    validate_utf8_chars is checked against jansson's own UTF-8 check.  */
#include "fuzz_validate.h"

//  True when the path holds no "." or ".." segment and no byte outside printable ASCII.
static bool
s_path_safe (const char *p, size_t len)
{
    if (len == 0 || p [0] != '/')
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) p [i] < 0x20 || (unsigned char) p [i] >= 0x7f || p [i] == '\\')
            return false;
    size_t start = 1;
    for (size_t i = 1; i <= len; i++)
        if (i == len || p [i] == '/') {
            size_t seg = i - start;
            if ((seg == 1 && p [start] == '.') || (seg == 2 && p [start] == '.' && p [start + 1] == '.'))
                return false;
            if (seg == 0 && i < len)
                return false;
            start = i + 1;
        }
    return true;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  Exact-size copies: the raw bytes, and a C string cut at the first NUL.
    char *raw = malloc (size ? size : 1);
    memcpy (raw, data, size);
    size_t slen = strnlen (raw, size);
    char *s = malloc (slen + 1);
    memcpy (s, raw, slen);
    s [slen] = 0;

    long chars = validate_utf8_chars (raw, size);
    json_t *js = json_stringn (raw, size);
    FUZZ_CHECK ((chars >= 0) == (js != NULL));
    FUZZ_CHECK (chars <= (long) size);
    json_decref (js);

    long version = 0;
    if (validate_if_match (s, &version) == 0) {
        FUZZ_CHECK (version == -1 || (version >= 1 && version <= 2147483647L));
        if (version > 0) {
            char digits [24];
            snprintf (digits, sizeof digits, "%ld", version);
            FUZZ_CHECK (strstr (s, digits) != NULL);
        }
    }

    FUZZ_CHECK (!validate_static_path (raw, size) || s_path_safe (raw, size));

    if (validate_email (s)) {
        const char *at = strchr (s, '@');
        FUZZ_CHECK (at && at > s && !strchr (at + 1, '@') && strchr (at + 1, '.'));
        FUZZ_CHECK (slen >= VOCAB_EMAIL_MIN && slen <= VOCAB_EMAIL_MAX);
    }
    if (validate_idempotency_key (s))
        FUZZ_CHECK (slen >= 1 && slen <= VOCAB_IDEMPOTENCY_KEY_MAX);
    if (validate_json_content_type (s))
        FUZZ_CHECK (strcasestr (s, "application/json") != NULL);

    free (s);
    free (raw);
    return 0;
}
