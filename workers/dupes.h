/*  dupes: finds the ids of a job that appear earlier in the same request, in linear time
    and bounded memory (a hash set sized to the request), with a per-process random seed so
    that chosen ids cannot force collisions.  */
#ifndef WORKERS_DUPES_H
#define WORKERS_DUPES_H

#include <stdbool.h>
#include <stddef.h>

//  ids are n uuid strings (already validated). Sets dup[i] when ids[i] equals (case
//  insensitively) some ids[j], j < i. Returns the number of duplicates, or -1 when memory
//  runs out.
long dupes_mark (const char *const *ids, size_t n, bool *dup);

#endif
