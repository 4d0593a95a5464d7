/*  conf: environment settings with bounds.  */
#include "conf.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_XSTR(x) #x
#define S_STR(x) S_XSTR(x)

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
conf_endpoints (const char *list_name, const char *one_name, const char *dflt,
                conf_endpoints_t *out)
{
    memset (out, 0, sizeof *out);
    const char *name = list_name;
    const char *v = conf_str (list_name, NULL);
    if (!v) {
        name = one_name;
        v = conf_str (one_name, dflt);
    }
    const char *why = NULL;
    if (strlen (v) >= sizeof out->text)
        why = "is too long";
    else {
        memcpy (out->text, v, strlen (v) + 1);
        const char *seen [CONF_ENDPOINTS_MAX];
        for (char *p = out->text, *next; p && !why; p = next) {
            next = strchr (p, ',');
            if (next)
                *next++ = 0;
            if (out->n == CONF_ENDPOINTS_MAX)
                why = "names more than " S_STR (CONF_ENDPOINTS_MAX) " endpoints";
            else
            if (strncmp (p, "tcp://", 6) && strncmp (p, "ipc://", 6) && strncmp (p, "inproc://", 9))
                why = "must be ZeroMQ endpoints such as tcp://10.0.0.5:5555, comma-separated, no spaces";
            for (size_t i = 0; i < out->n && !why; i++)
                if (!strcmp (seen [i], p))
                    why = "names an endpoint twice";
            if (!why)
                seen [out->n++] = p;
        }
    }
    if (!why)
        return 0;
    log_error ("event=bad_config var=%s msg=\"%s\"", name, why);
    memset (out, 0, sizeof *out);
    return -1;
}

const char *
conf_endpoints_get (const conf_endpoints_t *eps, size_t i)
{
    const char *p = eps->text;
    while (i--)
        p += strlen (p) + 1;
    return p;
}

//  Whether a bind reaches this host only: ipc, inproc, or tcp on a loopback address.
static bool
s_local_only (const char *endpoint)
{
    if (strncmp (endpoint, "tcp://", 6))
        return true;
    const char *host = endpoint + 6;
    const char *colon = strrchr (host, ':');
    size_t n = colon ? (size_t) (colon - host) : strlen (host);
    static const char *local [] = { "localhost", "lo", "[::1]" };
    for (size_t i = 0; i < sizeof local / sizeof local [0]; i++)
        if (n == strlen (local [i]) && !memcmp (host, local [i], n))
            return true;
    //  127.0.0.0/8, written as a dotted quad of digits only (an interface name is not).
    if (n < 9 || strncmp (host, "127.", 4))
        return false;
    for (size_t i = 4; i < n; i++)
        if (host [i] != '.' && (host [i] < '0' || host [i] > '9'))
            return false;
    return true;
}

int
conf_bind (const char *name, const char *endpoint, bool curve, const char **out)
{
    if (conf_endpoint (name, endpoint, out))
        return -1;
    if (curve || s_local_only (*out) || !strcmp (conf_str ("ZMQ_INSECURE_BIND", ""), "yes"))
        return 0;
    char q [160];
    log_error ("event=bad_config var=%s endpoint=%s msg=\"a bind other hosts can reach needs "
               "CurveZMQ (CURVE_SERVER_CERT); bind 127.0.0.1, turn CURVE on, or set "
               "ZMQ_INSECURE_BIND=yes on a network of your own\"", name,
               log_quote (q, sizeof q, *out));
    return -1;
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
