/*  jobs: jobs.create, jobs.get, jobs.list, jobs.cancel and jobs.chunk, plus the sweeper
    that re-sends chunks whose lease ran out.  */
#ifndef WORKERS_JOBS_H
#define WORKERS_JOBS_H

#include "service.h"

extern const svc_family_t jobs_family;

#endif
