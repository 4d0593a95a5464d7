/*  jobscope: what a job covers when it is not an id list (a filter over tickets, or the
    tickets another job deleted), what a bulk-update sets, and the statement that expands a
    scope into the job's chunks (sql/0009_bulk_scope.sql, job_plan).  */
#ifndef WORKERS_JOBSCOPE_H
#define WORKERS_JOBSCOPE_H

#include "service.h"
#include "jobids.h"
#include "tickets.h"

typedef struct {
    json_t *scope;              //  owned: {"filter": {...}} or {"jobId": "..."}; NULL: an id list
    json_t *set;                //  borrowed from the payload: bulk-update's fields; else NULL
    long expected;              //  expectedTotal, -1 when not given
    char *scope_text;           //  the two as statement parameters (NULL when absent)
    char *set_text;
    char expected_text [24];
} jobscope_t;

//  Reads a jobs.create payload's scope, set and expectedTotal for a job of type into self
//  (zeroed by the caller). An id list is the caller's (jobids.c): has_ids says the payload
//  carries one. 0, or -1 with details appended. NULL-safe jobscope_free releases it.
int jobscope_read (const svc_call_t *call, const char *type, bool has_ids, jobscope_t *self,
                   json_t *details);
void jobscope_free (jobscope_t *self);

//  The checks that need the database, in the creator's transaction gen: the set's assignee
//  is a user, the job a bulk-restore undoes is a bulk-delete that has ended. 0; 1 with
//  details appended; -1 with the reply filled (409 job_not_finished, or the database failed).
int jobscope_check (const svc_call_t *call, uint64_t gen, const char *type,
                    const jobscope_t *self, json_t *details, reply_t *reply);

//  The Idempotency-Key hash of a scope job: type, scope, set and expectedTotal in canonical
//  JSON. For an id list with a set (a bulk-update), the label to hash the ids under instead
//  ("bulk-update <set>"); malloc'd, the caller frees.
void jobscope_hash (const char *type, const jobscope_t *self, char out [JOBIDS_HASH_LEN + 1]);
char *jobscope_ids_label (const char *type, const jobscope_t *self);

//  The statement that expands a job's scope (job_plan) with its parameters, as
//  jobscope_plan_prepare fills it; jobscope_plan_free releases what they point into.
#define JOBSCOPE_PLAN_PARAMS (4 + TICKETS_FILTER_PARAMS)
typedef struct {
    char name [32];
    const char *params [JOBSCOPE_PLAN_PARAMS];
    int nparams;
    char text [96];             //  chunk size, window, the job's creation time
    char *like;                 //  q's ILIKE pattern, owned
    json_t *scope;              //  owned: the filter's values point into it
} jobscope_plan_t;

//  Reads job_id's type and scope (one statement) and names the statement that plans it,
//  registering it on first use. 1: plan is ready to run; 0: the job is gone or planned
//  (nothing to do); -1: the database failed, or the stored scope is not one this worker
//  can expand (logged).
int jobscope_plan_prepare (const svc_call_t *call, const char *job_id, jobscope_plan_t *plan);
void jobscope_plan_free (jobscope_plan_t *plan);

//  The fixed statements above use (part of the jobs family's list).
#define JOBSCOPE_STMTS \
    { "js_user", "SELECT 1 FROM users WHERE id = $1::uuid", true }, \
    { "js_source", "SELECT type, status FROM jobs WHERE id = $1::uuid", true }, \
    { "js_info", "SELECT type, scope::text, created_at FROM jobs WHERE id = $1::uuid AND NOT planned", true }, \
    { "js_plan_job", \
      "SELECT state, job::text, dispatch::text FROM job_plan($1::uuid," \
      " job_succeeded_ids((SELECT (scope ->> 'jobId')::uuid FROM jobs WHERE id = $1::uuid)), $2::int, $3::int)", \
      false }

#endif
