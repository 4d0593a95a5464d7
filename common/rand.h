/*  rand: unpredictable bytes and ids from the kernel's CSPRNG (getrandom), for anything a
    peer must not guess: request ids that correlate replies, id prefixes. Not for keys
    (curve.c uses libsodium through czmq).  */
#ifndef COMMON_RAND_H
#define COMMON_RAND_H

#include <stddef.h>

//  Bytes in a rand_id: 128 bits, so ids are never reused and cannot be guessed.
#define RAND_ID_BYTES   16
#define RAND_ID_STRLEN  (2 * RAND_ID_BYTES)

//  Fills buf with n bytes. The kernel is asked for 4 KiB at a time, per thread, so an id
//  per request costs no system call; PANICs if the kernel's source fails (it cannot once
//  the system has booted, and nothing safe can be done without it).
void rand_bytes (void *buf, size_t n);

//  Writes RAND_ID_STRLEN lower-case hex digits and a NUL into out.
void rand_id (char out [RAND_ID_STRLEN + 1]);

#endif
