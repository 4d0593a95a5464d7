/*  rfc3339: see rfc3339.h.  */
#include "rfc3339.h"

#include <string.h>

//  n digits at s into *out; false unless all are digits.
static bool
s_digits (const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s [i] < '0' || s [i] > '9')
            return false;
        v = v * 10 + (s [i] - '0');
    }
    *out = v;
    return true;
}

static bool
s_date (const char *s)
{
    static const int days [] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d;
    if (!s_digits (s, 4, &y) || s [4] != '-' || !s_digits (s + 5, 2, &m) || s [7] != '-'
    ||  !s_digits (s + 8, 2, &d) || y < 1 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days [m - 1] + (m == 2 && leap);
}

//  "HH:MM" at s within 23:59 (a zone offset's or a time's start).
static bool
s_hour_minute (const char *s)
{
    int h, m;
    return s_digits (s, 2, &h) && s [2] == ':' && s_digits (s + 3, 2, &m) && h <= 23 && m <= 59;
}

bool
rfc3339_valid (const char *s)
{
    size_t len = s ? strlen (s) : 0;
    if (len < 10 || len > RFC3339_MAX || !s_date (s))
        return false;
    if (len == 10)
        return true;
    const char *p = s + 10;
    int sec;
    if ((*p != 'T' && *p != 't' && *p != ' ') || !s_hour_minute (p + 1) || p [6] != ':'
    ||  !s_digits (p + 7, 2, &sec) || sec > 60)
        return false;
    p += 9;
    if (*p == '.') {
        const char *digits = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == digits)
            return false;
    }
    if ((*p == 'Z' || *p == 'z') && p [1] == 0)
        return true;
    return (*p == '+' || *p == '-') && s_hour_minute (p + 1) && p [6] == 0;
}
