/*  tickets: the tickets.* services (list, get, create, update, delete, restore, history);
    what a list asks and its SQL fragments are ticketquery's.  */
#ifndef WORKERS_TICKETS_H
#define WORKERS_TICKETS_H

#include "service.h"
#include "ticketquery.h"
#include "../common/jsonw.h"

extern const svc_family_t tickets_family;

//  Checks a tickets.update "fields" object: known writable fields with valid values.
int tickets_fields_check (json_t *fields, json_t *details);

//  Writes row of a result selected with the ticket column list as the public object;
//  -1 when a timestamp or the column count is not what the schema promises (logged). A
//  value that is not UTF-8 or too long is w's error, found at jsonw_take.
int tickets_row_write (jsonw_t *w, PGresult *res, int row);

#endif
