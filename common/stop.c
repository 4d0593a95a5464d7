/*  stop: one signal counter for every binary.  */
#include "stop.h"

#include <czmq.h>
#include <string.h>

volatile sig_atomic_t stop_requested;

static void
s_on_signal (int signum)
{
    (void) signum;
    if (stop_requested < 2)
        stop_requested++;
}

void
stop_install (void)
{
    zsys_handler_set (NULL);
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
}
