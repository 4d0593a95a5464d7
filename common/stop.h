/*  stop: SIGTERM and SIGINT as one counter that every actor's loop reads, in place of
    czmq's handler (which makes blocking calls fail instead of letting an actor drain).
    1: stop taking work, finish or hand back what is held, exit 0. 2: cut the drain short.  */
#ifndef COMMON_STOP_H
#define COMMON_STOP_H

#include <signal.h>

extern volatile sig_atomic_t stop_requested;

//  Installs the handlers (and ignores SIGPIPE: a peer that went away is an error return,
//  never a death). Call once, before the actor's loop.
void stop_install (void);

#endif
