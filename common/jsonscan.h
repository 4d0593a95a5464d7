/*  jsonscan: checks that bytes are one JSON text without building it, and reads two
    members of a top-level object on the way. The edge passes a worker's answer to the
    client as the bytes it got, but only once they are well-formed JSON (a peer can lie);
    building a jansson tree only to throw it away cost a third of the edge's work per GET.
    What it accepts is what jansson's json_loadb (JSON_DECODE_ANY) accepts: RFC 8259,
    UTF-8 checked, no "\u0000", integers within 64 bits, no real that overflows, at most
    JSONSCAN_DEPTH_MAX values nested; but a NUL byte, which jansson lets through after a
    number, is refused (tests/fuzz/fuzz_jsonscan.c holds it to that).  */
#ifndef COMMON_JSONSCAN_H
#define COMMON_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JSONSCAN_DEPTH_MAX 2048   //  jansson's JSON_PARSER_MAX_DEPTH
#define JSONSCAN_ID_MAX    64     //  a top-level "id" longer than this is not read

typedef struct {
    bool is_object;               //  the value is an object
    bool has_version;             //  with a top-level "version" that is an integer
    long long version;
    bool has_id;                  //  with a top-level "id" that is a string (decoded,
    char id [JSONSCAN_ID_MAX];    //  NUL-terminated) shorter than JSONSCAN_ID_MAX
} jsonscan_top_t;

//  0 when text [0..len) is one JSON value with only whitespace around it, -1 otherwise.
//  top (may be NULL) is filled on success; a key given twice counts as its last value,
//  as in jansson.
int jsonscan_check (const char *text, size_t len, jsonscan_top_t *top);

#endif
