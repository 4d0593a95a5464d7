/*  vocab: the name and limit tables expanded from vocab.h, and the few expansions that
    need code (joined lists for messages and SQL, the MAX_JOB_ITEMS setting).  */
#include "vocab.h"
#include "svc.h"
#include "../common/conf.h"

#include <stdio.h>
#include <string.h>

#define VOCAB_NAME_(id, name)           name,
#define VOCAB_LIMIT_ROW_(id, key, v)    { key, (v) },

const char *const vocab_ticket_statuses [] = { VOCAB_TICKET_STATUSES (VOCAB_NAME_) NULL };
const char *const vocab_ticket_priorities [] = { VOCAB_TICKET_PRIORITIES (VOCAB_NAME_) NULL };
const char *const vocab_job_statuses [] = { VOCAB_JOB_STATUSES (VOCAB_NAME_) NULL };
const char *const vocab_job_item_statuses [] = { VOCAB_JOB_ITEM_STATUSES (VOCAB_NAME_) NULL };
const char *const vocab_job_types [] = { VOCAB_JOB_TYPES (VOCAB_NAME_) NULL };
const char *const vocab_ticket_sorts [] = { VOCAB_TICKET_SORTS (VOCAB_NAME_) NULL };
const char *const vocab_ticket_deleted [] = { VOCAB_TICKET_DELETED (VOCAB_NAME_) NULL };

const vocab_limit_t vocab_limits [] = { VOCAB_LIMITS (VOCAB_LIMIT_ROW_) };
const size_t vocab_limits_n = sizeof vocab_limits / sizeof vocab_limits [0];

char *
vocab_ticket_sort_default (char buf [VOCAB_SORT_TEXT_MAX])
{
    snprintf (buf, VOCAB_SORT_TEXT_MAX, "-%s", vocab_ticket_sorts [VOCAB_TICKET_SORT_DEFAULT]);
    return buf;
}

int
vocab_index (const char *const *names, const char *name)
{
    for (int i = 0; name && names [i]; i++)
        if (!strcmp (names [i], name))
            return i;
    return -1;
}

char *
vocab_join (const char *const *names, const char *sep, const char *quote,
            char *buf, size_t len)
{
    size_t used = 0;
    if (!len)
        return NULL;
    buf [0] = 0;
    for (size_t i = 0; names [i]; i++) {
        int n = snprintf (buf + used, len - used, "%s%s%s%s",
                          i ? sep : "", quote, names [i], quote);
        if (n < 0 || (size_t) n >= len - used) {
            buf [0] = 0;
            return NULL;
        }
        used += (size_t) n;
    }
    return buf;
}

const char *
vocab_must_be (const char *const *names, char *buf, size_t len)
{
    const char *lead = names [0] && names [1] ? "must be one of " : "must be ";
    size_t n = strlen (lead);
    if (len <= n)
        return NULL;
    memcpy (buf, lead, n + 1);
    return vocab_join (names, ", ", "", buf + n, len - n) ? buf : NULL;
}

const char *
vocab_sql_rank (const char *const *names, const char *column, char *buf, size_t len)
{
    char list [256];
    if (!vocab_join (names, ",", "'", list, sizeof list))
        return NULL;
    int n = snprintf (buf, len, "array_position(ARRAY[%s], %s)", list, column);
    return n < 0 || (size_t) n >= len ? NULL : buf;
}

int
vocab_max_job_items (long *out)
{
    return conf_int ("MAX_JOB_ITEMS", VOCAB_JOB_ITEMS_DEFAULT, 1, SVC_JOB_ITEMS_MAX, out);
}
