/*  replay: request_results written in the caller's transaction, read back for a
    re-delivered request, and swept after REPLAY_KEEP_S. The generic half of exactly-once
    answers, shared by every mutating service (tickets.c: create, update, delete, restore;
    jobs.c: create, cancel); each decides what its transaction holds.  */
#include "replay.h"
#include "../common/log.h"

#include <czmq.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static const db_stmt_t s_stmts [] = {
    //  Nothing written tells of a record already there: this request's first run (s_commit
    //  answers it instead), or a peer reusing a rid, whose second request must not fail
    //  for it (the first recording wins).
    { "r_record",
      "INSERT INTO request_results (rid, service, user_id, request_hash, status, body)"
      " VALUES ($1, $2, $3::uuid, $4, $5::int, $6) ON CONFLICT (rid, service) DO NOTHING", false },
    { "r_lookup",
      "SELECT status, body FROM request_results WHERE rid = $1 AND service = $2"
      " AND user_id = $3::uuid AND request_hash = $4", true },
    { "r_sweep",
      "DELETE FROM request_results r USING (SELECT rid, service FROM request_results"
      " WHERE created_at < now() - make_interval(secs => $1::int)"
      " ORDER BY created_at LIMIT $2::int) old"
      " WHERE r.rid = old.rid AND r.service = old.service", true },
};

int
replay_hash (const char *service, const json_t *payload, const unsigned char *blob,
             size_t blob_size, char out [REPLAY_HASH_LEN + 1])
{
    char *text = json_dumps (payload, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!text)
        return -1;
    unsigned char md [EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
    int ok = ctx
          && EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL)
          //  The NULs keep "a" + "bc" apart from "ab" + "c".
          && EVP_DigestUpdate (ctx, service, strlen (service) + 1)
          && EVP_DigestUpdate (ctx, text, strlen (text) + 1)
          && (!blob_size || EVP_DigestUpdate (ctx, blob, blob_size))
          && EVP_DigestFinal_ex (ctx, md, &len)
          && len * 2 == REPLAY_HASH_LEN;
    EVP_MD_CTX_free (ctx);
    free (text);
    if (!ok)
        return -1;
    for (unsigned int i = 0; i < len; i++)
        snprintf (out + 2 * i, 3, "%02x", md [i]);
    return 0;
}

uint64_t
replay_begin (svc_call_t *call, reply_t *reply)
{
    uint64_t gen = db_begin (call->db);
    if (!gen)
        reply_unavailable (reply);
    return gen;
}

//  call's hash; -1 (logged) when it cannot be made.
static int
s_hash (svc_call_t *call, char hash [REPLAY_HASH_LEN + 1])
{
    if (*call->user
    &&  replay_hash (call->service, call->payload, call->blob, call->blob_size, hash) == 0)
        return 0;
    log_error ("event=replay_failed rid=%s service=%s msg=\"cannot encode the request\"",
               call->rid, call->service);
    return -1;
}

//  Inserts reply as call's answer on gen. 1: recorded; 0: (rid, service) has a record
//  already, ours is not written; -1: failed, reply replaced (500, or 503 with the connection
//  gone), the transaction to be rolled back.
static int
s_record (svc_call_t *call, uint64_t gen, const char *hash, reply_t *reply)
{
    char status [8];
    snprintf (status, sizeof status, "%d", reply->status);
    //  Encoded once: the worker sends these same bytes (reply_encode keeps them).
    if (reply_encode (reply)) {
        log_error ("event=replay_failed rid=%s service=%s msg=\"cannot encode the answer\"",
                   call->rid, call->service);
        return -1;
    }
    const char *params [] = { call->rid, call->service, call->user, hash, status, reply->text };
    PGresult *res = db_exec_in (call->db, gen, "r_record", 6, params, NULL, NULL);
    int rc = -1;
    if (res && PQresultStatus (res) == PGRES_COMMAND_OK)
        rc = !strcmp (PQcmdTuples (res), "1");
    else {
        log_error ("event=replay_failed rid=%s service=%s sqlstate=%s", call->rid,
                   call->service, res ? db_sqlstate (res) : "connection_lost");
        if (res)
            reply_internal (reply);
        else
            reply_unavailable (reply);
    }
    PQclear (res);
    return rc;
}

//  call's recorded answer, read on gen (0: any connection). 1: found, into *found;
//  0: none; -1: the database failed (logged).
static int
s_lookup (svc_call_t *call, uint64_t gen, const char *hash, reply_t *found)
{
    const char *params [] = { call->rid, call->service, call->user, hash };
    PGresult *res = db_exec_in (call->db, gen, "r_lookup", 4, params, NULL, NULL);
    int rc = -1;
    if (!res || PQresultStatus (res) != PGRES_TUPLES_OK)
        log_error ("event=replay_failed rid=%s service=%s sqlstate=%s", call->rid,
                   call->service, res ? db_sqlstate (res) : "connection_lost");
    else
    if (PQntuples (res) == 0)
        rc = 0;
    else {
        int status = atoi (PQgetvalue (res, 0, 0));
        json_t *body = NULL;
        if (!PQgetisnull (res, 0, 1)) {
            json_error_t err;
            body = json_loads (PQgetvalue (res, 0, 1), 0, &err);
        }
        if (status < 100 || status > 599 || (!body && !PQgetisnull (res, 0, 1))) {
            log_error ("event=replay_failed rid=%s service=%s msg=\"stored answer unreadable\"",
                       call->rid, call->service);
            json_decref (body);
        }
        else {
            reply_json (found, status, body);
            rc = 1;
        }
    }
    PQclear (res);
    return rc;
}

//  The recorded answer replaces this run's: 1; 0 when there is none, -1 when it cannot be
//  read (reply untouched either way).
static int
s_replay (svc_call_t *call, uint64_t gen, const char *hash, reply_t *reply)
{
    reply_t found = { 0 };
    int rc = s_lookup (call, gen, hash, &found);
    if (rc != 1)
        return rc;
    log_info ("event=request_replayed rid=%s service=%s status=%d ran=%d", call->rid,
              call->service, found.status, reply->status);
    reply_reset (reply);
    *reply = found;
    return 1;
}

//  Records and commits; a record already there is this request's first run (we waited for
//  it to commit, had it been in flight: a frozen worker's), or a client reusing a rid for
//  another request, whose first recording wins while this one commits unrecorded.
static int
s_commit (svc_call_t *call, uint64_t gen, reply_t *reply)
{
    char hash [REPLAY_HASH_LEN + 1];
    int recorded = -1;
    if (s_hash (call, hash))
        reply_internal (reply);
    else
        recorded = s_record (call, gen, hash, reply);
    int replayed = recorded == 0 ? s_replay (call, gen, hash, reply) : 0;
    if (replayed < 0) {
        if (db_connected (call->db))
            reply_internal (reply);
        else
            reply_unavailable (reply);
    }
    if (recorded < 0 || replayed != 0) {
        db_rollback (call->db, gen);
        return replayed > 0 ? 1 : -1;
    }
    if (recorded == 0)
        log_warn ("event=replay_rid_reused rid=%s service=%s msg=\"committed unrecorded\"",
                  call->rid, call->service);
    int rc = db_commit (call->db, gen);
    if (rc == -1)
        reply_internal (reply);
    else
    if (rc == -2)
        reply_unavailable (reply);
    return rc ? -1 : 0;
}

int
replay_end (svc_call_t *call, uint64_t gen, bool keep, reply_t *reply)
{
    if (keep && reply->status > 0 && reply->status < 500)
        return s_commit (call, gen, reply);
    db_rollback (call->db, gen);
    //  A re-run that failed where its first run succeeded (a row it names went away in
    //  between) still answers as the first run did. With the connection gone, nothing can
    //  be known: 503, and the client's retry finds out.
    char hash [REPLAY_HASH_LEN + 1];
    if (reply->status != 503 && s_hash (call, hash) == 0 && s_replay (call, 0, hash, reply) == 1)
        return 1;
    return -1;
}

//  Old rows go in batches, so a backlog never holds a worker for long: once a minute, and
//  after a full batch again at the next idle round (about a second), so a worker deletes up
//  to REPLAY_SWEEP_BATCH rows a second for as long as there are old ones.
static void
s_idle (db_t *db, outbox_t *outbox, const jobs_config_t *jobs)
{
    static int64_t next_sweep;
    int64_t now = zclock_mono ();
    if (now < next_sweep || !db_connected (db))
        return;
    next_sweep = now + REPLAY_SWEEP_MS;
    char keep [24], batch [24];
    snprintf (keep, sizeof keep, "%d", REPLAY_KEEP_S);
    snprintf (batch, sizeof batch, "%d", REPLAY_SWEEP_BATCH);
    const char *params [] = { keep, batch };
    PGresult *res = db_exec (db, "r_sweep", 2, params);
    if (res && PQresultStatus (res) == PGRES_COMMAND_OK) {
        int rows = atoi (PQcmdTuples (res));
        if (rows > 0)
            log_info ("event=replay_swept rows=%d", rows);
        if (rows >= REPLAY_SWEEP_BATCH)
            next_sweep = now;
    }
    else
    if (res)
        log_warn ("event=replay_sweep_failed sqlstate=%s", db_sqlstate (res));
    PQclear (res);
}

const svc_family_t replay_family = {
    "replay", NULL, 0, s_stmts, sizeof s_stmts / sizeof s_stmts [0], NULL, s_idle
};
