/*  edge: the actor. One thread, one loop: zmq_poll over the broker link's sockets (a
    DEALER and a monitor per broker) and each MHD daemon's epoll fd; MHD_run after each wake; replies resume suspended
    connections. A request's life: the guard decides it from its headers, upload reads
    (or drops) its body, its route's handler calls the broker through the broker link,
    and the reply answers it.  */
#include "edge.h"
#include "broker_link.h"
#include "conns.h"
#include "guard.h"
#include "metrics.h"
#include "static.h"
#include "upload.h"
#include "../common/log.h"
#include "../common/memtrim.h"
#include "../common/rand.h"
#include "../common/stop.h"

#include <czmq.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define EDGE_DRAIN_MS           5000    //  SIGTERM: time in-flight requests get
#define EDGE_MEMORY_LIMIT       (32 * 1024)   //  per connection: bounds headers + URL

struct edge_s {
    edge_config_t cfg;
    static_t *web;
    struct MHD_Daemon *api_d, *web_d;
    int api_epfd, web_epfd;
    broker_link_t *link;
    conns_t *conns;
    guard_t *guard;
    upload_t *upload;

    //  Metrics. Rows: routes.c's table by index, then the EDGE_ROW_* pseudo routes.
    metrics_t *metrics;
    metrics_row_t *metric_rows;
    const route_t *routes;
    size_t routes_n;
};

//  Pseudo routes after routes.c's table: a CORS preflight on any API path, an API request
//  no route matched (404, 405), and the static UI on WEB_PORT.
enum { EDGE_ROW_PREFLIGHT = 0, EDGE_ROW_UNMATCHED, EDGE_ROW_STATIC, EDGE_ROWS_PSEUDO };

//  --------------------------------------------------------------------------
//  For handlers

int
edge_call (edge_req_t *req, const char *service, json_t *payload, req_reply_fn *on_reply,
           long timeout_ms)
{
    return broker_link_call (req->edge->link, req, service, payload, NULL, 0, on_reply, timeout_ms);
}

int
edge_call_blob (edge_req_t *req, const char *service, json_t *payload, unsigned char **blob_p,
                size_t blob_len, req_reply_fn *on_reply, long timeout_ms)
{
    return broker_link_call (req->edge->link, req, service, payload, blob_p, blob_len,
                             on_reply, timeout_ms);
}

const edge_config_t *
edge_config (edge_t *self)
{
    return &self->cfg;
}

jwt_hs256_t *
edge_jwt (edge_t *self)
{
    return guard_jwt (self->guard);
}

bool
edge_login_limited (edge_req_t *req, const char *email)
{
    return guard_login_limited (req->edge->guard, req, email);
}

void
edge_login_unjudged (edge_req_t *req, const char *email)
{
    guard_login_unjudged (req->edge->guard, req, email);
}

bool
edge_slow_take (edge_req_t *req)
{
    return guard_slow_take (req->edge->guard, req);
}

bool
edge_broker_up (edge_t *self)
{
    return broker_link_up (self->link);
}

void
edge_brokers (edge_t *self, size_t *live, size_t *total)
{
    *live = broker_link_live (self->link);
    *total = broker_link_total (self->link);
}

int
edge_workers (edge_t *self)
{
    return broker_link_workers (self->link);
}

int
edge_service_workers (edge_t *self, const char *service)
{
    return broker_link_service_workers (self->link, service);
}

//  Answers from what the edge holds (counters, the latest mmi.status and sys.metrics):
//  /metrics never waits for another process.
char *
edge_metrics_text (edge_t *self, size_t *len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    if (!f)
        return NULL;
    metrics_write (self->metrics, f);
    metrics_counter (f, "edge_overload_rejections_total", "Requests answered 503 overloaded.",
                     upload_overloads (self->upload) + broker_link_overloads (self->link));
    upload_metrics (self->upload, f);
    conns_metrics (self->conns, f);
    guard_metrics (self->guard, f);
    broker_link_metrics (self->link, f);
    fclose (f);
    *len = size;
    return text;
}

//  --------------------------------------------------------------------------
//  A request's life

static edge_req_t *
s_req_new (edge_t *self, struct MHD_Connection *conn, const char *url, const char *method,
           bool is_api)
{
    edge_req_t *req = (edge_req_t *) calloc (1, sizeof *req);
    if (!req)
        return NULL;
    req->edge = self;
    req->cfg = &self->cfg;
    req->conn = conn;
    req->url = url;
    req->method = method;
    req->is_api = is_api;
    req->start_us = zclock_usecs ();
    req->body_deadline_ms = zclock_mono () + self->cfg.body_timeout_s * 1000;
    rand_id (req->rid);
    const char *rid = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "X-Request-Id");
    if (rid && svc_rid_valid (rid, strlen (rid)))
        snprintf (req->client_rid, sizeof req->client_rid, "%s", rid);
    return req;
}

static void
s_req_destroy (edge_t *self, edge_req_t **req_p)
{
    edge_req_t *req = *req_p;
    if (!req)
        return;
    if (req->response)
        MHD_destroy_response (req->response);
    upload_release (self->upload, req);
    guard_release (self->guard, req);
    free (req);
    *req_p = NULL;
}

//  What frames a request's body, and names its host, counted over every header line.
typedef struct {
    int lengths;                        //  Content-Length lines
    int codings;                        //  Transfer-Encoding lines
    int hosts;                          //  Host lines
    int auths;                          //  Authorization lines
    bool spaced_name;                   //  a name with white space in it or before its colon
} s_framing_t;

static enum MHD_Result
s_count_framing (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    (void) value;
    s_framing_t *framing = (s_framing_t *) cls;
    if (!strcasecmp (key, MHD_HTTP_HEADER_CONTENT_LENGTH))
        framing->lengths++;
    if (!strcasecmp (key, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        framing->codings++;
    if (!strcasecmp (key, MHD_HTTP_HEADER_HOST))
        framing->hosts++;
    if (!strcasecmp (key, MHD_HTTP_HEADER_AUTHORIZATION))
        framing->auths++;
    if (strpbrk (key, " \t"))
        framing->spaced_name = true;
    return MHD_YES;
}

//  The first call for a request: the headers are in, no body byte yet.
static enum MHD_Result
s_begin (edge_t *self, bool is_api, struct MHD_Connection *conn, const char *url,
         const char *method, const char *version, void **con_cls)
{
    conns_headers_in (self->conns, conn);
    edge_req_t *req = s_req_new (self, conn, url, method, is_api);
    if (!req)
        return MHD_NO;
    *con_cls = req;
    //  libmicrohttpd frames the body by the first of several Content-Lengths or
    //  Transfer-Encodings, by the chunks when both kinds come, and takes "Content-Length :"
    //  for a header of another name; a proxy in front may frame it otherwise, and then
    //  what we read as the next request is its body (request smuggling). RFC 9112 5.1,
    //  6.1 and 6.3: refuse each, and close the connection.
    s_framing_t framing = { 0 };
    MHD_get_connection_values (conn, MHD_HEADER_KIND, s_count_framing, &framing);
    const char *clen = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_TRANSFER_ENCODING);
    //  RFC 9112 3.2: an HTTP/1.1 request without a Host, or any with several, is answered
    //  400 (libmicrohttpd checks it only in its pedantic mode). Several Authorizations
    //  too: we would act as the first's user where a proxy that checked one may have
    //  checked another (RFC 9110 5.3: not a list field).
    bool needs_host = !version || strcmp (version, MHD_HTTP_VERSION_1_0);
    const char *ambiguous = framing.spaced_name ? "a header name has white space in it"
                          : framing.lengths > 1 ? "the request has several Content-Length headers"
                          : clen && te ? "the request has both Content-Length and Transfer-Encoding"
                          : framing.hosts > 1 ? "the request has several Host headers"
                          : framing.hosts == 0 && needs_host ? "an HTTP/1.1 request needs a Host header"
                          : framing.auths > 1 ? "the request has several Authorization headers"
                          : NULL;
    if (ambiguous) {
        req_respond_error (req, 400, "bad_request", ambiguous, NULL);
        req_header (req, MHD_HTTP_HEADER_CONNECTION, "close");
        return req_queue (req);
    }
    //  libmicrohttpd decodes chunked alone, spelled exactly so ("chunked " with a trailing
    //  space too is another coding to it); under any other coding ("gzip, chunked",
    //  "identity", or a second Transfer-Encoding line) it would read the body until the
    //  client closes, or frame it by the first line, while the client waits for an answer
    //  or frames it by the last. RFC 9112 6.1: answer 501 and close.
    if (te && (framing.codings > 1 || strcasecmp (te, "chunked"))) {
        req_respond_error (req, 501, "not_implemented",
                           "the only Transfer-Encoding taken is chunked; or send Content-Length",
                           NULL);
        req_header (req, MHD_HTTP_HEADER_CONNECTION, "close");
        return req_queue (req);
    }
    //  libmicrohttpd has checked Content-Length's digits.
    bool has_length = clen != NULL;
    unsigned long long declared = clen ? strtoull (clen, NULL, 10) : 0;
    bool has_body = has_length ? declared > 0 : te != NULL;
    req->body_declared = has_length ? (size_t) declared : 0;
    if (!is_api) {
        //  The UI's files are read with GET: a body is never wanted there.
        req->body_max = ROUTE_BODY_NONE;
        if (has_length && declared > req->body_max) {
            req_respond_error (req, 413, "payload_too_large", "the request body is too large", NULL);
            return req_queue (req);
        }
        return MHD_YES;
    }
    guard_check (self->guard, req, has_body, has_length, declared);
    if (req->response)
        return upload_refuse_early (self->upload, req, has_body, has_length, declared);
    return upload_begin (self->upload, req, has_body, has_length, declared);
}

static enum MHD_Result
s_access (edge_t *self, bool is_api, struct MHD_Connection *conn, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **con_cls)
{
    edge_req_t *req = (edge_req_t *) *con_cls;
    if (!req)
        return s_begin (self, is_api, conn, url, method, version, con_cls);
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return upload_feed (self->upload, req, upload_data, n);
    }
    if (req->state == REQ_QUEUED)
        return MHD_YES;
    upload_done (self->upload, req);
    guard_body_done (self->guard, req);
    if (req->response)                  //  refused, resumed with a reply, or the deferred 413
        return req_queue (req);

    if (is_api)
        req->match.route->handler (req);
    else
        static_serve (self->web, req);

    if (req->response)
        return req_queue (req);
    if (req->state == REQ_WAITING) {
        req_state_set (req, REQ_SUSPENDED);
        MHD_suspend_connection (conn);
        return MHD_YES;
    }
    req_respond_error (req, 500, "internal", "no answer was produced", NULL);
    return req_queue (req);
}

static enum MHD_Result
s_api_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
              const char *version, const char *upload_data, size_t *upload_data_size,
              void **con_cls)
{
    return s_access ((edge_t *) cls, true, conn, url, method, version, upload_data,
                     upload_data_size, con_cls);
}

static enum MHD_Result
s_web_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
              const char *version, const char *upload_data, size_t *upload_data_size,
              void **con_cls)
{
    return s_access ((edge_t *) cls, false, conn, url, method, version, upload_data,
                     upload_data_size, con_cls);
}

//  The metrics row of a finished request: its route's index, else a pseudo route.
static size_t
s_metrics_row (edge_t *self, edge_req_t *req)
{
    if (!req->is_api)
        return self->routes_n + EDGE_ROW_STATIC;
    if (req->match.route)
        return (size_t) (req->match.route - self->routes);
    if (!strcmp (req->method, MHD_HTTP_METHOD_OPTIONS))
        return self->routes_n + EDGE_ROW_PREFLIGHT;
    return self->routes_n + EDGE_ROW_UNMATCHED;
}

static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    edge_t *self = (edge_t *) cls;
    edge_req_t *req = (edge_req_t *) *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    broker_link_forget (self->link, req);    //  only when the client vanished mid-wait
    conns_request_done (self->conns, conn);     //  kept alive: the next headers' deadline
    int64_t latency = zclock_usecs () - req->start_us;
    int status = req->state == REQ_QUEUED ? req->status : 0;
    req_state_set (req, REQ_CLOSED);
    metrics_observe (self->metrics, s_metrics_row (self, req), status, latency);
    char path [300], client_rid [2 * SVC_RID_MAX + 8];
    //  A health check or a metrics scrape that went well is routine: every 5 s, it would
    //  fill the log at info. Failed ones stay at info.
    bool poll = !strcmp (req->method, MHD_HTTP_METHOD_GET) && status > 0 && status < 400
             && (!strcmp (req->url, "/api/health") || !strcmp (req->url, "/metrics"));
    log_emit (poll ? LOG_DEBUG : LOG_INFO,
              "event=http_request method=%s path=%s status=%d bytes=%zu latency_us=%lld rid=%s%s%s%s",
              req->method, log_quote (path, sizeof path, req->url), status, req->bytes,
              (long long) latency, req->rid, *req->client_rid ? " client_rid=" : "",
              *req->client_rid ? log_quote (client_rid, sizeof client_rid, req->client_rid) : "",
              toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=true");
    s_req_destroy (self, &req);
}

//  --------------------------------------------------------------------------
//  Daemons and the loop

//  MHD's unescaping, except that a %00 becomes 0xFF instead of ending the string early:
//  no path or query value can hide a NUL, and 0xFF fails every later check (not UTF-8).
static size_t
s_unescape (void *cls, struct MHD_Connection *conn, char *uri)
{
    size_t len = MHD_http_unescape (uri);
    for (size_t i = 0; i < len; i++)
        if (uri [i] == 0)
            uri [i] = (char) 0xff;
    return len;
}

//  MHD's own messages (431, 414, socket errors) as logfmt lines.
static void
s_mhd_log (void *cls, const char *fmt, va_list ap)
{
    char msg [512], quoted [600];
    vsnprintf (msg, sizeof msg, fmt, ap);
    size_t n = strlen (msg);
    while (n && (msg [n - 1] == '\n' || msg [n - 1] == ' '))
        msg [--n] = 0;
    log_warn ("event=mhd msg=%s", log_quote (quoted, sizeof quoted, msg));
}

static struct MHD_Daemon *
s_daemon_start (edge_t *self, long port, MHD_AccessHandlerCallback handler, int *epfd)
{
    struct sockaddr_storage ss;
    memset (&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
    struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
    if (inet_pton (AF_INET, self->cfg.bind_address, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons ((uint16_t) port);
    }
    else {
        inet_pton (AF_INET6, self->cfg.bind_address, &s6->sin6_addr);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons ((uint16_t) port);
        flags |= MHD_USE_IPv6;
    }
    struct MHD_Daemon *d = MHD_start_daemon (
        flags, (uint16_t) port, NULL, NULL, handler, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) self->cfg.conn_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) self->cfg.conns_per_address,
        MHD_OPTION_NOTIFY_CONNECTION, conns_notify, self->conns,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) self->cfg.conn_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) EDGE_MEMORY_LIMIT,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_UNESCAPE_CALLBACK, s_unescape, self,
        MHD_OPTION_END);
    if (!d) {
        log_error ("event=listen_failed address=%s port=%ld err=\"%s\"", self->cfg.bind_address,
                   port, strerror (errno));
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (d, MHD_DAEMON_INFO_EPOLL_FD);
    *epfd = info ? info->epoll_fd : -1;
    if (*epfd < 0) {
        log_error ("event=epoll_fd_unavailable port=%ld", port);
        MHD_stop_daemon (d);
        return NULL;
    }
    return d;
}

edge_t *
edge_new (const edge_config_t *cfg)
{
    edge_t *self = (edge_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->api_epfd = self->web_epfd = -1;
    self->routes = routes_table (&self->routes_n);
    self->metric_rows = calloc (self->routes_n + EDGE_ROWS_PSEUDO, sizeof (metrics_row_t));
    if (!self->metric_rows)
        goto fail;
    for (size_t i = 0; i < self->routes_n; i++)
        self->metric_rows [i] = (metrics_row_t) { self->routes [i].pattern, self->routes [i].method };
    self->metric_rows [self->routes_n + EDGE_ROW_PREFLIGHT] = (metrics_row_t) { "*", "OPTIONS" };
    self->metric_rows [self->routes_n + EDGE_ROW_UNMATCHED] = (metrics_row_t) { "unmatched", "*" };
    self->metric_rows [self->routes_n + EDGE_ROW_STATIC] = (metrics_row_t) { "static", "*" };
    self->metrics = metrics_new (self->metric_rows, self->routes_n + EDGE_ROWS_PSEUDO);
    self->guard = guard_new (&self->cfg);
    self->upload = upload_new (&self->cfg);
    self->link = broker_link_new (&self->cfg);
    self->conns = conns_new (cfg->header_timeout_s * 1000);
    if (!self->metrics || !self->guard || !self->upload || !self->link || !self->conns)
        goto fail;
    self->api_d = s_daemon_start (self, cfg->port, s_api_access, &self->api_epfd);
    if (!self->api_d)
        goto fail;
    if (cfg->web_port) {
        self->web = static_new (cfg->web_root, cfg->port, cfg->ws_port);
        self->web_d = s_daemon_start (self, cfg->web_port, s_web_access, &self->web_epfd);
        if (!self->web || !self->web_d)
            goto fail;
    }
    log_started ("address=%s port=%ld web_port=%ld web_root=%s brokers=%zu broker=%s%s",
                 cfg->bind_address, cfg->port, cfg->web_port, cfg->web_root, cfg->brokers.n,
                 conf_endpoints_get (&cfg->brokers, 0), cfg->brokers.n > 1 ? ",..." : "");
    return self;
fail:
    edge_destroy (&self);
    return NULL;
}

void
edge_destroy (edge_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    edge_t *self = *self_p;
    //  MHD must not be stopped with suspended connections: answer and resume them first.
    if (self->link)
        broker_link_fail_all (self->link, "shutting_down", "the server is shutting down");
    if (self->api_d) {
        MHD_run (self->api_d);
        MHD_stop_daemon (self->api_d);
    }
    if (self->web_d)
        MHD_stop_daemon (self->web_d);
    static_destroy (&self->web);
    conns_destroy (&self->conns);
    broker_link_destroy (&self->link);
    upload_destroy (&self->upload);
    guard_destroy (&self->guard);
    metrics_destroy (&self->metrics);
    free (self->metric_rows);
    free (self);
    *self_p = NULL;
}

//  Poll timeout: MHD's, the broker link's next ping or deadline, or the next header
//  deadline, whichever is first (conns_expire shuts down the connections already past it).
static long
s_poll_timeout (edge_t *self)
{
    int64_t now = zclock_mono ();
    int64_t t = broker_link_next_ms (self->link, now);
    int64_t c = conns_expire (self->conns, now);
    if (c < t)
        t = c;
    struct MHD_Daemon *ds [2] = { self->api_d, self->web_d };
    for (int i = 0; i < 2; i++) {
        MHD_UNSIGNED_LONG_LONG mt;
        if (ds [i] && MHD_get_timeout (ds [i], &mt) == MHD_YES && (int64_t) mt < t)
            t = (int64_t) mt;
    }
    return t < 0 ? 0 : (long) t;
}

//  True when MHD has work now: its epoll fd was ready, or it asks to run at once (a
//  timeout due, or data or a connection it left ready under its edge-triggered epoll:
//  MHD_get_timeout answers 0 for those).
static bool
s_daemon_due (struct MHD_Daemon *d, const zmq_pollitem_t *item)
{
    MHD_UNSIGNED_LONG_LONG mt;
    return d && ((item->revents & ZMQ_POLLIN)
              || (MHD_get_timeout (d, &mt) == MHD_YES && mt == 0));
}

//  Runs a daemon only when it has work: an idle MHD_run is still an epoll_wait, a system
//  call, and the loop wakes once or twice per request.
static void
s_run_daemons (edge_t *self, const zmq_pollitem_t *daemons)
{
    if (s_daemon_due (self->api_d, &daemons [0]))
        MHD_run (self->api_d);
    if (s_daemon_due (self->web_d, &daemons [1]))
        MHD_run (self->web_d);
}

int
edge_run (edge_t *self)
{
    //  The link's sockets, then the daemons'.
    zmq_pollitem_t items [BROKER_LINK_POLL_MAX + 2];
    size_t nlink = broker_link_poll_items (self->link, items);
    zmq_pollitem_t *daemons = items + nlink;
    daemons [0] = (zmq_pollitem_t) { NULL, self->api_epfd, ZMQ_POLLIN, 0 };
    daemons [1] = (zmq_pollitem_t) { NULL, self->web_epfd, ZMQ_POLLIN, 0 };
    int nitems = (int) nlink + (self->web_d ? 2 : 1);
    int64_t drain_until = 0;
    while (true) {
        if (stop_requested && !drain_until) {
            drain_until = zclock_mono () + EDGE_DRAIN_MS;
            MHD_socket fd = MHD_quiesce_daemon (self->api_d);
            if (fd != MHD_INVALID_SOCKET)
                close (fd);
            if (self->web_d && (fd = MHD_quiesce_daemon (self->web_d)) != MHD_INVALID_SOCKET)
                close (fd);
            log_info ("event=draining inflight=%zu", broker_link_inflight (self->link));
        }
        if (drain_until && (broker_link_inflight (self->link) == 0 || zclock_mono () >= drain_until))
            break;
        long timeout = s_poll_timeout (self);
        if (drain_until && timeout > 50)
            timeout = 50;
        int rc = zmq_poll (items, nitems, timeout);
        if (rc < 0 && errno != EINTR) {
            log_error ("event=poll_failed err=\"%s\"", zmq_strerror (errno));
            break;
        }
        if (rc <= 0)
            for (int i = 0; i < nitems; i++)
                items [i].revents = 0;
        s_run_daemons (self, daemons);
        //  Every reply resumes a connection; so may a deadline or the broker's death.
        int64_t now = zclock_mono ();
        memtrim_maybe (now);
        bool resumed = broker_link_drain (self->link, items);
        if (broker_link_timers (self->link, now))
            resumed = true;
        //  Resumed connections are answered by the API daemon's next run: now.
        if (resumed)
            MHD_run (self->api_d);
    }
    //  Let the last answers go out before the daemons stop.
    int64_t flush_until = zclock_mono () + 200;
    broker_link_fail_all (self->link, "shutting_down", "the server is shutting down");
    while (zclock_mono () < flush_until) {
        zmq_poll (daemons, nitems - (int) nlink, 20);
        MHD_run (self->api_d);          //  the connections broker_link_fail_all resumed
        if (self->web_d)
            MHD_run (self->web_d);
    }
    log_info ("event=stopped inflight=%zu", broker_link_inflight (self->link));
    return 0;
}
