/*  conf: settings from the environment, validated once at start.
    Every getter logs one clear line naming the variable when its value is bad.  */
#ifndef COMMON_CONF_H
#define COMMON_CONF_H

//  Integer in [min, max]; dflt when unset or empty. Returns -1 on a bad value.
int conf_int (const char *name, long dflt, long min, long max, long *out);

//  String; dflt when unset or empty. Borrowed: valid while the environment is unchanged.
const char *conf_str (const char *name, const char *dflt);

//  A ZeroMQ endpoint (tcp://, ipc://, inproc://). Returns -1 on a bad value.
int conf_endpoint (const char *name, const char *dflt, const char **out);

//  Prints "<prog> <version>" or the usage text and returns 1 when argv asks for
//  --version / --help, -1 for an unknown argument (after printing usage), 0 otherwise.
int conf_handle_args (int argc, char **argv, const char *prog, const char *usage);

#define TICKETD_VERSION "0.1.0"

#endif
