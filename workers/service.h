/*  service: the contract between the worker loop and a service family. A family (auth.c,
    tickets.c, sys.c, later jobs.c) exports one svc_family_t; worker.c lists the families
    in one table, offers every service they name in its READY, and dispatches by name. A
    family may name no service and only register statements and sweep (replay.c).  */
#ifndef WORKERS_SERVICE_H
#define WORKERS_SERVICE_H

#include <jansson.h>
#include <stdbool.h>
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

typedef struct {
    const char *name;           //  e.g. SVC_TICKETS_GET
    svc_handler_fn *handler;
    bool needs_user;            //  needs an auth frame naming a user that still exists
    bool takes_blob;            //  accepts the optional fourth frame (else it is a 400)
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
