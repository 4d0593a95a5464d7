/*  tickets: ticket services over the tickets table. Every value travels as a statement
    parameter; the only SQL assembled at run time is tickets.list's, from fixed fragments.  */
#include "tickets.h"
#include "check.h"
#include "replay.h"
#include "../common/log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

//  Statement names: fixed ones here, list ones "tl_c_<filters>_<deleted>" (count),
//  "tl_e_<filters>_<deleted>" (estimate) and "tl_p_<filters>_<deleted>_<sort>", registered
//  on first use: at most 256 * 3 * 15 per
//  connection, in practice the few combinations the UI offers; a connection prepares at
//  most DB_PREPARED_MAX of them (db.h), and runs the rest unprepared.
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
//  Row -> JSON text, written from the result without a jansson tree (common/jsonw.h)

//  The longest answer: a list page of VOCAB_LIMIT_MAX tickets at the schema's limits with
//  every character escaped to six bytes is about 6.4 MB; an answer that would pass this is
//  refused (500) rather than sent cut short. Under MDP_MSG_MAX_BYTES.
#define TICKETS_REPLY_MAX   (8 * 1024 * 1024)

static void
s_write_column (jsonw_t *w, const char *key, PGresult *res, int row, int col)
{
    jsonw_key (w, key);
    jsonw_string (w, PQgetvalue (res, row, col), (size_t) PQgetlength (res, row, col));
}

//  A timestamp column as RFC 3339 with milliseconds, or null; -1 when it is neither.
static int
s_write_time (jsonw_t *w, const char *key, PGresult *res, int row, int col)
{
    jsonw_key (w, key);
    if (PQgetisnull (res, row, col)) {
        jsonw_null (w);
        return 0;
    }
    char out [REPLY_TIME_LEN];
    if (reply_time (PQgetvalue (res, row, col), out))
        return -1;
    jsonw_string (w, out, REPLY_TIME_LEN - 1);
    return 0;
}

int
tickets_row_write (jsonw_t *w, PGresult *res, int row)
{
    static const char *const text [] = { "id", "subject", "description", "status", "priority",
                                         "requesterEmail" };
    if (PQnfields (res) != 11) {
        log_error ("event=bad_ticket_row id=%s msg=\"unexpected column count\"",
                   PQgetvalue (res, row, 0));
        return -1;
    }
    jsonw_object_begin (w);
    for (int col = 0; col < 6; col++)
        s_write_column (w, text [col], res, row, col);
    if (PQgetisnull (res, row, 6)) {
        jsonw_key (w, "assigneeId");
        jsonw_null (w);
    }
    else
        s_write_column (w, "assigneeId", res, row, 6);
    int bad = s_write_time (w, "createdAt", res, row, 7);
    bad |= s_write_time (w, "updatedAt", res, row, 8);
    bad |= s_write_time (w, "deletedAt", res, row, 9);
    if (bad) {
        log_error ("event=bad_ticket_row id=%s msg=\"unexpected timestamp\"",
                   PQgetvalue (res, row, 0));
        return -1;
    }
    jsonw_key (w, "version");
    jsonw_integer (w, strtoll (PQgetvalue (res, row, 10), NULL, 10));
    jsonw_object_end (w);
    return 0;
}

//  Answers with what w wrote (status), or 500 when a write failed (logged); resets w.
static void
s_reply_written (svc_call_t *call, reply_t *reply, int status, jsonw_t *w)
{
    size_t len;
    char *text = jsonw_take (w, &len);
    if (text)
        reply_text (reply, status, &text, len);
    else {
        log_error ("event=reply_encode_failed rid=%s service=%s why=%s", call->rid,
                   call->service, jsonw_error_name (w->error));
        reply_internal (reply);
    }
    jsonw_reset (w);
}

//  ---------------------------------------------------------------------------------
//  Shared answers

//  Answers with the first row of res as a ticket (status), or 404 when there is none.
static void
s_reply_ticket (svc_call_t *call, reply_t *reply, PGresult *res, int status)
{
    if (PQntuples (res) == 0) {
        reply_error (reply, 404, "not_found", "No such ticket.", NULL);
        return;
    }
    jsonw_t w;
    jsonw_init (&w, TICKETS_REPLY_MAX);
    if (tickets_row_write (&w, res, 0) == 0)
        s_reply_written (call, reply, status, &w);
    else {
        jsonw_reset (&w);
        reply_internal (reply);
    }
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

//  Registers the statement of kind for a filter/deleted/sort combination on first use,
//  and writes its name into name (32 bytes).
static void
s_list_stmt (svc_call_t *call, const tickets_query_t *q, tickets_list_kind_t kind, char *name)
{
    if (kind == TICKETS_LIST_PAGE)
        snprintf (name, 32, "tl_p_%u_%d_%d", q->filters, (int) q->deleted, q->sort);
    else
        snprintf (name, 32, "tl_%c_%u_%d", kind == TICKETS_LIST_COUNT ? 'c' : 'e',
                  q->filters, (int) q->deleted);
    if (!db_registered (call->db, name)) {
        char sql [1024];
        if (tickets_list_sql (q->filters, q->deleted, q->sort, kind, sql, sizeof sql))
            PANIC ("event=list_sql_overflow stmt=%s", name);
        db_register (call->db, name, sql, true);
    }
}

//  tickets.list: the capped count, the estimate, then the page (values: page, limit).
//  The estimate and the page are read only when the count says they are needed.
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
    //  Every filter's value, then the page's limit and offset, in one statement's array.
    _Static_assert (TICKETS_FILTER_PARAMS + 2 <= DB_QUERY_PARAMS_MAX, "a list page's parameters");
    db_query_t *count = &plan->queries [0], *estimate = &plan->queries [1];
    db_query_t *page = &plan->queries [2];
    plan->queries_n = 3;
    s_list_stmt (call, &q, TICKETS_LIST_COUNT, plan->text);
    s_list_stmt (call, &q, TICKETS_LIST_ESTIMATE, plan->text + 32);
    s_list_stmt (call, &q, TICKETS_LIST_PAGE, plan->text + 64);
    count->name = plan->text;
    int n = tickets_filter_params (&q, count->params, &plan->owned);
    if (n < 0) {
        reply_internal (reply);
        return -1;
    }
    count->nparams = n;
    *estimate = *count;
    estimate->name = plan->text + 32;
    char *limit = plan->text + 96, *offset = plan->text + 128;
    snprintf (limit, 32, "%ld", q.limit);
    snprintf (offset, 32, "%ld", (q.page - 1) * q.limit);
    *page = *count;
    page->name = plan->text + 64;
    page->params [page->nparams++] = limit;
    page->params [page->nparams++] = offset;
    plan->values [0] = q.page;
    plan->values [1] = q.limit;
    return 0;
}

//  The capped count of a list plan once it came, or -1 when it did not.
static long long
s_list_count (svc_plan_t *plan)
{
    PGresult *res = plan->queries [0].res;
    return res && PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1
         ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : -1;
}

//  The page is read unless it lies past an exact total (nothing there to fetch); past an
//  estimate it may still hold rows.
static bool
s_list_wants_page (svc_plan_t *plan)
{
    long long count = s_list_count (plan);
    return count > TICKETS_COUNT_EXACT_MAX || count > (plan->values [0] - 1) * plan->values [1];
}

//  The planner's row estimate in an EXPLAIN (FORMAT JSON) result, or NaN when it has none.
static double
s_plan_rows (PGresult *res)
{
    double rows = NAN;
    json_t *explain = PQntuples (res) == 1 ? json_loads (PQgetvalue (res, 0, 0), 0, NULL) : NULL;
    json_t *value = json_object_get (json_object_get (json_array_get (explain, 0), "Plan"), "Plan Rows");
    if (json_is_number (value))
        rows = json_number_value (value);
    json_decref (explain);
    return rows;
}

//  Reads the estimate and the page as the count asks. Only what s_list_wants_page and the
//  count name is read, even when a pipeline fetched all three, so both ways answer alike.
static void
s_list_finish (svc_call_t *call, svc_plan_t *plan, reply_t *reply)
{
    long page_no = plan->values [0], limit = plan->values [1];
    if (!s_planned (call, &plan->queries [0], reply, PGRES_TUPLES_OK))
        return;
    long long count = s_list_count (plan);
    if (count < 0) {
        log_error ("event=bad_count_row rid=%s", call->rid);
        reply_internal (reply);
        return;
    }
    double estimate = NAN;
    PGresult *page = NULL, *explain = NULL;
    if (count > TICKETS_COUNT_EXACT_MAX) {
        if (!(explain = s_planned (call, &plan->queries [1], reply, PGRES_TUPLES_OK)))
            return;
        estimate = s_plan_rows (explain);
        if (isnan (estimate))
            log_warn ("event=list_estimate_missing rid=%s stmt=%s", call->rid, plan->queries [1].name);
    }
    if (s_list_wants_page (plan)
    && !(page = s_planned (call, &plan->queries [2], reply, PGRES_TUPLES_OK)))
        return;
    int rows = page ? PQntuples (page) : 0;
    bool estimated;
    long long total = tickets_list_total (count, estimate, (page_no - 1) * limit, rows, limit, &estimated);
    jsonw_t w;
    jsonw_init (&w, TICKETS_REPLY_MAX);
    jsonw_object_begin (&w);
    jsonw_key (&w, "data");
    jsonw_array_begin (&w);
    int bad = 0;
    for (int i = 0; i < rows && !bad; i++)
        bad = tickets_row_write (&w, page, i);
    jsonw_array_end (&w);
    static const char *const keys [] = { "page", "limit", "total", "totalPages" };
    long long values [] = { page_no, limit, total, (total + limit - 1) / limit };
    for (int i = 0; i < 4; i++) {
        jsonw_key (&w, keys [i]);
        jsonw_integer (&w, values [i]);
    }
    jsonw_key (&w, "totalIsEstimate");
    jsonw_bool (&w, estimated);
    jsonw_object_end (&w);
    if (bad) {
        jsonw_reset (&w);
        reply_internal (reply);
    }
    else
        s_reply_written (call, reply, 200, &w);
}

static void
s_list (svc_call_t *call, reply_t *reply)
{
    svc_plan_t plan = { 0 };
    if (s_list_plan (call, &plan, reply) == 0) {
        s_exec_planned (call, &plan.queries [0]);
        if (s_list_count (&plan) > TICKETS_COUNT_EXACT_MAX)
            s_exec_planned (call, &plan.queries [1]);
        if (s_list_wants_page (&plan))
            s_exec_planned (call, &plan.queries [2]);
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
        s_reply_ticket (call, reply, res, 200);
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
        s_reply_ticket (call, reply, res, 201);
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
        s_reply_ticket (call, reply, res, 200);
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
        s_reply_ticket (call, reply, res, 200);
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
    { SVC_TICKETS_LIST,    s_list,    true, false, s_list_plan, s_list_finish, false },
    { SVC_TICKETS_GET,     s_get,     true, false, s_get_plan, s_get_finish, false },
    { SVC_TICKETS_CREATE,  s_create,  true, false, NULL, NULL, false },
    { SVC_TICKETS_UPDATE,  s_update,  true, false, NULL, NULL, false },
    { SVC_TICKETS_DELETE,  s_delete,  true, false, NULL, NULL, false },
    { SVC_TICKETS_RESTORE, s_restore, true, false, NULL, NULL, false },
    { SVC_TICKETS_HISTORY, s_history, true, false, NULL, NULL, false },
};

const svc_family_t tickets_family = {
    "tickets", s_entries, sizeof s_entries / sizeof s_entries [0],
    s_stmts, sizeof s_stmts / sizeof s_stmts [0], NULL, NULL
};
