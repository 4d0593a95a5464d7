/*  hub: the actor. lws_service is the one loop; the ZMQ_FDs of the XSUB and of the
    broker DEALER (calls) are adopted into it (edge-triggered: each wake drains until
    ZMQ_EVENTS has no POLLIN), and a 10 ms tick covers any missed edge, flushes throttled
    progress, expires broker calls, lets resync ask for the current state when events were
    lost, and runs the 1 s housekeeping (token expiry, re-checks).  */
#include "hub.h"
#include "cache.h"
#include "calls.h"
#include "event.h"
#include "resync.h"
#include "ws.h"
#include "../common/conf.h"
#include "../common/jwt.h"
#include "../common/log.h"
#include "../common/memtrim.h"

#include <czmq.h>
#include <string.h>

#define S_TICK_US           (10 * 1000)
#define S_HOUSEKEEP_MS      1000
#define S_DRAIN_MAX         10000       //  messages read per wake: the loop stays fair
#define S_HWM               10000       //  XSUB receive / XPUB send, per peer; beyond it drops
#define S_MAXMSGSIZE        (1024 * 1024)
//  On SIGTERM, how long close frames may take to go out before the context goes. The wait
//  ends as soon as every socket is closed, and one that cannot take its frame is cut after
//  ws.c's S_CLOSE_GRACE_S, so this bounds a loaded machine's slowness only: at 1 s, a CI run
//  beside a CPU hog saw a client lose its 1001 (EOF instead). Within ./manage.sh down's 10 s
//  and compose's 15 s grace.
#define S_SHUTDOWN_MS       5000

struct hub_s {
    hub_config_t cfg;
    zsock_t *xsub;
    zsock_t *xpub;
    curve_server_t *curve;          //  ZAP allow-list when CURVE is on, else NULL
    jwt_hs256_t *jwt;
    cache_t *cache;
    calls_t *calls;
    resync_t *resync;
    bool resyncing;                 //  an answer is being applied...
    uint64_t resync_after;          //  ...and the cache's stamp before its first job
    ws_t *ws;
    lws_sorted_usec_list_t tick;
    int64_t housekeep_at;
    size_t pending;                 //  cache entries with a throttled progress waiting
    //  Rate-limited logging of dropped frames: at most one line per second.
    uint64_t dropped, dropped_logged;
    int64_t drop_log_at;
    const char *last_drop_why;
    uint64_t received;
    uint64_t forwarded;             //  valid events sent on to the XPUB
    uint64_t stale;                 //  valid, out of order by the rules without seq: not fanned out
    uint64_t repeated;              //  a seq not newer than the cache holds: neither forwarded nor fanned out
    uint64_t throttled;             //  a waiting progress replaced by a newer event of its job
};

int
hub_config_load (hub_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    int rc = 0;
    rc |= conf_endpoint ("HUB_PUB_ENDPOINT", "tcp://127.0.0.1:5556", &cfg->pub_endpoint);
    rc |= conf_endpoint ("HUB_SUB_ENDPOINT", "tcp://127.0.0.1:5557", &cfg->sub_endpoint);
    rc |= conf_int ("WS_PORT", 3002, 1, 65535, &cfg->ws_port);
    rc |= conf_int ("WEB_PORT", 3000, 0, 65535, &cfg->web_port);
    rc |= conf_int ("PROGRESS_INTERVAL_MS", 100, 0, 60000, &cfg->progress_interval_ms);
    rc |= conf_int ("HUB_MAX_CLIENTS", 10000, 1, 1000000, &cfg->max_clients);
    rc |= conf_int ("HUB_CLIENT_QUEUE", 64, 1, 100000, &cfg->queue_max);
    rc |= conf_int ("HUB_CACHE_MAX", 10000, 1, 10000000, &cfg->cache_max);
    rc |= conf_int ("HUB_FINISHED_KEEP_MS", 60000, 0, 86400000, &cfg->keep_ms);
    rc |= conf_int ("HUB_AUTH_TIMEOUT_MS", 5000, 100, 600000, &cfg->auth_timeout_ms);
    rc |= conf_int ("HUB_PENDING_PER_ADDRESS", 256, 0, 1000000, &cfg->pending_per_address);
    rc |= conf_endpoints ("BROKER_ENDPOINTS", "BROKER_ENDPOINT", "tcp://127.0.0.1:5555",
                          &cfg->brokers);
    rc |= conf_int ("HUB_CHECK_TIMEOUT_MS", 5000, 100, 600000, &cfg->check_timeout_ms);
    rc |= conf_int ("HUB_RECHECK_MS", 60000, 500, 86400000, &cfg->recheck_ms);
    cfg->bind_address = conf_str ("BIND_ADDRESS", "127.0.0.1");
    //  Browsers: FRONTEND_URL, or the UI's own origins. Command-line clients (Python's
    //  websocket-client, websocat) send the hub's own origin by default; the hub serves no
    //  page from which a browser could send it, so allowing it costs nothing.
    const char *frontend = conf_str ("FRONTEND_URL", NULL);
    char ui [160];
    snprintf (ui, sizeof ui, "http://localhost:%ld,http://127.0.0.1:%ld,http://[::1]:%ld",
              cfg->web_port, cfg->web_port, cfg->web_port);
    snprintf (cfg->origins, sizeof cfg->origins, "%s,http://localhost:%ld,http://127.0.0.1:%ld",
              frontend ? frontend : ui, cfg->ws_port, cfg->ws_port);
    if (curve_server_config_load (&cfg->curve))
        return -1;
    rc |= conf_bind ("HUB_PUB_BIND", cfg->pub_endpoint, cfg->curve.cert_path != NULL,
                     &cfg->pub_endpoint);
    rc |= conf_bind ("HUB_SUB_BIND", cfg->sub_endpoint, cfg->curve.cert_path != NULL,
                     &cfg->sub_endpoint);
    rc |= curve_client_init ();             //  CURVE_CLIENT_CERT, CURVE_SERVER_KEY: the DEALER
    cfg->jwt_secret = conf_str ("JWT_SECRET", NULL);
    if (!cfg->jwt_secret || strlen (cfg->jwt_secret) < JWT_HS256_SECRET_MIN) {
        log_error ("event=bad_config var=JWT_SECRET msg=\"is required (at least %d bytes)\"",
                   JWT_HS256_SECRET_MIN);
        rc = -1;
    }
    return rc ? -1 : 0;
}

static void
s_drop (hub_t *self, const char *why)
{
    self->dropped++;
    self->last_drop_why = why;
    int64_t now = zclock_mono ();
    if (now >= self->drop_log_at) {
        log_warn ("event=event_dropped reason=%s dropped=%" PRIu64 " since_last_log=%" PRIu64,
                  why, self->dropped, self->dropped - self->dropped_logged);
        self->dropped_logged = self->dropped;
        self->drop_log_at = now + 1000;
    }
}

static void
s_fan_out (hub_t *self, cache_entry_t *entry, int64_t now)
{
    ws_publish (self->ws, entry);
    entry->sent_ms = now;
    entry->pending = false;
}

//  One valid event, from the XSUB or a resync: cached, forwarded on the XPUB unless it
//  repeats or goes back on a state already forwarded, and fanned out unless quiet (then
//  the caller does; progress at most every progress_interval_ms per job). Returns the
//  cache's verdict.
static cache_result_t
s_apply (hub_t *self, zmsg_t **msg_p, event_t *ev, bool quiet)
{
    int64_t now = zclock_mono ();
    cache_entry_t *entry = NULL;
    cache_result_t verdict = cache_apply (self->cache, ev, now, &entry);
    //  XPUB never blocks: a slow subscriber loses messages at its HWM.
    if (verdict != CACHE_SEEN && zmsg_send (msg_p, self->xpub) == 0)
        self->forwarded++;
    zmsg_destroy (msg_p);
    //  Quiet: the caller has it sent, which counts as a send for the throttle.
    if (verdict == CACHE_ACCEPTED && quiet) {
        entry->sent_ms = now;
        return verdict;
    }
    if (verdict == CACHE_ACCEPTED) {
        if (entry->missing > 0)
            resync_gap (self->resync, now);
        //  The progress waiting for its turn is superseded: it will never go out.
        if (entry->pending)
            self->throttled++;
        if (ev->info.kind != EVENT_PROGRESS
        ||  now - entry->sent_ms >= self->cfg.progress_interval_ms)
            s_fan_out (self, entry, now);
        else
        if (!entry->pending) {
            entry->pending = true;
            self->pending++;
        }
    }
    else {
        if (verdict == CACHE_SEEN)
            self->repeated++;
        else
            self->stale++;
        log_debug ("event=event_not_newer job=%s kind=%s seq=%lld", ev->info.job_id,
                   event_kind_name (ev->info.kind), ev->info.seq);
    }
    return verdict;
}

//  One message from the XSUB: validated, then applied.
static void
s_handle (hub_t *self, zmsg_t **msg_p)
{
    self->received++;
    event_t ev;
    const char *why = NULL;
    if (event_parse (*msg_p, &ev, &why)) {
        s_drop (self, why);
        zmsg_destroy (msg_p);
        return;
    }
    s_apply (self, msg_p, &ev, false);
    event_clear (&ev);
}

//  One job of a jobs.live answer, as an event: checked and applied like one from the
//  XSUB, but sent to WebSocket clients with the rest of the answer (s_on_resync_done).
static bool
s_on_resync_event (void *arg, zmsg_t **msg_p)
{
    hub_t *self = (hub_t *) arg;
    event_t ev;
    const char *why = NULL;
    if (event_parse (*msg_p, &ev, &why)) {
        log_warn ("event=resync_job_invalid reason=%s", why);
        zmsg_destroy (msg_p);
        return false;
    }
    if (!self->resyncing) {
        self->resyncing = true;
        self->resync_after = cache_stamp (self->cache);
    }
    bool taken = s_apply (self, msg_p, &ev, true) == CACHE_ACCEPTED;
    event_clear (&ev);
    return taken;
}

//  The jobs an answer corrected are the cache's stamps since its first job (the answer is
//  applied in one go): every client is owed those it may see, sent as its socket drains.
//  An answer after a restart holds every job of the last HUB_FINISHED_KEEP_MS.
static void
s_on_resync_done (void *arg)
{
    hub_t *self = (hub_t *) arg;
    if (self->resyncing)
        ws_catch_up (self->ws, self->resync_after, cache_stamp (self->cache));
    self->resyncing = false;
}

//  Reads everything waiting. ZMQ_FD is edge-triggered: stop only once ZMQ_EVENTS
//  says there is nothing left, or the next wake may never come (the tick covers that).
static void
s_drain (void *arg)
{
    hub_t *self = (hub_t *) arg;
    for (int i = 0; i < S_DRAIN_MAX && (zsock_events (self->xsub) & ZMQ_POLLIN); i++) {
        zmsg_t *msg = zmsg_recv (self->xsub);
        if (!msg)
            break;
        s_handle (self, &msg);
    }
    //  Subscriptions from XPUB peers: the XSUB already takes everything, so they are
    //  read (to free the queue) and not forwarded.
    for (int i = 0; i < S_DRAIN_MAX && (zsock_events (self->xpub) & ZMQ_POLLIN); i++) {
        zframe_t *frame = zframe_recv (self->xpub);
        if (!frame)
            break;
        zframe_destroy (&frame);
    }
    calls_drain (self->calls);
}

//  calls' answers: auth.me about a WebSocket client's user, jobs.live for resync.
static void
s_on_answer (void *arg, void *owner, const char *service, int status, zframe_t *payload)
{
    hub_t *self = (hub_t *) arg;
    if (!strcmp (service, SVC_AUTH_ME) && self->ws)
        ws_user_checked (self->ws, owner, status, payload);
    else
    if (!strcmp (service, SVC_JOBS_LIVE) && self->resync)
        resync_answer (self->resync, status, payload, zclock_mono ());
}

static void
s_flush_pending (hub_t *self, int64_t now)
{
    size_t still = 0;
    for (cache_entry_t *e = cache_first (self->cache); e; e = cache_next (self->cache)) {
        if (!e->pending)
            continue;
        if (now - e->sent_ms >= self->cfg.progress_interval_ms)
            s_fan_out (self, e, now);
        else
            still++;
    }
    self->pending = still;
}

static hub_t *s_ticking;            //  the sul callback gets no user pointer

static void
s_tick (lws_sorted_usec_list_t *sul)
{
    hub_t *self = s_ticking;
    if (!self)
        return;
    s_drain (self);
    int64_t now = zclock_mono ();
    calls_timers (self->calls, now);
    resync_timers (self->resync, now);
    if (self->pending)
        s_flush_pending (self, now);
    if (now >= self->housekeep_at) {
        self->housekeep_at = now + S_HOUSEKEEP_MS;
        size_t gone = cache_expire (self->cache, now);
        if (gone)
            log_debug ("event=cache_expired jobs=%zu size=%zu", gone, cache_size (self->cache));
        ws_sweep (self->ws, time (NULL));
        ws_recheck (self->ws, now);
        memtrim_maybe (now);
    }
    lws_sul_schedule (ws_context (self->ws), 0, &self->tick, s_tick, S_TICK_US);
}

//  GET /metrics on WS_PORT: counters of this process only, so it answers at once.
static char *
s_metrics_text (void *arg, size_t *len)
{
    hub_t *self = (hub_t *) arg;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    if (!f)
        return NULL;
    ws_write_metrics (self->ws, f);
    calls_write_metrics (self->calls, f);
    resync_write_metrics (self->resync, f);
    fprintf (f, "# HELP hub_events_received_total Messages read on the XSUB (HUB_PUB_ENDPOINT).\n"
                "# TYPE hub_events_received_total counter\nhub_events_received_total %" PRIu64 "\n",
             self->received);
    fprintf (f, "# HELP hub_events_invalid_total Messages dropped as malformed (frames, topic, JSON, size).\n"
                "# TYPE hub_events_invalid_total counter\nhub_events_invalid_total %" PRIu64 "\n",
             self->dropped);
    fprintf (f, "# HELP hub_events_forwarded_total Valid events re-published on the XPUB (HUB_SUB_ENDPOINT).\n"
                "# TYPE hub_events_forwarded_total counter\nhub_events_forwarded_total %" PRIu64 "\n",
             self->forwarded);
    fprintf (f, "# HELP hub_events_stale_total Valid events without seq, out of order for the "
                "job's cached state: not sent to WebSocket clients.\n"
                "# TYPE hub_events_stale_total counter\nhub_events_stale_total %" PRIu64 "\n",
             self->stale);
    fprintf (f, "# HELP hub_events_repeated_total Valid events whose seq is not newer than the "
                "job's cached state (re-published, or overtaken): neither forwarded nor sent.\n"
                "# TYPE hub_events_repeated_total counter\nhub_events_repeated_total %" PRIu64 "\n",
             self->repeated);
    fprintf (f, "# HELP hub_progress_coalesced_total Progress events dropped by coalescing: "
                "replaced while throttled (PROGRESS_INTERVAL_MS), or in a client's send queue.\n"
                "# TYPE hub_progress_coalesced_total counter\n"
                "hub_progress_coalesced_total{stage=\"throttle\"} %" PRIu64 "\n"
                "hub_progress_coalesced_total{stage=\"client_queue\"} %" PRIu64 "\n",
             self->throttled, ws_coalesced (self->ws));
    fprintf (f, "# HELP hub_cache_jobs Jobs in the last-value cache.\n"
                "# TYPE hub_cache_jobs gauge\nhub_cache_jobs %zu\n", cache_size (self->cache));
    fclose (f);
    *len = size;
    return text;
}

//  The XSUB that publishers connect to and the XPUB that subscribers connect to: options,
//  CURVE, binds, and the XSUB's subscription to everything. Returns 0, or -1 (logged).
static int
s_sockets_setup (hub_t *self)
{
    const hub_config_t *cfg = &self->cfg;
    self->xsub = zsock_new (ZMQ_XSUB);
    self->xpub = zsock_new (ZMQ_XPUB);
    if (!self->xsub || !self->xpub)
        return -1;
    zsock_set_rcvhwm (self->xsub, S_HWM);
    zsock_set_maxmsgsize (self->xsub, S_MAXMSGSIZE);
    zsock_set_linger (self->xsub, 0);
    zsock_set_sndhwm (self->xpub, S_HWM);
    zsock_set_linger (self->xpub, 0);
    //  With CURVE on, both endpoints admit only keys in CURVE_ALLOW_DIR: publishers only
    //  with role worker (their domain says so), so nobody else can inject events, and
    //  subscribers of any role, since events name users and jobs.
    if (cfg->curve.cert_path) {
        self->curve = curve_server_new (&cfg->curve);
        if (!self->curve)
            return -1;
        curve_server_apply (self->curve, self->xsub, CURVE_DOMAIN_HUB_PUB);
        curve_server_apply (self->curve, self->xpub, CURVE_DOMAIN_HUB_SUB);
    }
    else
        curve_warn_off ();
    if (zsock_bind (self->xsub, "%s", cfg->pub_endpoint) < 0) {
        log_error ("event=bind_failed var=HUB_PUB_ENDPOINT endpoint=%s err=\"%s\"",
                   cfg->pub_endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    if (zsock_bind (self->xpub, "%s", cfg->sub_endpoint) < 0) {
        log_error ("event=bind_failed var=HUB_SUB_ENDPOINT endpoint=%s err=\"%s\"",
                   cfg->sub_endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    //  The hub consumes every event itself, so the XSUB subscribes to everything.
    uint8_t subscribe_all = 1;
    if (zmq_send (zsock_resolve (self->xsub), &subscribe_all, 1, 0) != 1)
        return -1;
    return 0;
}

//  The broker client (auth.me about WebSocket users, jobs.live for the cache) and resync,
//  which uses it. Returns 0, or -1.
static int
s_calls_setup (hub_t *self)
{
    const hub_config_t *cfg = &self->cfg;
    //  Every authenticated client costs one auth.me at a time at most, and resync one
    //  jobs.live: the client limit bounds the calls in flight.
    calls_config_t ccfg = {
        .brokers = &cfg->brokers,
        .max_inflight = cfg->max_clients + 1,
        .timeout_ms = cfg->check_timeout_ms,
        .on_answer = s_on_answer,
        .arg = self,
    };
    self->calls = calls_new (&ccfg);
    if (!self->calls)
        return -1;
    resync_config_t rcfg = {
        .calls = self->calls,
        .cache = self->cache,
        .finished_ms = cfg->keep_ms,
        .on_event = s_on_resync_event,
        .on_done = s_on_resync_done,
        .arg = self,
    };
    self->resync = resync_new (&rcfg);
    if (!self->resync)
        return -1;
    if (self->curve && !curve_client_enabled ())
        log_warn ("event=curve_client_off var=CURVE_CLIENT_CERT msg=\"the hub asks the broker "
                  "about WebSocket users and live jobs without a CURVE key: set CURVE_CLIENT_CERT "
                  "(edge role) and CURVE_SERVER_KEY, or every WebSocket client is closed with 1013\"");
    return 0;
}

//  The WebSocket side (libwebsockets), whose loop also watches the ZeroMQ sockets' fds.
//  Returns 0, or -1.
static int
s_ws_setup (hub_t *self)
{
    const hub_config_t *cfg = &self->cfg;
    ws_config_t wcfg = {
        .port = (int) cfg->ws_port,
        .bind_address = cfg->bind_address && *cfg->bind_address ? cfg->bind_address : NULL,
        .origins = self->cfg.origins,
        .max_clients = cfg->max_clients,
        .queue_max = cfg->queue_max,
        .auth_timeout_ms = cfg->auth_timeout_ms,
        .pending_per_address = cfg->pending_per_address,
        .recheck_ms = cfg->recheck_ms,
        .jwt = self->jwt,
        .cache = self->cache,
        .calls = self->calls,
        .on_fd_readable = s_drain,
        .metrics_text = s_metrics_text,
        .arg = self,
    };
    self->ws = ws_new (&wcfg);
    if (!self->ws)
        return -1;
    if (ws_watch_fd (self->ws, zsock_fd (self->xsub)))
        log_warn ("event=fd_watch_unavailable msg=\"events are read on the 10 ms tick\"");
    if (ws_watch_fd (self->ws, zsock_fd (calls_socket (self->calls))))
        log_warn ("event=fd_watch_unavailable msg=\"broker replies are read on the 10 ms tick\"");
    return 0;
}

hub_t *
hub_new (const hub_config_t *cfg)
{
    hub_t *self = (hub_t *) zmalloc (sizeof (hub_t));
    self->cfg = *cfg;
    self->jwt = jwt_hs256_new (cfg->jwt_secret, strlen (cfg->jwt_secret), 60);
    self->cache = cache_new ((size_t) cfg->cache_max, cfg->keep_ms);
    if (!self->jwt || !self->cache || s_sockets_setup (self) || s_calls_setup (self)
    ||  s_ws_setup (self)) {
        hub_destroy (&self);
        return NULL;
    }
    log_started ("xsub=%s xpub=%s ws_port=%ld progress_interval_ms=%ld "
                 "max_clients=%ld cache_max=%ld curve=%s brokers=%s%s recheck_ms=%ld",
                 cfg->pub_endpoint, cfg->sub_endpoint, cfg->ws_port, cfg->progress_interval_ms,
                 cfg->max_clients, cfg->cache_max, self->curve ? "on" : "off",
                 conf_endpoints_get (&cfg->brokers, 0), cfg->brokers.n > 1 ? ",..." : "",
                 cfg->recheck_ms);
    return self;
}

void
hub_destroy (hub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hub_t *self = *self_p;
    if (s_ticking == self)
        s_ticking = NULL;
    ws_destroy (&self->ws);                 //  first: its clients forget their checks
    resync_destroy (&self->resync);
    calls_destroy (&self->calls);
    zsock_destroy (&self->xsub);
    zsock_destroy (&self->xpub);
    curve_server_destroy (&self->curve);
    cache_destroy (&self->cache);
    jwt_hs256_destroy (&self->jwt);
    free (self);
    *self_p = NULL;
}

int
hub_run (hub_t *self, volatile sig_atomic_t *stop)
{
    struct lws_context *context = ws_context (self->ws);
    s_ticking = self;
    lws_sul_schedule (context, 0, &self->tick, s_tick, S_TICK_US);
    while (!*stop)
        if (lws_service (context, 0) < 0)
            break;
    log_info ("event=hub_stopping clients=%zu", ws_clients (self->ws));
    ws_close_all (self->ws, WS_CLOSE_GOING_AWAY, "server shutting down");
    int64_t deadline = zclock_mono () + S_SHUTDOWN_MS;
    while (ws_clients (self->ws) && zclock_mono () < deadline)
        lws_service (context, 0);
    lws_sul_cancel (&self->tick);
    s_ticking = NULL;
    log_info ("event=hub_stopped received=%" PRIu64 " dropped=%" PRIu64, self->received,
              self->dropped);
    return 0;
}
