/*  db: one asynchronous libpq connection per worker, with a named-statement registry and
    transactions on one connection generation. Every wait goes through s_wait_fd, which
    serves the broker link meanwhile (db_set_wait: link_wait_fd), so that heartbeats flow
    however long a statement takes in the worker's one thread.  */
#include "db.h"
#include "../common/conf.h"
#include "../common/log.h"

#include <czmq.h>
#include <errno.h>
#include <poll.h>
#include <string.h>

#define DB_NAME_MAX         63      //  PostgreSQL's identifier limit (NAMEDATALEN - 1)
#define DB_CONNECT_MS       5000    //  an async connect attempt gives up after this
#define DB_BACKOFF_MIN_MS   250
#define DB_BACKOFF_MAX_MS   1000    //  "try again every second or so"
#define DB_KEYWORDS_MAX     16
//  A worker frozen inside a transaction (SIGSTOP, a paused VM) would hold its row locks for
//  as long as it stays frozen, and the request the broker re-delivers to another worker would
//  wait on them: the server ends a session idle in a transaction this long, and rolls back.
//  A live worker is idle in one only for the C work between two statements (milliseconds).
#define DB_IDLE_IN_TX_MS    "5000"
//  A server that vanished (a partition, a powered-off host) is noticed within this long
//  whatever the connection was doing: keepalive probes cover a connection waiting for a
//  result (10 s idle, then 3 probes 5 s apart), TCP_USER_TIMEOUT one whose data is not
//  acknowledged, which TCP would otherwise retransmit for about 15 minutes.
#define DB_DEAD_PEER_MS     "25000"
#define DB_SQLSTATE_TIMEOUT "57014"     //  query_canceled: statement_timeout fired

typedef struct {
    char *sql;
    bool idempotent;
    uint64_t prepared_gen;          //  == db->gen when prepared on the current connection
} s_stmt_t;

struct _db_t {
    PGconn *conn;
    uint64_t gen;                   //  bumped on every new connection, starts at 1
    zhashx_t *stmts;                //  name -> s_stmt_t, a finite set fixed by our code
    const char *keywords [DB_KEYWORDS_MAX + 1];
    const char *values [DB_KEYWORDS_MAX + 1];
    char application_name [64];         //  "ticketd-worker NAME": pg_stat_activity says whose
    int expand;
    int64_t next_attempt;           //  earliest time for the next background attempt
    int64_t last_attempt;           //  when the last connect attempt started
    int backoff_ms;
    int budget_ms [2];              //  statement_timeout per db_budget_t (0: none)
    db_budget_t budget;             //  the one the caller asked for last
    db_budget_t budget_set;         //  the one the connection of generation budget_gen has
    uint64_t budget_gen;
    bool timed_out;                 //  a statement hit its budget since db_timed_out
    int prepared_max;               //  DB_PREPARED_MAX: statements prepared per connection
    int prepared_n;                 //  prepared on the connection of generation prepared_gen
    uint64_t prepared_gen;
    db_wait_fn *wait;               //  what else a wait serves; NULL: PostgreSQL only
    void *wait_arg;
};

static void
s_stmt_destroy (void **item_p)
{
    s_stmt_t *stmt = (s_stmt_t *) *item_p;
    if (stmt) {
        free (stmt->sql);
        free (stmt);
        *item_p = NULL;
    }
}

static void
s_kw (db_t *self, int *n, const char *key, const char *value)
{
    if (value && *value && *n < DB_KEYWORDS_MAX) {
        self->keywords [*n] = key;
        self->values [*n] = value;
        (*n)++;
    }
}

db_t *
db_new (const char *name)
{
    long port, interactive_ms, background_ms, prepared_max;
    if (conf_int ("DB_PORT", 0, 1, 65535, &port)
    ||  conf_int ("DB_PREPARED_MAX", DB_PREPARED_MAX, 0, 100000, &prepared_max)
    ||  conf_int ("STATEMENT_TIMEOUT_MS", DB_STATEMENT_TIMEOUT_MS, 0, 3600000, &interactive_ms)
    ||  conf_int ("JOB_STATEMENT_TIMEOUT_MS", DB_JOB_STATEMENT_TIMEOUT_MS, 0, 86400000,
                  &background_ms))
        return NULL;
    db_t *self = (db_t *) zmalloc (sizeof (db_t));
    self->budget_ms [DB_INTERACTIVE] = (int) interactive_ms;
    self->budget_ms [DB_BACKGROUND] = (int) background_ms;
    self->prepared_max = (int) prepared_max;
    self->stmts = zhashx_new ();
    zhashx_set_destructor (self->stmts, s_stmt_destroy);
    self->gen = 0;
    self->backoff_ms = DB_BACKOFF_MIN_MS;

    //  Keywords are processed in order and the last one wins, so our defaults come first
    //  and a DATABASE_URL (expanded from dbname) may override any of them.
    int n = 0;
    //  PostgreSQL cuts it at 63 bytes, which only shortens a long name in its views.
    snprintf (self->application_name, sizeof self->application_name, "ticketd-worker%s%s",
              name ? " " : "", name ? name : "");
    s_kw (self, &n, "application_name", self->application_name);
    s_kw (self, &n, "client_encoding", "UTF8");  //  jansson wants UTF-8
    s_kw (self, &n, "keepalives", "1");         //  notice a vanished server mid-query
    s_kw (self, &n, "keepalives_idle", "10");
    s_kw (self, &n, "keepalives_interval", "5");
    s_kw (self, &n, "keepalives_count", "3");
    s_kw (self, &n, "tcp_user_timeout", DB_DEAD_PEER_MS);
    const char *url = getenv ("DATABASE_URL");
    if (url && *url) {
        s_kw (self, &n, "dbname", url);
        self->expand = 1;
    }
    else {
        s_kw (self, &n, "host", getenv ("DB_HOST"));
        s_kw (self, &n, "port", getenv ("DB_PORT"));
        s_kw (self, &n, "dbname", getenv ("DB_NAME"));
        s_kw (self, &n, "user", getenv ("DB_USER"));
        s_kw (self, &n, "password", getenv ("DB_PASSWORD"));
    }
    self->keywords [n] = NULL;
    self->values [n] = NULL;
    //  The transaction statements every family shares. A BEGIN retried on a fresh
    //  connection is still just a BEGIN; COMMIT and ROLLBACK only mean anything on theirs.
    db_register (self, "db_begin", "BEGIN", true);
    db_register (self, "db_commit", "COMMIT", false);
    db_register (self, "db_rollback", "ROLLBACK", false);
    return self;
}

void
db_destroy (db_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    db_t *self = *self_p;
    if (self->conn)
        PQfinish (self->conn);
    zhashx_destroy (&self->stmts);
    free (self);
    *self_p = NULL;
}

int
db_register (db_t *self, const char *name, const char *sql, bool idempotent)
{
    if (!name || !sql || strlen (name) > DB_NAME_MAX)
        return -1;
    if (zhashx_lookup (self->stmts, name))
        return 0;
    s_stmt_t *stmt = (s_stmt_t *) zmalloc (sizeof (s_stmt_t));
    stmt->sql = strdup (sql);
    stmt->idempotent = idempotent;
    zhashx_insert (self->stmts, name, stmt);
    return 0;
}

bool
db_registered (db_t *self, const char *name)
{
    return zhashx_lookup (self->stmts, name) != NULL;
}

void
db_announcements (db_t *self, db_announce_fn *fn, void *arg)
{
    //  A broken connection is left for the next statement to find and replace.
    if (!self->conn || !PQconsumeInput (self->conn))
        return;
    PGnotify *note;
    while ((note = PQnotifies (self->conn))) {
        if (!strcmp (note->relname, DB_USERS_CHANNEL))
            fn (note->extra, arg);
        PQfreemem (note);
    }
}

bool
db_connected (db_t *self)
{
    return self->conn && PQstatus (self->conn) == CONNECTION_OK;
}

const char *
db_sqlstate (const PGresult *res)
{
    const char *s = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

const char *
db_constraint (const PGresult *res)
{
    const char *s = res ? PQresultErrorField (res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    return s ? s : "";
}

//  Waits until fd is ready for events or deadline (mono ms, -1 = none) passes. Returns 1
//  when ready, 0 at the deadline, -1 on a poll error.
static int
s_wait_fd (db_t *self, int fd, short events, int64_t deadline)
{
    if (fd < 0)
        return -1;
    while (true) {
        int64_t timeout = -1;
        if (deadline >= 0) {
            timeout = deadline - zclock_mono ();
            if (timeout <= 0)
                return 0;
        }
        if (self->wait) {
            //  The hook returns at the next heartbeat at the latest; a signal (SIGTERM)
            //  does not abandon the statement in hand either (0: wait on).
            int rc = self->wait (self->wait_arg, fd, events, (int) timeout);
            if (rc != 0)
                return rc;
            continue;
        }
        struct pollfd pfd = { .fd = fd, .events = events };
        int rc = poll (&pfd, 1, (int) timeout);
        if (rc > 0)
            return 1;
        //  EINTR: a signal (SIGTERM) does not abandon the query in hand; the worker
        //  finishes the request and then stops.
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

void
db_set_wait (db_t *self, db_wait_fn *fn, void *arg)
{
    self->wait = fn;
    self->wait_arg = arg;
}

void
db_pause (db_t *self, int ms)
{
    int64_t deadline = zclock_mono () + ms;
    if (!self->wait) {
        zclock_sleep (ms);
        return;
    }
    for (int64_t left = ms; left > 0; left = deadline - zclock_mono ())
        if (self->wait (self->wait_arg, -1, 0, (int) left) < 0) {
            zclock_sleep ((int) left);
            break;
        }
}

static void
s_disconnect (db_t *self)
{
    if (self->conn) {
        PQfinish (self->conn);
        self->conn = NULL;
    }
}

static void
s_log_conn_error (const char *event, PGconn *conn)
{
    char msg [512];
    char *text = strdup (conn ? PQerrorMessage (conn) : "out of memory");
    size_t len = strlen (text);
    while (len && (text [len - 1] == '\n' || text [len - 1] == ' '))
        text [--len] = 0;
    log_warn ("event=%s msg=%s", event, log_quote (msg, sizeof msg, text));
    free (text);
}

//  Remembers a statement that ran out of its budget, for db_timed_out.
static void
s_note (db_t *self, const PGresult *res)
{
    if (PQresultStatus (res) == PGRES_FATAL_ERROR
    &&  !strcmp (db_sqlstate (res), DB_SQLSTATE_TIMEOUT))
        self->timed_out = true;
}

//  Collects every result of the command in flight; keeps the first error, else the last
//  result. Sets *lost and returns NULL when the connection broke.
static PGresult *
s_collect (db_t *self, bool *lost)
{
    PGconn *conn = self->conn;
    PGresult *keep = NULL;
    while (true) {
        while (PQisBusy (conn)) {
            if (s_wait_fd (self, PQsocket (conn), POLLIN, -1) < 0)
                break;
            if (!PQconsumeInput (conn))
                break;      //  PQgetResult below reports the failure
        }
        PGresult *res = PQgetResult (conn);
        if (!res)
            break;
        s_note (self, res);
        if (!keep || PQresultStatus (keep) != PGRES_FATAL_ERROR) {
            PQclear (keep);
            keep = res;
        }
        else
            PQclear (res);
        if (PQstatus (conn) == CONNECTION_BAD)
            break;
    }
    if (PQstatus (conn) == CONNECTION_BAD) {
        s_log_conn_error ("db_connection_lost", conn);
        PQclear (keep);
        s_disconnect (self);
        *lost = true;
        return NULL;
    }
    return keep;
}

//  libpq prints server notices (e.g. "terminating connection due to administrator
//  command") on stderr by default; they belong in our log lines.
static void
s_notice (void *arg, const char *message)
{
    char q [512];
    log_info ("event=db_notice msg=%s", log_quote (q, sizeof q, message));
}

static int
s_connect (db_t *self)
{
    int64_t now = zclock_mono ();
    self->last_attempt = now;
    PGconn *conn = PQconnectStartParams (self->keywords, self->values, self->expand);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    if (!conn || PQstatus (conn) == CONNECTION_BAD)
        st = PGRES_POLLING_FAILED;
    else
        PQsetNoticeProcessor (conn, s_notice, NULL);
    int64_t deadline = now + DB_CONNECT_MS;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        int rc = s_wait_fd (self, PQsocket (conn),
                            st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (rc <= 0) {
            log_warn ("event=db_connect_failed msg=\"timed out after %d ms\"", DB_CONNECT_MS);
            st = PGRES_POLLING_FAILED;
            PQfinish (conn);
            conn = NULL;
            break;
        }
        st = PQconnectPoll (conn);
    }
    if (st == PGRES_POLLING_FAILED) {
        if (conn) {
            s_log_conn_error ("db_connect_failed", conn);
            PQfinish (conn);
        }
        self->next_attempt = zclock_mono () + self->backoff_ms;
        self->backoff_ms = self->backoff_ms * 2 > DB_BACKOFF_MAX_MS
                         ? DB_BACKOFF_MAX_MS : self->backoff_ms * 2;
        return -1;
    }
    self->conn = conn;
    self->gen++;
    //  Timestamps come back as "YYYY-MM-DD HH:MM:SS.ffffff+00", which reply.c turns
    //  into RFC 3339: the formatting costs this worker's CPU, not the shared server's.
    bool lost = false;
    PGresult *res = NULL;
    char setup [256];
    snprintf (setup, sizeof setup, "SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, YMD';"
              " SET idle_in_transaction_session_timeout TO " DB_IDLE_IN_TX_MS ";"
              " LISTEN " DB_USERS_CHANNEL "; SET statement_timeout TO %d",
              self->budget_ms [self->budget]);
    if (PQsendQuery (conn, setup))
        res = s_collect (self, &lost);
    if (!res || PQresultStatus (res) != PGRES_COMMAND_OK) {
        if (!lost)
            s_log_conn_error ("db_session_setup_failed", self->conn);
        PQclear (res);
        s_disconnect (self);
        self->next_attempt = zclock_mono () + self->backoff_ms;
        return -1;
    }
    PQclear (res);
    self->budget_set = self->budget;
    self->budget_gen = self->gen;
    self->backoff_ms = DB_BACKOFF_MIN_MS;
    log_info ("event=db_connected gen=%llu", (unsigned long long) self->gen);
    return 0;
}

//  Whether one more statement may be prepared on this connection. A prepared statement
//  holds its plan in the server's backend for the connection's life, and the set of list
//  statements grows with the filter combinations a client asks for (tickets.c): past
//  DB_PREPARED_MAX, statements new to the connection run unprepared (parsed and planned
//  each time), so no client can make a backend hold thousands of plans.
static bool
s_may_prepare (db_t *self, const char *name)
{
    if (self->prepared_gen != self->gen) {
        self->prepared_gen = self->gen;
        self->prepared_n = 0;
    }
    if (self->prepared_n < self->prepared_max) {
        self->prepared_n++;
        return true;
    }
    if (self->prepared_n++ == self->prepared_max)       //  said once per connection
        log_warn ("event=db_prepared_full max=%d stmt=%s msg=\"statements new to this "
                  "connection run unprepared\"", self->prepared_max, name);
    return false;
}

static PGresult *
s_exec_once (db_t *self, const char *name, s_stmt_t *stmt, int nparams,
             const char *const *params, const int *lengths, const int *formats, bool *lost)
{
    if (stmt->prepared_gen != self->gen && !s_may_prepare (self, name)) {
        if (!PQsendQueryParams (self->conn, stmt->sql, nparams, NULL, params, lengths, formats, 0)) {
            s_log_conn_error ("db_send_failed", self->conn);
            s_disconnect (self);
            *lost = true;
            return NULL;
        }
        return s_collect (self, lost);
    }
    if (stmt->prepared_gen != self->gen) {
        if (!PQsendPrepare (self->conn, name, stmt->sql, 0, NULL)) {
            *lost = PQstatus (self->conn) == CONNECTION_BAD;
            s_log_conn_error ("db_prepare_failed", self->conn);
            if (*lost)
                s_disconnect (self);
            return NULL;
        }
        PGresult *res = s_collect (self, lost);
        if (!res)
            return NULL;
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            char msg [512];
            log_error ("event=db_prepare_failed stmt=%s sqlstate=%s msg=%s", name,
                       db_sqlstate (res),
                       log_quote (msg, sizeof msg, PQresultErrorMessage (res)));
            return res;         //  our bug; the caller answers 500
        }
        PQclear (res);
        stmt->prepared_gen = self->gen;
    }
    if (!PQsendQueryPrepared (self->conn, name, nparams, params, lengths, formats, 0)) {
        s_log_conn_error ("db_send_failed", self->conn);
        s_disconnect (self);
        *lost = true;
        return NULL;
    }
    return s_collect (self, lost);
}

//  An idle connection learns of a server restart only by reading: reads what is there
//  (the socket is non-blocking) and drops the connection if the server closed it.
static void
s_probe (db_t *self)
{
    if (!PQconsumeInput (self->conn) || PQstatus (self->conn) != CONNECTION_OK) {
        s_log_conn_error ("db_connection_lost", self->conn);
        s_disconnect (self);
    }
    else {
        PGresult *res;
        while (!PQisBusy (self->conn) && (res = PQgetResult (self->conn)))
            PQclear (res);
    }
}

//  A connection for the attempt-th try of stmt: 0 when there is one (made now if need be),
//  -1 when PostgreSQL cannot be reached.
static int
s_ensure (db_t *self, const char *stmt, int attempt)
{
    if (self->conn)
        return 0;
    //  While the server is down, a flood of requests must not each wait for a connect: one
    //  attempt per DB_BACKOFF_MIN_MS at most. Beyond that a request does not wait out the
    //  background backoff (up to DB_BACKOFF_MAX_MS): the server may be back, and answering
    //  503 then would be an outage of our own.
    int64_t now = zclock_mono ();
    if (attempt == 0 && now < self->next_attempt
    &&  now - self->last_attempt < DB_BACKOFF_MIN_MS) {
        log_warn ("event=db_unavailable stmt=%s msg=\"connect failed %lld ms ago\"",
                  stmt, (long long) (now - self->last_attempt));
        return -1;
    }
    return s_connect (self);
}

//  A registered statement; an unknown name is our bug, never input.
static s_stmt_t *
s_stmt (db_t *self, const char *name)
{
    s_stmt_t *stmt = (s_stmt_t *) zhashx_lookup (self->stmts, name);
    if (!stmt)
        PANIC ("event=db_unknown_statement stmt=%s", name);
    return stmt;
}

PGresult *
db_exec (db_t *self, const char *name, int nparams, const char *const *params)
{
    return db_exec_binary (self, name, nparams, params, NULL, NULL);
}

PGresult *
db_exec_binary (db_t *self, const char *name, int nparams, const char *const *params,
                const int *lengths, const int *formats)
{
    s_stmt_t *stmt = s_stmt (self, name);
    if (self->conn && PQstatus (self->conn) != CONNECTION_OK)
        s_disconnect (self);
    //  A statement that cannot be retried is not sent on a connection the server closed
    //  since the last one (a restart between two requests): found out now, nothing is
    //  lost, and it goes out on a fresh connection. One non-blocking read.
    if (self->conn && !stmt->idempotent)
        s_probe (self);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (s_ensure (self, name, attempt))
            return NULL;
        bool lost = false;
        PGresult *res = s_exec_once (self, name, stmt, nparams, params, lengths, formats, &lost);
        if (!lost)
            return res;
        if (!stmt->idempotent) {
            log_warn ("event=db_statement_lost stmt=%s msg=\"not idempotent, not retried\"", name);
            return NULL;
        }
        log_warn ("event=db_statement_retry stmt=%s", name);
    }
    return NULL;
}

PGresult *
db_exec_in (db_t *self, uint64_t gen, const char *name, int nparams, const char *const *params,
            const int *lengths, const int *formats)
{
    if (gen == 0)
        return db_exec_binary (self, name, nparams, params, lengths, formats);
    s_stmt_t *stmt = s_stmt (self, name);
    if (!self->conn || self->gen != gen || PQstatus (self->conn) != CONNECTION_OK)
        return NULL;
    bool lost = false;
    return s_exec_once (self, name, stmt, nparams, params, lengths, formats, &lost);
}

//  ---------------------------------------------------------------------------------
//  Pipelines: many reads, one round trip

#define DB_PIPELINE_MAX     128     //  statements in one pipeline; more go in several

//  What a pipeline sent ahead of each statement's result, in the order results come back.
typedef enum { S_NOT_SENT, S_SENT, S_PREPARED_AND_SENT } s_sent_t;

//  The next result of the pipeline, once it is there: waits on the socket, sending what is
//  still to send (the connection is non-blocking in a pipeline, so that neither side ever
//  waits on a full buffer of the other). NULL for the end of a statement's results, or when
//  the connection broke (*lost set).
static PGresult *
s_pipeline_get (db_t *self, bool *lost)
{
    PGconn *conn = self->conn;
    bool broke = false;
    int flush = 0;
    while (!broke && (flush = PQflush (conn)) >= 0 && PQisBusy (conn))
        broke = s_wait_fd (self, PQsocket (conn), POLLIN | (flush ? POLLOUT : 0), -1) < 0
             || !PQconsumeInput (conn);
    if (broke || flush < 0 || PQstatus (conn) == CONNECTION_BAD) {
        *lost = true;
        return NULL;
    }
    return PQgetResult (conn);
}

//  One statement's result and the NULL that ends it; the first error when several came.
//  NULL when the connection broke.
static PGresult *
s_pipeline_result (db_t *self, bool *lost)
{
    PGresult *keep = s_pipeline_get (self, lost), *more;
    if (!keep)
        *lost = true;               //  every statement has a result; none is confusion
    else
        s_note (self, keep);
    while (!*lost && (more = s_pipeline_get (self, lost))) {
        s_note (self, more);
        if (PQresultStatus (keep) != PGRES_FATAL_ERROR) {
            PQclear (keep);
            keep = more;
        }
        else
            PQclear (more);
    }
    if (*lost)
        PQclear (keep);
    return *lost ? NULL : keep;
}

//  Queues every statement of q that has no result yet, each behind its PREPARE when it is
//  not prepared on this connection, then the sync. -1 when libpq refused (the connection).
static int
s_pipeline_send (db_t *self, db_query_t *const *q, size_t n, s_sent_t *sent)
{
    PGconn *conn = self->conn;
    if (!PQenterPipelineMode (conn) || PQsetnonblocking (conn, 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        sent [i] = S_NOT_SENT;
        if (q [i]->res)
            continue;
        s_stmt_t *stmt = s_stmt (self, q [i]->name);
        if (!stmt->idempotent)
            PANIC ("event=db_pipeline_not_idempotent stmt=%s", q [i]->name);
        bool prepared = stmt->prepared_gen == self->gen;
        if (!prepared && s_may_prepare (self, q [i]->name)) {
            if (!PQsendPrepare (conn, q [i]->name, stmt->sql, 0, NULL))
                return -1;
            stmt->prepared_gen = self->gen;     //  a failed PREPARE resets it
            sent [i] = S_PREPARED_AND_SENT;
            prepared = true;
        }
        if (prepared ? !PQsendQueryPrepared (conn, q [i]->name, q [i]->nparams, q [i]->params,
                                             NULL, NULL, 0)
                     : !PQsendQueryParams (conn, stmt->sql, q [i]->nparams, NULL, q [i]->params,
                                           NULL, NULL, 0))
            return -1;
        if (sent [i] == S_NOT_SENT)
            sent [i] = S_SENT;
    }
    return PQpipelineSync (conn) ? 0 : -1;
}

//  Reads the PREPARE's result of a statement prepared within the pipeline. One that failed
//  is our bug (logged; the statement behind it comes back aborted and runs on its own),
//  unless the server is going away (57P: the connection's loss is logged next); one that
//  an error ahead of it aborted is simply not prepared.
static void
s_pipeline_prepared (db_t *self, const char *name, bool *lost)
{
    PGresult *res = s_pipeline_result (self, lost);
    if (res && PQresultStatus (res) == PGRES_FATAL_ERROR && strncmp (db_sqlstate (res), "57P", 3)) {
        char msg [512];
        log_error ("event=db_prepare_failed stmt=%s sqlstate=%s msg=%s", name, db_sqlstate (res),
                   log_quote (msg, sizeof msg, PQresultErrorMessage (res)));
    }
    if (!res || PQresultStatus (res) != PGRES_COMMAND_OK)
        s_stmt (self, name)->prepared_gen = 0;
    PQclear (res);
}

//  Reads the results of what s_pipeline_send queued, into each statement's res, then the
//  sync, and leaves pipeline mode. -1 when the connection broke.
static int
s_pipeline_read (db_t *self, db_query_t *const *q, size_t n, const s_sent_t *sent)
{
    bool lost = false;
    for (size_t i = 0; i < n && !lost; i++) {
        if (sent [i] == S_PREPARED_AND_SENT)
            s_pipeline_prepared (self, q [i]->name, &lost);
        if (sent [i] != S_NOT_SENT && !lost)
            q [i]->res = s_pipeline_result (self, &lost);
    }
    PGresult *sync = lost ? NULL : s_pipeline_get (self, &lost);
    bool synced = sync && PQresultStatus (sync) == PGRES_PIPELINE_SYNC;
    PQclear (sync);
    if (!synced || !PQexitPipelineMode (self->conn) || PQsetnonblocking (self->conn, 0))
        return -1;
    return 0;
}

//  One try of the pipeline on the current connection. On a broken connection only rows and
//  OKs are kept (the rest, an error the dying server sent included, is sent again), the
//  connection is dropped, and -1 returned.
static int
s_pipeline_once (db_t *self, db_query_t *const *q, size_t n)
{
    s_sent_t sent [DB_PIPELINE_MAX];
    if (s_pipeline_send (self, q, n, sent) == 0 && s_pipeline_read (self, q, n, sent) == 0)
        return 0;
    s_log_conn_error ("db_connection_lost", self->conn);
    s_disconnect (self);
    for (size_t i = 0; i < n; i++) {
        ExecStatusType st = q [i]->res ? PQresultStatus (q [i]->res) : PGRES_FATAL_ERROR;
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            PQclear (q [i]->res);
            q [i]->res = NULL;
        }
    }
    return -1;
}

static void
s_pipeline_slice (db_t *self, db_query_t *const *q, size_t n)
{
    if (self->conn && PQstatus (self->conn) != CONNECTION_OK)
        s_disconnect (self);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (s_ensure (self, q [0]->name, attempt) || s_pipeline_once (self, q, n) == 0)
            break;
        log_warn ("event=db_pipeline_%s statements=%zu", attempt ? "lost" : "retry", n);
    }
    //  Aborted by an error ahead of them in the pipeline's one transaction: not their own.
    for (size_t i = 0; i < n; i++)
        if (q [i]->res && PQresultStatus (q [i]->res) == PGRES_PIPELINE_ABORTED) {
            PQclear (q [i]->res);
            q [i]->res = db_exec (self, q [i]->name, q [i]->nparams, q [i]->params);
        }
}

void
db_pipeline (db_t *self, db_query_t *const *queries, size_t n)
{
    for (size_t i = 0; i < n; i++)
        queries [i]->res = NULL;
    for (size_t at = 0; at < n; at += DB_PIPELINE_MAX)
        s_pipeline_slice (self, queries + at, n - at < DB_PIPELINE_MAX ? n - at : DB_PIPELINE_MAX);
}

uint64_t
db_generation (db_t *self)
{
    return self->conn ? self->gen : 0;
}

uint64_t
db_begin (db_t *self)
{
    PGresult *res = db_exec (self, "db_begin", 0, NULL);
    bool ok = res && PQresultStatus (res) == PGRES_COMMAND_OK;
    if (res && !ok)
        log_error ("event=db_begin_failed sqlstate=%s", db_sqlstate (res));
    PQclear (res);
    return ok ? db_generation (self) : 0;
}

int
db_commit (db_t *self, uint64_t gen)
{
    PGresult *res = gen ? db_exec_in (self, gen, "db_commit", 0, NULL, NULL, NULL) : NULL;
    //  A COMMIT of a failed transaction answers "ROLLBACK": only "COMMIT" is a commit.
    int rc = !res ? -2
           : PQresultStatus (res) == PGRES_COMMAND_OK && !strcmp (PQcmdStatus (res), "COMMIT") ? 0
           : -1;
    if (rc)
        log_error ("event=db_commit_failed gen=%llu sqlstate=%s", (unsigned long long) gen,
                   res ? db_sqlstate (res) : "connection_lost");
    PQclear (res);
    return rc;
}

void
db_rollback (db_t *self, uint64_t gen)
{
    if (gen)
        PQclear (db_exec_in (self, gen, "db_rollback", 0, NULL, NULL, NULL));
}

void
db_budget (db_t *self, db_budget_t budget)
{
    self->budget = budget;
    if (!self->conn || PQstatus (self->conn) != CONNECTION_OK
    ||  (self->budget_gen == self->gen && self->budget_set == budget))
        return;
    char sql [64];
    snprintf (sql, sizeof sql, "SET statement_timeout TO %d", self->budget_ms [budget]);
    bool lost = false;
    PGresult *res = PQsendQuery (self->conn, sql) ? s_collect (self, &lost) : NULL;
    if (res && PQresultStatus (res) == PGRES_COMMAND_OK) {
        self->budget_set = budget;
        self->budget_gen = self->gen;
    }
    else
    if (!lost) {
        //  Never run a statement under the other budget: without the connection, the
        //  next one is made with the budget asked for.
        s_log_conn_error ("db_budget_failed", self->conn);
        s_disconnect (self);
    }
    PQclear (res);
}

bool
db_timed_out (db_t *self)
{
    bool was = self->timed_out;
    self->timed_out = false;
    return was;
}

void
db_maintain (db_t *self)
{
    if (self->conn)
        s_probe (self);
    if (!self->conn && zclock_mono () >= self->next_attempt)
        s_connect (self);
}
