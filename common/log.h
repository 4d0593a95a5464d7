/*  log: one structured line (logfmt) per event on stderr, shared by every actor.
    A line is: ts=<RFC 3339 UTC, ms> level=<lvl> comp=<component> <caller's key=value pairs>.  */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stddef.h>
#include <stdlib.h>              //  abort, for PANIC
//  czmq.h pulls in <syslog.h>, whose LOG_DEBUG (7) and LOG_INFO (6) macros would replace
//  our enum values and index past the level names. Take syslog.h first, then drop them.
#include <syslog.h>
#undef LOG_DEBUG
#undef LOG_INFO

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

//  Sets the component name and reads LOG_LEVEL (debug|info|warn|error, default info).
//  Returns -1 (and logs) when LOG_LEVEL holds anything else.
int log_init (const char *component);

//  Which one of several processes of a kind this is (WORKER_NAME: "host-worker-2"), added
//  to every line as inst=<name>. 0, or -1 (nothing changed) unless name is 1..64 printable
//  ASCII characters without space, '=', '"' or '\\'.
int log_set_instance (const char *name);
void log_set_level (log_level_t level);
int log_enabled (log_level_t level);

//  fmt should produce logfmt pairs, e.g. "event=worker_expired worker=%s".
void log_emit (log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  The same line whatever LOG_LEVEL says: for the few an operator's tools wait for.
void log_emit_always (log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Writes src into dst as a logfmt value: quoted, '"' and '\\' escaped, every byte outside
//  printable ASCII written as '?' (outside input such as a URL path may hold any byte, and a
//  log line must stay valid text), cut at dstlen. Returns dst, so it can sit inside a
//  log_emit argument list.
const char *log_quote (char *dst, size_t dstlen, const char *src);

#define log_debug(...) do { if (log_enabled (LOG_DEBUG)) log_emit (LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)  log_emit (LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_emit (LOG_WARN, __VA_ARGS__)
#define log_error(...) log_emit (LOG_ERROR, __VA_ARGS__)

//  A process has taken its settings and opened its sockets: "event=started" and the
//  caller's pairs (at least one), at every LOG_LEVEL, since ./manage.sh waits for this line
//  to tell a process that started from one that is about to exit on a bad setting.
#define log_started(fmt, ...) log_emit_always (LOG_INFO, "event=started " fmt, __VA_ARGS__)

//  Invariant broken inside our own code: log and abort, never compiled out.
#define PANIC(...) do { log_emit (LOG_ERROR, "event=panic file=%s line=%d", __FILE__, __LINE__); \
    log_emit (LOG_ERROR, __VA_ARGS__); abort (); } while (0)

#endif
