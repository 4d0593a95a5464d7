/*  conf: settings from the environment, validated once at start.
    Every getter logs one clear line naming the variable when its value is bad.  */
#ifndef COMMON_CONF_H
#define COMMON_CONF_H

#include <stdbool.h>
#include <stddef.h>

//  Integer in [min, max]; dflt when unset or empty. Returns -1 on a bad value.
int conf_int (const char *name, long dflt, long min, long max, long *out);

//  String; dflt when unset or empty. Borrowed: valid while the environment is unchanged.
const char *conf_str (const char *name, const char *dflt);

//  A ZeroMQ endpoint (tcp://, ipc://, inproc://). Returns -1 on a bad value.
int conf_endpoint (const char *name, const char *dflt, const char **out);

//  Several endpoints of one kind (every broker a worker registers with): list_name's value,
//  comma-separated (BROKER_ENDPOINTS), else one_name's (BROKER_ENDPOINT), else dflt. Each
//  one checked as conf_endpoint checks it; none empty, none twice, at most
//  CONF_ENDPOINTS_MAX. -1, logged, naming the variable. out owns copies of the texts, and
//  holds no pointer into itself: a copy of it (a config copied into an actor) is whole.
#define CONF_ENDPOINTS_MAX  8
typedef struct {
    char text [1024];                       //  the value, each endpoint 0-terminated in place
    size_t n;                               //  >= 1 on success
} conf_endpoints_t;
int conf_endpoints (const char *list_name, const char *one_name, const char *dflt,
                    conf_endpoints_t *out);
//  The i-th endpoint (i < n).
const char *conf_endpoints_get (const conf_endpoints_t *eps, size_t i);

//  The endpoint a server socket binds: name's value (BROKER_BIND), else endpoint, the one
//  its clients connect to. A bind that other hosts can reach (tcp:// on anything but
//  loopback: *, 0.0.0.0, an interface or another address) is refused without CurveZMQ
//  (curve false), since anyone who reaches it could act as any user or worker, unless
//  ZMQ_INSECURE_BIND=yes says the network itself is private (compose's). -1, logged.
int conf_bind (const char *name, const char *endpoint, bool curve, const char **out);

//  Prints "<prog> <version>" or the usage text and returns 1 when argv asks for
//  --version / --help, -1 for an unknown argument (after printing usage), 0 otherwise.
int conf_handle_args (int argc, char **argv, const char *prog, const char *usage);

#define TICKETD_VERSION "0.1.0"

#endif
