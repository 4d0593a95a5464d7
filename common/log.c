/*  log: logfmt lines on stderr; one write(2) per line so lines from one process never interleave.  */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *s_component = "-";
static char s_instance [72];            //  " inst=<name>", or "" for a process of its kind alone
static log_level_t s_level = LOG_INFO;
static const char *s_names[] = { "debug", "info", "warn", "error" };

int
log_init (const char *component)
{
    s_component = component;
    const char *lvl = getenv ("LOG_LEVEL");
    if (!lvl || !*lvl)
        return 0;
    for (int i = 0; i < 4; i++)
        if (strcmp (lvl, s_names [i]) == 0) {
            s_level = (log_level_t) i;
            return 0;
        }
    log_error ("event=bad_config var=LOG_LEVEL msg=\"must be debug, info, warn or error\"");
    return -1;
}

void
log_set_level (log_level_t level)
{
    s_level = level;
}

int
log_enabled (log_level_t level)
{
    return level >= s_level;
}

int
log_set_instance (const char *name)
{
    size_t len = name ? strlen (name) : 0;
    if (len == 0 || len > sizeof s_instance - 7)
        return -1;
    //  Written unquoted: nothing that would end or split a logfmt value.
    for (size_t i = 0; i < len; i++)
        if (name [i] <= ' ' || name [i] >= 0x7f || strchr ("=\"\\", name [i]))
            return -1;
    snprintf (s_instance, sizeof s_instance, " inst=%s", name);
    return 0;
}

static void __attribute__ ((format (printf, 2, 0)))
s_vemit (log_level_t level, const char *fmt, va_list ap)
{
    char line [2048];
    struct timeval tv;
    gettimeofday (&tv, NULL);
    struct tm tm;
    gmtime_r (&tv.tv_sec, &tm);
    int n = snprintf (line, sizeof line,
                      "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s comp=%s%s ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                      tm.tm_min, tm.tm_sec, (int) (tv.tv_usec / 1000),
                      s_names [level], s_component, s_instance);
    int m = vsnprintf (line + n, sizeof line - (size_t) n - 1, fmt, ap);
    size_t len = (size_t) n + (m < 0 ? 0 : (size_t) m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line [len++] = '\n';
    ssize_t rc = write (STDERR_FILENO, line, len);
    (void) rc;
}

void
log_emit (log_level_t level, const char *fmt, ...)
{
    if (level < s_level)
        return;
    va_list ap;
    va_start (ap, fmt);
    s_vemit (level, fmt, ap);
    va_end (ap);
}

void
log_emit_always (log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_vemit (level, fmt, ap);
    va_end (ap);
}

const char *
log_quote (char *dst, size_t dstlen, const char *src)
{
    if (dstlen < 3) {
        if (dstlen)
            *dst = 0;
        return dst;
    }
    size_t o = 0;
    dst [o++] = '"';
    for (const char *p = src ? src : ""; *p && o + 3 < dstlen; p++) {
        unsigned char c = (unsigned char) *p;
        if (c == '"' || c == '\\') {
            dst [o++] = '\\';
            dst [o++] = (char) c;
        }
        else
            dst [o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char) c;
    }
    dst [o++] = '"';
    dst [o] = 0;
    return dst;
}
