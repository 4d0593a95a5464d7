/*  config: every worker setting with its default and range, in one place.  */
#include "config.h"
#include "../common/conf.h"
#include "../common/log.h"
#include "../proto/mdp.h"
#include "../proto/svc.h"
#include "../proto/vocab.h"

#include <string.h>
#include <unistd.h>

int
config_jobs_read (jobs_config_t *cfg)
{
    return conf_int ("CHUNK_SIZE", 1000, 1, 100000, &cfg->chunk_size)
        || conf_int ("JOB_WINDOW", 8, 1, 10000, &cfg->window)
        || conf_int ("MAX_ACTIVE_JOBS", 10, 1, 100000, &cfg->max_active)
        || vocab_max_job_items (&cfg->max_items)
        || conf_int ("CHUNK_LEASE_MS", 5000, 200, 3600000, &cfg->lease_ms)
        || conf_int ("CHUNK_MAX_ATTEMPTS", 5, 1, 1000, &cfg->max_attempts) ? -1 : 0;
}

int
config_name_read (char *name)
{
    const char *given = conf_str ("WORKER_NAME", NULL);
    if (given) {
        if (!mdp_name_valid (given, strlen (given))) {
            log_error ("event=bad_config var=WORKER_NAME msg=\"must be 1 to %d letters, digits "
                       "or . _ : @ / -\"", MDP_NAME_MAX);
            return -1;
        }
        strcpy (name, given);
        return 0;
    }
    char host [256] = "";
    if (gethostname (host, sizeof host - 1) || !*host)
        strcpy (host, "worker");
    for (char *p = host; *p; p++)
        if (!strchr (MDP_NAME_CHARS, *p))
            *p = '-';
    //  "-" and a pid (an int: at most 11 characters) fit behind the host name's first 52.
    _Static_assert (MDP_NAME_MAX == 52 + 1 + 11, "the format below fills the name");
    snprintf (name, MDP_NAME_MAX + 1, "%.52s-%d", host, (int) getpid ());
    return 0;
}

int
config_credit_read (int *credit)
{
    _Static_assert (WORKER_CREDIT_MAX == MDP_CREDIT_MAX, "the READY's bound is the worker's");
    long value;
    if (conf_int ("WORKER_CREDIT", WORKER_CREDIT_DEFAULT, 1, WORKER_CREDIT_MAX, &value))
        return -1;
    *credit = (int) value;
    return 0;
}
