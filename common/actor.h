/*  actor: what every process's main does before its actor exists: answers --help and
    --version, starts the log under the process's name, and installs the handlers every
    actor relies on (cached getpid, malloc trimming, SIGTERM/SIGINT as stop_requested)
    and its scheduling policy (common/sched.h).  */
#ifndef COMMON_ACTOR_H
#define COMMON_ACTOR_H

//  -1: go on and build the actor. Otherwise main returns this exit status at once (0 after
//  --help or --version, 2 for an unknown argument, 1 when the log cannot start or
//  SCHED_POLICY is bad).
int actor_begin (int argc, char **argv, const char *name, const char *usage);

#endif
