/*  dupes: finds the ids of a job that appear earlier in the same request, in linear time
    and bounded memory (a table of 4-byte indexes sized to the request: 8 MB for a million
    ids), with a per-process random seed so that chosen ids cannot force collisions.  */
#ifndef WORKERS_DUPES_H
#define WORKERS_DUPES_H

#include <stdbool.h>
#include <stddef.h>

//  ids are n ids of 16 bytes each (uuid_to_bytes). Sets dup[i] when ids[i] equals some
//  ids[j], j < i. Returns the number of duplicates, or -1 when memory runs out or n does
//  not fit the table's 32-bit indexes.
long dupes_mark (const unsigned char *ids, size_t n, bool *dup);

#endif
