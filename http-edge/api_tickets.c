/*  api_tickets: the /api/tickets routes. Shape checks here, business rules in the workers.  */
#include "edge.h"
#include "api.h"

#include <string.h>

void
api_tickets_list (edge_req_t *req)
{
    json_t *payload = req_query_checked (req, validate_ticket_query);
    if (!payload)
        return;
    const char *deleted = json_string_value (json_object_get (payload, "deleted"));
    if (strcmp (deleted, vocab_ticket_deleted [VOCAB_DELETED_EXCLUDE])
    &&  req->role != SVC_ROLE_ADMIN) {
        json_decref (payload);
        req_respond_error (req, 403, "forbidden", "only admins may list deleted tickets", NULL);
        return;
    }
    edge_call (req, SVC_TICKETS_LIST, payload, req_reply_passthrough, 0);
}

void
api_tickets_get (edge_req_t *req)
{
    edge_call (req, SVC_TICKETS_GET, json_pack ("{s:s}", "id", req->match.params [0]),
               req_reply_ticket, 0);
}

void
api_tickets_history (edge_req_t *req)
{
    json_t *payload = req_query_checked (req, validate_history_query);
    if (!payload)
        return;
    json_object_set_new (payload, "id", json_string (req->match.params [0]));
    edge_call (req, SVC_TICKETS_HISTORY, payload, req_reply_passthrough, 0);
}

void
api_users_list (edge_req_t *req)
{
    json_t *payload = req_query_checked (req, validate_user_query);
    if (payload)
        edge_call (req, SVC_USERS_LIST, payload, req_reply_passthrough, 0);
}

void
api_tickets_create (edge_req_t *req)
{
    json_t *body = req_json_body (req);
    if (!body)
        return;
    json_t *details = json_array ();
    json_t *fields = validate_ticket (body, true, details);
    json_decref (body);
    if (!fields) {
        req_respond_invalid (req, details);
        return;
    }
    json_decref (details);
    //  The edge names the ticket, so a request retried by the broker creates it once.
    char id [UUID_STRLEN + 1];
    if (uuid_v4 (id)) {
        json_decref (fields);
        req_respond_error (req, 500, "internal", "cannot generate an id", NULL);
        return;
    }
    json_object_set_new (fields, "id", json_string (id));
    edge_call (req, SVC_TICKETS_CREATE, fields, req_reply_ticket, 0);
}

void
api_tickets_update (edge_req_t *req)
{
    long version = -1;
    const char *if_match = req_header_in (req, MHD_HTTP_HEADER_IF_MATCH);
    if (if_match && validate_if_match (if_match, &version)) {
        req_respond_error (req, 400, "invalid_if_match",
                           "If-Match must be a version such as \"3\" (quoted or bare) or *", NULL);
        return;
    }
    json_t *body = req_json_body (req);
    if (!body)
        return;
    json_t *details = json_array ();
    json_t *fields = validate_ticket (body, false, details);
    json_decref (body);
    if (!fields) {
        req_respond_invalid (req, details);
        return;
    }
    json_decref (details);
    json_t *payload = json_pack ("{s:s, s:o, s:o}", "id", req->match.params [0],
                                 "ifMatch", version > 0 ? json_integer (version) : json_null (),
                                 "fields", fields);
    edge_call (req, SVC_TICKETS_UPDATE, payload, req_reply_ticket, 0);
}

void
api_tickets_delete (edge_req_t *req)
{
    edge_call (req, SVC_TICKETS_DELETE, json_pack ("{s:s}", "id", req->match.params [0]),
               req_reply_ticket, 0);
}

void
api_tickets_restore (edge_req_t *req)
{
    edge_call (req, SVC_TICKETS_RESTORE, json_pack ("{s:s}", "id", req->match.params [0]),
               req_reply_ticket, 0);
}
