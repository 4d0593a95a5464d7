/*  memtrim: gives heap memory freed after a burst back to the kernel. glibc keeps what a
    burst allocated, in every thread's arena (libzmq's I/O threads included), as the process's
    high-water mark; a 1,000,000-id job or a load test would otherwise leave each actor at
    its peak for good. Every actor calls memtrim_install at start and memtrim_maybe from its
    periodic tick.  */
#ifndef COMMON_MEMTRIM_H
#define COMMON_MEMTRIM_H

#include <stdint.h>

#define MEMTRIM_INTERVAL_MS 5000
//  Blocks from this size up are mapped on their own and unmapped when freed.
#define MEMTRIM_MMAP_THRESHOLD (1024 * 1024)

//  Pins glibc's mmap threshold at MEMTRIM_MMAP_THRESHOLD. By default it rises to the size of
//  the largest block freed (up to 32 MiB): after the first job of a million ids, the next
//  16 MB id lists would come from the heap and stay resident until the next trim, in the
//  edge, the broker's I/O thread and the worker at once. (glibc refuses only values above
//  half its 64 MiB heap size.)
void memtrim_install (void);

//  Calls malloc_trim (0) when MEMTRIM_INTERVAL_MS passed since the last call; now_ms is
//  the caller's monotonic clock in milliseconds.
void memtrim_maybe (int64_t now_ms);

#endif
