/*  tickets: ticket services over the tickets table. Every value travels as a statement
    parameter; the only SQL assembled at run time is tickets.list's, from fixed fragments.  */
#include "tickets.h"
#include "check.h"
#include "replay.h"
#include "../common/log.h"

#include <stdio.h>
#include <string.h>

#define T_COLS_OF(t) t ".id, " t ".subject, " t ".description, " t ".status, " t ".priority, " \
               t ".requester_email, " t ".assignee_id, " t ".created_at, " t ".updated_at, " \
               t ".deleted_at, " t ".version"
#define T_COLS "id, subject, description, status, priority, requester_email, assignee_id, " \
               "created_at, updated_at, deleted_at, version"

//  Statement names: fixed ones here, list ones "tl_c_<filters>_<deleted>" and
//  "tl_p_<filters>_<deleted>_<sort>", registered on first use: at most 256 * 3 * 13 per
//  connection, in practice the few combinations the UI offers. Nothing caps that set yet
//  (a client walking every combination makes each backend hold thousands of plans).
static const db_stmt_t s_stmts [] = {
    { "t_get", "SELECT " T_COLS " FROM tickets WHERE id = $1::uuid AND deleted_at IS NULL", true },
    { "t_get_any", "SELECT " T_COLS " FROM tickets WHERE id = $1::uuid", true },
    { "t_probe", "SELECT deleted_at IS NULL FROM tickets WHERE id = $1::uuid", true },
    //  The edge supplies the id: even a re-run that finds no record to answer from (a
    //  broker client reusing a rid) creates nothing twice. Every write records the
    //  ticket's history (sql/0009) in its own statement: one round trip, one transaction.
    { "t_create",
      "WITH t AS (INSERT INTO tickets (id, subject, description, status, priority, requester_email,"
      " assignee_id) VALUES ($1::uuid, $2, coalesce($3, ''), coalesce($4, 'open'),"
      " coalesce($5, 'normal'), $6, $7::uuid) ON CONFLICT (id) DO NOTHING RETURNING " T_COLS "),"
      " h AS (INSERT INTO ticket_history (ticket_id, actor, action) SELECT id, $8::uuid, 'created' FROM t)"
      " SELECT " T_COLS " FROM t", true },
    //  Non-nullable fields: NULL means "not given". assignee_id is nullable, so it has
    //  its own "given" flag ($7). ifMatch ($9) NULL means unconditional. An update that
    //  changes nothing writes nothing: the version and updatedAt stay, so a repeated PUT
    //  never makes another client's If-Match fail. Answers the row either way.
    { "t_update",
      "WITH o AS (SELECT * FROM tickets WHERE id = $1::uuid AND deleted_at IS NULL"
      " AND ($9::int IS NULL OR version = $9::int) FOR UPDATE),"
      " n AS (SELECT o.id, coalesce($2, o.subject) AS subject, coalesce($3, o.description) AS description,"
      " coalesce($4, o.status) AS status, coalesce($5, o.priority) AS priority,"
      " coalesce($6, o.requester_email) AS requester_email,"
      " CASE WHEN $7::bool THEN $8::uuid ELSE o.assignee_id END AS assignee_id FROM o),"
      " c AS (SELECT n.*, ticket_changes(to_jsonb(o), to_jsonb(n)) AS changes FROM n JOIN o USING (id)),"
      " u AS (UPDATE tickets t SET subject = c.subject, description = c.description,"
      " status = c.status, priority = c.priority, requester_email = c.requester_email,"
      " assignee_id = c.assignee_id, version = t.version + 1, updated_at = now()"
      " FROM c WHERE t.id = c.id AND c.changes <> '{}' RETURNING " T_COLS_OF ("t") "),"
      " h AS (INSERT INTO ticket_history (ticket_id, actor, action, changes)"
      " SELECT c.id, $10::uuid, 'updated', c.changes FROM c WHERE c.changes <> '{}')"
      " SELECT * FROM u UNION ALL"
      " SELECT " T_COLS_OF ("o") " FROM o JOIN c USING (id) WHERE c.changes = '{}'", false },
    { "t_delete",
      "WITH d AS (UPDATE tickets SET deleted_at = now(), updated_at = now(), version = version + 1"
      " WHERE id = $1::uuid AND deleted_at IS NULL RETURNING id)"
      " INSERT INTO ticket_history (ticket_id, actor, action) SELECT id, $2::uuid, 'deleted' FROM d",
      false },
    //  Idempotent: a second run finds the ticket live and changes nothing.
    { "t_restore",
      "WITH r AS (UPDATE tickets SET deleted_at = NULL, updated_at = now(), version = version + 1"
      " WHERE id = $1::uuid AND deleted_at IS NOT NULL RETURNING " T_COLS "),"
      " h AS (INSERT INTO ticket_history (ticket_id, actor, action) SELECT id, $2::uuid, 'restored' FROM r)"
      " SELECT * FROM r", true },
    { "t_history",
      "SELECT h.data::text, h.total FROM tickets t, LATERAL ticket_history_page(t.id, $2::int, $3::int) h"
      " WHERE t.id = $1::uuid AND ($4::bool OR t.deleted_at IS NULL)", true },
};

//  ---------------------------------------------------------------------------------
//  tickets.list: fragments

//  The column of each sort field, in vocab_ticket_sorts' order (tickets_sort_parse: even
//  ascending, odd descending).
//  Priority and status sort by meaning (urgent above high; open before closed), not by
//  spelling: by their rank in vocab.h's order. id breaks ties so pages never overlap or skip.
static const struct { const char *column; const char *const *rank; } s_sort_keys [TICKETS_SORTS / 2] = {
    { "created_at", NULL }, { "updated_at", NULL },
    { "priority", vocab_ticket_priorities }, { "status", vocab_ticket_statuses },
    { "subject", NULL }, { "deleted_at", NULL },
};
//  Written exactly as the partial indexes' predicates, so the planner can use them.
static const char *s_deleted_sql [] = { "deleted_at IS NULL", "TRUE", "deleted_at IS NOT NULL" };

int
tickets_sort_parse (const char *sort)
{
    if (!sort)
        return -1;
    int descending = sort [0] == '-';
    int field = vocab_index (vocab_ticket_sorts, sort + descending);
    return field < 0 ? -1 : field * 2 + descending;
}

//  Why one statement per filter combination rather than one catch-all statement with
//  "($2::text IS NULL OR status = $2)": after five executions PostgreSQL may switch a
//  prepared statement to a generic plan, and a generic plan cannot drop the unused OR
//  branches, so it cannot pick the status/priority partial indexes, the trigram index or
//  an index-ordered scan for the requested sort; it plans for every filter at once.
//  Each combination here has a WHERE clause with exactly its predicates, so its generic
//  plan is as good as a custom one, and it is planned once per connection. The set is
//  finite and built from the constants above only.
//  Measured on 100k tickets (PostgreSQL 15, generic plans): count with q='%ticket 4242.%'
//  took 112 ms as a catch-all (seq scan) and 12.5 ms per-combination (trigram bitmap scan).
int
tickets_where_sql (unsigned filters, tickets_deleted_t deleted, int param, char *buf, size_t len)
{
    if (deleted > TICKETS_DELETED_ONLY || filters >= TICKETS_F_ALL << 1)
        return -1;
    int n = snprintf (buf, len, "%s", s_deleted_sql [deleted]);
    //  In tickets_filter_params' order.
    static const struct { unsigned bit; const char *fmt; } conds [] = {
        { TICKETS_F_STATUS,     " AND status = $%d" },
        { TICKETS_F_PRIORITY,   " AND priority = $%d" },
        { TICKETS_F_ASSIGNEE,   " AND assignee_id = $%d::uuid" },
        //  The text search covers the requester's address too (both trigram indexes, sql/0011).
        { TICKETS_F_Q,          " AND ((subject || ' ' || description) ILIKE $%1$d OR requester_email ILIKE $%1$d)" },
        { TICKETS_F_EMAIL,      " AND lower(requester_email) = lower($%d)" },
        { TICKETS_F_CREATED_AFTER,  " AND created_at >= $%d::timestamptz" },
        { TICKETS_F_CREATED_BEFORE, " AND created_at < $%d::timestamptz" },
    };
    for (size_t i = 0; i < sizeof conds / sizeof conds [0]; i++)
        if ((filters & conds [i].bit) && n >= 0 && (size_t) n < len)
            n += snprintf (buf + n, len - (size_t) n, conds [i].fmt, param++);
    if ((filters & TICKETS_F_UNASSIGNED) && n >= 0 && (size_t) n < len)
        n += snprintf (buf + n, len - (size_t) n, " AND assignee_id IS NULL");
    return (n < 0 || (size_t) n >= len) ? -1 : param;
}

int
tickets_filter_params (const tickets_query_t *q, const char **params, char **owned)
{
    *owned = q->q ? tickets_like_pattern (q->q) : NULL;
    if (q->q && !*owned)
        return -1;
    const char *values [] = { q->status, q->priority, q->assignee, *owned, q->email,
                              q->created_after, q->created_before };
    int n = 0;
    for (size_t i = 0; i < sizeof values / sizeof values [0]; i++)
        if (values [i])
            params [n++] = values [i];
    return n;
}

int
tickets_list_sql (unsigned filters, tickets_deleted_t deleted, int sort, bool count,
                  char *buf, size_t len)
{
    if (sort < 0 || sort >= TICKETS_SORTS)
        return -1;
    char where [512];
    int param = tickets_where_sql (filters, deleted, 1, where, sizeof where);
    if (param < 0)
        return -1;
    int n = snprintf (buf, len, "SELECT %s FROM tickets WHERE %s", count ? "count(*)" : T_COLS, where);
    char rank [160];
    const char *key = s_sort_keys [sort / 2].column;
    if (s_sort_keys [sort / 2].rank
    && !(key = vocab_sql_rank (s_sort_keys [sort / 2].rank, key, rank, sizeof rank)))
        return -1;
    const char *dir = sort % 2 ? "DESC" : "ASC";
    if (!count && n >= 0 && (size_t) n < len)
        n += snprintf (buf + n, len - (size_t) n, " ORDER BY %s %s, id %s LIMIT $%d OFFSET $%d",
                       key, dir, dir, param, param + 1);
    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}

char *
tickets_like_pattern (const char *q)
{
    size_t len = strlen (q);
    char *out = (char *) malloc (2 * len + 3);
    if (!out)
        return NULL;
    size_t o = 0;
    out [o++] = '%';
    for (size_t i = 0; i < len; i++) {
        if (q [i] == '\\' || q [i] == '%' || q [i] == '_')
            out [o++] = '\\';
        out [o++] = q [i];
    }
    out [o++] = '%';
    out [o] = 0;
    return out;
}

int
tickets_query_parse (json_t *payload, tickets_query_t *q, json_t *details)
{
    memset (q, 0, sizeof *q);
    q->page = 1;
    q->limit = VOCAB_LIMIT_DEFAULT;
    int bad = check_int (payload, "page", false, 1, VOCAB_PAGE_MAX, details, &q->page, NULL);
    bad |= check_int (payload, "limit", false, 1, VOCAB_LIMIT_MAX, details, &q->limit, NULL);
    bad |= check_enum (payload, "status", false, vocab_ticket_statuses, details, &q->status);
    bad |= check_enum (payload, "priority", false, vocab_ticket_priorities, details, &q->priority);
    //  "none": the unassigned tickets.
    json_t *assignee = json_object_get (payload, "assigneeId");
    bool unassigned = json_is_string (assignee) && !strcmp (json_string_value (assignee), "none");
    if (!unassigned && assignee && !json_is_null (assignee)
    &&  (!json_is_string (assignee) || !uuid_valid (json_string_value (assignee)))) {
        reply_detail (details, "assigneeId", "must be a UUID or none");
        bad = -1;
    }
    else
    if (!unassigned)
        q->assignee = json_string_value (assignee);
    //  Like q, an empty address is no filter; any other is compared whole, so a short one
    //  is not refused, it matches nothing.
    json_t *ev = json_object_get (payload, "requesterEmail");
    if (!(json_is_string (ev) && json_string_length (ev) == 0))
        bad |= check_string (payload, "requesterEmail", false, 1, VOCAB_EMAIL_MAX, details, &q->email);
    bad |= check_time (payload, "createdAfter", false, details, &q->created_after);
    bad |= check_time (payload, "createdBefore", false, details, &q->created_before);
    json_t *qv = json_object_get (payload, "q");
    if (!(json_is_string (qv) && json_string_length (qv) == 0) && !json_is_null (qv))
        bad |= check_string (payload, "q", false, 1, VOCAB_Q_MAX, details, &q->q);
    const char *deleted = NULL;
    bad |= check_enum (payload, "deleted", false, vocab_ticket_deleted, details, &deleted);
    int d = vocab_index (vocab_ticket_deleted, deleted);
    q->deleted = (tickets_deleted_t) (d >= 0 ? d : VOCAB_TICKET_DELETED_DEFAULT);
    q->sort = VOCAB_TICKET_SORT_DEFAULT * 2 + 1;     //  descending: the newest first
    json_t *sort = json_object_get (payload, "sort");
    if (sort && !json_is_null (sort)) {
        q->sort = json_is_string (sort) ? tickets_sort_parse (json_string_value (sort)) : -1;
        if (q->sort < 0) {
            char msg [160];
            const char *list = vocab_must_be (vocab_ticket_sorts, msg, sizeof msg - 48);
            size_t n = list ? strlen (list) : 0;
            snprintf (msg + n, sizeof msg - n, ", optionally prefixed with - for descending");
            reply_detail (details, "sort", msg);
            bad = -1;
        }
    }
    q->filters = (q->status ? TICKETS_F_STATUS : 0) | (q->priority ? TICKETS_F_PRIORITY : 0)
               | (q->assignee ? TICKETS_F_ASSIGNEE : 0) | (q->q ? TICKETS_F_Q : 0)
               | (q->email ? TICKETS_F_EMAIL : 0) | (unassigned ? TICKETS_F_UNASSIGNED : 0)
               | (q->created_after ? TICKETS_F_CREATED_AFTER : 0)
               | (q->created_before ? TICKETS_F_CREATED_BEFORE : 0);
    return bad ? -1 : 0;
}

//  ---------------------------------------------------------------------------------
//  Row -> JSON

static json_t *
s_time_or_null (PGresult *res, int row, int col)
{
    if (PQgetisnull (res, row, col))
        return json_null ();
    char out [REPLY_TIME_LEN];
    if (reply_time (PQgetvalue (res, row, col), out))
        return NULL;
    return json_string (out);
}

json_t *
tickets_row_json (PGresult *res, int row)
{
    json_t *created = s_time_or_null (res, row, 7);
    json_t *updated = s_time_or_null (res, row, 8);
    json_t *deleted = s_time_or_null (res, row, 9);
    if (!created || !updated || !deleted || PQnfields (res) != 11) {
        log_error ("event=bad_ticket_row id=%s msg=\"unexpected timestamp or column count\"",
                   PQgetvalue (res, row, 0));
        json_decref (created);
        json_decref (updated);
        json_decref (deleted);
        return NULL;
    }
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I}",
                      "id", PQgetvalue (res, row, 0),
                      "subject", PQgetvalue (res, row, 1),
                      "description", PQgetvalue (res, row, 2),
                      "status", PQgetvalue (res, row, 3),
                      "priority", PQgetvalue (res, row, 4),
                      "requesterEmail", PQgetvalue (res, row, 5),
                      "assigneeId", PQgetisnull (res, row, 6)
                                  ? json_null () : json_string (PQgetvalue (res, row, 6)),
                      "createdAt", created, "updatedAt", updated, "deletedAt", deleted,
                      "version", (json_int_t) strtoll (PQgetvalue (res, row, 10), NULL, 10));
}

//  ---------------------------------------------------------------------------------
//  Shared answers

//  Answers with the first row of res as a ticket (status), or 404 when there is none.
static void
s_reply_ticket (reply_t *reply, PGresult *res, int status)
{
    if (PQntuples (res) == 0) {
        reply_error (reply, 404, "not_found", "No such ticket.", NULL);
        return;
    }
    json_t *ticket = tickets_row_json (res, 0);
    if (ticket)
        reply_json (reply, status, ticket);
    else
        reply_internal (reply);
}

//  A CHECK's detail: one of set, or a length min..max (min 0: at most max).
static const char *
s_check_message (const char *const *set, long min, long max, char *buf, size_t len)
{
    if (set)
        return vocab_must_be (set, buf, len);
    if (min)
        snprintf (buf, len, "must be %ld to %ld characters long", min, max);
    else
        snprintf (buf, len, "must be at most %ld characters long", max);
    return buf;
}

//  Maps a failed statement to 422 naming the field, or 500.
static void
s_reply_write_error (svc_call_t *call, reply_t *reply, PGresult *res, const char *stmt)
{
    //  The schema's CHECKs are vocab.h's words and limits (tests/integration/test_vocab.py),
    //  so their details are worded from it: a list, or a length min..max (min 0: at most).
    static const struct {
        const char *constraint, *field, *message;
        const char *const *set;
        long min, max;
    } map [] = {
        { "tickets_assignee_id_fkey", "assigneeId", "no user has this id", NULL, 0, 0 },
        { "tickets_subject_check", "subject", NULL, NULL, 1, VOCAB_SUBJECT_MAX },
        { "tickets_description_check", "description", NULL, NULL, 0, VOCAB_DESCRIPTION_MAX },
        { "tickets_status_check", "status", NULL, vocab_ticket_statuses, 0, 0 },
        { "tickets_priority_check", "priority", NULL, vocab_ticket_priorities, 0, 0 },
        { "tickets_requester_email_check", "requesterEmail", NULL, NULL, VOCAB_EMAIL_MIN, VOCAB_EMAIL_MAX },
    };
    const char *state = db_sqlstate (res);
    const char *constraint = db_constraint (res);
    if (!strcmp (state, "23503") || !strcmp (state, "23514")) {
        for (size_t i = 0; i < sizeof map / sizeof map [0]; i++)
            if (!strcmp (constraint, map [i].constraint)) {
                char msg [160];
                json_t *details = json_array ();
                reply_detail (details, map [i].field,
                              map [i].message ? map [i].message
                            : s_check_message (map [i].set, map [i].min, map [i].max, msg, sizeof msg));
                reply_invalid (reply, details);
                return;
            }
    }
    if (!strncmp (state, "22", 2)) {        //  data exception: a value PostgreSQL refused
        json_t *details = json_array ();
        reply_detail (details, "ticket", "a value is not acceptable to the database");
        reply_invalid (reply, details);
    }
    else {
        char msg [256];
        log_error ("event=db_error rid=%s stmt=%s sqlstate=%s constraint=%s msg=%s", call->rid,
                   stmt, state, constraint,
                   log_quote (msg, sizeof msg, PQresultErrorMessage (res)));
        reply_internal (reply);
    }
}

//  Runs a statement, in the transaction begun on gen (0: none); NULL after answering 503,
//  422 or 500 when it did not produce expected.
static PGresult *
s_run (svc_call_t *call, uint64_t gen, reply_t *reply, const char *stmt, int n,
       const char *const *params, ExecStatusType expected)
{
    PGresult *res = db_exec_in (call->db, gen, stmt, n, params, NULL, NULL);
    if (!res) {
        reply_unavailable (reply);
        return NULL;
    }
    if (PQresultStatus (res) != expected) {
        s_reply_write_error (call, reply, res, stmt);
        PQclear (res);
        return NULL;
    }
    return res;
}

//  A planned statement's result when it is expected (borrowed: the plan owns it); else NULL
//  after answering as s_run would: 503 when there is none, else 422 or 500.
static PGresult *
s_planned (svc_call_t *call, db_query_t *q, reply_t *reply, ExecStatusType expected)
{
    if (!q->res)
        reply_unavailable (reply);
    else
    if (PQresultStatus (q->res) != expected)
        s_reply_write_error (call, reply, q->res, q->name);
    return q->res && PQresultStatus (q->res) == expected ? q->res : NULL;
}

//  Runs a planned statement on its own, as a handler does outside a batch.
static void
s_exec_planned (svc_call_t *call, db_query_t *q)
{
    q->res = db_exec (call->db, q->name, q->nparams, q->params);
}

//  The "id" of a payload, or NULL after answering 422.
static const char *
s_id (svc_call_t *call, reply_t *reply)
{
    json_t *details = json_array ();
    const char *id;
    if (check_uuid (call->payload, "id", true, false, details, &id, NULL)) {
        reply_invalid (reply, details);
        return NULL;
    }
    json_decref (details);
    return id;
}

//  Opens the transaction of a recorded write on the ticket the payload names (replay.c).
//  Returns its generation with *id set, or 0 after answering (422 for the id, or 503).
static uint64_t
s_write_begin (svc_call_t *call, reply_t *reply, const char **id)
{
    *id = s_id (call, reply);
    return *id ? replay_begin (call, reply) : 0;
}

//  Ends a recorded write: commits it with its answer, or rolls it back when res is NULL
//  (the reply says why); either way a re-delivery gets the first run's answer (replay.c).
//  Takes res.
static void
s_write_end (svc_call_t *call, uint64_t gen, PGresult *res, reply_t *reply)
{
    replay_end (call, gen, res != NULL, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------
//  Services

//  Registers the count or page statement of a filter/deleted/sort combination on first use,
//  and writes its name into name (32 bytes).
static void
s_list_stmt (svc_call_t *call, const tickets_query_t *q, bool count, char *name)
{
    if (count)
        snprintf (name, 32, "tl_c_%u_%d", q->filters, (int) q->deleted);
    else
        snprintf (name, 32, "tl_p_%u_%d_%d", q->filters, (int) q->deleted, q->sort);
    if (!db_registered (call->db, name)) {
        char sql [1024];
        if (tickets_list_sql (q->filters, q->deleted, q->sort, count, sql, sizeof sql))
            PANIC ("event=list_sql_overflow stmt=%s", name);
        db_register (call->db, name, sql, true);
    }
}

//  tickets.list: the count, then the page (values: page, limit).
static int
s_list_plan (svc_call_t *call, svc_plan_t *plan, reply_t *reply)
{
    json_t *details = json_array ();
    tickets_query_t q;
    if (tickets_query_parse (call->payload, &q, details)) {
        reply_invalid (reply, details);
        return -1;
    }
    json_decref (details);
    if (q.deleted != TICKETS_DELETED_EXCLUDE && call->role != SVC_ROLE_ADMIN) {
        reply_error (reply, 403, "forbidden", "Only admins may list deleted tickets.", NULL);
        return -1;
    }
    db_query_t *count = &plan->queries [0], *page = &plan->queries [1];
    plan->queries_n = 2;
    s_list_stmt (call, &q, true, plan->text);
    s_list_stmt (call, &q, false, plan->text + 32);
    count->name = plan->text;
    int n = tickets_filter_params (&q, count->params, &plan->owned);
    if (n < 0) {
        reply_internal (reply);
        return -1;
    }
    count->nparams = n;
    char *limit = plan->text + 64, *offset = plan->text + 96;
    snprintf (limit, 32, "%ld", q.limit);
    snprintf (offset, 32, "%ld", (q.page - 1) * q.limit);
    *page = *count;
    page->name = plan->text + 32;
    page->params [page->nparams++] = limit;
    page->params [page->nparams++] = offset;
    plan->values [0] = q.page;
    plan->values [1] = q.limit;
    return 0;
}

//  The count of a list plan once it came, or -1 when it did not.
static long long
s_list_total (svc_plan_t *plan)
{
    PGresult *res = plan->queries [0].res;
    return res && PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1
         ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : -1;
}

//  Past the last page there is nothing to fetch: then the page's result is not read, even
//  when a pipeline fetched it, so both ways answer alike.
static void
s_list_finish (svc_call_t *call, svc_plan_t *plan, reply_t *reply)
{
    long page_no = plan->values [0], limit = plan->values [1];
    if (!s_planned (call, &plan->queries [0], reply, PGRES_TUPLES_OK))
        return;
    long long total = s_list_total (plan);
    if (total < 0) {
        log_error ("event=bad_count_row rid=%s", call->rid);
        reply_internal (reply);
        return;
    }
    PGresult *page = NULL;
    if (total > (page_no - 1) * limit
    && !(page = s_planned (call, &plan->queries [1], reply, PGRES_TUPLES_OK)))
        return;
    json_t *data = json_array ();
    int rows = page ? PQntuples (page) : 0;
    bool ok = true;
    for (int i = 0; i < rows && ok; i++) {
        json_t *ticket = tickets_row_json (page, i);
        ok = ticket != NULL;
        json_array_append_new (data, ticket);
    }
    if (ok)
        reply_json (reply, 200, json_pack ("{s:o, s:I, s:I, s:I, s:I}", "data", data,
                    "page", (json_int_t) page_no, "limit", (json_int_t) limit,
                    "total", (json_int_t) total,
                    "totalPages", (json_int_t) ((total + limit - 1) / limit)));
    else {
        json_decref (data);
        reply_internal (reply);
    }
}

static void
s_list (svc_call_t *call, reply_t *reply)
{
    svc_plan_t plan = { 0 };
    if (s_list_plan (call, &plan, reply) == 0) {
        s_exec_planned (call, &plan.queries [0]);
        if (s_list_total (&plan) > (plan.values [0] - 1) * plan.values [1])
            s_exec_planned (call, &plan.queries [1]);
        s_list_finish (call, &plan, reply);
    }
    svc_plan_reset (&plan);
}

//  tickets.get: one statement.
static int
s_get_plan (svc_call_t *call, svc_plan_t *plan, reply_t *reply)
{
    const char *id = s_id (call, reply);
    if (!id)
        return -1;
    plan->queries [0] = (db_query_t) { "t_get", 1, { id }, NULL };
    plan->queries_n = 1;
    return 0;
}

static void
s_get_finish (svc_call_t *call, svc_plan_t *plan, reply_t *reply)
{
    PGresult *res = s_planned (call, &plan->queries [0], reply, PGRES_TUPLES_OK);
    if (res)
        s_reply_ticket (reply, res, 200);
}

static void
s_get (svc_call_t *call, reply_t *reply)
{
    svc_plan_t plan = { 0 };
    if (s_get_plan (call, &plan, reply) == 0) {
        s_exec_planned (call, &plan.queries [0]);
        s_get_finish (call, &plan, reply);
    }
    svc_plan_reset (&plan);
}

static void
s_create (svc_call_t *call, reply_t *reply)
{
    json_t *p = call->payload;
    json_t *details = json_array ();
    const char *id, *subject, *email, *description, *status, *priority, *assignee;
    int bad = check_uuid (p, "id", true, false, details, &id, NULL);
    bad |= check_string (p, "subject", true, 1, VOCAB_SUBJECT_MAX, details, &subject);
    bad |= check_string (p, "requesterEmail", true, VOCAB_EMAIL_MIN, VOCAB_EMAIL_MAX, details, &email);
    bad |= check_string (p, "description", false, 0, VOCAB_DESCRIPTION_MAX, details, &description);
    bad |= check_enum (p, "status", false, vocab_ticket_statuses, details, &status);
    bad |= check_enum (p, "priority", false, vocab_ticket_priorities, details, &priority);
    bad |= check_uuid (p, "assigneeId", false, true, details, &assignee, NULL);
    if (bad) {
        reply_invalid (reply, details);
        return;
    }
    json_decref (details);
    uint64_t gen = replay_begin (call, reply);
    if (!gen)
        return;
    const char *params [] = { id, subject, description, status, priority, email, assignee,
                              call->user };
    PGresult *res = s_run (call, gen, reply, "t_create", 8, params, PGRES_TUPLES_OK);
    if (res && PQntuples (res) == 0) {
        //  Already created, by this request's first run (replay_end answers as it did) or
        //  by another request with the same id, which only a client of the broker can make.
        PQclear (res);
        res = s_run (call, gen, reply, "t_get_any", 1, params, PGRES_TUPLES_OK);
    }
    if (res)
        s_reply_ticket (reply, res, 201);
    s_write_end (call, gen, res, reply);
}

int
tickets_fields_check (json_t *fields, json_t *details)
{
    if (!json_is_object (fields)) {
        reply_detail (details, "fields", "must be an object");
        return -1;
    }
    static const char *writable [] = { "subject", "description", "status", "priority",
                                       "requesterEmail", "assigneeId", NULL };
    int bad = 0;
    const char *key;
    json_t *value;
    json_object_foreach (fields, key, value) {
        bool known = false;
        for (int i = 0; writable [i] && !known; i++)
            known = !strcmp (key, writable [i]);
        if (!known) {
            //  The detail names a constant, never the caller's text.
            reply_detail (details, "fields", "names a field that is not writable");
            bad = -1;
            break;
        }
    }
    const char *s;
    bad |= check_string (fields, "subject", false, 1, VOCAB_SUBJECT_MAX, details, &s);
    bad |= check_string (fields, "description", false, 0, VOCAB_DESCRIPTION_MAX, details, &s);
    bad |= check_enum (fields, "status", false, vocab_ticket_statuses, details, &s);
    bad |= check_enum (fields, "priority", false, vocab_ticket_priorities, details, &s);
    bad |= check_string (fields, "requesterEmail", false, VOCAB_EMAIL_MIN, VOCAB_EMAIL_MAX, details, &s);
    bad |= check_uuid (fields, "assigneeId", false, true, details, &s, NULL);
    return bad ? -1 : 0;
}

static void
s_update (svc_call_t *call, reply_t *reply)
{
    json_t *p = call->payload;
    json_t *details = json_array ();
    const char *id;
    int bad = check_uuid (p, "id", true, false, details, &id, NULL);
    json_t *fields = json_object_get (p, "fields");
    bad |= tickets_fields_check (fields, details);
    json_t *if_match = json_object_get (p, "ifMatch");
    if (if_match && !json_is_null (if_match)
    &&  (!json_is_integer (if_match) || json_integer_value (if_match) < 0
    ||   json_integer_value (if_match) > 2147483647)) {
        reply_detail (details, "ifMatch", "must be a version number or null");
        bad = -1;
    }
    if (bad) {
        reply_invalid (reply, details);
        return;
    }
    json_decref (details);

    char version [24];
    bool conditional = json_is_integer (if_match);
    if (conditional)
        snprintf (version, sizeof version, "%lld", (long long) json_integer_value (if_match));
    json_t *assignee = json_object_get (fields, "assigneeId");
    const char *params [] = {
        id,
        json_string_value (json_object_get (fields, "subject")),
        json_string_value (json_object_get (fields, "description")),
        json_string_value (json_object_get (fields, "status")),
        json_string_value (json_object_get (fields, "priority")),
        json_string_value (json_object_get (fields, "requesterEmail")),
        assignee ? "true" : "false",
        json_string_value (assignee),
        conditional ? version : NULL,
        call->user,
    };
    uint64_t gen = replay_begin (call, reply);
    if (!gen)
        return;
    PGresult *res = s_run (call, gen, reply, "t_update", 10, params, PGRES_TUPLES_OK);
    if (res && PQntuples (res) == 1)
        s_reply_ticket (reply, res, 200);
    else
    if (res) {
        //  Nothing updated: unknown, deleted, or a stale version.
        PQclear (res);
        res = s_run (call, gen, reply, "t_probe", 1, params, PGRES_TUPLES_OK);
        bool live = res && PQntuples (res) == 1 && !strcmp (PQgetvalue (res, 0, 0), "t");
        if (live && conditional)
            reply_error (reply, 412, "precondition_failed",
                         "The ticket has changed since that version; fetch it again.", NULL);
        else
        if (res)
            reply_error (reply, 404, "not_found", "No such ticket.", NULL);
    }
    //  An update re-delivered after its first run committed would apply again (the version
    //  rising twice) and answer so; replay_end rolls it back and answers the first run's.
    s_write_end (call, gen, res, reply);
}

static void
s_delete (svc_call_t *call, reply_t *reply)
{
    const char *id;
    uint64_t gen = s_write_begin (call, reply, &id);
    if (!gen)
        return;
    const char *params [] = { id, call->user };
    PGresult *res = s_run (call, gen, reply, "t_delete", 2, params, PGRES_COMMAND_OK);
    if (res && !strcmp (PQcmdTuples (res), "1"))
        reply_empty (reply, 204);
    else
    if (res)
        reply_error (reply, 404, "not_found", "No such ticket.", NULL);
    //  A re-delivered delete finds the ticket deleted by its own first run: replay_end
    //  answers that run's 204 rather than this 404.
    s_write_end (call, gen, res, reply);
}

static void
s_restore (svc_call_t *call, reply_t *reply)
{
    if (call->role != SVC_ROLE_ADMIN) {
        reply_error (reply, 403, "forbidden", "Only admins may restore tickets.", NULL);
        return;
    }
    const char *id;
    uint64_t gen = s_write_begin (call, reply, &id);
    if (!gen)
        return;
    const char *params [] = { id, call->user };
    PGresult *res = s_run (call, gen, reply, "t_restore", 2, params, PGRES_TUPLES_OK);
    if (res && PQntuples (res) == 0) {
        //  Not deleted (answer it unchanged) or unknown (404).
        PQclear (res);
        res = s_run (call, gen, reply, "t_get_any", 1, params, PGRES_TUPLES_OK);
    }
    if (res)
        s_reply_ticket (reply, res, 200);
    s_write_end (call, gen, res, reply);
}

//  A ticket's history, a page at a time: anyone signed in may read a live ticket's, only an
//  admin a deleted one's (as with the ticket itself).
static void
s_history (svc_call_t *call, reply_t *reply)
{
    json_t *details = json_array ();
    long page = 1, limit = VOCAB_HISTORY_LIMIT_DEFAULT;
    int bad = check_int (call->payload, "page", false, 1, VOCAB_PAGE_MAX, details, &page, NULL);
    bad |= check_int (call->payload, "limit", false, 1, VOCAB_HISTORY_LIMIT_MAX, details, &limit, NULL);
    if (bad) {
        reply_invalid (reply, details);
        return;
    }
    json_decref (details);
    const char *id = s_id (call, reply);
    if (!id)
        return;
    char lim [24], off [24];
    snprintf (lim, sizeof lim, "%ld", limit);
    snprintf (off, sizeof off, "%ld", (page - 1) * limit);
    const char *params [] = { id, lim, off, call->role == SVC_ROLE_ADMIN ? "true" : "false" };
    PGresult *res = db_exec (call->db, "t_history", 4, params);
    if (!res)
        reply_unavailable (reply);
    else
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("event=history_failed rid=%s sqlstate=%s", call->rid, db_sqlstate (res));
        reply_internal (reply);
    }
    else
    if (PQntuples (res) == 0)
        reply_error (reply, 404, "not_found", "No such ticket.", NULL);
    else {
        json_error_t err;
        json_t *data = json_loads (PQgetvalue (res, 0, 0), 0, &err);
        long long total = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
        if (data)
            reply_json (reply, 200, json_pack ("{s:o, s:I, s:I, s:I, s:I}", "data", data,
                        "page", (json_int_t) page, "limit", (json_int_t) limit,
                        "total", (json_int_t) total,
                        "totalPages", (json_int_t) ((total + limit - 1) / limit)));
        else
            reply_internal (reply);
    }
    PQclear (res);
}

static const svc_entry_t s_entries [] = {
    { SVC_TICKETS_LIST,    s_list,    true, false, s_list_plan, s_list_finish },
    { SVC_TICKETS_GET,     s_get,     true, false, s_get_plan, s_get_finish },
    { SVC_TICKETS_CREATE,  s_create,  true, false, NULL, NULL },
    { SVC_TICKETS_UPDATE,  s_update,  true, false, NULL, NULL },
    { SVC_TICKETS_DELETE,  s_delete,  true, false, NULL, NULL },
    { SVC_TICKETS_RESTORE, s_restore, true, false, NULL, NULL },
    { SVC_TICKETS_HISTORY, s_history, true, false, NULL, NULL },
};

const svc_family_t tickets_family = {
    "tickets", s_entries, sizeof s_entries / sizeof s_entries [0],
    s_stmts, sizeof s_stmts / sizeof s_stmts [0], NULL, NULL
};
