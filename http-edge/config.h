/*  config: the edge's settings, read once from the environment at start and then only
    read. Every module of the edge takes what it needs from here.  */
#ifndef EDGE_CONFIG_H
#define EDGE_CONFIG_H

#include "../common/conf.h"

typedef struct {
    const char *bind_address;       //  BIND_ADDRESS, default 127.0.0.1
    long port;                      //  PORT, default 3001 (API)
    long web_port;                  //  WEB_PORT, default 3000 (static UI); 0 disables
    long ws_port;                   //  WS_PORT, default 3002 (progress-hub; for the UI's config)
    const char *web_root;           //  WEB_ROOT, default "web"
    const char *frontend_url;       //  FRONTEND_URL: allowed CORS origins, comma-separated;
                                    //  http://localhost|127.0.0.1|[::1]:<WEB_PORT> always are
    char cors_origin [256];         //  the origin answered to any other: FRONTEND_URL's first
    conf_endpoints_t brokers;       //  BROKER_ENDPOINTS, else BROKER_ENDPOINT
    long request_timeout_ms;        //  REQUEST_TIMEOUT_MS, default 10000
    long max_inflight;              //  EDGE_MAX_INFLIGHT, default 4096
    long max_body_bytes;            //  MAX_BODY_BYTES, default 10 MiB
    long max_job_items;             //  MAX_JOB_ITEMS, default 1000000
    long max_job_uploads;           //  EDGE_MAX_JOB_UPLOADS: job bodies over max_body_bytes read at once (4)
    long max_job_body_bytes;        //  POST /api/jobs: about 40 bytes per id, from MAX_JOB_ITEMS
    long body_budget_bytes;         //  EDGE_BODY_BUDGET_BYTES: bodies held at once (64 MiB)
    long rate_per_user;             //  RATE_LIMIT_PER_USER: requests/s per user (burst 2x), 0 = off
    long rate_login_per_min;        //  RATE_LIMIT_LOGIN_PER_MIN: per address and e-mail, 0 = off
    long conn_limit;                //  EDGE_CONNECTION_LIMIT, default 4096
    long conn_timeout_s;            //  EDGE_CONNECTION_TIMEOUT_S, default 30
    long body_timeout_s;            //  EDGE_BODY_TIMEOUT_S: a body's whole upload, default 30
    long anon_per_address;          //  EDGE_ANON_PER_ADDRESS: anonymous requests at once, 16
    long uploads_per_user;          //  EDGE_UPLOADS_PER_USER: a user's bodies being received, 8
    long max_slow_inflight;         //  EDGE_MAX_SLOW_INFLIGHT: logins in flight edge-wide, 4
    long conns_per_address;         //  EDGE_CONNECTIONS_PER_ADDRESS: 512
    long header_timeout_s;          //  EDGE_HEADER_TIMEOUT_S: a request's headers, 15
    long sndhwm;                    //  EDGE_BROKER_SNDHWM, default 10000
    const char *jwt_secret;         //  JWT_SECRET, required, >= 32 bytes
    long jwt_ttl_s;                 //  JWT_TTL, default 43200
} edge_config_t;

//  Reads every setting from the environment. -1 after logging each bad variable.
int edge_config_load (edge_config_t *cfg);

#endif
