/*  api_meta: GET /api/meta, the contract's vocabulary for the browser (ticket statuses and
    priorities, job statuses, item statuses and types, a ticket list's sorts and deletion
    filters, the defaults, the field limits and MAX_JOB_ITEMS), so that web/js spells none
    of it. Anonymous: the login page loads it too, and it is
    no secret; the text is built once from proto/vocab.h and answered from memory.  */
#include "edge.h"
#include "api.h"
#include "../common/log.h"
#include "../proto/vocab.h"

#include <stdlib.h>
#include <string.h>

static char *s_text;                //  built on the first request; the process's life
static size_t s_len;

static json_t *
s_names (const char *const *names)
{
    json_t *array = json_array ();
    for (size_t i = 0; names [i]; i++)
        json_array_append_new (array, json_string (names [i]));
    return array;
}

static char *
s_build (const edge_config_t *cfg)
{
    json_t *limits = json_object ();
    for (size_t i = 0; i < vocab_limits_n; i++)
        json_object_set_new (limits, vocab_limits [i].key, json_integer (vocab_limits [i].value));
    json_object_set_new (limits, "maxJobItems", json_integer (cfg->max_job_items));
    char sort [VOCAB_SORT_TEXT_MAX];
    json_t *defaults = json_pack ("{s:s, s:s, s:s, s:s}",
        "ticketStatus", vocab_ticket_statuses [VOCAB_TICKET_STATUS_DEFAULT],
        "ticketPriority", vocab_ticket_priorities [VOCAB_TICKET_PRIORITY_DEFAULT],
        "ticketSort", vocab_ticket_sort_default (sort),
        "ticketDeleted", vocab_ticket_deleted [VOCAB_TICKET_DELETED_DEFAULT]);
    json_t *root = json_pack ("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                              "ticketStatuses", s_names (vocab_ticket_statuses),
                              "ticketPriorities", s_names (vocab_ticket_priorities),
                              "ticketSorts", s_names (vocab_ticket_sorts),
                              "ticketDeleted", s_names (vocab_ticket_deleted),
                              "jobStatuses", s_names (vocab_job_statuses),
                              "jobItemStatuses", s_names (vocab_job_item_statuses),
                              "jobTypes", s_names (vocab_job_types),
                              "defaults", defaults,
                              "limits", limits);
    char *text = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    return text;
}

void
api_meta_get (edge_req_t *req)
{
    if (!s_text) {
        s_text = s_build (edge_config (req->edge));
        if (!s_text)
            PANIC ("event=oom where=api_meta_get");
        s_len = strlen (s_text);
    }
    req_respond_json (req, 200, s_text, s_len);
}
