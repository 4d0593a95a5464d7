/*  config: every setting of the edge from the environment, checked once.  */
#include "config.h"
#include "../common/conf.h"
#include "../common/curve.h"
#include "../common/jwt.h"
#include "../common/log.h"
#include "../proto/svc.h"
#include "../proto/vocab.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int
edge_config_load (edge_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    int rc = 0;
    rc |= conf_int ("PORT", 3001, 1, 65535, &cfg->port);
    rc |= conf_int ("WEB_PORT", 3000, 0, 65535, &cfg->web_port);
    rc |= conf_int ("WS_PORT", 3002, 1, 65535, &cfg->ws_port);
    rc |= conf_int ("REQUEST_TIMEOUT_MS", 10000, 100, 600000, &cfg->request_timeout_ms);
    rc |= conf_int ("EDGE_MAX_INFLIGHT", 4096, 1, 1000000, &cfg->max_inflight);
    rc |= conf_int ("MAX_BODY_BYTES", 10L * 1024 * 1024, 1024, 1024L * 1024 * 1024, &cfg->max_body_bytes);
    rc |= vocab_max_job_items (&cfg->max_job_items);
    rc |= conf_int ("EDGE_MAX_JOB_UPLOADS", 4, 1, 10000, &cfg->max_job_uploads);
    rc |= conf_int ("EDGE_BODY_BUDGET_BYTES", 64L * 1024 * 1024, 1024, 1024L * 1024 * 1024 * 1024,
                    &cfg->body_budget_bytes);
    //  One body of the largest size must always fit, or it could never be read.
    if (cfg->body_budget_bytes < cfg->max_body_bytes + 1)
        cfg->body_budget_bytes = cfg->max_body_bytes + 1;
    //  A quoted uuid and a comma are 39 bytes; 41 leaves room for a space, plus the envelope.
    cfg->max_job_body_bytes = cfg->max_job_items * 41 + 4096;
    if (cfg->max_job_body_bytes < cfg->max_body_bytes)
        cfg->max_job_body_bytes = cfg->max_body_bytes;
    rc |= conf_int ("RATE_LIMIT_PER_USER", 1000, 0, 10000000, &cfg->rate_per_user);
    rc |= conf_int ("RATE_LIMIT_LOGIN_PER_MIN", 20, 0, 1000000, &cfg->rate_login_per_min);
    rc |= conf_int ("EDGE_CONNECTION_LIMIT", 4096, 1, 1000000, &cfg->conn_limit);
    rc |= conf_int ("EDGE_CONNECTION_TIMEOUT_S", 30, 1, 3600, &cfg->conn_timeout_s);
    rc |= conf_int ("EDGE_BODY_TIMEOUT_S", 30, 1, 3600, &cfg->body_timeout_s);
    rc |= conf_int ("EDGE_ANON_PER_ADDRESS", 16, 1, 1000000, &cfg->anon_per_address);
    rc |= conf_int ("EDGE_UPLOADS_PER_USER", 8, 1, 1000000, &cfg->uploads_per_user);
    rc |= conf_int ("EDGE_MAX_SLOW_INFLIGHT", 4, 1, 1000000, &cfg->max_slow_inflight);
    rc |= conf_int ("EDGE_CONNECTIONS_PER_ADDRESS", 512, 1, 1000000, &cfg->conns_per_address);
    rc |= conf_int ("EDGE_HEADER_TIMEOUT_S", 15, 1, 3600, &cfg->header_timeout_s);
    rc |= conf_int ("EDGE_BROKER_SNDHWM", 10000, 1, 10000000, &cfg->sndhwm);
    rc |= conf_int ("JWT_TTL", 43200, 60, 31L * 24 * 3600, &cfg->jwt_ttl_s);
    rc |= conf_endpoints ("BROKER_ENDPOINTS", "BROKER_ENDPOINT", "tcp://127.0.0.1:5555",
                          &cfg->brokers);
    rc |= curve_client_init ();             //  CURVE_CLIENT_CERT, CURVE_SERVER_KEY
    cfg->bind_address = conf_str ("BIND_ADDRESS", "127.0.0.1");
    cfg->web_root = conf_str ("WEB_ROOT", "web");
    cfg->frontend_url = conf_str ("FRONTEND_URL", NULL);
    cfg->jwt_secret = conf_str ("JWT_SECRET", NULL);
    if (!cfg->jwt_secret) {
        log_error ("event=bad_config var=JWT_SECRET msg=\"is required (at least %d bytes)\"",
                   JWT_HS256_SECRET_MIN);
        rc = -1;
    }
    else
    if (strlen (cfg->jwt_secret) < JWT_HS256_SECRET_MIN) {
        log_error ("event=bad_config var=JWT_SECRET msg=\"must be at least %d bytes\"",
                   JWT_HS256_SECRET_MIN);
        rc = -1;
    }
    if (cfg->frontend_url) {
        size_t n = strcspn (cfg->frontend_url, ",");
        snprintf (cfg->cors_origin, sizeof cfg->cors_origin, "%.*s", (int) n, cfg->frontend_url);
    }
    else
        snprintf (cfg->cors_origin, sizeof cfg->cors_origin, "http://localhost:%ld",
                  cfg->web_port ? cfg->web_port : 3000);
    if (cfg->web_port && cfg->web_port == cfg->port) {
        log_error ("event=bad_config var=WEB_PORT msg=\"must differ from PORT\"");
        rc = -1;
    }
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton (AF_INET, cfg->bind_address, &a4) != 1
    &&  inet_pton (AF_INET6, cfg->bind_address, &a6) != 1) {
        log_error ("event=bad_config var=BIND_ADDRESS msg=\"must be an IPv4 or IPv6 address\"");
        rc = -1;
    }
    return rc ? -1 : 0;
}
