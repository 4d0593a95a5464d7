/*  pidcache: a getpid that does not enter the kernel.
    Our processes never vfork or clone by hand: fork is the only way a second process sees
    this memory, and pthread_atfork refreshes the pid in the child before fork returns
    there. posix_spawn (system, popen) runs its child without calling back into us.  */
#define _GNU_SOURCE
#include "pidcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic pid_t s_pid;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

pid_t
pidcache_kernel_pid (void)
{
    return (pid_t) syscall (SYS_getpid);
}

static void
s_refresh (void)
{
    atomic_store_explicit (&s_pid, pidcache_kernel_pid (), memory_order_relaxed);
}

static void
s_init (void)
{
    s_refresh ();
    pthread_atfork (NULL, NULL, s_refresh);
}

//  Interposes glibc's getpid for this binary and the libraries it loads.
pid_t
getpid (void)
{
    pid_t pid = atomic_load_explicit (&s_pid, memory_order_relaxed);
    if (pid == 0) {
        pthread_once (&s_once, s_init);
        pid = atomic_load_explicit (&s_pid, memory_order_relaxed);
    }
    return pid;
}

void
pidcache_install (void)
{
    (void) getpid ();
}
