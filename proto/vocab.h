/*  vocab: the one definition of the contract's words and field limits, as X-macros (the
    zproto idea: one model that everything is expanded from). The edge's and the workers'
    checks, tickets.list's ORDER BY by meaning, the edge's job gauges and GET /api/meta
    are expansions of it. The schema's CHECKs stay in sql/ (schema lives only there);
    tests/integration/test_vocab.py fails when either side changes alone.

    A list is X (ID, "name") in its meaningful order; a limit X (ID, "jsonKey", value).
    Names of statuses, priorities and types are lower-case words and '-' only: they are
    pasted into SQL literals.  */
#ifndef PROTO_VOCAB_H
#define PROTO_VOCAB_H

#include <stddef.h>

//  Ticket statuses in workflow order: sorting by status follows it (open first).
#define VOCAB_TICKET_STATUSES(X) \
    X (TICKET_OPEN, "open") X (TICKET_PENDING, "pending") \
    X (TICKET_RESOLVED, "resolved") X (TICKET_CLOSED, "closed")

//  Ticket priorities in urgency order: sorting by priority follows it (urgent above high).
#define VOCAB_TICKET_PRIORITIES(X) \
    X (PRIORITY_LOW, "low") X (PRIORITY_NORMAL, "normal") \
    X (PRIORITY_HIGH, "high") X (PRIORITY_URGENT, "urgent")

//  Job statuses in lifecycle order; the last three are final. sys.metrics counts jobs by
//  each and the edge's /metrics has one gauge per status in this order.
#define VOCAB_JOB_STATUSES(X) \
    X (JOB_QUEUED, "queued") X (JOB_RUNNING, "running") X (JOB_COMPLETED, "completed") \
    X (JOB_FAILED, "failed") X (JOB_CANCELED, "canceled")

//  What happened to one ticket id of a job (GET /api/jobs/:id?itemStatus=).
#define VOCAB_JOB_ITEM_STATUSES(X) \
    X (ITEM_PENDING, "pending") X (ITEM_SUCCEEDED, "succeeded") \
    X (ITEM_FAILED, "failed") X (ITEM_CANCELED, "canceled")

//  Job types: deleting tickets, undoing that, and setting fields of many tickets at once.
#define VOCAB_JOB_TYPES(X) \
    X (JOB_BULK_DELETE, "bulk-delete") X (JOB_BULK_RESTORE, "bulk-restore") \
    X (JOB_BULK_UPDATE, "bulk-update")

//  Fields a ticket list sorts by (tickets.list's sort): each is the ticket's own JSON field,
//  ascending, or descending with '-' in front.
#define VOCAB_TICKET_SORTS(X) \
    X (SORT_CREATED_AT, "createdAt") X (SORT_UPDATED_AT, "updatedAt") \
    X (SORT_PRIORITY, "priority") X (SORT_STATUS, "status") X (SORT_SUBJECT, "subject") \
    X (SORT_DELETED_AT, "deletedAt")

//  Which tickets a list holds by deletion (tickets.list's deleted), in this order, which
//  readers rely on: the live ones, all, the deleted ones. Only an admin may ask for other
//  than the first.
#define VOCAB_TICKET_DELETED(X) \
    X (DELETED_EXCLUDE, "exclude") X (DELETED_INCLUDE, "include") X (DELETED_ONLY, "only")

//  Field limits of the public contract: lengths in characters (code points, as
//  PostgreSQL's length() counts), pages and page sizes as whole numbers.
#define VOCAB_LIMITS(X) \
    /*  A subject is one line a list shows: sql CHECK 1..200.  */ \
    X (SUBJECT_MAX, "subjectMax", 200) \
    /*  A description is a few paragraphs, not an attachment store: CHECK <= 10000.  */ \
    X (DESCRIPTION_MAX, "descriptionMax", 10000) \
    /*  a@b is the shortest address; 254 is RFC 5321's longest path: CHECK 3..254.  */ \
    X (EMAIL_MIN, "emailMin", 3) \
    X (EMAIL_MAX, "emailMax", 254) \
    /*  Search text: a trigram ILIKE over more than a sentence is no longer a search.  */ \
    X (Q_MAX, "qMax", 200) \
    /*  Rows a list page holds, and its default: one JSON answer stays small.  */ \
    X (LIMIT_MAX, "limitMax", 100) \
    X (LIMIT_DEFAULT, "limitDefault", 20) \
    /*  Pages of a list: OFFSET beyond this is a scan nobody means.  */ \
    X (PAGE_MAX, "pageMax", 1000000) \
    /*  Items of one job per page of GET /api/jobs/:id, and the default.  */ \
    X (ITEMS_LIMIT_MAX, "itemsLimitMax", 1000) \
    X (ITEMS_LIMIT_DEFAULT, "itemsLimitDefault", 100) \
    /*  Entries of a ticket's history per page, and the default.  */ \
    X (HISTORY_LIMIT_MAX, "historyLimitMax", 200) \
    X (HISTORY_LIMIT_DEFAULT, "historyLimitDefault", 50) \
    /*  Users per answer of the assignee search, and the default.  */ \
    X (USERS_LIMIT_MAX, "usersLimitMax", 200) \
    X (USERS_LIMIT_DEFAULT, "usersLimitDefault", 50) \
    /*  Idempotency-Key: bytes of printable ASCII, as the jobs table stores it.  */ \
    X (IDEMPOTENCY_KEY_MAX, "idempotencyKeyMax", 255)

//  MAX_JOB_ITEMS (ids per job) when unset; its ceiling is SVC_JOB_ITEMS_MAX (svc.h).
#define VOCAB_JOB_ITEMS_DEFAULT 1000000

//  Expansions: VOCAB_TICKET_OPEN... as enums with a count, each list as a NULL-terminated
//  name table (vocab.c), each limit as an enum constant VOCAB_SUBJECT_MAX...
#define VOCAB_ENUM_(id, name)           VOCAB_##id,
#define VOCAB_LIMIT_ENUM_(id, key, v)   VOCAB_##id = (v),

typedef enum { VOCAB_TICKET_STATUSES (VOCAB_ENUM_) VOCAB_TICKET_STATUS_COUNT } vocab_ticket_status_t;
typedef enum { VOCAB_TICKET_PRIORITIES (VOCAB_ENUM_) VOCAB_TICKET_PRIORITY_COUNT } vocab_ticket_priority_t;
typedef enum { VOCAB_JOB_STATUSES (VOCAB_ENUM_) VOCAB_JOB_STATUS_COUNT } vocab_job_status_t;
typedef enum { VOCAB_JOB_ITEM_STATUSES (VOCAB_ENUM_) VOCAB_JOB_ITEM_STATUS_COUNT } vocab_job_item_status_t;
typedef enum { VOCAB_JOB_TYPES (VOCAB_ENUM_) VOCAB_JOB_TYPE_COUNT } vocab_job_type_t;
typedef enum { VOCAB_TICKET_SORTS (VOCAB_ENUM_) VOCAB_TICKET_SORT_COUNT } vocab_ticket_sort_t;
typedef enum { VOCAB_TICKET_DELETED (VOCAB_ENUM_) VOCAB_TICKET_DELETED_COUNT } vocab_ticket_deleted_t;
enum { VOCAB_LIMITS (VOCAB_LIMIT_ENUM_) };

//  What the contract takes when a value is left out, as entries of the lists above: a new
//  ticket's status and priority (sql/0001's column DEFAULTs, which test_vocab.py holds to
//  these), and a ticket list's order (this field, descending: the newest first) and
//  deletion filter (the live tickets).
#define VOCAB_TICKET_STATUS_DEFAULT     VOCAB_TICKET_OPEN
#define VOCAB_TICKET_PRIORITY_DEFAULT   VOCAB_PRIORITY_NORMAL
#define VOCAB_TICKET_SORT_DEFAULT       VOCAB_SORT_CREATED_AT
#define VOCAB_TICKET_DELETED_DEFAULT    VOCAB_DELETED_EXCLUDE

extern const char *const vocab_ticket_statuses [VOCAB_TICKET_STATUS_COUNT + 1];
extern const char *const vocab_ticket_priorities [VOCAB_TICKET_PRIORITY_COUNT + 1];
extern const char *const vocab_job_statuses [VOCAB_JOB_STATUS_COUNT + 1];
extern const char *const vocab_job_item_statuses [VOCAB_JOB_ITEM_STATUS_COUNT + 1];
extern const char *const vocab_job_types [VOCAB_JOB_TYPE_COUNT + 1];
extern const char *const vocab_ticket_sorts [VOCAB_TICKET_SORT_COUNT + 1];
extern const char *const vocab_ticket_deleted [VOCAB_TICKET_DELETED_COUNT + 1];

//  The default sort as tickets.list's sort takes it ("-createdAt"), into buf; returns buf.
#define VOCAB_SORT_TEXT_MAX 32
char *vocab_ticket_sort_default (char buf [VOCAB_SORT_TEXT_MAX]);

//  A limit by its JSON key, for tables that walk them (GET /api/meta, tests).
typedef struct { const char *key; long value; } vocab_limit_t;
extern const vocab_limit_t vocab_limits [];
extern const size_t vocab_limits_n;

//  Index of name in a NULL-terminated table, -1 when absent (or name NULL).
int vocab_index (const char *const *names, const char *name);

//  names joined by sep, each between quote and quote ("" for none) into buf. Returns
//  buf, or NULL when it does not fit (buf then holds "").
char *vocab_join (const char *const *names, const char *sep, const char *quote,
                  char *buf, size_t len);

//  A 422 detail's wording: "must be one of a, b, c" ("must be a" for a list of one).
const char *vocab_must_be (const char *const *names, char *buf, size_t len);

//  SQL ranking column by its position in names, for ORDER BY by meaning:
//  "array_position(ARRAY['low','normal','high','urgent'], priority)". NULL when it does
//  not fit. Built from constants only: column and names are ours, never input.
const char *vocab_sql_rank (const char *const *names, const char *column, char *buf, size_t len);

//  MAX_JOB_ITEMS from the environment, read the same way by the edge (the upload bound)
//  and the workers (the jobs.create bound): 1..SVC_JOB_ITEMS_MAX, default
//  VOCAB_JOB_ITEMS_DEFAULT. -1 after logging a bad value.
int vocab_max_job_items (long *out);

#endif
