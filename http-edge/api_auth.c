/*  api_auth: POST /api/auth/login (the worker checks the password, the edge signs the
    token) and GET /api/auth/me.  */
#include "edge.h"
#include "api.h"
#include "../common/log.h"

#include <string.h>

#define AUTH_PASSWORD_MAX 1024

//  An attempt answered 502/503/504 (no worker, no database, no answer in time) told the
//  client nothing about the password: the limiter gets it back. The body was read whole and
//  checked before the call, so its e-mail is there.
static void
s_login_unjudged (edge_req_t *req)
{
    json_t *body = req->body ? json_loadb (req->body, req->body_len, 0, NULL) : NULL;
    const char *email = json_string_value (json_object_get (body, "email"));
    if (email)
        edge_login_unjudged (req, email);
    json_decref (body);
}

static void
s_login_reply (edge_req_t *req, int status, const char *payload, size_t len)
{
    if (status != 200 || !payload) {
        if (!payload || status == 502 || status == 503 || status == 504)
            s_login_unjudged (req);
        req_reply_passthrough (req, status, payload, len);
        return;
    }
    json_t *root = json_loadb (payload, len, 0, NULL);
    json_t *user = json_object_get (root, "user");
    const char *id = json_string_value (json_object_get (user, "id"));
    svc_role_t role = svc_role_parse (json_string_value (json_object_get (user, "role")));
    char *token = NULL;
    if (!id || !uuid_valid (id) || role == SVC_ROLE_NONE) {
        log_error ("event=bad_reply rid=%s service=auth.login msg=\"user without id or role\"", req->rid);
        req_respond_error (req, 502, "bad_gateway", "the backend gave an invalid answer", NULL);
    }
    else
    if (!(token = jwt_hs256_sign (edge_jwt (req->edge), id, role, time (NULL))))
        req_respond_error (req, 500, "internal", "cannot sign the token", NULL);
    else {
        json_t *answer = json_pack ("{s:s, s:O}", "token", token, "user", user);
        char *text = json_dumps (answer, JSON_COMPACT);
        req_respond_json_owned (req, 200, text, strlen (text));
        json_decref (answer);
    }
    free (token);
    json_decref (root);
}

void
api_auth_login (edge_req_t *req)
{
    json_t *body = req_json_body (req);
    if (!body)
        return;
    json_t *details = json_array ();
    json_t *email = json_object_get (body, "email");
    json_t *password = json_object_get (body, "password");
    //  1, not VOCAB_EMAIL_MIN: a login names an account; a short one simply is not found.
    if (!json_is_string (email) || json_string_length (email) < 1
    ||  json_string_length (email) > VOCAB_EMAIL_MAX) {
        char msg [64];
        snprintf (msg, sizeof msg, "is required: a string of 1 to %d characters", VOCAB_EMAIL_MAX);
        validate_add (details, "email", msg);
    }
    if (!json_is_string (password) || json_string_length (password) < 1
    ||  json_string_length (password) > AUTH_PASSWORD_MAX)
        validate_add (details, "password", "is required: a string of 1 to 1024 characters");
    if (json_array_size (details)) {
        req_respond_invalid (req, details);
        json_decref (body);
        return;
    }
    json_decref (details);
    if (edge_login_limited (req, json_string_value (email))) {
        json_decref (body);
        return;
    }
    //  503: the password is not checked, so the attempt does not count (API.md).
    if (!edge_slow_take (req)) {
        edge_login_unjudged (req, json_string_value (email));
        json_decref (body);
        return;
    }
    json_t *payload = json_pack ("{s:O, s:O}", "email", email, "password", password);
    json_decref (body);
    edge_call (req, SVC_AUTH_LOGIN, payload, s_login_reply, 0);
}

void
api_auth_me (edge_req_t *req)
{
    edge_call (req, SVC_AUTH_ME, json_object (), req_reply_passthrough, 0);
}
