/*  memtrim: gives heap memory freed after a burst back to the kernel. glibc keeps what a
    burst allocated, in every thread's arena (libzmq's I/O threads included), as the process's
    high-water mark; a 1,000,000-id job or a load test would otherwise leave each actor at
    its peak for good. Every actor calls memtrim_maybe from its periodic tick.  */
#ifndef COMMON_MEMTRIM_H
#define COMMON_MEMTRIM_H

#include <stdint.h>

#define MEMTRIM_INTERVAL_MS 5000

//  Calls malloc_trim (0) when MEMTRIM_INTERVAL_MS passed since the last call; now_ms is
//  the caller's monotonic clock in milliseconds.
void memtrim_maybe (int64_t now_ms);

#endif
