/*  upload: bodies within their limits, budget and deadline (http-edge/upload.h).  */
#include "upload.h"
#include "jobbody.h"
#include "metrics.h"
#include "routes.h"
#include "../common/log.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#define UPLOAD_CHUNK        (64 * 1024)
#define UPLOAD_DRAIN_MAX    (64ULL * 1024 * 1024)   //  413 bodies read and dropped up to this
#define UPLOAD_DROP_REFUSED (256 * 1024)            //  other refused bodies, up to this

struct _upload_t {
    const edge_config_t *cfg;
    size_t job_uploads;             //  large job bodies being read (each up to 16 B an id)
    size_t body_bytes;              //  bodies held (jobbody slots aside), at most body_budget_bytes
    uint64_t overloads;             //  answered 503 overloaded
    uint64_t body_timeouts;         //  connections closed at EDGE_BODY_TIMEOUT_S
};

//  A job body's reader and its slot among EDGE_MAX_JOB_UPLOADS: a million ids are 16 MB
//  while they stream in, so the number of large ones read at once bounds the edge's memory.
static void
s_job_upload_end (upload_t *self, edge_req_t *req)
{
    jobbody_destroy (&req->jobbody);
    if (req->big_upload) {
        req->big_upload = false;
        self->job_uploads--;
    }
}

//  Sets what a request holds of EDGE_BODY_BUDGET_BYTES; false (nothing changed) when the
//  edge's bodies would then hold more than the budget.
static bool
s_budget_set (upload_t *self, edge_req_t *req, size_t bytes)
{
    if (bytes > req->budget_bytes
    &&  self->body_bytes - req->budget_bytes + bytes > (size_t) self->cfg->body_budget_bytes)
        return false;
    self->body_bytes = self->body_bytes - req->budget_bytes + bytes;
    req->budget_bytes = bytes;
    return true;
}

//  How much of a refused request's body is read and dropped before the connection is
//  closed instead. Enough for any small body (an expired token on a ticket), so that the
//  client reads the answer; when the refusal is about the body itself (413, or 503 for
//  the body budget) and the token checked out, up to UPLOAD_DRAIN_MAX: an honest client
//  that sent too much, or too much at once, learns why. Nothing more: a refused request
//  costs no memory, and no one without a token makes the edge read megabytes.
static size_t
s_drop_max (edge_req_t *req, bool about_body)
{
    if (about_body && *req->user)
        return UPLOAD_DRAIN_MAX;
    return req->body_max < UPLOAD_DROP_REFUSED ? req->body_max : UPLOAD_DROP_REFUSED;
}

//  Refuses a body while it is being read, with the answer already set: what was held is
//  freed, the rest of the upload is read and dropped, and the answer goes out as soon as
//  MHD lets it (at the latest when the upload ends: a client still sending when we close
//  would get a reset, not the error).
static void
s_body_refuse (upload_t *self, edge_req_t *req)
{
    req_state_set (req, REQ_DROPPING);
    req->drop_max = s_drop_max (req, true);
    upload_release (self, req);
    req_queue (req);
}

//  The bodies being read hold EDGE_BODY_BUDGET_BYTES: this one is to be retried.
static void
s_body_overloaded (upload_t *self, edge_req_t *req)
{
    self->overloads++;
    req_respond_overloaded (req, "too many request bodies are being received, try again");
    s_body_refuse (self, req);
}

//  A request the headers already refused: its answer goes out now, or once its body has
//  been read and dropped (never held: it costs no memory). Closing on unread bytes makes
//  the client's kernel reset the connection, and the client never reads the answer; so a
//  body within s_drop_max is read first. Anything larger is answered at once, and
//  libmicrohttpd closes the connection after the answer.
enum MHD_Result
upload_refuse_early (upload_t *self, edge_req_t *req, bool has_body, bool has_length,
                     unsigned long long declared)
{
    if (!has_body)
        return req_queue (req);
    req->drop_max = s_drop_max (req, req->status == 413);
    if (has_length && declared > req->drop_max)
        return req_queue (req);
    req_state_set (req, REQ_DROPPING);
    return MHD_YES;
}

//  Body bytes: held within the route's limit and the budget, or dropped for a refused
//  request; past the body's deadline the connection is closed.
enum MHD_Result
upload_feed (upload_t *self, edge_req_t *req, const char *data, size_t n)
{
    int64_t now = zclock_mono ();
    if (now >= req->body_deadline_ms) {
        //  libmicrohttpd 0.9 cannot answer while a body is coming in: the client learns
        //  from the closed connection (as nginx's client_body_timeout does).
        self->body_timeouts++;
        log_warn ("event=body_timeout rid=%s address=%s bytes=%zu timeout_s=%ld", req->rid,
                  req_address (req), req->body_len, self->cfg->body_timeout_s);
        return MHD_NO;
    }
    MHD_set_connection_option (req->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                               (unsigned int) ((req->body_deadline_ms - now + 999) / 1000));
    if (req->state == REQ_DROPPING || req->state == REQ_QUEUED) {
        req->body_len += n;
        return req->body_len > req->drop_max ? MHD_NO : MHD_YES;
    }
    if (req->body_len + n > req->body_max) {
        req_respond_error (req, 413, "payload_too_large", "the request body is too large", NULL);
        s_body_refuse (self, req);
        return MHD_YES;
    }
    if (req->jobbody) {
        //  Errors are sticky in the reader; the handler reports them at the end.
        jobbody_feed (req->jobbody, data, n);
        req->body_len += n;
        //  A large one holds an upload slot instead; an ordinary one counts here.
        if (!req->big_upload && !s_budget_set (self, req, jobbody_memory (req->jobbody)))
            s_body_overloaded (self, req);
        return MHD_YES;
    }
    if (req->body_len + n + 1 > req->body_cap) {
        //  A small declared body gets what it declared, not a whole chunk: the budget
        //  counts capacity, and many small bodies must not count as many chunks.
        size_t cap = req->body_cap ? req->body_cap
                   : req->body_declared && req->body_declared < UPLOAD_CHUNK
                   ? req->body_declared + 1 : UPLOAD_CHUNK;
        while (cap < req->body_len + n + 1)
            cap *= 2;
        if (cap > req->body_max + 1)
            cap = req->body_max + 1;
        if (!s_budget_set (self, req, cap)) {
            s_body_overloaded (self, req);
            return MHD_YES;
        }
        char *body = realloc (req->body, cap);
        if (!body)
            return MHD_NO;
        req->body = body;
        req->body_cap = cap;
    }
    memcpy (req->body + req->body_len, data, n);
    req->body_len += n;
    req->body [req->body_len] = 0;
    return MHD_YES;
}

enum MHD_Result
upload_begin (upload_t *self, edge_req_t *req, bool has_body, bool has_length,
              unsigned long long declared)
{
    if (has_body)
        //  The inactivity timeout may not outlast the body's deadline (restored once the
        //  body is in): a client that trickles a byte now and then is still cut off.
        MHD_set_connection_option (req->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                   (unsigned int) self->cfg->body_timeout_s);
    if (!req->match.route || !(req->match.route->flags & ROUTE_BIG_BODY))
        return MHD_YES;
    //  A body within the usual limit costs what any body may; a larger one (or one of
    //  unknown length) takes one of EDGE_MAX_JOB_UPLOADS slots, or is refused at once
    //  rather than read.
    if (!has_length || declared > (unsigned long long) self->cfg->max_body_bytes) {
        if (self->job_uploads >= (size_t) self->cfg->max_job_uploads) {
            self->overloads++;
            req_respond_overloaded (req, "too many large job bodies are being received, try again");
            return req_queue (req);
        }
        req->big_upload = true;
        self->job_uploads++;
    }
    //  Everything but the ids is held as text, up to the usual body limit.
    req->jobbody = jobbody_new ((size_t) self->cfg->max_job_items,
                                (size_t) self->cfg->max_body_bytes);
    return req->jobbody ? MHD_YES : MHD_NO;
}

void
upload_done (upload_t *self, edge_req_t *req)
{
    if (req->body_len)
        MHD_set_connection_option (req->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                   (unsigned int) self->cfg->conn_timeout_s);
}

void
upload_release (upload_t *self, edge_req_t *req)
{
    free (req->body);
    req->body = NULL;
    req->body_len = req->body_cap = 0;
    s_job_upload_end (self, req);
    s_budget_set (self, req, 0);
}

uint64_t
upload_overloads (upload_t *self)
{
    return self->overloads;
}

void
upload_metrics (upload_t *self, FILE *f)
{
    metrics_gauge (f, "edge_body_bytes", "Request body bytes held, of EDGE_BODY_BUDGET_BYTES.",
                   (double) self->body_bytes);
    metrics_gauge (f, "edge_body_budget_bytes", "EDGE_BODY_BUDGET_BYTES.",
                   (double) self->cfg->body_budget_bytes);
    metrics_gauge (f, "edge_job_uploads",
                   "Job bodies over MAX_BODY_BYTES being read, of EDGE_MAX_JOB_UPLOADS.",
                   (double) self->job_uploads);
    metrics_gauge (f, "edge_job_uploads_max", "EDGE_MAX_JOB_UPLOADS.",
                   (double) self->cfg->max_job_uploads);
    metrics_counter (f, "edge_body_timeouts_total",
                     "Connections closed because a body took longer than EDGE_BODY_TIMEOUT_S.",
                     self->body_timeouts);
}

upload_t *
upload_new (const edge_config_t *cfg)
{
    upload_t *self = (upload_t *) calloc (1, sizeof *self);
    if (self)
        self->cfg = cfg;
    return self;
}

void
upload_destroy (upload_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}
