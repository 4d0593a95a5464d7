/*  ticketquery: what tickets.list (and a job's filter, jobscope.c) asks: the payload's
    checks, its filters as bits of a statement key, and the SQL of each combination,
    assembled only from fixed fragments; every value travels as a parameter.  */
#ifndef WORKERS_TICKETQUERY_H
#define WORKERS_TICKETQUERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "../proto/vocab.h"

//  The ticket's columns, in the order tickets_row_write reads them.
#define T_COLS_OF(t) t ".id, " t ".subject, " t ".description, " t ".status, " t ".priority, " \
               t ".requester_email, " t ".assignee_id, " t ".created_at, " t ".updated_at, " \
               t ".deleted_at, " t ".version"
#define T_COLS "id, subject, description, status, priority, requester_email, assignee_id, " \
               "created_at, updated_at, deleted_at, version"

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

//  A list's total is counted exactly up to TICKETS_COUNT_EXACT_MAX matches: counting more
//  is what made a page of a large list slow (every page counted them all). Past it the
//  total is the planner's estimate, flagged as such (totalIsEstimate).
#define TICKETS_COUNT_EXACT_MAX 10000

//  The statements of one list: its page, its capped count (at most
//  TICKETS_COUNT_EXACT_MAX + 1, so "more than the cap" shows), and its EXPLAIN, whose
//  row estimate stands in for the total past the cap.
typedef enum { TICKETS_LIST_PAGE, TICKETS_LIST_COUNT, TICKETS_LIST_ESTIMATE } tickets_list_kind_t;

//  The SQL of a statement of kind for a filter/deleted/sort combination, assembled only
//  from fixed fragments; parameters numbered as tickets_where_sql numbers them, then (a
//  page's) limit, offset. Returns -1 if buf is too small.
int tickets_list_sql (unsigned filters, tickets_deleted_t deleted, int sort,
                      tickets_list_kind_t kind, char *buf, size_t len);

//  The total a list answers once its count came: exact when count (the capped count) is
//  at most TICKETS_COUNT_EXACT_MAX, else estimate rounded to three significant digits
//  (*estimated true), and never below what the page itself shows (offset + rows; a
//  partial page past the cap ends the list, so then the total is exact again).
long long tickets_list_total (long long count, double estimate, long offset, int rows,
                              long limit, bool *estimated);

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

#endif
