/*  reply: the contract's JSON error body, built in one place, and the error code that
    goes with each HTTP status the edge produces or passes through.  */
#ifndef EDGE_REPLY_H
#define EDGE_REPLY_H

#include <jansson.h>
#include <stddef.h>

//  {"error":{"code","message","details":[...]}} as compact JSON. Steals details (may be
//  NULL: an empty array). Returns a malloc'd string the caller frees; *len its length.
char *reply_error_json (const char *code, const char *message, json_t *details, size_t *len);

//  A snake_case code for a status ("not_found" for 404...), "error" when unknown.
const char *reply_code_for_status (int status);

//  The reason phrase class for metrics: 1..5 for 1xx..5xx, 0 when out of range.
int reply_status_class (int status);

#endif
