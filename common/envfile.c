/*  envfile: .env files, parsed strictly and never evaluated.  */
#include "envfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEYS_MAX  32

typedef enum { S_LINE, S_EOF, S_TOO_LONG, S_NUL } s_read_t;

static void
s_fail (char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, errlen, fmt, ap);
    va_end (ap);
}

//  One line into buf (without its newline), byte by byte: a bound that fgets cannot give
//  (it would cut a long line in two lines) and a NUL that strlen would hide.
static s_read_t
s_read_line (FILE *f, char *buf, size_t cap)
{
    size_t len = 0;
    int c;
    while ((c = getc (f)) != EOF && c != '\n') {
        if (c == '\0')
            return S_NUL;
        if (len + 2 > cap)
            return S_TOO_LONG;
        buf [len++] = (char) c;
    }
    buf [len] = '\0';
    return (c == EOF && len == 0) ? S_EOF : S_LINE;
}

static bool
s_key_char (char c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (!first && c >= '0' && c <= '9');
}

//  Splits one line in place: *key and *value, or NULL in *key for a blank or comment line.
//  Returns the reason the line is malformed, or NULL.
static const char *
s_parse_line (char *line, char **key, char **value)
{
    *key = NULL;
    size_t len = strlen (line);
    if (len && line [len - 1] == '\r')
        line [--len] = '\0';
    char *p = line + strspn (line, " \t");
    if (*p == '\0' || *p == '#')
        return NULL;
    if (!s_key_char (*p, true))
        return "expected KEY=VALUE (a KEY is letters, digits and '_', not starting with a digit)";
    char *k = p;
    while (s_key_char (*p, false))
        p++;
    if (*p != '=')
        return "expected '=' right after the KEY (no blanks around it)";
    *p++ = '\0';
    size_t vlen = strlen (p);
    if (*p == '"' || *p == '\'') {
        if (vlen < 2 || p [vlen - 1] != *p)
            return "a value that opens a quote must end with the same quote";
        p [vlen - 1] = '\0';
        p++;
    }
    *key = k;
    *value = p;
    return NULL;
}

static int
s_key_index (const char *const *keys, const char *key)
{
    for (int i = 0; keys [i] && i < S_KEYS_MAX; i++)
        if (!strcmp (keys [i], key))
            return i;
    return -1;
}

//  Every line of f checked; the first value of each wanted key kept in values.
static int
s_parse_file (FILE *f, const char *path, const char *const *keys, char **values,
              char *err, size_t errlen)
{
    char line [ENVFILE_LINE_MAX + 1];
    for (int n = 1; ; n++) {
        s_read_t r = s_read_line (f, line, sizeof line);
        if (r == S_EOF)
            return ferror (f) ? (s_fail (err, errlen, "%s: cannot read: %s", path,
                                         strerror (errno)), -1) : 0;
        if (n > ENVFILE_LINES_MAX) {
            s_fail (err, errlen, "%s: more than %d lines: not a settings file", path,
                    ENVFILE_LINES_MAX);
            return -1;
        }
        if (r == S_NUL) {
            s_fail (err, errlen, "%s line %d: holds a NUL byte: not a settings file", path, n);
            return -1;
        }
        if (r == S_TOO_LONG) {
            s_fail (err, errlen, "%s line %d: longer than %d bytes", path, n,
                    ENVFILE_LINE_MAX - 1);
            return -1;
        }
        char *key, *value;
        const char *why = s_parse_line (line, &key, &value);
        if (why) {
            s_fail (err, errlen, "%s line %d: %s", path, n, why);
            return -1;
        }
        int i = key ? s_key_index (keys, key) : -1;
        if (i >= 0 && !values [i] && !(values [i] = strdup (value))) {
            s_fail (err, errlen, "%s: out of memory", path);
            return -1;
        }
    }
}

int
envfile_load (const char *path, const char *const *keys, char *err, size_t errlen)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        s_fail (err, errlen, "%s: cannot open: %s", path, strerror (errno));
        return -1;
    }
    char *values [S_KEYS_MAX] = { NULL };
    int rc = s_parse_file (f, path, keys, values, err, errlen);
    fclose (f);
    for (int i = 0; keys [i] && i < S_KEYS_MAX; i++) {
        //  The environment wins, as in manage.sh: only a key it does not hold is set.
        if (rc == 0 && values [i] && !getenv (keys [i]) && setenv (keys [i], values [i], 0)) {
            s_fail (err, errlen, "%s: cannot set %s: %s", path, keys [i], strerror (errno));
            rc = -1;
        }
        free (values [i]);
    }
    return rc;
}
