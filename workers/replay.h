/*  replay: the recorded answers of mutating requests (request_results, sql/0005), so that a
    request the broker re-delivers with the same rid after its first worker died past COMMIT
    is answered as the first run answered, not run again.

    A handler opens a transaction with replay_begin, does its work with db_exec_in on the
    generation it got, and ends with replay_end, which records its answer in the same
    transaction: the record exists exactly when the effect committed. A re-delivered request
    simply runs again inside its transaction; recording its answer then finds its first
    run's record, so the re-run is rolled back and the recorded answer given instead. Rows
    older than REPLAY_KEEP_S are deleted by the worker's periodic sweep (replay_family's
    idle, in bounded batches).  */
#ifndef WORKERS_REPLAY_H
#define WORKERS_REPLAY_H

#include "service.h"

#define REPLAY_HASH_LEN     64              //  SHA-256 in hex
#define REPLAY_KEEP_S       86400           //  a day; the broker re-delivers within seconds
#define REPLAY_SWEEP_MS     60000
#define REPLAY_SWEEP_BATCH  1000

//  What "the same request" means: SHA-256 of the service name, the payload as compact JSON
//  with sorted keys (key order and whitespace do not matter) and the blob, in hex. 0, or -1
//  when the payload cannot be encoded.
int replay_hash (const char *service, const json_t *payload, const unsigned char *blob,
                 size_t blob_size, char out [REPLAY_HASH_LEN + 1]);

//  BEGIN. Returns the connection's generation for db_exec_in, or 0 with reply filled (503)
//  when the database cannot be reached.
uint64_t replay_begin (svc_call_t *call, reply_t *reply);

//  Ends the transaction on connection gen. When keep and reply is below 500, records reply
//  as call's answer and COMMITs: 0 once the commit is confirmed. When this request's answer
//  is recorded already (a re-delivery of a request whose first run committed), rolls back
//  and replaces reply with the recorded answer: 1. Otherwise (keep false: the work failed
//  and reply says how) rolls back; reply stays, unless this request has a recorded answer,
//  which replaces it (1). -1 when nothing of this run committed, reply saying why: 500 when
//  the record or commit failed, 503 when the connection died (the outcome is unknown; a
//  retry finds out), or the work's own error.
int replay_end (svc_call_t *call, uint64_t gen, bool keep, reply_t *reply);

//  No services: registers the statements above and sweeps old rows when idle.
extern const svc_family_t replay_family;

#endif
