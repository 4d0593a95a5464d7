/*  rfc3339: the timestamps a client may give (a ticket list's created range): a date
    "2026-12-07", or a date and time with a zone, "2026-12-07T08:30:00Z",
    "2026-12-07T08:30:00.250+01:00" (RFC 3339 section 5.6, 'T' or ' ' between, any
    fraction). Checked here so that PostgreSQL never sees text it would refuse.  */
#ifndef COMMON_RFC3339_H
#define COMMON_RFC3339_H

#include <stdbool.h>

//  The longest accepted text: a date, time, 9 fraction digits and a numeric zone.
#define RFC3339_MAX 35

//  True when s is one of the forms above with a real calendar date (leap years included)
//  and a time of day within its ranges (second 60 allowed, as RFC 3339 does).
bool rfc3339_valid (const char *s);

#endif
