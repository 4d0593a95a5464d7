/*  replay: the recorded answers of completed mutating requests (request_results,
    sql/0005), so that a request the broker re-delivers with the same rid after its first
    worker died past COMMIT is answered as the first run answered, not run again.

    A handler opens a transaction with replay_begin, does its work with db_exec_in on the
    generation it got, and ends with replay_commit, which records its answer in the same
    transaction: the record exists exactly when the effect committed. When the work finds
    its effect already there (a cancel finds the job canceled), replay_lookup tells whether
    this very request (rid, service, user, payload) caused it, and if so with what answer.
    Rows older than REPLAY_KEEP_S are deleted by the worker's periodic sweep (replay_family's
    idle, at most once a minute per worker, in bounded batches).  */
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

//  Records reply as call's answer and COMMITs, on connection gen. 0 when the commit is
//  confirmed. Else -1 with reply replaced: 500 when nothing committed (rolled back), 503
//  when the connection died on the way (the outcome is unknown; a retry finds out).
int replay_commit (svc_call_t *call, uint64_t gen, reply_t *reply);

//  ROLLBACK on connection gen, when there is nothing to record. Harmless when it is gone
//  (the server rolled back with it).
void replay_rollback (svc_call_t *call, uint64_t gen);

//  call's recorded answer. 1: found, reply holds it; 0: none (reply untouched); -1: the
//  database failed, reply filled (503 or 500).
int replay_lookup (svc_call_t *call, reply_t *reply);

//  No services: registers the statements above and sweeps old rows when idle.
extern const svc_family_t replay_family;

#endif
