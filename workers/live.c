/*  live: jobs.live and the re-publication round (live.h says why).  */
#include "live.h"
#include "check.h"
#include "../common/log.h"
#include "../proto/event.h"
#include <stdio.h>

//  Re-publication: one round for the whole cluster every 2 s, of at most 500 jobs, covering
//  jobs that finished in the last 10 s too (a lost final event is the one that matters).
#define LIVE_REPUBLISH_MS           2000
#define LIVE_REPUBLISH_BATCH        500
#define LIVE_REPUBLISH_FINISHED_MS  10000
//  jobs.live answers at most this many jobs (< 1 KiB each), finished within at most an hour.
#define LIVE_MAX               1000
#define LIVE_FINISHED_MAX_MS   3600000
#define LIVE_FINISHED_DEFAULT_MS    60000

static const db_stmt_t s_stmts [] = {
    { "j_live", "SELECT data::text, more FROM job_live($1::int, $2::int)", true },
    //  Not retried: a lost answer may hide a round that was taken (the next one comes 2 s later).
    { "j_republish", "SELECT job_id, job_status, job::text FROM job_republish_round($1::int, $2::int, $3::int)",
      false },
};

//  Every user's live jobs, for the hub's cache (it scopes them per WebSocket user); the
//  broker takes this request from the hub's key only. Read-only and bounded.
static void
s_live (svc_call_t *call, reply_t *reply)
{
    json_t *details = json_array ();
    long within = LIVE_FINISHED_DEFAULT_MS, limit = LIVE_MAX;
    check_int (call->payload, "finishedWithinMs", false, 0, LIVE_FINISHED_MAX_MS, details,
               &within, NULL);
    check_int (call->payload, "limit", false, 1, LIVE_MAX, details, &limit, NULL);
    if (json_array_size (details)) {
        reply_invalid (reply, details);
        return;
    }
    json_decref (details);
    char within_s [24], limit_s [24];
    snprintf (within_s, sizeof within_s, "%ld", within);
    snprintf (limit_s, sizeof limit_s, "%ld", limit);
    const char *params [] = { within_s, limit_s };
    PGresult *res = db_exec (call->db, "j_live", 2, params);
    if (!res || PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1) {
        if (res)
            log_error ("event=jobs_live_failed rid=%s sqlstate=%s", call->rid, db_sqlstate (res));
        res ? reply_internal (reply) : reply_unavailable (reply);
    }
    else
        reply_json (reply, 200, json_pack ("{s:o,s:b}", "data", json_loads (PQgetvalue (res, 0, 0), 0, NULL),
                                           "more", PQgetvalue (res, 0, 1) [0] == 't'));
    PQclear (res);
}

//  Publishes the state of live jobs again, the cluster's round when it is due (any
//  worker's idle call may take it; the others find it taken), so that a subscriber that
//  missed events, a final one above all, has the current state within seconds.
static void
s_republish (db_t *db, outbox_t *outbox)
{
    char every [24], batch [24], finished [24];
    snprintf (every, sizeof every, "%d", LIVE_REPUBLISH_MS);
    snprintf (batch, sizeof batch, "%d", LIVE_REPUBLISH_BATCH);
    snprintf (finished, sizeof finished, "%d", LIVE_REPUBLISH_FINISHED_MS);
    const char *params [] = { every, batch, finished };
    PGresult *res = db_exec (db, "j_republish", 3, params);
    if (res && PQresultStatus (res) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples (res); i++)
            outbox_publish (outbox, event_kind_of_status (PQgetvalue (res, i, 1)),
                            PQgetvalue (res, i, 0), PQgetvalue (res, i, 2));
        if (PQntuples (res))
            log_debug ("event=jobs_republished jobs=%d", PQntuples (res));
    }
    else
    if (res)
        log_warn ("event=republish_failed sqlstate=%s", db_sqlstate (res));
    PQclear (res);
}

static void
s_idle (db_t *db, outbox_t *outbox, const jobs_config_t *jobs)
{
    if (db_connected (db))
        s_republish (db, outbox);
}

static const svc_entry_t s_entries [] = {
    { SVC_JOBS_LIVE, s_live, false, false, NULL, NULL, false },
};

const svc_family_t live_family = {
    "live", s_entries, sizeof s_entries / sizeof s_entries [0],
    s_stmts, sizeof s_stmts / sizeof s_stmts [0], NULL, s_idle
};
