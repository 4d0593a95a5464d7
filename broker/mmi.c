/*  mmi: the broker's 8/MMI answers and its status JSON. See mmi.h.  */
#include "mmi.h"
#include "service.h"
#include "worker.h"
#include "../proto/mdp.h"

#include <jansson.h>
#include <string.h>
#include <time.h>

//  ms since the epoch as RFC 3339 UTC with milliseconds, the contract's form of a time.
static void
s_rfc3339 (int64_t ms, char *out, size_t outlen)
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    snprintf (out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (ms % 1000));
}

static json_t *
s_worker_json (const worker_t *w)
{
    json_t *services = json_array ();
    for (size_t i = 0; i < w->services_n; i++)
        json_array_append_new (services, json_string (w->services [i]->name));
    char since [80];
    s_rfc3339 (w->since, since, sizeof since);
    return json_pack ("{s:s, s:s, s:s, s:o, s:i, s:I, s:s}", "id", w->id, "name", w->name,
                      "address", w->peer, "services", services, "credit", w->credit,
                      "held", (json_int_t) w->held_n, "since", since);
}

//  Adds workerList (and workerListTruncated when it had to leave some out) to root.
static void
s_add_worker_list (json_t *root, zhashx_t *workers)
{
    json_t *list = json_array ();
    worker_t *some [MMI_WORKER_LIST_MAX];
    size_t n = workers ? worker_table_sorted (workers, some, MMI_WORKER_LIST_MAX) : 0;
    for (size_t i = 0; i < n; i++)
        json_array_append_new (list, s_worker_json (some [i]));
    json_object_set_new (root, "workerList", list);
    if (workers && zhashx_size (workers) > n)
        json_object_set_new (root, "workerListTruncated", json_true ());
}

static char *
s_status_json (zhashx_t *table, zhashx_t *workers, const mmi_counts_t *counts)
{
    json_t *services = json_array ();
    for (service_t *svc = (service_t *) zhashx_first (table); svc;
         svc = (service_t *) zhashx_next (table))
        json_array_append_new (services, json_pack ("{s:s, s:I, s:I, s:I, s:I, s:I}",
            "name", svc->name,
            "workers", (json_int_t) svc->workers,
            "idle", (json_int_t) zlistx_size (svc->waiting),
            "queued", (json_int_t) zlistx_size (svc->requests),
            "inFlight", (json_int_t) svc->in_flight,
            "credit", (json_int_t) svc->credit));
    json_t *root = json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
        "workers", (json_int_t) counts->workers,
        "queued", (json_int_t) counts->queued,
        "inFlight", (json_int_t) counts->in_flight,
        "credit", (json_int_t) counts->credit,
        "heldBytes", (json_int_t) counts->held_bytes,
        "heldBytesMax", (json_int_t) counts->held_bytes_max,
        "refusedUnauthorized", (json_int_t) counts->refused_unauthorized,
        "services", services);
    if (root)
        s_add_worker_list (root, workers);
    char *text = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    return text;
}

zmsg_t *
mmi_answer (const char *service, zmsg_t *body, zhashx_t *services, zhashx_t *workers,
            const mmi_counts_t *counts)
{
    zmsg_t *answer = zmsg_new ();
    if (streq (service, MMI_SERVICE)) {
        zframe_t *name = zmsg_first (body);
        bool found = false;
        if (name && mdp_service_valid ((const char *) zframe_data (name), zframe_size (name))) {
            char key [MDP_SERVICE_MAX + 1];
            memcpy (key, zframe_data (name), zframe_size (name));
            key [zframe_size (name)] = 0;
            service_t *svc = (service_t *) zhashx_lookup (services, key);
            found = svc && svc->workers > 0;
        }
        zmsg_addstr (answer, found ? MMI_FOUND : MMI_NOT_FOUND);
    }
    else
    if (streq (service, MMI_STATUS)) {
        char *text = s_status_json (services, workers, counts);
        zmsg_addstr (answer, text ? text : "{}");
        free (text);
    }
    else
        zmsg_addstr (answer, MMI_NOT_IMPLEMENTED);
    return answer;
}
