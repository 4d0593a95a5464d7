/*  jobsread: the jobs family's reads, jobs.get and jobs.list.  */
#ifndef WORKERS_JOBSREAD_H
#define WORKERS_JOBSREAD_H

#include "service.h"

void jobsread_get (svc_call_t *call, reply_t *reply);
void jobsread_list (svc_call_t *call, reply_t *reply);

//  Their statements (part of the jobs family's list).
#define JOBSREAD_STMTS \
    { "j_get", \
      "SELECT job_json(j)::text, i.items::text, i.total FROM jobs j," \
      " LATERAL job_items(j.id, $2, $3::int, $4::int, $5::bool) i" \
      " WHERE j.id = $1::uuid AND ($5::bool OR j.created_by = $6::uuid)", true }, \
    { "j_count", \
      "SELECT count(*) FROM jobs WHERE ($1::text IS NULL OR type = $1)" \
      " AND ($2::text IS NULL OR status = $2) AND ($3::bool OR created_by = $4::uuid)", true }, \
    { "j_page", \
      "SELECT job_json(j)::text FROM jobs j WHERE ($1::text IS NULL OR type = $1)" \
      " AND ($2::text IS NULL OR status = $2) AND ($3::bool OR created_by = $4::uuid)" \
      " ORDER BY created_at DESC, id DESC LIMIT $5::int OFFSET $6::int", true }

#endif
