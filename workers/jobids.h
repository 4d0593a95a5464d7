/*  jobids: the ticket ids of a jobs.create request. Where they come from (the edge's
    binary frame, or a JSON "ticketIds" array for clients speaking JSON only), and what
    makes two requests "the same body" for an Idempotency-Key.  */
#ifndef WORKERS_JOBIDS_H
#define WORKERS_JOBIDS_H

#include "service.h"

#define JOBIDS_HASH_LEN 64          //  SHA-256 in hex

//  The ids of call: the blob (16 bytes an id, with "count" in the payload) or the payload's
//  "ticketIds", 1 to max_items of them. *ids is borrowed from the call, or for the JSON
//  form a malloc'd copy that *owned also holds (the caller frees it). 0, or -1 with a
//  detail added to details (none added: out of memory).
int jobids_read (const svc_call_t *call, long max_items, const unsigned char **ids,
                 unsigned char **owned, size_t *n, json_t *details);

//  The same type and the same ids in the same order: SHA-256 of "type:{id,id,...}" with
//  lower-case ids, in hex (whitespace, key order and case in the JSON do not matter).
void jobids_hash (const char *type, const unsigned char *ids, size_t n,
                  char out [JOBIDS_HASH_LEN + 1]);

#endif
