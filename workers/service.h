/*  service: the contract between the worker loop and a service family. A family (auth.c,
    tickets.c, sys.c, later jobs.c) exports one svc_family_t; worker.c lists the families
    in one table, offers every service they name in its READY, and dispatches by name. A
    family may name no service and only register statements and sweep (replay.c).  */
#ifndef WORKERS_SERVICE_H
#define WORKERS_SERVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include "../proto/svc.h"
#include "config.h"
#include "db.h"
#include "outbox.h"
#include "reply.h"

//  One request as a handler sees it. The worker has decoded the envelope, parsed the
//  payload as a JSON object and, for services that need a user, checked that the user
//  exists and taken the role from the database.
typedef struct {
    db_t *db;
    const char *rid;
    const char *service;
    const char *user;           //  uuid text, "" for anonymous services
    svc_role_t role;            //  from the database; SVC_ROLE_NONE when anonymous
    json_t *payload;            //  borrowed; always a JSON object
    const unsigned char *blob;  //  borrowed; the request's fourth frame (takes_blob only)
    size_t blob_size;           //  0 when there is none
    outbox_t *outbox;           //  events to the hub, chunk requests to the broker
    const jobs_config_t *jobs;  //  the settings, read once at start
} svc_call_t;

//  Fills reply (status + body). Never fails: every outcome is a status.
typedef void (svc_handler_fn) (svc_call_t *call, reply_t *reply);

//  The split form of a read, which the worker runs in one pipeline with the other reads of
//  a batch (db_pipeline): plan checks the call and names its statements, or answers at
//  once; finish answers from their results. handler must answer as plan, db_exec of each
//  statement, then finish would: the batch answers byte for byte as one by one.
#define SVC_PLAN_QUERIES    3
typedef struct {
    db_query_t queries [SVC_PLAN_QUERIES];
    size_t queries_n;
    char text [160];            //  what parameters and names point into (plan's own)
    char *owned;                //  a heap string a parameter points to; freed with the plan
    long values [2];            //  what finish needs to know of plan's reading of the call
} svc_plan_t;

//  Given a zeroed plan: 0 with its statements named, or -1 with the reply filled (a 4xx:
//  nothing to run).
typedef int (svc_plan_fn) (svc_call_t *call, svc_plan_t *plan, reply_t *reply);
//  Fills reply from plan's results (a NULL result: 503). Never fails.
typedef void (svc_finish_fn) (svc_call_t *call, svc_plan_t *plan, reply_t *reply);

//  Frees what a plan holds (its results, its owned string) and empties it for the next.
static inline void
svc_plan_reset (svc_plan_t *plan)
{
    for (size_t i = 0; i < plan->queries_n; i++) {
        PQclear (plan->queries [i].res);
        plan->queries [i].res = NULL;
    }
    plan->queries_n = 0;
    free (plan->owned);
    plan->owned = NULL;
}

typedef struct {
    const char *name;           //  e.g. SVC_TICKETS_GET
    svc_handler_fn *handler;
    bool needs_user;            //  needs an auth frame naming a user that still exists
    bool takes_blob;            //  accepts the optional fourth frame (else it is a 400)
    svc_plan_fn *plan;          //  optional, with finish: the read's split form
    svc_finish_fn *finish;
    bool background;            //  a job's work, not a request someone waits on: its
                                //  statements run under JOB_STATEMENT_TIMEOUT_MS (db_budget)
} svc_entry_t;

typedef struct {
    const char *family;
    const svc_entry_t *entries;
    size_t entries_n;
    //  The family's statements: the worker registers them (db_register) before init.
    const db_stmt_t *stmts;
    size_t stmts_n;
    //  Optional: any other state the family needs; 0 or -1.
    int (*init) (db_t *db);
    //  Optional: called about once a second while the worker has no request in hand
    //  (jobs.c sweeps expired chunk leases here).
    void (*idle) (db_t *db, outbox_t *outbox, const jobs_config_t *jobs);
} svc_family_t;

#endif
