/*  mmi: the broker's answers to mmi.* requests: 8/MMI's mmi.service, the mmi.status
    extension (proto/README.md, "Broker status"), 501 for any other name. Reads the
    service and worker tables and the broker's counters; owns nothing.  */
#ifndef BROKER_MMI_H
#define BROKER_MMI_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

//  The broker-wide numbers mmi.status reports beside each service's.
typedef struct {
    size_t workers;
    size_t queued;
    size_t in_flight;
    size_t credit;              //  the sum of the live workers' credits
    size_t held_bytes;
    long held_bytes_max;
    uint64_t refused_unauthorized;
} mmi_counts_t;

//  mmi.status lists at most this many workers (by name, then id), and says
//  "workerListTruncated":true when there are more: the answer stays one bounded frame
//  however many workers join.
#define MMI_WORKER_LIST_MAX     256

//  The body answering a request for service (an mmi.* name) whose body is body (borrowed),
//  given the broker's service table (name -> service_t) and worker table (hex id ->
//  worker_t; NULL: none). The caller owns the result.
zmsg_t *mmi_answer (const char *service, zmsg_t *body, zhashx_t *services, zhashx_t *workers,
                    const mmi_counts_t *counts);

#endif
