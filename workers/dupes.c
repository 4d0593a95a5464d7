/*  dupes: linear-time duplicate detection over 16-byte ids.  */
#include "dupes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define DUPES_EMPTY UINT32_MAX

static uint64_t
s_mix (uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

long
dupes_mark (const unsigned char *ids, size_t n, bool *dup)
{
    static uint64_t seed;
    while (!seed && getrandom (&seed, sizeof seed, 0) != (ssize_t) sizeof seed)
        ;
    if (n >= DUPES_EMPTY / 2)
        return -1;
    size_t cap = 16;
    while (cap < n * 2)
        cap <<= 1;
    //  The table holds positions in ids, not the ids: a quarter of the memory.
    uint32_t *slots = (uint32_t *) malloc (cap * sizeof (uint32_t));
    if (!slots)
        return -1;
    memset (slots, 0xff, cap * sizeof (uint32_t));
    long found = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t hi, lo;
        memcpy (&hi, ids + 16 * i, 8);
        memcpy (&lo, ids + 16 * i + 8, 8);
        size_t at = (size_t) s_mix (hi ^ s_mix (lo ^ seed)) & (cap - 1);
        dup [i] = false;
        while (slots [at] != DUPES_EMPTY) {
            if (!memcmp (ids + 16 * (size_t) slots [at], ids + 16 * i, 16)) {
                dup [i] = true;
                found++;
                break;
            }
            at = (at + 1) & (cap - 1);
        }
        if (!dup [i])
            slots [at] = (uint32_t) i;
    }
    free (slots);
    return found;
}
