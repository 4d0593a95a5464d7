/*  static: the browser UI's files from WEB_ROOT on the UI port. Owns a directory fd on
    the root; serves regular files only, with content types and cache headers.  */
#ifndef EDGE_STATIC_H
#define EDGE_STATIC_H

#include "request.h"

typedef struct static_s static_t;

//  Never NULL for a missing root: every request then gets a JSON 404 (logged once).
//  The ports go into GET /config.json (apiBase, wsUrl) for the UI.
static_t *static_new (const char *root, long api_port, long ws_port);
void static_destroy (static_t **self_p);

//  Answers req (GET/HEAD only; others 405).
void static_serve (static_t *self, edge_req_t *req);

//  The host name of a Host header without its port, into buf: a name of [A-Za-z0-9.-],
//  or a bracketed IPv6 address; "127.0.0.1" (static) for anything else.
const char *static_host_of (const char *host_header, char *buf, size_t size);

//  The Content-Type for a file name, by extension.
const char *static_content_type (const char *name);

#endif
