/*  sched: SCHED_POLICY, applied once at start.  */
#define _GNU_SOURCE             //  SCHED_BATCH
#include "sched.h"
#include "conf.h"
#include "log.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

int
sched_install (void)
{
    const char *value = conf_str ("SCHED_POLICY", "batch");
    int policy;
    if (strcmp (value, "batch") == 0)
        policy = SCHED_BATCH;
    else
    if (strcmp (value, "normal") == 0)
        policy = SCHED_OTHER;
    else {
        log_error ("event=bad_config var=SCHED_POLICY msg=\"must be batch or normal\"");
        return -1;
    }
    struct sched_param param = { .sched_priority = 0 };
    //  A sandbox that forbids the call costs speed, not correctness: go on under the
    //  policy the process has.
    if (sched_setscheduler (0, policy, &param) != 0)
        log_warn ("event=sched_refused policy=%s err=\"%s\"", value, strerror (errno));
    return 0;
}
