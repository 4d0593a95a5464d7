/*  sys: sys.health, the database check behind GET /api/health, and sys.metrics, the
    job counts behind the edge's GET /metrics.  */
#ifndef WORKERS_SYS_H
#define WORKERS_SYS_H

#include "service.h"

extern const svc_family_t sys_family;

#endif
