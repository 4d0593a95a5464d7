/*  uuid: text-form checks and v4 generation from getrandom(2).  */
#include "uuid.h"

#include <ctype.h>
#include <stdint.h>
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

//  Hex digit values plus one, 0 for anything else (so minus one is 0xff): one lookup per
//  character, no branch per digit; the edge decodes a million ids per big job body.
static const unsigned char s_hexval1 [256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
    ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int
uuid_to_bytes (const char *s, size_t len, unsigned char out [16])
{
    //  Where each byte's two hex digits start in 8-4-4-4-12.
    static const unsigned char at [16] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26,
                                           28, 30, 32, 34 };
    if (!s || len != UUID_STRLEN || s [8] != '-' || s [13] != '-' || s [18] != '-' || s [23] != '-')
        return -1;
    const unsigned char *u = (const unsigned char *) s;
    unsigned char bad = 0;
    for (int i = 0; i < 16; i++) {
        unsigned char hi = (unsigned char) (s_hexval1 [u [at [i]]] - 1);
        unsigned char lo = (unsigned char) (s_hexval1 [u [at [i] + 1]] - 1);
        bad |= hi | lo;
        out [i] = (unsigned char) (hi << 4 | lo);
    }
    return bad & 0xf0 ? -1 : 0;
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
    uuid_from_bytes (b, out);
    return 0;
}
