/*  replay: request_results written in the caller's transaction, read back for a
    re-delivered request, and swept after REPLAY_KEEP_S. The generic half of exactly-once
    answers; each mutating service decides where its transaction ends (jobs.c: cancel).  */
#include "replay.h"
#include "../common/log.h"

#include <czmq.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static const db_stmt_t s_stmts [] = {
    //  The first recording of a (rid, service) wins: a peer reusing a rid must not fail its
    //  second request, whose re-delivery then simply finds no match.
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

void
replay_rollback (svc_call_t *call, uint64_t gen)
{
    db_rollback (call->db, gen);
}

int
replay_commit (svc_call_t *call, uint64_t gen, reply_t *reply)
{
    char hash [REPLAY_HASH_LEN + 1], status [8];
    char *body = reply->body ? json_dumps (reply->body, JSON_COMPACT) : NULL;
    snprintf (status, sizeof status, "%d", reply->status);
    if (!*call->user || (reply->body && !body)
    ||  replay_hash (call->service, call->payload, call->blob, call->blob_size, hash)) {
        log_error ("event=replay_record_failed rid=%s service=%s msg=\"cannot encode the request\"",
                   call->rid, call->service);
        free (body);
        replay_rollback (call, gen);
        reply_internal (reply);
        return -1;
    }
    const char *params [] = { call->rid, call->service, call->user, hash, status, body };
    PGresult *res = db_exec_in (call->db, gen, "r_record", 6, params, NULL, NULL);
    free (body);
    if (!res || PQresultStatus (res) != PGRES_COMMAND_OK) {
        log_error ("event=replay_record_failed rid=%s service=%s sqlstate=%s", call->rid,
                   call->service, res ? db_sqlstate (res) : "connection_lost");
        if (res) {
            replay_rollback (call, gen);
            reply_internal (reply);
        }
        else
            reply_unavailable (reply);
        PQclear (res);
        return -1;
    }
    PQclear (res);
    int rc = db_commit (call->db, gen);
    if (rc == -1)
        reply_internal (reply);
    else
    if (rc == -2)
        reply_unavailable (reply);
    if (rc)
        log_error ("event=replay_commit_failed rid=%s service=%s", call->rid, call->service);
    return rc ? -1 : 0;
}

int
replay_lookup (svc_call_t *call, reply_t *reply)
{
    char hash [REPLAY_HASH_LEN + 1];
    if (!*call->user)
        return 0;
    if (replay_hash (call->service, call->payload, call->blob, call->blob_size, hash)) {
        log_error ("event=replay_lookup_failed rid=%s service=%s msg=\"cannot encode the request\"",
                   call->rid, call->service);
        reply_internal (reply);
        return -1;
    }
    const char *params [] = { call->rid, call->service, call->user, hash };
    PGresult *res = db_exec (call->db, "r_lookup", 4, params);
    int rc = -1;
    if (!res)
        reply_unavailable (reply);
    else
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("event=replay_lookup_failed rid=%s service=%s sqlstate=%s", call->rid,
                   call->service, db_sqlstate (res));
        reply_internal (reply);
    }
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
            log_error ("event=replay_lookup_failed rid=%s service=%s msg=\"stored answer unreadable\"",
                       call->rid, call->service);
            json_decref (body);
            reply_internal (reply);
        }
        else {
            reply_json (reply, status, body);
            rc = 1;
        }
    }
    PQclear (res);
    return rc;
}

//  At most once a minute per worker: old rows go in batches, so a backlog never holds a
//  worker for long (the next sweep takes the next batch).
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
        if (atoi (PQcmdTuples (res)) > 0)
            log_info ("event=replay_swept rows=%s", PQcmdTuples (res));
    }
    else
    if (res)
        log_warn ("event=replay_sweep_failed sqlstate=%s", db_sqlstate (res));
    PQclear (res);
}

const svc_family_t replay_family = {
    "replay", NULL, 0, s_stmts, sizeof s_stmts / sizeof s_stmts [0], NULL, s_idle
};
