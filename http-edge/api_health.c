/*  api_health: GET /api/health (broker liveness from mmi.status: "ok" while one of the
    brokers is up, and how many are; the database through a worker's sys.health, answered
    within HEALTH_TIMEOUT_MS) and GET /metrics.  */
#define _GNU_SOURCE                     //  memmem
#include "edge.h"
#include "api.h"

#include <string.h>

#define HEALTH_TIMEOUT_MS 1500

static void
s_answer (edge_req_t *req, const char *db, bool broker_ok, int workers)
{
    bool ok = broker_ok && workers > 0 && !strcmp (db, "ok");
    const char *status = ok ? "ok" : (!broker_ok || workers <= 0) ? "down" : "degraded";
    size_t live, total;
    edge_brokers (req->edge, &live, &total);
    json_t *root = json_pack ("{s:s, s:s, s:s, s:i, s:{s:I, s:I}}", "status", status, "db", db,
                              "broker", broker_ok ? "ok" : "down", "workers", workers < 0 ? 0 : workers,
                              "brokers", "live", (json_int_t) live, "total", (json_int_t) total);
    char *text = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    req_respond_json_owned (req, ok ? 200 : 503, text, strlen (text));
    req_header (req, "Cache-Control", "no-store");
}

static void
s_health_reply (edge_req_t *req, int status, const char *payload, size_t len)
{
    edge_t *edge = req->edge;
    int workers = edge_workers (edge);
    //  A worker answered, so there is at least one even if mmi.status lags behind.
    if (payload && workers <= 0)
        workers = 1;
    //  "down" only when a worker said it cannot reach PostgreSQL: no answer in time, or
    //  the broker's (its workers just died, and it has not noticed yet), says nothing
    //  about the database.
    static const char said [] = "\"database_unavailable\"";
    bool db_down = status == 503 && payload && memmem (payload, len, said, sizeof said - 1);
    s_answer (req, status == 200 ? "ok" : db_down ? "down" : "unknown", edge_broker_up (edge),
              workers);
}

void
api_health_get (edge_req_t *req)
{
    edge_t *edge = req->edge;
    if (!edge_broker_up (edge)) {
        s_answer (req, "unknown", false, 0);
        return;
    }
    //  Nobody offers sys.health: asking would only wait out the broker's queue TTL.
    if (edge_service_workers (edge, SVC_SYS_HEALTH) == 0) {
        s_answer (req, "unknown", true, 0);
        return;
    }
    if (edge_call (req, SVC_SYS_HEALTH, json_object (), s_health_reply, HEALTH_TIMEOUT_MS))
        s_answer (req, "unknown", edge_broker_up (edge), edge_workers (edge));
}

void
api_metrics_get (edge_req_t *req)
{
    size_t len = 0;
    char *text = edge_metrics_text (req->edge, &len);
    if (!text) {
        req_respond_error (req, 500, "internal", "cannot build metrics", NULL);
        return;
    }
    req_respond_json_owned (req, 200, text, len);
    MHD_del_response_header (req->response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    req_header (req, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
}
