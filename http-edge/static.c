/*  static: files from web/ for the UI. No directory listing, no path outside the root.
    One dynamic file, /config.json, tells the UI where the API and the WebSocket are.  */
#include "static.h"
#include "../common/log.h"

#include <ctype.h>
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
    long api_port;              //  PORT, for /config.json
    long ws_port;               //  WS_PORT, for /config.json
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

//  The host part of a Host header, when it is a plain name, an IPv4 address or a
//  bracketed IPv6 address, optionally followed by :port. Anything else could smuggle
//  markup or another origin into /config.json, so it becomes 127.0.0.1.
const char *
static_host_of (const char *host_header, char *buf, size_t size)
{
    const char *fallback = "127.0.0.1";
    if (!host_header || !*host_header || size < 2)
        return fallback;
    const char *p = host_header;
    size_t n = 0;
    if (*p == '[') {
        n = 1;
        while (p [n] && (isxdigit ((unsigned char) p [n]) || p [n] == ':' || p [n] == '.'))
            n++;
        if (p [n] != ']' || n < 3)
            return fallback;
        n++;
    }
    else {
        while (p [n] && (isalnum ((unsigned char) p [n]) || p [n] == '.' || p [n] == '-'))
            n++;
        if (n == 0)
            return fallback;
    }
    const char *rest = p + n;
    if (*rest == ':') {
        rest++;
        size_t digits = strspn (rest, "0123456789");
        if (digits == 0 || digits > 5 || rest [digits])
            return fallback;
    }
    else
    if (*rest)
        return fallback;
    if (n >= size || n > 255)
        return fallback;
    memcpy (buf, p, n);
    buf [n] = 0;
    return buf;
}

//  GET /config.json: the API and WebSocket addresses on the host the browser used, since
//  ports are configurable and the UI has no build step to bake them in.
static void
s_serve_config (static_t *self, edge_req_t *req)
{
    char buf [256], json [600];
    const char *host = static_host_of (req_header_in (req, "Host"), buf, sizeof buf);
    int len = snprintf (json, sizeof json,
                        "{\"apiBase\":\"http://%s:%ld\",\"wsUrl\":\"ws://%s:%ld/ws\"}",
                        host, self->api_port, host, self->ws_port);
    req_respond_json (req, 200, json, (size_t) len);
    req_header (req, "Cache-Control", "no-store");
    req_header (req, "X-Content-Type-Options", "nosniff");
}

//  The page runs only its own scripts, talks only to its API and its hub (their origins
//  on the host the browser used, as /config.json says), and is never framed by another
//  site (clickjacking): an injected script or a hostile page gets nothing from it.
static void
s_page_policy (static_t *self, edge_req_t *req)
{
    char buf [256], origins [600], csp [1024];
    const char *host = static_host_of (req_header_in (req, "Host"), buf, sizeof buf);
    //  CSP's grammar has no IPv6 literal: a page opened as http://[::1]:PORT may connect
    //  over http: and ws: at large, rather than not at all.
    if (*host == '[')
        snprintf (origins, sizeof origins, "http: ws:");
    else
        snprintf (origins, sizeof origins, "http://%s:%ld ws://%s:%ld", host, self->api_port,
                  host, self->ws_port);
    snprintf (csp, sizeof csp,
              "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self' %s; object-src 'none'; base-uri 'none'; form-action 'self'; "
              "frame-ancestors 'none'", origins);
    req_header (req, "Content-Security-Policy", csp);
    req_header (req, "X-Frame-Options", "DENY");
    req_header (req, "Referrer-Policy", "no-referrer");
}

static_t *
static_new (const char *root, long api_port, long ws_port)
{
    static_t *self = (static_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->api_port = api_port;
    self->ws_port = ws_port;
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
    if (!strcmp (path, "/config.json")) {
        s_serve_config (self, req);
        return;
    }
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
    //  HTML, scripts and styles revalidate (a cheap 304) so that an upgrade never mixes
    //  old and new ES modules; images may be cached for an hour.
    const char *type = static_content_type (rel);
    bool revalidate = !strncmp (type, "text/", 5) || !strcmp (type, "application/json");
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
        req_header (req, "Content-Type", type);
    }
    req_header (req, "ETag", etag);
    req_header (req, "Cache-Control", revalidate ? "no-cache" : "public, max-age=3600");
    req_header (req, "X-Content-Type-Options", "nosniff");
    if (!strncmp (type, "text/html", 9))
        s_page_policy (self, req);
}
