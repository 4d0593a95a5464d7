/*  live: the state of the live jobs for whoever missed their events. jobs.live answers the
    hub's snapshot (every user's queued and running jobs, then the recently finished); the
    idle round re-publishes the same state on the hub at a low rate. Events are
    at-most-once, so these two make a subscriber's view converge (sql/0008_job_versions.sql).  */
#ifndef WORKERS_LIVE_H
#define WORKERS_LIVE_H

#include "service.h"

extern const svc_family_t live_family;

#endif
