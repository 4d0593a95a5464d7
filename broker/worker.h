/*  worker: one entry of the broker's worker table: who it is (its name, peer address and
    since when), the services it offers (borrowed), its places in their waiting lists, its
    liveness, its credit and the requests it holds (owned, at most MDP_CREDIT_MAX, in the
    order they were sent to it).  */
#ifndef BROKER_WORKER_H
#define BROKER_WORKER_H

#include "request.h"
#include "service.h"
#include "../proto/mdp.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#define WORKER_ID_MAX           (MDP_ADDRESS_MAX * 2 + 1)
#define WORKER_PEER_MAX         64      //  bytes kept of a peer address, with its NUL

//  How every broker log line names a worker, an entry or a sender the table does not hold
//  (a refused READY, a late REPLY): worker=<name> addr=<peer address> id=<routing id in hex>.
#define WORKER_LOG_FMT          "worker=%s addr=%s id=%s"
#define WORKER_LOG_ARGS(w)      (w)->name, (w)->peer, (w)->id

//  Who sent a message: its routing id in hex, its name (its READY's, else the id) and
//  libzmq's "Peer-Address" of its connection ("-" when there is none, as over inproc).
typedef struct {
    char id [WORKER_ID_MAX];
    char name [WORKER_ID_MAX];
    char peer [WORKER_PEER_MAX];
} worker_who_t;

typedef struct {
    char id [WORKER_ID_MAX];    //  routing id in hex: the table key
    char name [WORKER_ID_MAX];  //  its READY's name, else id (worker_who_t)
    char peer [WORKER_PEER_MAX];    //  its peer address, or "-"
    int64_t since;              //  when it joined: wall clock, ms since the epoch
    zframe_t *address;
    service_t *services [MDP_READY_SERVICES_MAX];
    void *waiting [MDP_READY_SERVICES_MAX];    //  handles in each service's waiting list
    size_t services_n;
    bool multi;                 //  its READY named several services: REQUESTs name theirs
    bool idle;                  //  in its services' waiting lists: it has room for one more
    int credit;                 //  requests it may hold at once: its READY's credit, else 1
    request_t *held [MDP_CREDIT_MAX];   //  what it holds, oldest sent first
    size_t held_n;
    bool bulk;                  //  one of them is bulk: it takes nothing else until it answers
    service_t *claimed;         //  the bulk service it empties itself for, or NULL (worker_claim)
    int64_t expiry;             //  declared dead when now passes this
} worker_t;

//  The hex form of a routing id (at most MDP_ADDRESS_MAX bytes) into out [WORKER_ID_MAX].
void worker_id_of (zframe_t *address, char *out);

//  Who the sender of a message received with routing id address (its frame as received:
//  libzmq stamps it with the connection's properties) is, given its READY's name (NULL or
//  "" when it named none). A peer address is cut to WORKER_PEER_MAX - 1 bytes, any byte a
//  logfmt value cannot hold unquoted made '?'.
void worker_who_of (zframe_t *address, const char *name, worker_who_t *who);

//  A worker of credit 1 with no services and no address yet; see worker_add_service.
worker_t *worker_new (const char *id);
void worker_destroy (worker_t **self_p);

//  self, which has joined at wall-clock time since_ms, takes *address_p (nulled), the
//  routing id of its READY as received, and its names (worker_who_of).
void worker_identify (worker_t *self, zframe_t **address_p, const char *name, int64_t since_ms);

//  Counts self in (delta 1) or out (delta -1) of its services' workers and credit.
void worker_enlist (worker_t *self, int delta);

//  Adds svc to what self offers, once. The caller keeps the count of services_n below
//  MDP_READY_SERVICES_MAX (a READY names no more).
void worker_add_service (worker_t *self, service_t *svc);

//  Puts self at the back of each of its services' waiting lists, where it goes each time it
//  is sent a request and still has room: the next request goes to another worker first
//  (least recently used first) / takes it out of them.
void worker_wait (worker_t *self);
void worker_unwait (worker_t *self);

//  Whether self may be sent one more request of svc (NULL: of an interactive service):
//  below its credit, holding no bulk request, and for a bulk request holding nothing at
//  all, so that no request waits behind a chunk on one worker connection; a claimed worker
//  takes bulk work only.
bool worker_may_take (worker_t *self, service_t *svc);

//  Claims self for bulk (a bulk service it offers): it leaves its waiting lists and takes
//  no new interactive request, so that it empties and can take a bulk request that would
//  otherwise wait for a worker holding nothing while interactive work keeps every worker
//  busy. bulk counts the claim. worker_unclaim ends it (harmless when there is none).
void worker_claim (worker_t *self, service_t *bulk);
void worker_unclaim (worker_t *self);

//  self now holds req (worker_may_take said so); its service counts one more in flight.
void worker_hold (worker_t *self, request_t *req);

//  Takes the held request that a REPLY naming client and rid answers, or NULL when self
//  holds none: an unknown or repeated answer. A worker of credit 1 is matched on the client
//  alone, as 7/MDP has it (it holds one request). The caller owns what it gets, and its
//  service counts one in flight fewer.
request_t *worker_release (worker_t *self, zframe_t *client, const char *rid);

//  Takes the request self was sent last (NULL if it holds none), as worker_release does.
request_t *worker_take_last (worker_t *self);

//  Up to max entries of table (hex id -> worker_t) into out, sorted by name then id, so
//  that a listing of a few of many is the same few each time. Returns how many it wrote.
size_t worker_table_sorted (zhashx_t *table, worker_t **out, size_t max);

#endif
