/*  uuid: validate and generate the ids the contract uses (RFC 4122 text form).  */
#ifndef COMMON_UUID_H
#define COMMON_UUID_H

#include <stdbool.h>
#include <stddef.h>

#define UUID_STRLEN 36

//  True when s is exactly 36 characters of 8-4-4-4-12 hex digits (any case).
bool uuid_valid (const char *s);
bool uuid_valid_n (const char *s, size_t len);

//  The 16 bytes of a valid text id (any case): 0, or -1 when s is not one.
int uuid_to_bytes (const char *s, size_t len, unsigned char out [16]);
//  The text form of 16 bytes, lower case, NUL-terminated, into out[37].
void uuid_from_bytes (const unsigned char in [16], char out [UUID_STRLEN + 1]);

//  Writes a new random (v4) id, lower case, NUL-terminated, into out[37].
//  Returns -1 when the kernel's random source fails.
int uuid_v4 (char out [UUID_STRLEN + 1]);

#endif
