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

//  WORKER_CREDIT: requests a worker takes at once (its READY announces it; proto/mdp.h's
//  MDP_CREDIT_MAX). Why 8 by default: a batch of 8 shares one wake-up of each process and
//  one round trip to PostgreSQL among 8 requests, most of the gain (the fixed cost per
//  request falls to an eighth), while a worker never parks more than 8 requests behind
//  each other (at most 8 reads, about a millisecond, ahead of an interactive request) nor
//  hands back more than 8 when it dies; the rest wait in the broker for whichever worker
//  frees first rather than at one busy worker.
#define WORKER_CREDIT_DEFAULT   8
#define WORKER_CREDIT_MAX       64

//  Reads WORKER_CREDIT into *credit. 0, or -1 after logging that it is out of range.
int config_credit_read (int *credit);

//  Reads WORKER_NAME, the worker's name in its READY (the broker's logs and mmi.status)
//  and its log lines, into name (MDP_NAME_MAX + 1 bytes): 1..MDP_NAME_MAX of
//  MDP_NAME_CHARS. Unset: "<hostname>-<pid>", every other byte of the host name made
//  '-', so that two hosts' workers never share a name. 0, or -1 after logging a bad one.
int config_name_read (char *name);

#endif
