/*  warnrate: a budget of warn lines per second for what peers send (malformed frames,
    refused roles, replies nobody is owed), so that a flood cannot flood the log: lines
    beyond the budget are only counted, and their number is logged once the second is over.  */
#ifndef COMMON_WARNRATE_H
#define COMMON_WARNRATE_H

#include <stdbool.h>
#include <stdint.h>

#define WARNRATE_LINES_PER_S    10

typedef struct {
    const char *event;          //  the event name of the "left out" line, e.g. "malformed"
    int64_t window;             //  when this second began
    int lines;                  //  lines logged in it
    uint64_t suppressed;        //  lines left out in it
} warnrate_t;

//  Whether one more line fits in the second now is in; a line left out is counted. The
//  count of the second before, if any, is logged first, as event=<event>_suppressed
//  (total: the caller's running total).
bool warnrate_allowed (warnrate_t *self, int64_t now, uint64_t total);

//  Logs what was left out once its second is over, without waiting for the next line.
void warnrate_flush (warnrate_t *self, int64_t now, uint64_t total);

#endif
