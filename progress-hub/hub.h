/*  hub: the progress-hub actor. An XSUB that workers publish job events into, an XPUB
    that re-publishes every valid new state to any ZeroMQ SUB, a last-value cache kept right
    when events are lost (resync), the WebSocket fan-out (ws), and the broker client both
    use (calls), all in one thread on lws's event loop.  */
#ifndef HUB_HUB_H
#define HUB_HUB_H

#include <signal.h>
#include "../common/conf.h"
#include "../common/curve.h"

typedef struct {
    const char *pub_endpoint;       //  XSUB bind (workers connect): HUB_PUB_BIND, else HUB_PUB_ENDPOINT
    const char *sub_endpoint;       //  XPUB bind (tools connect): HUB_SUB_BIND, else HUB_SUB_ENDPOINT
    long ws_port;                   //  WS_PORT
    long web_port;                  //  WEB_PORT, for the default allowed origins
    const char *bind_address;       //  BIND_ADDRESS
    char origins [1024];            //  FRONTEND_URL, or http://localhost|127.0.0.1|[::1]:WEB_PORT
    const char *jwt_secret;         //  JWT_SECRET, >= 32 bytes
    long progress_interval_ms;      //  PROGRESS_INTERVAL_MS
    long max_clients;               //  HUB_MAX_CLIENTS
    long queue_max;                 //  HUB_CLIENT_QUEUE
    long cache_max;                 //  HUB_CACHE_MAX
    long keep_ms;                   //  HUB_FINISHED_KEEP_MS
    long auth_timeout_ms;           //  HUB_AUTH_TIMEOUT_MS
    long pending_per_address;       //  HUB_PENDING_PER_ADDRESS
    conf_endpoints_t brokers;       //  BROKER_ENDPOINTS, else BROKER_ENDPOINT: auth.me for users
    long check_timeout_ms;          //  HUB_CHECK_TIMEOUT_MS: auth.me unanswered: close 1013
    long recheck_ms;                //  HUB_RECHECK_MS: every live user is checked again
    curve_server_config_t curve;    //  CURVE_SERVER_CERT, CURVE_ALLOW_DIR: XSUB and XPUB
} hub_config_t;

//  Reads and validates the environment; -1 (each bad variable logged) when invalid.
int hub_config_load (hub_config_t *cfg);

typedef struct hub_s hub_t;

hub_t *hub_new (const hub_config_t *cfg);
void hub_destroy (hub_t **self_p);

//  Runs until *stop; then closes every WebSocket with 1001 and returns 0.
int hub_run (hub_t *self, volatile sig_atomic_t *stop);

#endif
