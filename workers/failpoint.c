/*  failpoint: WORKER_FAILPOINT, read once at start, and the kill. Empty unless built with
    -DTICKETD_FAILPOINTS (bin/worker-failpoints, for tests).  */
#include "failpoint.h"

#ifdef TICKETD_FAILPOINTS
#include "worker.h"
#include "../common/log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FAILPOINT_AFTER_COMMIT "after_commit:"

static char s_service [64];         //  the armed after_commit's service; "" when none

int
failpoint_init (void)
{
    const char *v = getenv ("WORKER_FAILPOINT");
    if (!v || !*v)
        return 0;
    size_t prefix = strlen (FAILPOINT_AFTER_COMMIT);
    const char *service = v + prefix;
    if (strncmp (v, FAILPOINT_AFTER_COMMIT, prefix) || strlen (service) >= sizeof s_service
    ||  !worker_service (service)) {
        log_error ("event=bad_config var=WORKER_FAILPOINT msg=\"must be after_commit:<service>"
                   " naming a service this worker offers, such as after_commit:tickets.update\"");
        return -1;
    }
    snprintf (s_service, sizeof s_service, "%s", service);
    log_warn ("event=failpoint_armed point=after_commit service=%s msg=\"this worker kills"
              " itself after its first such request: for tests only\"", s_service);
    return 0;
}

void
failpoint_after_commit (const char *service, const char *rid, int status)
{
    //  A 5xx answer committed nothing: no death there, whose re-delivery would test nothing.
    if (!*s_service || strcmp (service, s_service) || status >= 500)
        return;
    log_warn ("event=failpoint_hit point=after_commit service=%s rid=%s status=%d", service,
              rid, status);
    kill (getpid (), SIGKILL);
}

#endif
