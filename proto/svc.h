/*  svc: the application envelope inside an MDP body, the service names, and the
    status codes (HTTP's, so the edge maps them in one table).

      request body : rid  auth  payload  [blob]
      reply body   : rid  status  payload

    rid      1..SVC_RID_MAX printable ASCII: the sender's request id, echoed in the reply;
             it correlates many requests in flight on one DEALER and follows a request
             through every process's log lines. The edge's are 128 random bits, never a
             client's choice, never reused.
    auth     "" for an anonymous call, or "<user uuid> <admin|agent>" as the edge
             verified it from the token.
    status   three ASCII digits, 2xx/4xx/5xx.
    payload  one JSON value as UTF-8 text (may be empty for 204).
    blob     optional, only for services that declare it (jobs.create: the ticket ids as
             16 bytes each), so that a million ids are neither JSON text nor parsed twice.  */
#ifndef PROTO_SVC_H
#define PROTO_SVC_H

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include "../common/uuid.h"

#define SVC_RID_MAX         64
//  Most ids a jobs.create blob may carry (MAX_JOB_ITEMS' ceiling): 16 bytes an id in one
//  frame, 64,000,000 bytes, under the MDP_MSG_MAX_BYTES (64 MiB) every MDP socket accepts.
#define SVC_JOB_ITEMS_MAX   4000000
#define SVC_AUTH_MAX        (UUID_STRLEN + 1 + 5)

//  Services the workers offer (payload shapes in proto/README.md).
#define SVC_AUTH_LOGIN      "auth.login"
#define SVC_AUTH_ME         "auth.me"
#define SVC_TICKETS_LIST    "tickets.list"
#define SVC_TICKETS_GET     "tickets.get"
#define SVC_TICKETS_CREATE  "tickets.create"
#define SVC_TICKETS_UPDATE  "tickets.update"
#define SVC_TICKETS_DELETE  "tickets.delete"
#define SVC_TICKETS_RESTORE "tickets.restore"
#define SVC_TICKETS_HISTORY "tickets.history"
#define SVC_USERS_LIST      "users.list"
#define SVC_JOBS_CREATE     "jobs.create"
#define SVC_JOBS_GET        "jobs.get"
#define SVC_JOBS_LIST       "jobs.list"
#define SVC_JOBS_CANCEL     "jobs.cancel"
#define SVC_JOBS_RESUME     "jobs.resume"
#define SVC_JOBS_CHUNK      "jobs.chunk"
#define SVC_JOBS_LIVE       "jobs.live"
#define SVC_SYS_HEALTH      "sys.health"
#define SVC_SYS_METRICS     "sys.metrics"

typedef enum { SVC_ROLE_NONE = 0, SVC_ROLE_AGENT, SVC_ROLE_ADMIN } svc_role_t;

const char *svc_role_name (svc_role_t role);
//  Returns SVC_ROLE_NONE for anything but "admin" / "agent".
svc_role_t svc_role_parse (const char *name);

typedef struct {
    char rid [SVC_RID_MAX + 1];
    char user [UUID_STRLEN + 1];    //  "" when anonymous
    svc_role_t role;                //  SVC_ROLE_NONE when anonymous
    zframe_t *payload;              //  owned; JSON text, not NUL-terminated
    zframe_t *blob;                 //  owned; NULL when the request has no fourth frame
} svc_request_t;

typedef struct {
    char rid [SVC_RID_MAX + 1];
    int status;                     //  100..599
    zframe_t *payload;              //  owned
} svc_reply_t;

bool svc_rid_valid (const char *rid, size_t len);

//  Decoders take ownership of *body_p (nulled); NULL and a reason for a malformed body.
svc_request_t *svc_request_decode (zmsg_t **body_p, char *err, size_t errlen);
void svc_request_destroy (svc_request_t **self_p);
svc_reply_t *svc_reply_decode (zmsg_t **body_p, char *err, size_t errlen);
void svc_reply_destroy (svc_reply_t **self_p);

//  Encoders return a body for mdp_*_new. user NULL or "" for anonymous. A blob is
//  appended by the sender as one more frame (the edge hands it to ZeroMQ without a copy).
zmsg_t *svc_request_encode (const char *rid, const char *user, svc_role_t role,
                            const char *payload, size_t len);
zmsg_t *svc_reply_encode (const char *rid, int status, const char *payload, size_t len);

//  The contract's error object, {"error":{"code","message","details":[...]}}, built here
//  only: the broker, the workers and the edge all answer with it. Steals details (NULL:
//  an empty array). NULL only when code or message is not UTF-8.
json_t *svc_error_object (const char *code, const char *message, json_t *details);
//  The same as compact JSON text: malloc'd, the caller frees; *len its length (len may be
//  NULL). Never NULL: text jansson refuses becomes a constant "internal" error.
char *svc_error_text (const char *code, const char *message, json_t *details, size_t *len);

//  A reply whose payload is the contract's error object; rid may be NULL when the
//  request had none.
zmsg_t *svc_reply_error (const char *rid, int status, const char *code, const char *message);

//  The first frame of a body as a rid, if it is one, copied to out; else out = "".
void svc_peek_rid (zmsg_t *body, char out [SVC_RID_MAX + 1]);

#endif
