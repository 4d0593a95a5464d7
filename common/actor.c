/*  actor: the preamble of the four mains.  */
#include "actor.h"
#include "conf.h"
#include "log.h"
#include "memtrim.h"
#include "pidcache.h"
#include "sched.h"
#include "stop.h"

int
actor_begin (int argc, char **argv, const char *name, const char *usage)
{
    int rc = conf_handle_args (argc, argv, name, usage);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (log_init (name) || sched_install ())
        return 1;
    pidcache_install ();
    memtrim_install ();
    stop_install ();
    return -1;
}
