/*  uuid: validate and generate the ids the contract uses (RFC 4122 text form).  */
#ifndef COMMON_UUID_H
#define COMMON_UUID_H

#include <stdbool.h>
#include <stddef.h>

#define UUID_STRLEN 36

//  True when s is exactly 36 characters of 8-4-4-4-12 hex digits (any case).
bool uuid_valid (const char *s);
bool uuid_valid_n (const char *s, size_t len);

//  Writes a new random (v4) id, lower case, NUL-terminated, into out[37].
//  Returns -1 when the kernel's random source fails.
int uuid_v4 (char out [UUID_STRLEN + 1]);

#endif
