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

static int
s_nibble (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char) (c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
uuid_to_bytes (const char *s, size_t len, unsigned char out [16])
{
    if (!s || len != UUID_STRLEN)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < UUID_STRLEN; ) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s [i++] != '-')
                return -1;
            continue;
        }
        int hi = s_nibble (s [i]), lo = s_nibble (s [i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out [o++] = (unsigned char) (hi << 4 | lo);
        i += 2;
    }
    return 0;
}

void
uuid_from_bytes (const unsigned char in [16], char out [UUID_STRLEN + 1])
{
    static const char hex [] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out [o++] = '-';
        out [o++] = hex [in [i] >> 4];
        out [o++] = hex [in [i] & 15];
    }
    out [o] = 0;
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
