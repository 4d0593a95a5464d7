/*  ws: the WebSocket side of the hub (libwebsockets, in the hub's one thread). Owns the
    lws context and every client: its auth state, token expiry, bounded send queue of live
    events, and what it is still owed of the current state (snapshot), read from the cache
    (borrowed) as its socket drains. Asks auth.me through calls (borrowed) whether a
    client's user exists and with which role.  */
#ifndef HUB_WS_H
#define HUB_WS_H

#include <libwebsockets.h>
#include <stdint.h>
#include <stdio.h>
#include "../common/jwt.h"
#include "cache.h"
#include "calls.h"

//  Close codes (also in proto/README.md).
#define WS_CLOSE_GOING_AWAY     1001    //  hub shutting down (SIGTERM)
#define WS_CLOSE_TOO_BIG        1009    //  a client message over WS_CLIENT_FRAME_MAX, its frames together
#define WS_CLOSE_TRY_LATER      1013    //  HUB_MAX_CLIENTS reached, or the user could not be checked
#define WS_CLOSE_BAD_TOKEN      4001    //  missing, invalid, not sent within the auth timeout,
                                        //  or its user no longer exists
#define WS_CLOSE_BAD_ORIGIN     4003    //  Origin header not in the allowed list
#define WS_CLOSE_EXPIRED        4008    //  the token expired (at connect or later)
#define WS_CLOSE_TOO_SLOW       4009    //  send queue full even after coalescing

#define WS_CLIENT_FRAME_MAX     4096    //  bytes in one client message (only the token frame matters)
#define WS_CLOSE_CODES_MAX      16      //  distinct close codes counted; later ones count as "other"
#define WS_RECHECKS_PER_SWEEP   1000    //  auth.me re-checks sent per ws_recheck call
#define WS_RECHECK_RETRY_MS     5000    //  a re-check without an answer is tried again after this

typedef struct ws_s ws_t;

typedef struct {
    int port;
    const char *bind_address;           //  NULL: every interface
    const char *origins;                //  comma-separated allowed Origin values
    long max_clients;
    long queue_max;                     //  per-client pending live events
    long auth_timeout_ms;
    long pending_per_address;           //  sockets of one address not live yet; 0: no bound
    long recheck_ms;                    //  each live client's user is checked again this often
    jwt_hs256_t *jwt;                   //  borrowed
    cache_t *cache;                     //  borrowed
    calls_t *calls;                     //  borrowed: auth.me goes through it
    //  Called (in the loop's thread) when the adopted foreign fd is readable.
    void (*on_fd_readable) (void *arg);
    //  Builds the text of GET /metrics (caller frees), NULL on failure. NULL: 404.
    char *(*metrics_text) (void *arg, size_t *len);
    void *arg;
} ws_config_t;

ws_t *ws_new (const ws_config_t *cfg);
void ws_destroy (ws_t **self_p);

struct lws_context *ws_context (ws_t *self);

//  Watches fd (a dup is adopted, so lws may close it) and calls on_fd_readable.
int ws_watch_fd (ws_t *self, int fd);

//  Queues the entry's latest event to every live client allowed to see it, but for one
//  still owed that state (the walk of what it is owed sends it).
void ws_publish (ws_t *self, const cache_entry_t *entry);

//  Every live client is owed the latest events of the cache entries stamped in (after,
//  upto] that it may see (what a resync brought), sent as its socket drains.
void ws_catch_up (ws_t *self, uint64_t after, uint64_t upto);

//  Closes clients whose token expired at now_s.
void ws_sweep (ws_t *self, time_t now_s);

//  Sends a new auth.me for live clients whose re-check is due at now_ms (zclock_mono), at
//  most WS_RECHECKS_PER_SWEEP per call and while calls takes more.
void ws_recheck (ws_t *self, int64_t now_ms);

//  auth.me's answer (status, payload: calls_fn's) for the client owner: 200 with a role
//  makes that role, the database's, the client's (a client still checking then goes live:
//  owed the whole cache's current state, and sent events); 401/403/404 close it with 4001; anything else closes a
//  client still checking with 1013, and leaves a live one as it is until its next re-check.
void ws_user_checked (ws_t *self, void *owner, int status, zframe_t *payload);

//  Starts closing every client with code and reason; ws_clients says when they are gone.
void ws_close_all (ws_t *self, int code, const char *reason);
size_t ws_clients (ws_t *self);

//  Appends the WebSocket metrics (ws_clients, ws_connections_total, ws_closed_total by
//  code, hub_clients_dropped_slow_total, hub_user_checks_total, hub_snapshot_events_total,
//  hub_snapshot_clients) in Prometheus text to f.
void ws_write_metrics (ws_t *self, FILE *f);
//  Progress events replaced in a client's queue by a newer one of the same job.
uint64_t ws_coalesced (ws_t *self);

#endif
