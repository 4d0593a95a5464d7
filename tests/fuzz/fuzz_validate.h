/*  fuzz_validate: invariants shared by the edge validation harnesses. Whatever the input,
    a validator either accepts (returns a value, adds no detail) or refuses (returns NULL,
    adds at least one detail), and every detail is a {"field","message"} pair of strings
    that serialises, since it goes into a 422 body as it is.  */
#ifndef TESTS_FUZZ_VALIDATE_H
#define TESTS_FUZZ_VALIDATE_H

#include "../../http-edge/validate.h"
#include "../../common/uuid.h"
#include "fuzz_frames.h"

static inline void
fuzz_check_verdict (json_t *result, json_t *details, size_t before)
{
    size_t after = json_array_size (details);
    if (result)
        FUZZ_CHECK (after == before);           //  accepted: nothing to complain about
    else
        FUZZ_CHECK (after > before);            //  refused: the 422 names at least one field
    for (size_t i = before; i < after; i++) {
        json_t *d = json_array_get (details, i);
        FUZZ_CHECK (json_is_object (d) && json_object_size (d) == 2);
        FUZZ_CHECK (json_is_string (json_object_get (d, "field")));
        FUZZ_CHECK (json_is_string (json_object_get (d, "message")));
    }
    char *text = json_dumps (details, JSON_COMPACT);
    FUZZ_CHECK (text != NULL);
    free (text);
    if (result) {
        text = json_dumps (result, JSON_COMPACT | JSON_ENCODE_ANY);
        FUZZ_CHECK (text != NULL);
        free (text);
    }
}

#endif
