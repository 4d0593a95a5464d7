/*  pidcache: getpid without a system call. libzmq checks getpid on every signal between a
    socket and its I/O thread (its guard against use after fork): eight times per MDP round
    trip in the broker, about thirty per GET across the actors; glibc no longer caches the
    pid, and on this project's VMs a system call costs about a microsecond. This module defines getpid for the whole process
    (libzmq's calls bind to it): the pid is read once and read again in a child after fork.  */
#ifndef COMMON_PIDCACHE_H
#define COMMON_PIDCACHE_H

#include <sys/types.h>

//  Reads the pid now (the first getpid would do it too). Each actor's main calls it: the
//  call is what makes the linker take this module, and its getpid, into the binary.
void pidcache_install (void);

//  The pid from the kernel, never from the cache (for tests and diagnostics).
pid_t pidcache_kernel_pid (void);

#endif
