/*  fuzz_jsonscan: the edge's check of a worker's answer against jansson, the parser it
    replaces there. Both must accept and refuse the same bytes (but for jansson's NUL
    quirk below), and on what both accept the scanner's top-level "id" and "version" must
    be jansson's.  */
#include "../../common/jsonscan.h"
#include "fuzz_frames.h"

#include <jansson.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    jsonscan_top_t top;
    int rc = jsonscan_check ((const char *) data, size, &top);
    json_error_t err;
    json_t *root = json_loadb ((const char *) data, size, JSON_DECODE_ANY, &err);
    if (!root) {
        FUZZ_CHECK (rc == -1);
        return 0;
    }
    //  jansson loses a NUL byte it puts back after a number or a literal ("1\0" loads);
    //  the scanner refuses every NUL outside a string, as RFC 8259 does.
    if (rc != 0 && memchr (data, 0, size)) {
        json_decref (root);
        return 0;
    }
    FUZZ_CHECK (rc == 0);
    FUZZ_CHECK (top.is_object == json_is_object (root));
    json_t *version = json_object_get (root, "version");
    FUZZ_CHECK (top.has_version == json_is_integer (version));
    if (top.has_version)
        FUZZ_CHECK (top.version == json_integer_value (version));
    json_t *id = json_object_get (root, "id");
    if (top.has_id)
        FUZZ_CHECK (json_is_string (id) && json_string_length (id) == strlen (top.id)
                    && !memcmp (json_string_value (id), top.id, strlen (top.id)));
    else
        FUZZ_CHECK (!json_is_string (id) || json_string_length (id) >= JSONSCAN_ID_MAX);
    json_decref (root);
    return 0;
}
