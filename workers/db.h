/*  db: the worker's one PostgreSQL connection. Owns connecting (asynchronously, with
    backoff), the registry of named statements (prepared lazily on each connection), and
    transactions on one connection. While it waits on PostgreSQL it serves what db_set_wait
    names (the broker link's heartbeats, link.c): the worker has one thread.  */
#ifndef WORKERS_DB_H
#define WORKERS_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _db_t db_t;

//  Reads DATABASE_URL, else DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD (each optional;
//  libpq's own PG* environment and defaults fill the rest). Does not connect yet. name
//  (WORKER_NAME, may be NULL) goes into the connection's application_name.
db_t *db_new (const char *name);
void db_destroy (db_t **self_p);

//  What a wait on PostgreSQL serves meanwhile: polls fd for events (POLLIN, POLLOUT; fd < 0:
//  none) and whatever else it owns for at most timeout_ms (-1: no limit of ours). 1 when
//  fd is ready, 0 when not yet (called again until the statement's own deadline), -1 on
//  an error of the poll.
typedef int (db_wait_fn) (void *arg, int fd, short events, int timeout_ms);
void db_set_wait (db_t *self, db_wait_fn *fn, void *arg);

//  Waits ms, serving the wait hook meanwhile (a retry's delay).
void db_pause (db_t *self, int ms);

//  Statements prepared on one connection at most (DB_PREPARED_MAX): beyond, a statement new
//  to the connection runs unprepared, so that no client walking filter combinations makes a
//  server backend hold thousands of plans. Every fixed statement of the families fits.
#define DB_PREPARED_MAX     256

//  Registers a named statement; the registry is shared by every connection this db makes.
//  idempotent: running it twice has the effect of running it once, so a statement cut off
//  by a lost connection may be retried once on a fresh one. Re-registering a name is a
//  no-op. Returns -1 when the name is too long or sql is NULL.
int db_register (db_t *self, const char *name, const char *sql, bool idempotent);

//  A statement as a service family lists it, for db_register.
typedef struct {
    const char *name;
    const char *sql;
    bool idempotent;            //  safe to send again on a fresh connection (db.c)
} db_stmt_t;
bool db_registered (db_t *self, const char *name);

//  Runs a registered statement with text parameters (NULL = SQL NULL). Returns the result
//  (the caller PQclears it; its status may be an error such as a constraint violation), or
//  NULL when PostgreSQL cannot be reached: the caller answers 503 database_unavailable.
PGresult *db_exec (db_t *self, const char *name, int nparams, const char *const *params);

//  The same with binary parameters: formats[i] 1 = lengths[i] bytes of PostgreSQL's
//  binary form (e.g. a uuid[] built by the caller), 0 = text. NULL arrays = all text.
PGresult *db_exec_binary (db_t *self, const char *name, int nparams, const char *const *params,
                          const int *lengths, const int *formats);

//  One statement of a pipeline (db_pipeline): a registered idempotent statement, its text
//  parameters (borrowed; NULL = SQL NULL) and, once run, its result.
#define DB_QUERY_PARAMS_MAX 12     //  a list page: every filter, then its limit and offset
typedef struct {
    const char *name;
    int nparams;
    const char *params [DB_QUERY_PARAMS_MAX];
    PGresult *res;              //  set by db_pipeline; the caller PQclears it
} db_query_t;

//  Runs n statements as one pipeline (libpq's pipeline mode): sent together with one sync,
//  their results read as they come, each into its query's res, exactly as db_exec would
//  have returned it. A statement not yet prepared on this connection is prepared within
//  the pipeline. Every statement must be idempotent (a read, registered so): when the
//  connection breaks on the way, those without a result are sent once more on a fresh
//  connection. The pipeline is one implicit transaction, so a statement's error aborts
//  those behind it; each aborted one runs again on its own. A res left NULL: PostgreSQL
//  cannot be reached, and the caller answers 503 database_unavailable.
void db_pipeline (db_t *self, db_query_t *const *queries, size_t n);

//  Which connection statements run on: a new value for every new connection, 0 when
//  there is none. db reconnects between calls, and a transaction dies with its connection.
uint64_t db_generation (db_t *self);

//  Transactions over several statements, all on the connection they began on. db_begin
//  runs BEGIN and returns that connection's generation, or 0 (logged) when PostgreSQL
//  cannot be reached or refused: the caller answers 503.
uint64_t db_begin (db_t *self);

//  db_exec_binary inside the transaction begun on connection gen: runs only on that
//  connection, never on a new one and never twice, since on a new one it would commit on
//  its own what belongs to the dead transaction. NULL when that connection is gone or
//  breaks. gen 0: plain db_exec_binary, outside any transaction.
PGresult *db_exec_in (db_t *self, uint64_t gen, const char *name, int nparams,
                      const char *const *params, const int *lengths, const int *formats);

//  COMMIT on connection gen. 0: committed. -1: nothing committed and the connection lives
//  (a failed transaction's COMMIT answers ROLLBACK): our bug or the data's, a 500. -2: the
//  connection died on the way, the outcome is unknown (a retry finds out): a 503.
int db_commit (db_t *self, uint64_t gen);

//  ROLLBACK on connection gen. Harmless when it is gone (the server rolled back with it).
void db_rollback (db_t *self, uint64_t gen);

//  Connects when disconnected and the backoff allows it. Called by the worker's loop when
//  its wait times out (about once a second, between requests) so the connection comes
//  back before the next request needs it.
void db_maintain (db_t *self);

bool db_connected (db_t *self);

//  The channel sql/0012_user_changes.sql announces a changed or deleted user on (the
//  payload: its id, or '*' for every user); every connection LISTENs on it at setup.
#define DB_USERS_CHANNEL "ticketd_users"

//  Calls fn (payload, arg) for each announcement come since the last call, reading what
//  waits on the socket without blocking. Only between statements. Announcements made
//  while no connection was up are lost: a new db_generation means "assume any changed".
typedef void (db_announce_fn) (const char *payload, void *arg);
void db_announcements (db_t *self, db_announce_fn *fn, void *arg);

//  How long a statement may run before the server cancels it (statement_timeout): a
//  request's statements get STATEMENT_TIMEOUT_MS (default: the edge's own wait for an
//  answer, beyond which the work is wasted), a job's chunks and the background sweeps
//  JOB_STATEMENT_TIMEOUT_MS (a plan of millions of tickets takes tens of seconds). 0: no
//  limit. Set on the connection only when it changes, so a run of one kind costs nothing.
typedef enum { DB_INTERACTIVE = 0, DB_BACKGROUND = 1 } db_budget_t;
#define DB_STATEMENT_TIMEOUT_MS     10000
#define DB_JOB_STATEMENT_TIMEOUT_MS 600000
void db_budget (db_t *self, db_budget_t budget);

//  Whether a statement was cancelled by its budget since the last call (which clears it):
//  its caller saw an error result and answered 500, which the worker turns into a 504.
bool db_timed_out (db_t *self);

//  The SQLSTATE of an error result ("" when none), and the violated constraint's name.
const char *db_sqlstate (const PGresult *res);
const char *db_constraint (const PGresult *res);

#endif
