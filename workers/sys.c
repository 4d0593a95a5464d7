/*  sys: sys.health answers whether this worker can reach PostgreSQL right now.  */
#include "sys.h"

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

static int
s_init (db_t *db)
{
    return db_register (db, "sys_health", "SELECT 1", true);
}

static const svc_entry_t s_entries [] = {
    { SVC_SYS_HEALTH, s_health, false },
};

const svc_family_t sys_family = {
    "sys", s_entries, sizeof s_entries / sizeof s_entries [0], s_init, NULL
};
