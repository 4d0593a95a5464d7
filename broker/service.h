/*  service: one entry of the broker's service table: the queue of requests waiting for it
    (owned), its workers with room for a request in LRU order (borrowed), and the bulk
    reserve rule.  */
#ifndef BROKER_SERVICE_H
#define BROKER_SERVICE_H

#include "request.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

//  Bulk work (jobs.chunk) yields to interactive requests for this long: a GET does not queue
//  behind a job's window of chunks. After it a chunk competes by age again, and claims a
//  worker if none is empty (the broker's s_bulk_claim), so a busy API slows a job down but
//  never starves it past its lease.
#define SERVICE_BULK_YIELD_MS   250
#define SERVICE_BULK_RESERVE_MS 1000    //  the reserve holds this long after an API request

struct _service_t {
    char *name;
    zlistx_t *requests;         //  request_t (owned), oldest first; hand-backs go to the front
    zlistx_t *waiting;          //  worker_t with room for a request, least recently sent one first
    size_t workers;             //  live workers offering it
    bool offered;               //  some worker has offered it since the broker started
    int64_t unoffered_since;    //  when its last worker left
    size_t credit;              //  the sum of their credits
    size_t in_flight;
    size_t claimed;             //  bulk: workers emptying themselves for a due request (below)
    bool full_logged;           //  one warn per full episode, not per refused request
    bool bulk;                  //  jobs.chunk: yields to other services (BULK_YIELD_MS)
};

//  The entry for name in table (name -> service_t, which owns its values; see
//  service_table_new), created when missing. NULL when the table holds max entries.
service_t *service_require (zhashx_t *table, const char *name, size_t max);

//  A table that destroys its services with it.
zhashx_t *service_table_new (void);

void service_destroy (service_t **self_p);

//  Forgets the entries of table that no worker offers and that hold no request, queued or
//  in flight: garbage service names in requests must not fill the table. An entry that a
//  worker offered stays until its last worker left before keep_since: that it was offered
//  and is no more is what the broker answers 503 at once for (broker.c).
void service_table_prune (zhashx_t *table, int64_t keep_since);

//  Whether one more worker may take (or be claimed for) a request of self. While API
//  requests are coming in (the last at last_interactive, within SERVICE_BULK_RESERVE_MS),
//  bulk work (jobs.chunk) leaves reserve of its workers free, so that an interactive
//  request finds a worker at once instead of waiting for a chunk to finish; bulk work always
//  gets at least one. With no API traffic, every worker may take chunks, so a job alone
//  runs at full speed. Workers claimed for bulk work count as holding it.
bool service_has_room (service_t *self, int64_t now, int64_t last_interactive,
                       size_t reserve);

//  How early the head of the queue should go out, lower first: its arrival order, except
//  that a bulk request younger than SERVICE_BULK_YIELD_MS ranks after every interactive
//  one. UINT64_MAX when the queue is empty.
uint64_t service_head_rank (service_t *self, int64_t now);

//  How many of the queued requests of self (bulk) have waited SERVICE_BULK_YIELD_MS or more,
//  counting no further than max: those that may claim a worker.
size_t service_due (service_t *self, int64_t now, size_t max);

#endif
