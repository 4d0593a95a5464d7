/*  failpoint: a worker that kills itself at a chosen point, so that tests can check what a
    death there leaves behind (tests/integration/test_write_once.py). Compiled in only with
    -DTICKETD_FAILPOINTS, which the Makefile uses for bin/worker-failpoints alone; in every
    other build these are empty inlines and the binary holds no failpoint code.

      WORKER_FAILPOINT=after_commit:<service>
          SIGKILL as soon as a request of <service> has been answered below 500 (for a
          write: its transaction committed), before the answer leaves the worker.  */
#ifndef WORKERS_FAILPOINT_H
#define WORKERS_FAILPOINT_H

#ifdef TICKETD_FAILPOINTS

//  Reads WORKER_FAILPOINT: 0 when unset or valid, -1 (with one line saying what is
//  accepted) when it is not a point above naming a service this worker offers.
int failpoint_init (void);

//  Called with every request's answer before it leaves: SIGKILLs this process when the
//  armed point is after_commit of service and status is below 500 (logged first, with the
//  request's rid and status).
void failpoint_after_commit (const char *service, const char *rid, int status);

#else

static inline int failpoint_init (void) { return 0; }
static inline void failpoint_after_commit (const char *service, const char *rid, int status)
{
    (void) service; (void) rid; (void) status;
}

#endif
#endif
