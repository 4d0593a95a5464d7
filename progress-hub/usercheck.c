/*  usercheck: auth.me over 7/MDP for the WebSocket side. Owns the DEALER and the table of
    checks in flight: a hash by request id, and a list in send order, which is deadline
    order since every check has the same timeout.  */
#include "usercheck.h"
#include "../common/log.h"
#include "../proto/mdp.h"

#include <jansson.h>
#include <string.h>

#define S_DRAIN_MAX     10000       //  replies read per wake: the loop stays fair

typedef struct s_check_s {
    char rid [RAND_ID_STRLEN + 1];
    void *owner;                    //  borrowed: the caller forgets the check before it goes
    int64_t deadline_ms;
    struct s_check_s *prev, *next;
} s_check_t;

struct usercheck_s {
    usercheck_config_t cfg;
    zsock_t *dealer;
    zhashx_t *checks;               //  rid -> s_check_t, owned (destructor frees)
    s_check_t *head, *tail;         //  the same checks, soonest deadline first

    uint64_t answered_ok;           //  200
    uint64_t answered_refused;      //  401, 403, 404
    uint64_t answered_other;        //  any other status (503...)
    uint64_t timeouts;
    uint64_t send_failed;           //  usercheck_ask refused: full, or broker not connected
    uint64_t replies_dropped;       //  malformed, late, or for another service
};

static void
s_check_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

//  Takes the check out of the list, then out of the table (which frees it).
static void
s_remove (usercheck_t *self, s_check_t *check)
{
    if (check->prev)
        check->prev->next = check->next;
    else
        self->head = check->next;
    if (check->next)
        check->next->prev = check->prev;
    else
        self->tail = check->prev;
    zhashx_delete (self->checks, check->rid);
}

//  Removes the check, then answers its owner (who may ask again from the callback).
static void
s_answer (usercheck_t *self, s_check_t *check, int status, svc_role_t role)
{
    void *owner = check->owner;
    s_remove (self, check);
    self->cfg.on_answer (self->cfg.arg, owner, status, role);
}

int
usercheck_ask (usercheck_t *self, const char *user, svc_role_t role, void *owner,
               char rid [RAND_ID_STRLEN + 1])
{
    rid [0] = 0;
    if ((long) zhashx_size (self->checks) >= self->cfg.max_inflight) {
        self->send_failed++;
        return -1;
    }
    s_check_t *check = (s_check_t *) calloc (1, sizeof *check);
    if (!check) {
        self->send_failed++;
        return -1;
    }
    rand_id (check->rid);
    zmsg_t *body = svc_request_encode (check->rid, user, role, "{}", 2);
    zmsg_t *msg = mdp_client_request_new (SVC_AUTH_ME, &body);
    //  SNDTIMEO 0 and IMMEDIATE: fails at once when the broker is not connected.
    if (!msg || zmsg_send (&msg, self->dealer)) {
        zmsg_destroy (&msg);
        free (check);
        self->send_failed++;
        return -1;
    }
    check->owner = owner;
    check->deadline_ms = zclock_mono () + self->cfg.timeout_ms;
    check->prev = self->tail;
    if (self->tail)
        self->tail->next = check;
    else
        self->head = check;
    self->tail = check;
    zhashx_insert (self->checks, check->rid, check);
    memcpy (rid, check->rid, RAND_ID_STRLEN + 1);
    return 0;
}

void
usercheck_forget (usercheck_t *self, const char *rid)
{
    s_check_t *check = rid && *rid ? (s_check_t *) zhashx_lookup (self->checks, rid) : NULL;
    if (check)
        s_remove (self, check);
}

//  The role in auth.me's answer (the user as the database has it); NONE when absent.
static svc_role_t
s_reply_role (svc_reply_t *reply)
{
    zframe_t *p = reply->payload;
    json_t *root = p ? json_loadb ((const char *) zframe_data (p), zframe_size (p), 0, NULL) : NULL;
    svc_role_t role = svc_role_parse (json_string_value (json_object_get (root, "role")));
    json_decref (root);
    return role;
}

static void
s_on_message (usercheck_t *self, zmsg_t **msg_p)
{
    char err [128];
    mdp_msg_t *mdp = mdp_msg_decode (msg_p, MDP_AT_CLIENT, err, sizeof err);
    if (!mdp) {
        self->replies_dropped++;
        log_warn ("event=bad_broker_message err=\"%s\"", err);
        return;
    }
    svc_reply_t *reply = mdp->kind == MDP_CLIENT_MSG
                       ? svc_reply_decode (&mdp->body, err, sizeof err) : NULL;
    //  A reply answers the check waiting under its id for auth.me, and nothing else: ids
    //  are never reused, and another service's reply under a waiting id is a forgery.
    s_check_t *check = reply ? (s_check_t *) zhashx_lookup (self->checks, reply->rid) : NULL;
    if (check && !strcmp (mdp->service, SVC_AUTH_ME)) {
        svc_role_t role = reply->status == 200 ? s_reply_role (reply) : SVC_ROLE_NONE;
        int status = reply->status;
        if (status == 200 && role == SVC_ROLE_NONE) {
            log_error ("event=bad_reply rid=%s service=auth.me msg=\"user without role\"", reply->rid);
            status = 502;
        }
        if (status == 200)
            self->answered_ok++;
        else
        if (status == 401 || status == 403 || status == 404)
            self->answered_refused++;
        else
            self->answered_other++;
        s_answer (self, check, status, role);
    }
    else {
        self->replies_dropped++;
        log_debug ("event=reply_dropped service=%s rid=%s reason=%s", mdp->service,
                   reply ? reply->rid : "-", !reply ? "malformed" : check ? "service_mismatch" : "late");
    }
    svc_reply_destroy (&reply);
    mdp_msg_destroy (&mdp);
}

void
usercheck_drain (usercheck_t *self)
{
    for (int i = 0; i < S_DRAIN_MAX && (zsock_events (self->dealer) & ZMQ_POLLIN); i++) {
        zmsg_t *msg = zmsg_recv (self->dealer);
        if (!msg)
            break;
        s_on_message (self, &msg);
    }
}

void
usercheck_timers (usercheck_t *self, int64_t now_ms)
{
    while (self->head && self->head->deadline_ms <= now_ms) {
        self->timeouts++;
        log_warn ("event=user_check_timeout rid=%s timeout_ms=%ld", self->head->rid,
                  self->cfg.timeout_ms);
        s_answer (self, self->head, USERCHECK_TIMEOUT, SVC_ROLE_NONE);
    }
}

size_t
usercheck_inflight (usercheck_t *self)
{
    return zhashx_size (self->checks);
}

zsock_t *
usercheck_socket (usercheck_t *self)
{
    return self->dealer;
}

usercheck_t *
usercheck_new (const usercheck_config_t *cfg)
{
    usercheck_t *self = (usercheck_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->checks = zhashx_new ();
    //  Replies are bounded by the checks sent, and those by max_inflight.
    self->dealer = mdp_client_socket_new (cfg->broker_endpoint, (int) cfg->max_inflight);
    if (!self->checks || !self->dealer)
        goto fail;
    zhashx_set_destructor (self->checks, s_check_free);
    return self;
fail:
    usercheck_destroy (&self);
    return NULL;
}

void
usercheck_destroy (usercheck_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    usercheck_t *self = *self_p;
    zsock_destroy (&self->dealer);
    zhashx_destroy (&self->checks);
    free (self);
    *self_p = NULL;
}

void
usercheck_write_metrics (usercheck_t *self, FILE *f)
{
    fprintf (f, "# HELP hub_user_checks_inflight auth.me requests waiting for the broker.\n"
                "# TYPE hub_user_checks_inflight gauge\nhub_user_checks_inflight %zu\n",
             zhashx_size (self->checks));
    fprintf (f, "# HELP hub_user_checks_total auth.me checks of WebSocket users, by outcome.\n"
                "# TYPE hub_user_checks_total counter\n"
                "hub_user_checks_total{outcome=\"ok\"} %llu\n"
                "hub_user_checks_total{outcome=\"refused\"} %llu\n"
                "hub_user_checks_total{outcome=\"error\"} %llu\n"
                "hub_user_checks_total{outcome=\"timeout\"} %llu\n"
                "hub_user_checks_total{outcome=\"not_sent\"} %llu\n",
             (unsigned long long) self->answered_ok, (unsigned long long) self->answered_refused,
             (unsigned long long) self->answered_other, (unsigned long long) self->timeouts,
             (unsigned long long) self->send_failed);
    fprintf (f, "# HELP hub_user_check_replies_dropped_total Broker replies that answered no "
                "check (malformed, late, or another service).\n"
                "# TYPE hub_user_check_replies_dropped_total counter\n"
                "hub_user_check_replies_dropped_total %llu\n",
             (unsigned long long) self->replies_dropped);
}
