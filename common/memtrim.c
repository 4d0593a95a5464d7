/*  memtrim: malloc_trim at most every MEMTRIM_INTERVAL_MS.  */
#include "memtrim.h"

#include <malloc.h>

void
memtrim_install (void)
{
    mallopt (M_MMAP_THRESHOLD, MEMTRIM_MMAP_THRESHOLD);
}

void
memtrim_maybe (int64_t now_ms)
{
    //  One process, one loop thread calls this: no lock needed.
    static int64_t last;
    if (now_ms - last < MEMTRIM_INTERVAL_MS)
        return;
    last = now_ms;
    malloc_trim (0);
}
