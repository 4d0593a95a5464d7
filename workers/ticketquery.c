/*  ticketquery: tickets.list's checks and SQL fragments (ticketquery.h).  */
#include "ticketquery.h"
#include "check.h"
#include "reply.h"
#include "../common/uuid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
//  finite and built from the constants above only, and a connection prepares at most
//  DB_PREPARED_MAX statements (db.h): the rarest combinations run unprepared.
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
tickets_list_sql (unsigned filters, tickets_deleted_t deleted, int sort,
                  tickets_list_kind_t kind, char *buf, size_t len)
{
    if (sort < 0 || sort >= TICKETS_SORTS || kind > TICKETS_LIST_ESTIMATE)
        return -1;
    char where [512];
    int param = tickets_where_sql (filters, deleted, 1, where, sizeof where);
    if (param < 0)
        return -1;
    if (kind == TICKETS_LIST_COUNT) {
        int n = snprintf (buf, len, "SELECT count(*) FROM (SELECT 1 FROM tickets WHERE %s LIMIT %d) c",
                          where, TICKETS_COUNT_EXACT_MAX + 1);
        return (n < 0 || (size_t) n >= len) ? -1 : 0;
    }
    //  The planner's row estimate of the very scan the count would run, for the same
    //  parameter values (a utility statement is planned at each execution).
    if (kind == TICKETS_LIST_ESTIMATE) {
        int n = snprintf (buf, len, "EXPLAIN (FORMAT JSON) SELECT 1 FROM tickets WHERE %s", where);
        return (n < 0 || (size_t) n >= len) ? -1 : 0;
    }
    char rank [160];
    const char *key = s_sort_keys [sort / 2].column;
    if (s_sort_keys [sort / 2].rank
    && !(key = vocab_sql_rank (s_sort_keys [sort / 2].rank, key, rank, sizeof rank)))
        return -1;
    const char *dir = sort % 2 ? "DESC" : "ASC";
    int n = snprintf (buf, len, "SELECT " T_COLS " FROM tickets WHERE %s ORDER BY %s %s, id %s"
                      " LIMIT $%d OFFSET $%d", where, key, dir, dir, param, param + 1);
    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}

//  An estimate is no more precise than this: 201,347 -> 201,000.
static long long
s_round3 (long long n)
{
    long long unit = 1;
    while (n / unit >= 1000)
        unit *= 10;
    return (n + unit / 2) / unit * unit;
}

long long
tickets_list_total (long long count, double estimate, long offset, int rows, long limit,
                    bool *estimated)
{
    *estimated = false;
    if (count <= TICKETS_COUNT_EXACT_MAX)
        return count;
    if (rows > 0 && rows < limit)
        return offset + rows;
    //  The estimate (NaN when there was none) is never below what the capped count saw.
    long long total = s_round3 (estimate > (double) count && estimate < 1e15
                               ? (long long) (estimate + 0.5) : count);
    *estimated = true;
    return total > offset + rows ? total : offset + rows;
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
