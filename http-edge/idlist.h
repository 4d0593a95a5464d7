/*  idlist: the elements of a job body's payload.ticketIds as jobbody finds them: each one
    counted, a valid id stored as its 16 bytes (at most max of them; later ones are only
    checked), and the indexes of the first IDLIST_BAD_MAX bad ones. A million ids cost
    16 MB, never a string each.  */
#ifndef EDGE_IDLIST_H
#define EDGE_IDLIST_H

#include <stddef.h>

typedef struct _idlist_t idlist_t;

//  Bad elements remembered by index (the rest are only counted).
#define IDLIST_BAD_MAX 20

//  A list that stores at most max ids. NULL when out of memory.
idlist_t *idlist_new (size_t max);

//  Frees the list and any ids not taken; sets *self_p to NULL. NULL-safe.
void idlist_destroy (idlist_t **self_p);

//  An element starts: counted, and bad at once unless it is a string.
void idlist_element (idlist_t *self, int is_string);

//  The element being read is bad (not a uuid).
void idlist_bad (idlist_t *self);

//  The element being read is the uuid text s (UUID_STRLEN bytes, any case): 1 when it is
//  one (stored while fewer than max are), 0 when it is not (nothing recorded: the caller
//  decides), -1 when out of memory.
int idlist_put (idlist_t *self, const char *s);

//  Elements seen, and how many of them were bad.
size_t idlist_count (const idlist_t *self);
size_t idlist_bad_count (const idlist_t *self);

//  The index (from 0) of the i-th bad element, for i < min (bad_count, IDLIST_BAD_MAX);
//  (size_t) -1 for any other i.
size_t idlist_bad_index (const idlist_t *self, size_t i);

//  Bytes the list holds now.
size_t idlist_memory (const idlist_t *self);

//  The stored ids, 16 bytes each in order, their number in *count. The caller frees the
//  buffer; the list keeps none afterwards. NULL and *count 0 when there are none.
unsigned char *idlist_take (idlist_t *self, size_t *count);

#endif
