/*  tickets: the tickets.* services (list, get, create, update, delete, restore), with the
    payload checks and the whitelisted SQL fragments behind tickets.list.  */
#ifndef WORKERS_TICKETS_H
#define WORKERS_TICKETS_H

#include "service.h"
#include "../proto/vocab.h"

extern const svc_family_t tickets_family;

//  tickets.list filters, as bits of a statement key.
#define TICKETS_F_STATUS    1u
#define TICKETS_F_PRIORITY  2u
#define TICKETS_F_ASSIGNEE  4u
#define TICKETS_F_Q         8u
#define TICKETS_F_EMAIL     16u
#define TICKETS_F_CREATED_AFTER 32u
#define TICKETS_F_CREATED_BEFORE 64u
#define TICKETS_F_UNASSIGNED 128u
#define TICKETS_F_ALL       TICKETS_F_UNASSIGNED    //  the highest bit
//  Values a filter may bind (status, priority, assignee, q, requester e-mail, the created
//  range's two ends).
#define TICKETS_FILTER_PARAMS 7

//  vocab.h's deletion filters, as indexes of vocab_ticket_deleted.
typedef enum {
    TICKETS_DELETED_EXCLUDE = VOCAB_DELETED_EXCLUDE,
    TICKETS_DELETED_INCLUDE = VOCAB_DELETED_INCLUDE,
    TICKETS_DELETED_ONLY = VOCAB_DELETED_ONLY
} tickets_deleted_t;

//  vocab.h's sort fields, each ascending (even) and descending (odd).
#define TICKETS_SORTS       (2 * VOCAB_TICKET_SORT_COUNT)

typedef struct {
    long page, limit;
    unsigned filters;               //  TICKETS_F_* present
    const char *status, *priority, *assignee, *q, *email;   //  borrowed from the payload
    const char *created_after, *created_before;
    tickets_deleted_t deleted;
    int sort;                       //  index from tickets_sort_parse
} tickets_query_t;

//  Validates a tickets.list payload into q (strings borrowed from payload). Returns 0, or
//  -1 with one detail per bad field appended to details.
int tickets_query_parse (json_t *payload, tickets_query_t *q, json_t *details);

//  "createdAt", "-priority", ... -> 0..TICKETS_SORTS-1; -1 for anything else.
int tickets_sort_parse (const char *sort);

//  The SQL of the count (count true) or page statement for a filter/deleted/sort
//  combination, assembled only from fixed fragments; parameters numbered as
//  tickets_where_sql numbers them, then limit, offset. Returns -1 if buf is too small.
int tickets_list_sql (unsigned filters, tickets_deleted_t deleted, int sort, bool count,
                      char *buf, size_t len);

//  The WHERE condition of a filter combination (no "WHERE"), its parameters numbered from
//  param on in tickets_filter_params' order, built from fixed fragments only. Returns the
//  next free parameter number, or -1 if buf is too small or the combination is unknown.
int tickets_where_sql (unsigned filters, tickets_deleted_t deleted, int param, char *buf, size_t len);

//  The values a parsed filter binds, in tickets_where_sql's order, into params (room for
//  TICKETS_FILTER_PARAMS); q's ILIKE pattern is malloc'd into *owned (the caller frees it).
//  Returns how many, or -1 out of memory.
int tickets_filter_params (const tickets_query_t *q, const char **params, char **owned);

//  "%<q with \ % _ escaped>%" for ILIKE (backslash is ILIKE's default escape). Caller frees.
char *tickets_like_pattern (const char *q);

//  Checks a tickets.update "fields" object: known writable fields with valid values.
int tickets_fields_check (json_t *fields, json_t *details);

//  Turns row of a result selected with the ticket column list into the public object;
//  NULL when a value is not what the schema promises (logged).
json_t *tickets_row_json (PGresult *res, int row);

#endif
