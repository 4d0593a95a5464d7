/*  rand: a per-thread pool of bytes from getrandom(2), handed out once each.  */
#include "rand.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#define S_POOL  4096

//  Each byte leaves the pool once and is wiped as it goes: a later reader of this memory
//  learns nothing about ids already made.
static _Thread_local unsigned char s_pool [S_POOL];
static _Thread_local size_t s_left;

static void
s_refill (void)
{
    size_t got = 0;
    while (got < S_POOL) {
        ssize_t n = getrandom (s_pool + got, S_POOL - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            PANIC ("event=getrandom_failed err=\"%s\"", strerror (errno));
        got += (size_t) n;
    }
    s_left = S_POOL;
}

void
rand_bytes (void *buf, size_t n)
{
    unsigned char *out = (unsigned char *) buf;
    while (n) {
        if (!s_left)
            s_refill ();
        size_t take = n < s_left ? n : s_left;
        unsigned char *from = s_pool + S_POOL - s_left;
        memcpy (out, from, take);
        memset (from, 0, take);
        s_left -= take;
        out += take;
        n -= take;
    }
}

void
rand_id (char out [RAND_ID_STRLEN + 1])
{
    static const char hex [] = "0123456789abcdef";
    unsigned char b [RAND_ID_BYTES];
    rand_bytes (b, sizeof b);
    for (size_t i = 0; i < sizeof b; i++) {
        out [2 * i] = hex [b [i] >> 4];
        out [2 * i + 1] = hex [b [i] & 15];
    }
    out [RAND_ID_STRLEN] = 0;
}
