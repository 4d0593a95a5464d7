/*  dupes: linear-time duplicate detection over uuid strings.  */
#include "dupes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

typedef struct { uint64_t hi, lo; } s_key_t;

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char) (c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0;
}

static s_key_t
s_parse (const char *s)
{
    s_key_t k = { 0, 0 };
    int nibbles = 0;
    for (const char *p = s; *p && nibbles < 32; p++) {
        if (*p == '-')
            continue;
        if (nibbles < 16)
            k.hi = (k.hi << 4) | (uint64_t) s_hex (*p);
        else
            k.lo = (k.lo << 4) | (uint64_t) s_hex (*p);
        nibbles++;
    }
    return k;
}

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
dupes_mark (const char *const *ids, size_t n, bool *dup)
{
    static uint64_t seed;
    while (!seed && getrandom (&seed, sizeof seed, 0) != (ssize_t) sizeof seed)
        ;
    size_t cap = 16;
    while (cap < n * 2)
        cap <<= 1;
    s_key_t *slots = (s_key_t *) calloc (cap, sizeof (s_key_t));
    bool *used = (bool *) calloc (cap, sizeof (bool));
    if (!slots || !used) {
        free (slots);
        free (used);
        return -1;
    }
    long found = 0;
    for (size_t i = 0; i < n; i++) {
        s_key_t k = s_parse (ids [i]);
        size_t at = (size_t) s_mix (k.hi ^ s_mix (k.lo ^ seed)) & (cap - 1);
        dup [i] = false;
        while (used [at]) {
            if (slots [at].hi == k.hi && slots [at].lo == k.lo) {
                dup [i] = true;
                found++;
                break;
            }
            at = (at + 1) & (cap - 1);
        }
        if (!dup [i]) {
            used [at] = true;
            slots [at] = k;
        }
    }
    free (slots);
    free (used);
    return found;
}
