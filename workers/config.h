/*  config: the worker's settings from the environment, read once at start (main.c) and
    passed down as a const struct, so no family keeps file-static settings of its own.  */
#ifndef WORKERS_CONFIG_H
#define WORKERS_CONFIG_H

typedef struct {
    long chunk_size;            //  CHUNK_SIZE: ids per chunk (one transaction)
    long window;                //  JOB_WINDOW: chunks of one job out at a time
    long max_active;            //  MAX_ACTIVE_JOBS: queued + running per user
    long max_items;             //  MAX_JOB_ITEMS: ids per job
    long lease_ms;              //  CHUNK_LEASE_MS: when a sent chunk is first sent again
    long max_attempts;          //  CHUNK_MAX_ATTEMPTS: starts that died before the job fails
} jobs_config_t;

//  Reads the jobs settings (defaults and ranges in main.c's usage). 0, or -1 after logging
//  the variable that is out of range.
int config_jobs_read (jobs_config_t *cfg);

#endif
