/*  fuzz_jsonw: common/jsonw.c's string escaper against jansson 2.14, the writer it must
    match byte for byte (database text reaches it unchecked). The input is one string:
    jsonw writes it inside an array after a member, and the text must be what json_dumps
    (JSON_COMPACT) makes of the same array, or both must refuse the string (not UTF-8).
    Written again under a cap one byte short of the text, it must fail whole.  */
#include "../../common/jsonw.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) { \
    fprintf (stderr, "fuzz_jsonw: %s:%d: %s\n", __FILE__, __LINE__, #cond); abort (); } } while (0)

static char *
s_write (const uint8_t *data, size_t size, size_t max, size_t *len, jsonw_error_t *error)
{
    jsonw_t w;
    jsonw_init (&w, max);
    jsonw_array_begin (&w);
    jsonw_integer (&w, -1);
    jsonw_string (&w, (const char *) data, size);
    jsonw_array_end (&w);
    char *text = jsonw_take (&w, len);
    *error = w.error;
    return text;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    json_t *string = json_stringn ((const char *) data, size);
    json_t *tree = string ? json_pack ("[i, o]", -1, string) : NULL;
    char *want = tree ? json_dumps (tree, JSON_COMPACT) : NULL;
    FUZZ_CHECK (!tree || want);
    size_t len;
    jsonw_error_t error;
    char *got = s_write (data, size, 16 * size + 64, &len, &error);
    if (!want)
        FUZZ_CHECK (!got && error == JSONW_NOT_UTF8);
    else {
        FUZZ_CHECK (got && len == strlen (want) && !strcmp (got, want));
        char *cut = s_write (data, size, len - 1, &len, &error);
        FUZZ_CHECK (!cut && error == JSONW_TOO_BIG && len == 0);
    }
    free (got);
    free (want);
    json_decref (tree);
    return 0;
}
