/*  config: the broker's settings from the environment (config.h).  */
#include "config.h"
#include "../common/conf.h"
#include "../common/curve.h"
#include "../common/log.h"
#include "../proto/mdp.h"

#include <string.h>

int
broker_config_load (broker_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    int rc = 0;
    rc |= conf_endpoint ("BROKER_ENDPOINT", "tcp://127.0.0.1:5555", &cfg->endpoint);
    rc |= conf_int ("HEARTBEAT_MS", MDP_HEARTBEAT_MS, 100, 2500, &cfg->heartbeat_ms);
    rc |= conf_int ("BROKER_QUEUE_MAX", 10000, 1, 1000000, &cfg->queue_max);
    rc |= conf_int ("BROKER_REQUEST_TTL_MS", 10000, 100, 86400000L, &cfg->request_ttl_ms);
    rc |= conf_int ("BROKER_UNOFFERED_MS", 3000, 0, 86400000L, &cfg->unoffered_ms);
    rc |= conf_int ("BROKER_DRAIN_MS", BROKER_DRAIN_MS, 0, 60000, &cfg->drain_ms);
    rc |= conf_int ("BROKER_BULK_RESERVE", 1, 0, 1000, &cfg->bulk_reserve);
    rc |= conf_int ("BROKER_HELD_BYTES", 256L * 1024 * 1024, 1024 * 1024, 64L << 30,
                    &cfg->held_bytes_max);
    //  A request with a frame of the largest size (MDP_MSG_MAX_BYTES) always fits.
    if (cfg->held_bytes_max < MDP_MSG_MAX_BYTES + 64 * 1024)
        cfg->held_bytes_max = MDP_MSG_MAX_BYTES + 64 * 1024;
    //  Checked here so that a bad CURVE setting stops the start; broker_new applies it.
    curve_server_config_t curve;
    if (curve_server_config_load (&curve))
        return -1;
    rc |= conf_bind ("BROKER_BIND", cfg->endpoint, curve.cert_path != NULL, &cfg->bind);
    const char *local = conf_str ("BROKER_LOCAL_ENDPOINT", "");
    const char *why;
    if (*local && curve_local_endpoint_check (local, &why)) {
        char q [300];
        log_error ("event=bad_config var=BROKER_LOCAL_ENDPOINT endpoint=%s msg=\"%s\"",
                   log_quote (q, sizeof q, local), why);
        rc = -1;
    }
    cfg->local = *local ? local : NULL;
    return rc ? -1 : 0;
}
