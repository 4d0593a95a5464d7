/*  static: the browser UI's files from WEB_ROOT on the UI port. Owns a directory fd on
    the root; serves regular files only, with content types and cache headers.  */
#ifndef EDGE_STATIC_H
#define EDGE_STATIC_H

#include "request.h"

typedef struct static_s static_t;

//  Never NULL for a missing root: every request then gets a JSON 404 (logged once).
static_t *static_new (const char *root);
void static_destroy (static_t **self_p);

//  Answers req (GET/HEAD only; others 405).
void static_serve (static_t *self, edge_req_t *req);

//  The Content-Type for a file name, by extension.
const char *static_content_type (const char *name);

#endif
