/*  config: the broker's settings from the environment, read and checked once at start
    (main.c), then handed to broker_new.  */
#ifndef BROKER_CONFIG_H
#define BROKER_CONFIG_H

#define BROKER_DRAIN_MS         5000    //  how long SIGTERM waits for in-flight replies

typedef struct {
    const char *endpoint;       //  BROKER_ENDPOINT: where clients and workers connect
    const char *bind;           //  BROKER_BIND, else BROKER_ENDPOINT (conf_bind)
    const char *local;          //  BROKER_LOCAL_ENDPOINT: ipc:// for this host's peers, no
                                //  CurveZMQ (curve_server_bind_local); NULL: none
    long heartbeat_ms;          //  HEARTBEAT_MS, 100..2500
    long queue_max;             //  BROKER_QUEUE_MAX, per service
    long request_ttl_ms;        //  BROKER_REQUEST_TTL_MS, longest wait for a worker
    long unoffered_ms;          //  BROKER_UNOFFERED_MS: no worker this long, 503 at once
    long drain_ms;              //  BROKER_DRAIN_MS on SIGTERM
    long bulk_reserve;          //  BROKER_BULK_RESERVE: workers kept free of jobs.chunk
    long held_bytes_max;        //  BROKER_HELD_BYTES: request bytes held, queued or at workers
} broker_config_t;

//  Reads the configuration from the environment. Returns -1 (logged) on a bad value.
int broker_config_load (broker_config_t *cfg);

#endif
