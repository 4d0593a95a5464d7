/*  ws: libwebsockets server at /ws. A client authenticates with ?token= or a first text
    frame {"token":"..."}; the hub then asks the broker (auth.me) whether its user exists
    and with which role, and only then sends: the current state of every job in the cache
    that role may see (snapshot, read from the cache as the socket drains), and every new
    event of those jobs through its bounded queue (clientq). The user is checked again
    every recheck_ms while the socket lives.  */
#include "ws.h"
#include "clientq.h"
#include "snapshot.h"
#include "../common/log.h"
#include "../common/rand.h"
#include "../common/warnrate.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define S_ORIGINS_MAX       16
#define S_ORIGIN_LEN        256
//  One WRITEABLE of one client writes at most S_WRITES_PER_TURN frames and about
//  S_BYTES_PER_TURN bytes (a frame begun is finished), and passes over at most
//  S_SKIPS_PER_TURN cache entries the client may not see: however much a client is owed,
//  it holds the loop for a bounded time and the others get their turn.
#define S_WRITES_PER_TURN   16
#define S_BYTES_PER_TURN    65536
#define S_SKIPS_PER_TURN    4096
#define S_ADDRESS_LEN       64      //  an IPv6 address in text, with room to spare
#define S_CLOSE_GRACE_S     2       //  a closing client that cannot even take the close frame

//  S_AUTH: waiting for a token. S_CHECKING: token valid, auth.me not answered yet (no
//  event, no current state). S_LIVE: receiving events. S_CLOSING: close frame queued.
typedef enum { S_AUTH = 0, S_CHECKING, S_LIVE, S_CLOSING } s_state_t;

typedef struct s_client_s {
    struct lws *wsi;
    struct s_client_s *prev, *next;
    bool linked;
    s_state_t state;
    clientq_t *q;
    snapshot_t owed;                //  the current state not sent yet
    int close_code;
    char close_reason [96];
    char sub [UUID_STRLEN + 1];
    svc_role_t role;                //  the database's once checked; the token's before
    long exp;
    int peer_code;                  //  the close code the client sent, 0 when none
    bool pending;                   //  counted in pending_by_address (not live yet)
    char address [S_ADDRESS_LEN];   //  the peer's IP, as lws gives it
    char check_rid [RAND_ID_STRLEN + 1];    //  the auth.me in flight for us; "" when none
    int64_t recheck_at;             //  zclock_mono ms of the next auth.me while live
    size_t msg_len;                 //  bytes of the client message coming in, so far
    char *parts;                    //  S_AUTH: a message that comes in parts, so far (heap,
    size_t parts_len;               //  WS_CLIENT_FRAME_MAX, only while it comes)
} s_client_t;

typedef struct {
    int code;
    uint64_t count;
} s_close_count_t;

struct ws_s {
    ws_config_t cfg;
    struct lws_context *context;
    struct lws_vhost *vhost;
    s_client_t *clients;            //  every established connection, any state
    size_t n_clients;
    //  Connections not live yet (no token, or its user not checked), by peer address:
    //  address -> count, at most one entry per such connection, so bounded by max_clients.
    zhashx_t *pending_by_address;
    uint64_t refused_pending;       //  closed 1013 for too many pending from one address
    warnrate_t refusal_warns;       //  a flood of handshakes is counted, not logged line by line
    char origins [S_ORIGINS_MAX][S_ORIGIN_LEN];
    size_t n_origins;

    //  Metrics.
    uint64_t connections;           //  WebSocket handshakes completed
    uint64_t dropped_slow;          //  closed 4009
    uint64_t coalesced;             //  a pending progress replaced in a client's queue
    uint64_t snapshot_events;       //  current states sent (on connect, after a resync)
    s_close_count_t closes [WS_CLOSE_CODES_MAX];
    size_t n_closes;
    uint64_t closes_other;          //  codes beyond the table
    //  auth.me answers by outcome, and checks that could not be sent.
    uint64_t checks_ok, checks_refused, checks_error, checks_timeout, checks_not_sent;
};

//  A socket without a user yet costs a slot of HUB_MAX_CLIENTS and holds it up to the auth
//  timeout (and, closing, the close grace): without a bound per address, one host opening
//  handshakes in a loop fills every slot and locks the real users out. -1 when this
//  address already has pending_per_address such sockets.
static int
s_pending_begin (ws_t *self, s_client_t *c, struct lws *wsi)
{
    if (!lws_get_peer_simple (wsi, c->address, sizeof c->address))
        snprintf (c->address, sizeof c->address, "?");
    uintptr_t n = (uintptr_t) zhashx_lookup (self->pending_by_address, c->address);
    if (self->cfg.pending_per_address > 0 && (long) n >= self->cfg.pending_per_address) {
        self->refused_pending++;
        return -1;
    }
    zhashx_update (self->pending_by_address, c->address, (void *) (n + 1));
    c->pending = true;
    return 0;
}

//  The socket went live, or closed: it no longer counts against its address.
static void
s_pending_end (ws_t *self, s_client_t *c)
{
    if (!c->pending)
        return;
    c->pending = false;
    uintptr_t n = (uintptr_t) zhashx_lookup (self->pending_by_address, c->address);
    if (n > 1)
        zhashx_update (self->pending_by_address, c->address, (void *) (n - 1));
    else
        zhashx_delete (self->pending_by_address, c->address);
}

//  Idle sockets: lws pings after 20 s without traffic and hangs up after 50 s with no
//  valid pong (browsers answer pings themselves).
static const lws_retry_bo_t s_idle_policy = {
    .secs_since_valid_ping = 20,
    .secs_since_valid_hangup = 50,
};

static void
s_close (s_client_t *c, int code, const char *reason)
{
    if (c->state == S_CLOSING)
        return;
    c->state = S_CLOSING;
    c->close_code = code;
    snprintf (c->close_reason, sizeof c->close_reason, "%s", reason);
    lws_callback_on_writable (c->wsi);
    //  A client that never reads never becomes writable: cut it off after a grace.
    lws_set_timeout (c->wsi, PENDING_TIMEOUT_USER_OK, S_CLOSE_GRACE_S);
    char quoted [2 * sizeof c->close_reason + 3];
    log_info ("event=ws_close code=%d reason=%s sub=%s", code,
              log_quote (quoted, sizeof quoted, reason), c->sub [0] ? c->sub : "-");
}

static void
s_push (ws_t *self, s_client_t *c, const cache_entry_t *e)
{
    clientq_result_t rc = clientq_push (c->q, e->kind, e->job_id, e->payload);
    if (rc == CLIENTQ_FULL) {
        self->dropped_slow++;
        s_close (c, WS_CLOSE_TOO_SLOW, "too slow: send queue full");
        return;
    }
    if (rc == CLIENTQ_COALESCED)
        self->coalesced++;
    lws_callback_on_writable (c->wsi);
}

//  Counts one closed connection by its close code (bounded table).
static void
s_count_close (ws_t *self, int code)
{
    for (size_t i = 0; i < self->n_closes; i++)
        if (self->closes [i].code == code) {
            self->closes [i].count++;
            return;
        }
    if (self->n_closes < WS_CLOSE_CODES_MAX)
        self->closes [self->n_closes++] = (s_close_count_t) { code, 1 };
    else
        self->closes_other++;
}

//  The client is owed the current state of the whole cache.
static void
s_snapshot (ws_t *self, s_client_t *c)
{
    snapshot_add (&c->owed, 0, cache_stamp (self->cfg.cache));
    lws_callback_on_writable (c->wsi);
}

//  When the next re-check is due: within the last quarter of recheck_ms from now, so
//  that clients who connected together (a hub restart) do not all ask at once.
static int64_t
s_recheck_at (ws_t *self, int64_t now)
{
    uint32_t r;
    rand_bytes (&r, sizeof r);
    long spread = self->cfg.recheck_ms / 4;
    return now + self->cfg.recheck_ms - (spread > 0 ? (int64_t) (r % (uint32_t) spread) : 0);
}

//  Asks auth.me for c's user as its token names it. -1 when calls takes no more now.
static int
s_check (ws_t *self, s_client_t *c)
{
    int rc = calls_send (self->cfg.calls, SVC_AUTH_ME, c->sub, c->role, "{}", c, c->check_rid);
    if (rc)
        self->checks_not_sent++;
    return rc;
}

//  The role in auth.me's answer (the user as the database has it); NONE when absent.
static svc_role_t
s_reply_role (zframe_t *payload)
{
    json_t *root = payload ? json_loadb ((const char *) zframe_data (payload),
                                         zframe_size (payload), 0, NULL) : NULL;
    svc_role_t role = svc_role_parse (json_string_value (json_object_get (root, "role")));
    json_decref (root);
    return role;
}

//  auth.me's status as the client's check sees it (a 200 without a role is no user), counted.
static int
s_check_status (ws_t *self, int status, zframe_t *payload, svc_role_t *role)
{
    *role = status == 200 ? s_reply_role (payload) : SVC_ROLE_NONE;
    if (status == 200 && *role == SVC_ROLE_NONE) {
        log_error ("event=bad_reply service=auth.me msg=\"user without role\"");
        status = 502;
    }
    if (status == 200)
        self->checks_ok++;
    else
    if (status == 401 || status == 403 || status == 404)
        self->checks_refused++;
    else
    if (status == CALLS_TIMEOUT)
        self->checks_timeout++;
    else
        self->checks_error++;
    return status;
}

static void
s_authenticate (ws_t *self, s_client_t *c, const char *token)
{
    jwt_hs256_claims_t claims;
    const char *why = NULL;
    if (jwt_hs256_verify (self->cfg.jwt, token, time (NULL), &claims, &why)) {
        if (why && !strcmp (why, "expired"))
            s_close (c, WS_CLOSE_EXPIRED, "token expired");
        else
            s_close (c, WS_CLOSE_BAD_TOKEN, "invalid token");
        return;
    }
    memcpy (c->sub, claims.sub, sizeof c->sub);
    c->role = claims.role;
    c->exp = claims.exp;
    lws_set_timer_usecs (c->wsi, LWS_SET_TIMER_USEC_CANCEL);
    //  The token says who the user was at login: whether they still exist, and their role
    //  now, only the database knows. Nothing is sent until it has answered.
    if (s_check (self, c)) {
        s_close (c, WS_CLOSE_TRY_LATER, "cannot check the user now, try again later");
        return;
    }
    c->state = S_CHECKING;
}

void
ws_user_checked (ws_t *self, void *owner, int status, zframe_t *payload)
{
    s_client_t *c = (s_client_t *) owner;
    c->check_rid [0] = 0;
    svc_role_t role;
    status = s_check_status (self, status, payload, &role);
    if (c->state != S_CHECKING && c->state != S_LIVE)
        return;
    int64_t now = zclock_mono ();
    if (status == 200) {
        if (c->state == S_LIVE && role != c->role)
            log_info ("event=ws_role_changed sub=%s from=%s to=%s", c->sub,
                      svc_role_name (c->role), svc_role_name (role));
        //  The database's role decides what the client sees from now on; a demoted admin
        //  stops receiving other users' events at once (the socket stays open).
        c->role = role;
        c->recheck_at = s_recheck_at (self, now);
        if (c->state == S_CHECKING) {
            c->state = S_LIVE;
            s_pending_end (self, c);
            log_info ("event=ws_auth sub=%s role=%s clients=%zu", c->sub, svc_role_name (c->role),
                      self->n_clients);
            s_snapshot (self, c);
        }
        return;
    }
    if (status == 401 || status == 403 || status == 404) {
        log_info ("event=ws_user_refused sub=%s status=%d", c->sub, status);
        s_close (c, WS_CLOSE_BAD_TOKEN, "invalid token");
        return;
    }
    //  The broker or the database cannot say now (503, timeout). A new client is told to
    //  come back; a live one keeps its stream and is asked again soon.
    if (c->state == S_CHECKING)
        s_close (c, WS_CLOSE_TRY_LATER, "cannot check the user now, try again later");
    else
        c->recheck_at = now + WS_RECHECK_RETRY_MS;
}

void
ws_recheck (ws_t *self, int64_t now_ms)
{
    int sent = 0;
    for (s_client_t *c = self->clients; c && sent < WS_RECHECKS_PER_SWEEP; c = c->next) {
        if (c->state != S_LIVE || c->check_rid [0] || c->recheck_at > now_ms)
            continue;
        if (s_check (self, c))
            return;                 //  full: the rest wait for the next sweep
        sent++;
    }
}

static bool
s_origin_allowed (ws_t *self, struct lws *wsi)
{
    char origin [S_ORIGIN_LEN];
    int len = lws_hdr_total_length (wsi, WSI_TOKEN_ORIGIN);
    if (len <= 0)
        return true;                //  not a browser: nothing to check
    if (len >= (int) sizeof origin
    ||  lws_hdr_copy (wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0)
        return false;
    size_t n = strlen (origin);
    while (n && origin [n - 1] == '/')
        origin [--n] = 0;
    for (size_t i = 0; i < self->n_origins; i++)
        if (!strcasecmp (self->origins [i], origin))
            return true;
    return false;
}

static void
s_established (ws_t *self, s_client_t *c, struct lws *wsi)
{
    memset (c, 0, sizeof *c);
    c->wsi = wsi;
    c->next = self->clients;
    if (self->clients)
        self->clients->prev = c;
    self->clients = c;
    c->linked = true;
    self->n_clients++;
    self->connections++;
    c->q = clientq_new ((size_t) self->cfg.queue_max);
    if (!c->q) {
        s_close (c, WS_CLOSE_TRY_LATER, "out of memory");
        return;
    }
    if ((long) self->n_clients > self->cfg.max_clients) {
        s_close (c, WS_CLOSE_TRY_LATER, "too many clients");
        return;
    }
    if (s_pending_begin (self, c, wsi)) {
        if (warnrate_allowed (&self->refusal_warns, zclock_mono (), self->refused_pending))
            log_warn ("event=ws_refused reason=pending_per_address address=%s refused=%llu",
                      c->address, (unsigned long long) self->refused_pending);
        s_close (c, WS_CLOSE_TRY_LATER, "too many connections waiting to authenticate");
        return;
    }
    if (!s_origin_allowed (self, wsi)) {
        s_close (c, WS_CLOSE_BAD_ORIGIN, "origin not allowed");
        return;
    }
    char buf [JWT_HS256_TOKEN_MAX + 16];
    const char *token = lws_get_urlarg_by_name (wsi, "token=", buf, (int) sizeof buf);
    if (token && *token) {
        s_authenticate (self, c, token);
        return;
    }
    lws_set_timer_usecs (wsi, (lws_usec_t) self->cfg.auth_timeout_ms * 1000);
}

static void
s_closed (ws_t *self, s_client_t *c)
{
    free (c->parts);
    c->parts = NULL;
    if (!c->linked)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        self->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->linked = false;
    self->n_clients--;
    s_pending_end (self, c);
    calls_forget (self->cfg.calls, c->check_rid);
    c->check_rid [0] = 0;
    //  Ours if we closed it, else the client's; 1006 when it left without a close frame.
    s_count_close (self, c->state == S_CLOSING ? c->close_code : c->peer_code ? c->peer_code : 1006);
    clientq_destroy (&c->q);
}

//  A client message, whole: RFC 6455 lets it come in several frames (continuations), and
//  lws hands a frame over in parts when it is larger than its buffer. Bounded as a whole
//  by WS_CLIENT_FRAME_MAX in any state; only the token message is kept, and only while
//  its parts come.
static void
s_receive (ws_t *self, s_client_t *c, const void *in, size_t len)
{
    if (c->state == S_CLOSING)
        return;
    //  What is still to come of this frame counts too: a frame that declares more than the
    //  bound is refused at its first bytes, not held open while it trickles in.
    c->msg_len += len;
    if (c->msg_len + lws_remaining_packet_payload (c->wsi) > WS_CLIENT_FRAME_MAX) {
        s_close (c, WS_CLOSE_TOO_BIG, "message too big");
        return;
    }
    bool last = lws_is_final_fragment (c->wsi) && lws_remaining_packet_payload (c->wsi) == 0;
    if (last)
        c->msg_len = 0;
    if (c->state != S_AUTH)
        return;                     //  after auth, client messages are ignored
    const char *msg = (const char *) in;
    size_t msg_len = len;
    if (!last || c->parts) {
        //  From the message's first part on (the state never goes back to S_AUTH), so
        //  parts_len + len is the message so far: at most WS_CLIENT_FRAME_MAX.
        if (!c->parts && !(c->parts = malloc (WS_CLIENT_FRAME_MAX))) {
            s_close (c, WS_CLOSE_TRY_LATER, "out of memory");
            return;
        }
        memcpy (c->parts + c->parts_len, in, len);
        c->parts_len += len;
        if (!last)
            return;
        msg = c->parts;
        msg_len = c->parts_len;
    }
    //  Two "token" members are refused, as in a REST body: another reader could take the
    //  first where jansson keeps the last.
    json_error_t jerr;
    json_t *root = json_loadb (msg, msg_len, JSON_REJECT_DUPLICATES, &jerr);
    const char *token = json_string_value (json_object_get (root, "token"));
    if (token && !lws_frame_is_binary (c->wsi))
        s_authenticate (self, c, token);
    else
        s_close (c, WS_CLOSE_BAD_TOKEN, "expected {\"token\":\"...\"}");
    json_decref (root);
    free (c->parts);
    c->parts = NULL;
    c->parts_len = 0;
}

//  The next frame for c: its queue of live events and what it is owed take turns (on
//  owed_turn the owed one goes first), so neither starves the other. An owed job waits
//  while the queue holds an event of it, which is older: a job's states arrive in order.
//  Sets *owed to the entry when the frame is an owed one. NULL: nothing to send now.
static event_payload_t *
s_next_frame (ws_t *self, s_client_t *c, bool owed_turn, size_t *budget, cache_entry_t **owed)
{
    *owed = NULL;
    event_payload_t *queued = clientq_front (c->q);
    if (queued && !owed_turn)
        return queued;
    cache_entry_t *e = snapshot_next (&c->owed, self->cfg.cache, c->role, c->sub, budget);
    if (e && !(queued && clientq_holds (c->q, e->job_id))) {
        *owed = e;
        return e->payload;
    }
    return queued;
}

static int
s_writeable (ws_t *self, s_client_t *c)
{
    if (c->state == S_CLOSING) {
        lws_close_reason (c->wsi, (enum lws_close_status) c->close_code,
                          (unsigned char *) c->close_reason, strlen (c->close_reason));
        return -1;
    }
    size_t bytes = 0, budget = S_SKIPS_PER_TURN;
    for (int i = 0; i < S_WRITES_PER_TURN && bytes < S_BYTES_PER_TURN; i++) {
        cache_entry_t *owed;
        event_payload_t *p = s_next_frame (self, c, i % 2 == 1, &budget, &owed);
        if (!p)
            break;
        size_t len = p->len;
        int n = lws_write (c->wsi, p->buf + LWS_PRE, len, LWS_WRITE_TEXT);
        if (owed) {
            snapshot_sent (&c->owed, owed);
            self->snapshot_events++;
        }
        else
            clientq_pop (c->q);
        if (n < (int) len)
            return -1;
        bytes += len;
        if (lws_send_pipe_choked (c->wsi))
            break;
    }
    if (clientq_size (c->q) || snapshot_owed (&c->owed))
        lws_callback_on_writable (c->wsi);
    return 0;
}

//  The metrics text in one 200 answer (a few KB: lws buffers what the socket does not take
//  at once), then the connection may carry another request.
static int
s_http_metrics (ws_t *self, struct lws *wsi)
{
    size_t len = 0;
    char *text = self->cfg.metrics_text (self->cfg.arg, &len);
    if (!text) {
        lws_return_http_status (wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, NULL);
        return -1;
    }
    unsigned char head [LWS_PRE + 512];
    unsigned char *start = head + LWS_PRE, *p = start, *end = head + sizeof head;
    unsigned char *body = malloc (LWS_PRE + len + 1);
    int rc = -1;
    if (!body
    ||  lws_add_http_common_headers (wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8",
                                     (lws_filepos_t) len, &p, end)
    ||  lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                      (const unsigned char *) "no-store", 8, &p, end)
    ||  lws_finalize_write_http_header (wsi, start, &p, end))
        goto done;
    memcpy (body + LWS_PRE, text, len);
    if (lws_write (wsi, body + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) != (int) len)
        goto done;
    rc = lws_http_transaction_completed (wsi) ? -1 : 0;
done:
    free (body);
    free (text);
    return rc;
}

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    ws_t *self = (ws_t *) lws_context_user (lws_get_context (wsi));
    s_client_t *c = (s_client_t *) user;
    switch (reason) {
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
            char uri [64];
            if (lws_hdr_copy (wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp (uri, "/ws"))
                return 1;           //  handshake refused: only /ws upgrades
            return 0;
        }
        case LWS_CALLBACK_ESTABLISHED:
            s_established (self, c, wsi);
            return 0;
        case LWS_CALLBACK_RECEIVE:
            s_receive (self, c, in, len);
            return 0;
        case LWS_CALLBACK_SERVER_WRITEABLE:
            return s_writeable (self, c);
        case LWS_CALLBACK_TIMER:
            if (c->state == S_AUTH)
                s_close (c, WS_CLOSE_BAD_TOKEN, "no token sent in time");
            return 0;
        case LWS_CALLBACK_CLOSED:
            s_closed (self, c);
            return 0;
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
            const unsigned char *code = (const unsigned char *) in;
            //  No code in the frame: 1005, "no status received", as RFC 6455 names it.
            c->peer_code = len >= 2 ? (code [0] << 8) | code [1] : 1005;
            return 0;
        }
        case LWS_CALLBACK_HTTP:
            //  Plain HTTP: GET /metrics, else only WebSocket upgrades are served here.
            if (in && !strcmp ((const char *) in, "/metrics") && self->cfg.metrics_text)
                return s_http_metrics (self, wsi);
            lws_return_http_status (wsi, HTTP_STATUS_NOT_FOUND, NULL);
            return -1;
        default:
            return lws_callback_http_dummy (wsi, reason, user, in, len);
    }
}

static int
s_fd_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    ws_t *self = (ws_t *) lws_context_user (lws_get_context (wsi));
    if (reason == LWS_CALLBACK_RAW_RX_FILE && self && self->cfg.on_fd_readable)
        self->cfg.on_fd_readable (self->cfg.arg);
    return 0;
}

static const struct lws_protocols s_protocols [] = {
    { "ticketd-events", s_callback, sizeof (s_client_t), WS_CLIENT_FRAME_MAX, 0, NULL,
      EVENT_BODY_MAX + LWS_PRE },
    { "hub-fd", s_fd_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
s_lws_log (int level, const char *line)
{
    char quoted [512];
    char text [400];
    snprintf (text, sizeof text, "%s", line);
    size_t n = strlen (text);
    while (n && (text [n - 1] == '\n' || text [n - 1] == '\r'))
        text [--n] = 0;
    if (level & LLL_ERR)
        log_error ("event=lws msg=%s", log_quote (quoted, sizeof quoted, text));
    else
        log_warn ("event=lws msg=%s", log_quote (quoted, sizeof quoted, text));
}

ws_t *
ws_new (const ws_config_t *cfg)
{
    ws_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->refusal_warns.event = "ws_refused";
    self->pending_by_address = zhashx_new ();
    if (!self->pending_by_address) {
        free (self);
        return NULL;
    }
    //  Allowed origins: a comma-separated list, trailing slashes ignored.
    const char *p = cfg->origins ? cfg->origins : "";
    while (*p && self->n_origins < S_ORIGINS_MAX) {
        size_t n = strcspn (p, ",");
        while (n && (p [n - 1] == '/' || p [n - 1] == ' '))
            n--;
        while (n && *p == ' ') {
            p++;
            n--;
        }
        if (n && n < S_ORIGIN_LEN) {
            memcpy (self->origins [self->n_origins], p, n);
            self->origins [self->n_origins++][n] = 0;
        }
        p += strcspn (p, ",");
        if (*p == ',')
            p++;
    }
    lws_set_log_level (LLL_ERR | LLL_WARN, s_lws_log);

    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = cfg->port;
    info.iface = cfg->bind_address;
    info.protocols = s_protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = self;
    info.retry_and_idle_policy = &s_idle_policy;
    info.max_http_header_data = 8192;       //  the token may sit in the URL
    info.max_http_header_pool = 64;         //  concurrent handshakes; more wait their turn
    info.timeout_secs = 10;                 //  handshake
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (cfg->bind_address && !strchr (cfg->bind_address, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    self->context = lws_create_context (&info);
    if (!self->context) {
        log_error ("event=ws_listen_failed port=%d bind=%s", cfg->port,
                   cfg->bind_address ? cfg->bind_address : "*");
        zhashx_destroy (&self->pending_by_address);
        free (self);
        return NULL;
    }
    self->vhost = lws_get_vhost_by_name (self->context, "default");
    log_info ("event=ws_listening port=%d origins=%zu", cfg->port, self->n_origins);
    return self;
}

void
ws_destroy (ws_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ws_t *self = *self_p;
    lws_context_destroy (self->context);    //  calls CLOSED for every client left
    zhashx_destroy (&self->pending_by_address);
    free (self);
    *self_p = NULL;
}

struct lws_context *
ws_context (ws_t *self)
{
    return self->context;
}

int
ws_watch_fd (ws_t *self, int fd)
{
    lws_sock_file_fd_type u;
    u.filefd = dup (fd);
    if (u.filefd < 0 || !self->vhost
    ||  !lws_adopt_descriptor_vhost (self->vhost, LWS_ADOPT_RAW_FILE_DESC, u, "hub-fd", NULL)) {
        log_warn ("event=fd_adopt_failed fd=%d", fd);
        return -1;
    }
    return 0;
}

void
ws_publish (ws_t *self, const cache_entry_t *entry)
{
    for (s_client_t *c = self->clients; c; c = c->next)
        if (c->state == S_LIVE && event_visible (c->role, c->sub, entry->created_by)
        &&  !snapshot_owes (&c->owed, entry->stamp))
            s_push (self, c, entry);
}

void
ws_catch_up (ws_t *self, uint64_t after, uint64_t upto)
{
    for (s_client_t *c = self->clients; c; c = c->next)
        if (c->state == S_LIVE) {
            snapshot_add (&c->owed, after, upto);
            lws_callback_on_writable (c->wsi);
        }
}

void
ws_sweep (ws_t *self, time_t now_s)
{
    for (s_client_t *c = self->clients; c; c = c->next)
        if (c->state == S_LIVE && c->exp <= (long) now_s)
            s_close (c, WS_CLOSE_EXPIRED, "token expired");
}

void
ws_close_all (ws_t *self, int code, const char *reason)
{
    for (s_client_t *c = self->clients; c; c = c->next)
        s_close (c, code, reason);
}

size_t
ws_clients (ws_t *self)
{
    return self->n_clients;
}

void
ws_write_metrics (ws_t *self, FILE *f)
{
    fprintf (f, "# HELP ws_clients WebSocket connections open now (authenticated or not yet).\n"
                "# TYPE ws_clients gauge\nws_clients %zu\n", self->n_clients);
    fprintf (f, "# HELP ws_connections_total WebSocket handshakes completed.\n"
                "# TYPE ws_connections_total counter\nws_connections_total %llu\n",
             (unsigned long long) self->connections);
    fprintf (f, "# HELP ws_closed_total WebSocket connections closed, by close code (the hub's, "
                "else the client's; 1006: no close frame).\n# TYPE ws_closed_total counter\n");
    for (size_t i = 0; i < self->n_closes; i++)
        fprintf (f, "ws_closed_total{code=\"%d\"} %llu\n", self->closes [i].code,
                 (unsigned long long) self->closes [i].count);
    if (self->closes_other)
        fprintf (f, "ws_closed_total{code=\"other\"} %llu\n", (unsigned long long) self->closes_other);
    fprintf (f, "# HELP ws_refused_pending_total WebSocket connections closed 1013 because "
                "their address had HUB_PENDING_PER_ADDRESS connections not yet authenticated.\n"
                "# TYPE ws_refused_pending_total counter\nws_refused_pending_total %llu\n",
             (unsigned long long) self->refused_pending);
    fprintf (f, "# HELP hub_clients_dropped_slow_total Clients closed with 4009: send queue full "
                "even after coalescing.\n# TYPE hub_clients_dropped_slow_total counter\n"
                "hub_clients_dropped_slow_total %llu\n", (unsigned long long) self->dropped_slow);
    fprintf (f, "# HELP hub_user_checks_total auth.me checks of WebSocket users, by outcome.\n"
                "# TYPE hub_user_checks_total counter\n"
                "hub_user_checks_total{outcome=\"ok\"} %llu\n"
                "hub_user_checks_total{outcome=\"refused\"} %llu\n"
                "hub_user_checks_total{outcome=\"error\"} %llu\n"
                "hub_user_checks_total{outcome=\"timeout\"} %llu\n"
                "hub_user_checks_total{outcome=\"not_sent\"} %llu\n",
             (unsigned long long) self->checks_ok, (unsigned long long) self->checks_refused,
             (unsigned long long) self->checks_error, (unsigned long long) self->checks_timeout,
             (unsigned long long) self->checks_not_sent);
    size_t owing = 0;
    for (s_client_t *c = self->clients; c; c = c->next)
        owing += c->state == S_LIVE && snapshot_owed (&c->owed);
    fprintf (f, "# HELP hub_snapshot_events_total Current states sent from the cache (on connect, "
                "and what a resync brought), a frame at a time as each socket drains.\n"
                "# TYPE hub_snapshot_events_total counter\nhub_snapshot_events_total %llu\n"
                "# HELP hub_snapshot_clients Clients still owed part of the current state.\n"
                "# TYPE hub_snapshot_clients gauge\nhub_snapshot_clients %zu\n",
             (unsigned long long) self->snapshot_events, owing);
}

uint64_t
ws_coalesced (ws_t *self)
{
    return self->coalesced;
}
