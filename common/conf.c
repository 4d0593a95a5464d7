/*  conf: environment settings with bounds.  */
#include "conf.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
conf_int (const char *name, long dflt, long min, long max, long *out)
{
    const char *v = getenv (name);
    if (!v || !*v) {
        *out = dflt;
        return 0;
    }
    //  strtol would skip leading blanks; a setting with them is a typo worth reporting.
    if (!(*v == '-' || (*v >= '0' && *v <= '9'))) {
        log_error ("event=bad_config var=%s msg=\"must be a whole number from %ld to %ld\"",
                   name, min, max);
        return -1;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol (v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        log_error ("event=bad_config var=%s msg=\"must be a whole number from %ld to %ld\"",
                   name, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

const char *
conf_str (const char *name, const char *dflt)
{
    const char *v = getenv (name);
    return (v && *v) ? v : dflt;
}

int
conf_endpoint (const char *name, const char *dflt, const char **out)
{
    const char *v = conf_str (name, dflt);
    if (strncmp (v, "tcp://", 6) && strncmp (v, "ipc://", 6) && strncmp (v, "inproc://", 9)) {
        log_error ("event=bad_config var=%s msg=\"must be a ZeroMQ endpoint such as tcp://127.0.0.1:5555\"",
                   name);
        return -1;
    }
    *out = v;
    return 0;
}

int
conf_handle_args (int argc, char **argv, const char *prog, const char *usage)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv [i], "--version")) {
            printf ("%s %s\n", prog, TICKETD_VERSION);
            return 1;
        }
        if (!strcmp (argv [i], "--help") || !strcmp (argv [i], "-h")) {
            fputs (usage, stdout);
            return 1;
        }
        fprintf (stderr, "%s: unknown argument '%s'\n%s", prog, argv [i], usage);
        return -1;
    }
    return 0;
}
