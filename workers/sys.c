/*  sys: sys.health answers whether this worker can reach PostgreSQL right now;
    sys.metrics counts jobs by status and the items processed, for the edge's /metrics.  */
#include "sys.h"

#include <stdlib.h>

static void
s_health (svc_call_t *call, reply_t *reply)
{
    PGresult *res = db_exec (call->db, "sys_health", 0, NULL);
    if (res && PQresultStatus (res) == PGRES_TUPLES_OK)
        reply_json (reply, 200, json_pack ("{s:s}", "db", "ok"));
    else
        reply_unavailable (reply);
    PQclear (res);
}

//  One scan of jobs (a row per bulk job, not per item), asked every 5 s by each edge.
//  Every status is in the answer, 0 when no job has it, so the gauges never vanish.
static void
s_metrics (svc_call_t *call, reply_t *reply)
{
    static const char *statuses [] = { "queued", "running", "completed", "failed", "canceled" };
    PGresult *res = db_exec (call->db, "sys_metrics", 0, NULL);
    if (!res || PQresultStatus (res) != PGRES_TUPLES_OK || PQnfields (res) != 3) {
        reply_unavailable (reply);
        PQclear (res);
        return;
    }
    json_t *jobs = json_object ();
    for (size_t i = 0; i < sizeof statuses / sizeof statuses [0]; i++)
        json_object_set_new (jobs, statuses [i], json_integer (0));
    long long processed = 0;
    for (int r = 0; r < PQntuples (res); r++) {
        const char *status = PQgetvalue (res, r, 0);
        if (json_object_get (jobs, status))
            json_object_set_new (jobs, status, json_integer (strtoll (PQgetvalue (res, r, 1), NULL, 10)));
        processed += strtoll (PQgetvalue (res, r, 2), NULL, 10);
    }
    PQclear (res);
    reply_json (reply, 200, json_pack ("{s:o, s:I}", "jobs", jobs, "processed", (json_int_t) processed));
}

static const db_stmt_t s_stmts [] = {
    { "sys_health", "SELECT 1", true },
    { "sys_metrics",
      "SELECT status, count(*), coalesce(sum(processed), 0) FROM jobs GROUP BY status", true },
};

static const svc_entry_t s_entries [] = {
    { SVC_SYS_HEALTH, s_health, false, false, NULL, NULL, false },
    { SVC_SYS_METRICS, s_metrics, false, false, NULL, NULL, false },
};

const svc_family_t sys_family = {
    "sys", s_entries, sizeof s_entries / sizeof s_entries [0],
    s_stmts, sizeof s_stmts / sizeof s_stmts [0], NULL, NULL
};
