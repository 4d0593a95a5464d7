/*  resync: when to ask jobs.live, and what to do with its answer; see resync.h.  */
#include "resync.h"
#include "../common/log.h"
#include "../proto/event.h"

#include <jansson.h>
#include <string.h>

#define S_SILENCE_CHECK_MS  1000

//  Why a resync is wanted, for its log line and metric.
typedef enum { S_START = 0, S_GAP, S_SILENCE, S_RETRY, S_REASONS } s_reason_t;
static const char *s_reason_names [S_REASONS] = { "start", "gap", "silence", "retry" };

struct resync_s {
    resync_config_t cfg;
    bool wanted;
    s_reason_t reason;              //  of the first want since the last request
    int64_t next_at;                //  no request before this (zclock_mono ms)
    int64_t gap_check_at;           //  0: no gap waiting for its grace
    int64_t silence_check_at;
    char rid [RAND_ID_STRLEN + 1];  //  the request in flight; "" when none

    uint64_t requests [S_REASONS];
    uint64_t failed;                //  answers other than a usable 200, timeouts included
    uint64_t corrected;             //  jobs of answers that the cache took: events were lost
};

static void
s_want (resync_t *self, s_reason_t reason)
{
    if (!self->wanted)
        self->reason = reason;
    self->wanted = true;
}

resync_t *
resync_new (const resync_config_t *cfg)
{
    resync_t *self = (resync_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    s_want (self, S_START);
    return self;
}

void
resync_destroy (resync_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    resync_t *self = *self_p;
    calls_forget (self->cfg.calls, self->rid);
    free (self);
    *self_p = NULL;
}

void
resync_gap (resync_t *self, int64_t now_ms)
{
    if (!self->gap_check_at)
        self->gap_check_at = now_ms + RESYNC_GAP_GRACE_MS;
}

static void
s_send (resync_t *self, int64_t now_ms)
{
    char payload [64];
    long within = self->cfg.finished_ms < 3600000 ? self->cfg.finished_ms : 3600000;
    snprintf (payload, sizeof payload, "{\"finishedWithinMs\":%ld,\"limit\":%d}", within,
              RESYNC_LIMIT);
    if (calls_send (self->cfg.calls, SVC_JOBS_LIVE, NULL, SVC_ROLE_NONE, payload, self,
                    self->rid)) {
        self->next_at = now_ms + RESYNC_RETRY_MS;
        return;
    }
    self->requests [self->reason]++;
    log_info ("event=resync_requested reason=%s rid=%s", s_reason_names [self->reason], self->rid);
    self->wanted = false;
}

void
resync_timers (resync_t *self, int64_t now_ms)
{
    if (self->gap_check_at && now_ms >= self->gap_check_at) {
        self->gap_check_at = 0;
        if (cache_has_gaps (self->cfg.cache))
            s_want (self, S_GAP);
    }
    if (now_ms >= self->silence_check_at) {
        self->silence_check_at = now_ms + S_SILENCE_CHECK_MS;
        if (cache_silent (self->cfg.cache, now_ms, RESYNC_SILENCE_MS))
            s_want (self, S_SILENCE);
    }
    if (self->wanted && !self->rid [0] && now_ms >= self->next_at)
        s_send (self, now_ms);
}

//  One job of the answer, as the event a worker would publish for it. The text is ours
//  (a worker's answer), but the hub's decoder checks it like any other event.
static void
s_apply_job (resync_t *self, json_t *job)
{
    const char *id = json_string_value (json_object_get (job, "id"));
    event_kind_t kind = event_kind_of_status (json_string_value (json_object_get (job, "status")));
    char *text = json_dumps (job, JSON_COMPACT);
    zmsg_t *msg = text && id ? event_encode (kind, id, text) : NULL;
    free (text);
    if (!msg) {
        log_warn ("event=resync_job_dropped job=%s msg=\"not a job the hub can relay\"", id ? id : "-");
        return;
    }
    if (self->cfg.on_event (self->cfg.arg, &msg))
        self->corrected++;
    zmsg_destroy (&msg);
}

void
resync_answer (resync_t *self, int status, zframe_t *payload, int64_t now_ms)
{
    self->rid [0] = 0;
    self->next_at = now_ms + RESYNC_INTERVAL_MS;
    json_t *root = status == 200 && payload
                 ? json_loadb ((const char *) zframe_data (payload), zframe_size (payload), 0, NULL)
                 : NULL;
    json_t *data = json_object_get (root, "data");
    if (!json_is_array (data)) {
        self->failed++;
        log_warn ("event=resync_failed status=%d msg=\"asked again in %d ms\"", status,
                  RESYNC_INTERVAL_MS);
        s_want (self, S_RETRY);
        json_decref (root);
        return;
    }
    uint64_t before = self->corrected;
    //  Active jobs come first, then the most recently finished: applied the other way
    //  round, the most relevant are the most recent in the cache.
    size_t n = json_array_size (data) < RESYNC_LIMIT ? json_array_size (data) : RESYNC_LIMIT;
    for (size_t i = n; i > 0; i--)
        s_apply_job (self, json_array_get (data, i - 1));
    self->cfg.on_done (self->cfg.arg);
    //  What the answer lacks cannot be learned by asking again at once.
    cache_resynced (self->cfg.cache, now_ms);
    log_info ("event=resync_done jobs=%zu corrected=%" PRIu64 " more=%s", json_array_size (data),
              self->corrected - before, json_is_true (json_object_get (root, "more")) ? "true" : "false");
    json_decref (root);
}

void
resync_write_metrics (resync_t *self, FILE *f)
{
    fprintf (f, "# HELP hub_resyncs_total jobs.live requests for the current state of live "
                "jobs, by what prompted them.\n# TYPE hub_resyncs_total counter\n");
    for (int r = 0; r < S_REASONS; r++)
        fprintf (f, "hub_resyncs_total{reason=\"%s\"} %llu\n", s_reason_names [r],
                 (unsigned long long) self->requests [r]);
    fprintf (f, "# HELP hub_resync_failed_total jobs.live requests without a usable answer.\n"
                "# TYPE hub_resync_failed_total counter\nhub_resync_failed_total %llu\n",
             (unsigned long long) self->failed);
    fprintf (f, "# HELP hub_resync_corrected_total Jobs whose state a jobs.live answer brought "
                "(newer than the cache held): events the hub had missed.\n"
                "# TYPE hub_resync_corrected_total counter\nhub_resync_corrected_total %llu\n",
             (unsigned long long) self->corrected);
}
