/*  mmi: the broker's 8/MMI answers and its status JSON. See mmi.h.  */
#include "mmi.h"
#include "service.h"
#include "../proto/mdp.h"

#include <jansson.h>
#include <string.h>

static char *
s_status_json (zhashx_t *table, const mmi_counts_t *counts)
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
    char *text = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    return text;
}

zmsg_t *
mmi_answer (const char *service, zmsg_t *body, zhashx_t *services,
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
        char *text = s_status_json (services, counts);
        zmsg_addstr (answer, text ? text : "{}");
        free (text);
    }
    else
        zmsg_addstr (answer, MMI_NOT_IMPLEMENTED);
    return answer;
}
