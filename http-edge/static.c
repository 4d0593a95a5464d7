/*  static: files from web/ for the UI. No directory listing, no path outside the root.  */
#include "static.h"
#include "../common/log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct static_s {
    int root_fd;                //  -1 when the root is missing
    char *root;
};

static const struct { const char *ext; const char *type; } s_types [] = {
    { ".html",  "text/html; charset=utf-8" },
    { ".js",    "text/javascript; charset=utf-8" },
    { ".mjs",   "text/javascript; charset=utf-8" },
    { ".css",   "text/css; charset=utf-8" },
    { ".svg",   "image/svg+xml" },
    { ".png",   "image/png" },
    { ".jpg",   "image/jpeg" },
    { ".json",  "application/json" },
    { ".map",   "application/json" },
    { ".ico",   "image/x-icon" },
    { ".woff2", "font/woff2" },
    { ".txt",   "text/plain; charset=utf-8" },
};

const char *
static_content_type (const char *name)
{
    const char *dot = strrchr (name, '.');
    if (dot && !strchr (dot, '/'))
        for (size_t i = 0; i < sizeof s_types / sizeof s_types [0]; i++)
            if (!strcasecmp (dot, s_types [i].ext))
                return s_types [i].type;
    return "application/octet-stream";
}

static_t *
static_new (const char *root)
{
    static_t *self = (static_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->root = strdup (root);
    self->root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (self->root_fd < 0)
        log_warn ("event=web_root_missing path=%s msg=\"the UI port will answer 404\"", root);
    return self;
}

void
static_destroy (static_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    static_t *self = *self_p;
    if (self->root_fd >= 0)
        close (self->root_fd);
    free (self->root);
    free (self);
    *self_p = NULL;
}

void
static_serve (static_t *self, edge_req_t *req)
{
    if (strcmp (req->method, "GET") && strcmp (req->method, "HEAD")) {
        req_respond_error (req, 405, "method_not_allowed", "only GET and HEAD are served here", NULL);
        req_header (req, "Allow", "GET, HEAD");
        return;
    }
    const char *path = req->url;
    if (!validate_static_path (path, strlen (path)) || self->root_fd < 0) {
        req_respond_error (req, 404, "not_found", "no such file", NULL);
        return;
    }
    const char *rel = strcmp (path, "/") ? path + 1 : "index.html";
    int fd = openat (self->root_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) || !S_ISREG (st.st_mode)) {
        if (fd >= 0)
            close (fd);
        req_respond_error (req, 404, "not_found", "no such file", NULL);
        return;
    }
    char etag [64];
    snprintf (etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long) st.st_mtime,
              (unsigned long long) st.st_size);
    const char *inm = req_header_in (req, "If-None-Match");
    bool is_index = !strcmp (rel, "index.html");
    if (inm && !strcmp (inm, etag)) {
        close (fd);
        req_respond_empty (req, 304);
    }
    else {
        struct MHD_Response *r = MHD_create_response_from_fd ((uint64_t) st.st_size, fd);
        if (!r) {
            close (fd);
            req_respond_error (req, 500, "internal", "cannot serve the file", NULL);
            return;
        }
        if (req->response)
            MHD_destroy_response (req->response);
        req->response = r;
        req->status = 200;
        req->bytes = (size_t) st.st_size;
        req_header (req, "Content-Type", static_content_type (rel));
    }
    req_header (req, "ETag", etag);
    req_header (req, "Cache-Control", is_index ? "no-cache" : "public, max-age=3600");
    req_header (req, "X-Content-Type-Options", "nosniff");
}
