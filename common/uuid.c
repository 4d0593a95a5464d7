/*  uuid: text-form checks and v4 generation from getrandom(2).  */
#include "uuid.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

bool
uuid_valid_n (const char *s, size_t len)
{
    if (!s || len != UUID_STRLEN)
        return false;
    for (size_t i = 0; i < UUID_STRLEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s [i] != '-')
                return false;
        }
        else
        if (!isxdigit ((unsigned char) s [i]))
            return false;
    }
    return true;
}

bool
uuid_valid (const char *s)
{
    return s && uuid_valid_n (s, strnlen (s, UUID_STRLEN + 1));
}

int
uuid_v4 (char out [UUID_STRLEN + 1])
{
    uint8_t b [16];
    if (getrandom (b, sizeof b, 0) != (ssize_t) sizeof b)
        return -1;
    b [6] = (uint8_t) ((b [6] & 0x0f) | 0x40);
    b [8] = (uint8_t) ((b [8] & 0x3f) | 0x80);
    snprintf (out, UUID_STRLEN + 1,
              "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
              b [0], b [1], b [2], b [3], b [4], b [5], b [6], b [7],
              b [8], b [9], b [10], b [11], b [12], b [13], b [14], b [15]);
    return 0;
}
