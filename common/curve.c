/*  curve: CurveZMQ settings and socket setup for servers (our ZAP handler: allow-list and
    roles) and clients. Owns the server's certificate and ZAP actor, and the process's
    client identity.  */
#include "curve.h"
#include "conf.h"
#include "log.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  zcert_load appends "_secret" in a 256-byte buffer; a longer path would load another file.
#define S_PATH_MAX  200

#define S_ZAP_ENDPOINT  "inproc://zeromq.zap.01"    //  libzmq's fixed ZAP address

struct _curve_server_t {
    zcert_t *cert;
    char *allow_dir;            //  the ZAP actor reads it; freed after the actor stops
    zactor_t *auth;
};

//  libzmq has one ZAP endpoint per context: one server object per process, for every
//  socket that needs it (the domain tells them apart).
static int s_servers;

static bool
s_all_zero (const byte *key)
{
    for (int i = 0; i < 32; i++)
        if (key [i])
            return false;
    return true;
}

//  Loads a certificate that must hold a secret key: CURVE_SERVER_CERT or CURVE_CLIENT_CERT.
//  Accepts the "_secret" file or its public twin (zcert_load prefers the former).
static zcert_t *
s_cert_load (const char *var, const char *path)
{
    char q [S_PATH_MAX + 64];
    if (strlen (path) > S_PATH_MAX) {
        log_error ("event=bad_config var=%s msg=\"path longer than %d bytes\"", var, S_PATH_MAX);
        return NULL;
    }
    char secret_path [S_PATH_MAX + 16];
    snprintf (secret_path, sizeof secret_path, "%s_secret", path);
    const char *file = access (secret_path, F_OK) == 0 ? secret_path : path;
    struct stat st;
    const char *why = NULL;
    if (stat (file, &st))
        why = strerror (errno);
    else
    if (!S_ISREG (st.st_mode))
        why = "not a regular file";
    else
    if (access (file, R_OK))
        why = strerror (errno);
    if (why) {
        log_error ("event=bad_config var=%s file=%s msg=\"cannot read the certificate: %s\"",
                   var, log_quote (q, sizeof q, file), why);
        return NULL;
    }
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        log_error ("event=bad_config var=%s file=%s msg=\"not a CURVE certificate (zcert format, "
                   "as ticketd-keygen writes)\"", var, log_quote (q, sizeof q, file));
        return NULL;
    }
    if (s_all_zero (zcert_secret_key (cert))) {
        log_error ("event=bad_config var=%s file=%s msg=\"holds no secret key: give the "
                   "NAME_secret file ticketd-keygen wrote\"", var, log_quote (q, sizeof q, file));
        zcert_destroy (&cert);
        return NULL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        log_warn ("event=curve_cert_exposed var=%s file=%s msg=\"secret certificate is "
                  "readable by group or others; chmod 600 it\"", var, log_quote (q, sizeof q, file));
    return cert;
}

//  Files the allow-list would consider (zcertstore skips *_secret); 0 is worth a warning.
static int
s_allow_files (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d))) {
        size_t len = strlen (e->d_name);
        if (e->d_name [0] == '.' || (len >= 7 && !strcmp (e->d_name + len - 7, "_secret")))
            continue;
        n++;
    }
    closedir (d);
    return n;
}


//  --------------------------------------------------------------------------
//  Roles and domains

static const char *s_role_names [] = { "", "tool", "worker", "edge", "local" };

const char *
curve_role_name (curve_role_t role)
{
    return role >= CURVE_ROLE_NONE && role <= CURVE_ROLE_LOCAL ? s_role_names [role] : "";
}

curve_role_t
curve_role_parse (const char *name)
{
    if (!name)
        return CURVE_ROLE_NONE;
    for (int r = CURVE_ROLE_TOOL; r <= CURVE_ROLE_LOCAL; r++)
        if (streq (name, s_role_names [r]))
            return (curve_role_t) r;
    return CURVE_ROLE_NONE;
}

curve_role_t
curve_cert_role (zcert_t *cert, bool *known)
{
    curve_role_t role = curve_role_parse (zcert_meta (cert, "role"));
    if (role == CURVE_ROLE_LOCAL)
        role = CURVE_ROLE_NONE;
    if (known)
        *known = role != CURVE_ROLE_NONE;
    //  Least privilege for a certificate made before roles, or by hand.
    return role == CURVE_ROLE_NONE ? CURVE_ROLE_TOOL : role;
}

bool
curve_role_acts_as (curve_role_t role, curve_role_t as)
{
    return role == as || role == CURVE_ROLE_LOCAL;
}

#define S_ANY_ROLE  ((1u << CURVE_ROLE_TOOL) | (1u << CURVE_ROLE_WORKER) | (1u << CURVE_ROLE_EDGE))

static const struct {
    const char *domain;
    unsigned roles;             //  bit (1 << role) per role admitted
} s_domains [] = {
    //  The broker needs every role (tools call mmi.status) and checks roles per message.
    { CURVE_DOMAIN_BROKER,  S_ANY_ROLE },
    //  Only workers publish job events; anyone else could feed the browsers fakes.
    { CURVE_DOMAIN_HUB_PUB, 1u << CURVE_ROLE_WORKER },
    { CURVE_DOMAIN_HUB_SUB, S_ANY_ROLE },
    { CURVE_DOMAIN_LOCAL,   1u << CURVE_ROLE_LOCAL },
};

bool
curve_domain_admits (const char *domain, curve_role_t role)
{
    if (!domain || role <= CURVE_ROLE_NONE || role > CURVE_ROLE_LOCAL)
        return false;
    for (size_t i = 0; i < sizeof s_domains / sizeof s_domains [0]; i++)
        if (streq (domain, s_domains [i].domain))
            return (s_domains [i].roles & (1u << role)) != 0;
    return false;
}

curve_role_t
curve_frame_role (zframe_t *frame)
{
    //  libzmq attaches the connection's metadata, User-Id among it, to every frame it
    //  received from the peer (with 4.3 the ROUTER's routing-id frame too); frames we
    //  build or duplicate carry none.
    return frame ? curve_role_parse (zframe_meta (frame, "User-Id")) : CURVE_ROLE_NONE;
}

void
curve_warn_off (void)
{
    log_warn ("event=curve_off msg=\"the ZeroMQ endpoints are unauthenticated: any local "
              "user can act as a client, a worker or a subscriber; set CURVE_* or run "
              "./manage.sh without CURVE=off\"");
}

//  --------------------------------------------------------------------------
//  The ZAP handler (rfc.zeromq.org spec 27), an actor in its own thread. czmq's zauth
//  answers with an empty User-Id; ours names the key's role, so the broker can decide
//  per message what a peer may do.

typedef struct {
    const char *allow_dir;
    zcertstore_t *store;        //  reloads itself when the directory changes
    zhashx_t *warned;           //  public keys whose file names no known role: warned once
} s_zap_t;

//  The allow-directory file that holds key, for a warning; "" when none does.
static void
s_file_of_key (const char *dir, const char *key, char *out, size_t outlen)
{
    *out = 0;
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir (d))) {
        size_t len = strlen (e->d_name);
        if (e->d_name [0] == '.' || (len >= 7 && !strcmp (e->d_name + len - 7, "_secret")))
            continue;
        char path [S_PATH_MAX + 1];
        if (snprintf (path, sizeof path, "%s/%s", dir, e->d_name) >= (int) sizeof path)
            continue;
        zcert_t *cert = zcert_load (path);
        bool match = cert && streq (zcert_public_txt (cert), key);
        zcert_destroy (&cert);
        if (match) {
            snprintf (out, outlen, "%s", path);
            break;
        }
    }
    closedir (d);
}

//  Decides one request; status 200 with the role, or 400 and why.
static curve_role_t
s_zap_decide (s_zap_t *self, const char *domain, const char *mechanism, zframe_t *key,
              const char **why)
{
    //  libzmq asks about a plain (NULL) handshake only on a socket with a ZAP domain, and
    //  ours set one without CURVE only on the broker's ipc:// bind (curve_server_bind_local).
    if (streq (domain, CURVE_DOMAIN_LOCAL)) {
        if (streq (mechanism, "NULL"))
            return CURVE_ROLE_LOCAL;
        *why = "not a plain handshake on the local endpoint";
        return CURVE_ROLE_NONE;
    }
    if (!streq (mechanism, "CURVE") || !key || zframe_size (key) != 32) {
        *why = "not a CURVE handshake";
        return CURVE_ROLE_NONE;
    }
    char key_txt [CURVE_KEY_Z85_LEN + 1];
    zmq_z85_encode (key_txt, zframe_data (key), 32);
    zcert_t *cert = zcertstore_lookup (self->store, key_txt);
    if (!cert) {
        *why = "key not in the allow directory";
        return CURVE_ROLE_NONE;
    }
    bool known;
    curve_role_t role = curve_cert_role (cert, &known);
    if (!known && !zhashx_lookup (self->warned, key_txt)) {
        char file [S_PATH_MAX + 1], q [S_PATH_MAX + 64], r [64];
        s_file_of_key (self->allow_dir, key_txt, file, sizeof file);
        log_warn ("event=curve_cert_without_role file=%s role=%s client_key=%s "
                  "msg=\"treated as role tool; make it with ticketd-keygen --role, or add "
                  "role = edge|worker|tool to its metadata\"", log_quote (q, sizeof q, file),
                  log_quote (r, sizeof r, zcert_meta (cert, "role")), key_txt);
        zhashx_insert (self->warned, key_txt, (void *) 1);
    }
    if (!curve_domain_admits (domain, role)) {
        *why = "role not admitted on this endpoint";
        return CURVE_ROLE_NONE;
    }
    return role;
}

static void
s_zap_handle (s_zap_t *self, zsock_t *handler)
{
    zmsg_t *request = zmsg_recv (handler);
    if (!request)
        return;
    //  version, request id, domain, address, routing id, mechanism, credentials...
    char *version = zmsg_popstr (request);
    zframe_t *request_id = zmsg_pop (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    zframe_t *routing_id = zmsg_pop (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *key = zmsg_pop (request);
    const char *why = "malformed ZAP request";
    curve_role_t role = CURVE_ROLE_NONE;
    if (version && streq (version, "1.0") && request_id && domain && mechanism)
        role = s_zap_decide (self, domain, mechanism, key, &why);
    char q [300];
    if (role != CURVE_ROLE_NONE)
        log_debug ("event=curve_admitted domain=%s address=%s role=%s",
                   log_quote (q, sizeof q, domain), address ? address : "-",
                   curve_role_name (role));
    else
        log_debug ("event=curve_refused domain=%s address=%s reason=\"%s\"",
                   log_quote (q, sizeof q, domain), address ? address : "-", why);
    //  REP: one reply per request, even to a malformed one.
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    if (request_id)
        zmsg_append (reply, &request_id);
    else
        zmsg_addmem (reply, "", 0);
    zmsg_addstr (reply, role != CURVE_ROLE_NONE ? "200" : "400");
    zmsg_addstr (reply, role != CURVE_ROLE_NONE ? "OK" : why);
    zmsg_addstr (reply, curve_role_name (role));
    zmsg_addmem (reply, "", 0);     //  no metadata
    if (zmsg_send (&reply, handler))
        zmsg_destroy (&reply);
    zstr_free (&version);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&mechanism);
    zframe_destroy (&request_id);
    zframe_destroy (&routing_id);
    zframe_destroy (&key);
    zmsg_destroy (&request);
}

//  args: the allow directory (owned by the curve_server_t, which outlives the actor).
//  Signals twice: once for zactor_new, then 0 when bound or 1 when not.
static void
s_zap_actor (zsock_t *pipe, void *args)
{
    s_zap_t self = { .allow_dir = (const char *) args };
    zsock_t *handler = zsock_new (ZMQ_REP);
    zsock_signal (pipe, 0);
    //  A handler destroyed just before (a server made again in the same process) keeps the
    //  endpoint until libzmq's reaper closes its socket: wait for that, up to a second.
    int rc = handler ? zsock_bind (handler, S_ZAP_ENDPOINT) : -1;
    for (int tries = 0; handler && rc == -1 && zmq_errno () == EADDRINUSE && tries < 100;
         tries++) {
        zclock_sleep (10);
        rc = zsock_bind (handler, S_ZAP_ENDPOINT);
    }
    if (rc == -1) {
        zsock_destroy (&handler);
        zsock_signal (pipe, 1);
        return;
    }
    self.store = zcertstore_new (self.allow_dir);
    self.warned = zhashx_new ();
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    zsock_signal (pipe, 0);
    //  Only $TERM (or the context ending) stops the handler: while a server socket lives,
    //  connections must be decided, and a signal to the process is not a reason.
    while (true) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, -1);
        if (which == handler)
            s_zap_handle (&self, handler);
        else
        if (which == pipe) {
            zmsg_t *msg = zmsg_recv (pipe);
            char *command = msg ? zmsg_popstr (msg) : NULL;
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            zmsg_destroy (&msg);
            if (term)
                break;
        }
        else
        if (zmq_errno () == ETERM)
            break;
    }
    zpoller_destroy (&poller);
    zhashx_destroy (&self.warned);
    zcertstore_destroy (&self.store);
    zsock_destroy (&handler);
}

//  --------------------------------------------------------------------------
//  Server

int
curve_server_config_load (curve_server_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    const char *cert_path = conf_str ("CURVE_SERVER_CERT", NULL);
    const char *allow_dir = conf_str ("CURVE_ALLOW_DIR", NULL);
    if (!cert_path && !allow_dir)
        return 0;
    if (!cert_path) {
        log_error ("event=bad_config var=CURVE_SERVER_CERT msg=\"is required when "
                   "CURVE_ALLOW_DIR is set\"");
        return -1;
    }
    if (!allow_dir) {
        log_error ("event=bad_config var=CURVE_ALLOW_DIR msg=\"is required when "
                   "CURVE_SERVER_CERT is set: the directory of allowed client certificates\"");
        return -1;
    }
    zcert_t *cert = s_cert_load ("CURVE_SERVER_CERT", cert_path);
    if (!cert)
        return -1;
    zcert_destroy (&cert);
    struct stat st;
    if (stat (allow_dir, &st) || !S_ISDIR (st.st_mode) || access (allow_dir, R_OK | X_OK)) {
        char q [S_PATH_MAX + 64];
        log_error ("event=bad_config var=CURVE_ALLOW_DIR dir=%s msg=\"not a readable directory\"",
                   log_quote (q, sizeof q, allow_dir));
        return -1;
    }
    cfg->cert_path = cert_path;
    cfg->allow_dir = allow_dir;
    return 0;
}

curve_server_t *
curve_server_new (const curve_server_config_t *cfg)
{
    if (!cfg->cert_path || !cfg->allow_dir)
        return NULL;
    if (s_servers) {
        log_error ("event=curve_failed msg=\"one CURVE server object per process\"");
        return NULL;
    }
    if (!zsys_has_curve ()) {
        log_error ("event=curve_failed msg=\"this libzmq has no CURVE support\"");
        return NULL;
    }
    curve_server_t *self = (curve_server_t *) zmalloc (sizeof (curve_server_t));
    self->cert = s_cert_load ("CURVE_SERVER_CERT", cfg->cert_path);
    if (!self->cert)
        goto fail;
    //  The ZAP handler must run before the first bind: without one libzmq lets every
    //  CURVE client in.
    self->allow_dir = strdup (cfg->allow_dir);
    self->auth = zactor_new (s_zap_actor, self->allow_dir);
    if (!self->auth || zsock_wait (self->auth) != 0) {
        log_error ("event=curve_failed msg=\"cannot bind the ZAP handler (%s)\"", S_ZAP_ENDPOINT);
        zactor_destroy (&self->auth);
        goto fail;
    }
    s_servers++;
    char q [S_PATH_MAX + 64];
    int files = s_allow_files (cfg->allow_dir);
    log_info ("event=curve_on allow_dir=%s allow_files=%d server_key=%s",
              log_quote (q, sizeof q, cfg->allow_dir), files, zcert_public_txt (self->cert));
    if (files == 0)
        log_warn ("event=curve_allow_dir_empty msg=\"no client can connect until a public "
                  "certificate is copied into CURVE_ALLOW_DIR\"");
    return self;
fail:
    curve_server_destroy (&self);
    return NULL;
}

void
curve_server_destroy (curve_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    curve_server_t *self = *self_p;
    if (self->auth) {
        zactor_destroy (&self->auth);
        s_servers--;
    }
    zcert_destroy (&self->cert);
    free (self->allow_dir);
    free (self);
    *self_p = NULL;
}

void
curve_server_apply (curve_server_t *self, zsock_t *sock, const char *domain)
{
    if (!self)
        return;
    zcert_apply (self->cert, sock);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, domain);
}

int
curve_local_endpoint_check (const char *endpoint, const char **why)
{
    *why = NULL;
    const char *path = strncmp (endpoint, "ipc://", 6) ? NULL : endpoint + 6;
    char dir [108];
    if (!path || path [0] != '/')
        *why = "must be ipc:// and an absolute path";
    else
    if (strlen (path) >= sizeof dir)
        *why = "is too long for a Unix socket (107 bytes of path at most)";
    else {
        memcpy (dir, path, strlen (path) + 1);
        *strrchr (dir, '/') = 0;
        //  Every folder from / down: another user who may replace one of them (its owner,
        //  or anyone who may write in its parent) could put a socket of their own in our
        //  socket's place. So each is a real folder (no symbolic link, which its owner could
        //  point anywhere), owned by root or us, and writable by nobody else unless sticky
        //  (/tmp: nobody may rename another's entry there).
        for (char *end = dir; !*why; end = strchr (end + 1, '/')) {
            char saved = end ? *end : 0;
            if (end)
                *end = 0;
            struct stat st;
            if (lstat (*dir ? dir : "/", &st) || !S_ISDIR (st.st_mode))
                *why = "must be in an existing folder, reached without symbolic links";
            else
            if ((st.st_uid != 0 && st.st_uid != geteuid ())
            ||  ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
                *why = "must be in folders that only root or our own user may change, "
                       "from / down: another user could put a socket in its place";
            if (end)
                *end = saved;
            if (!end || *why)
                break;
        }
        struct stat st;
        if (!*why && (stat (dir, &st) || st.st_uid != geteuid () || (st.st_mode & 077)))
            *why = "must be in a folder of our own user that group and others cannot enter "
                   "(chmod 700): without CurveZMQ it is the endpoint's only lock";
    }
    return *why ? -1 : 0;
}

int
curve_server_bind_local (curve_server_t *self, zsock_t *sock, const char *endpoint)
{
    const char *why;
    char q [300];
    if (curve_local_endpoint_check (endpoint, &why)) {
        log_error ("event=bind_failed endpoint=%s msg=\"%s\"", log_quote (q, sizeof q, endpoint), why);
        return -1;
    }
    //  libzmq copies a socket's security options into each endpoint as it binds: this
    //  bind alone is plain, and the ZAP domain marks its peers local.
    zsock_set_curve_server (sock, 0);
    if (self)
        zsock_set_zap_domain (sock, CURVE_DOMAIN_LOCAL);
    if (zsock_bind (sock, "%s", endpoint) == -1) {
        log_error ("event=bind_failed endpoint=%s msg=%s", log_quote (q, sizeof q, endpoint),
                   zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

const char *
curve_server_public_txt (curve_server_t *self)
{
    return self ? zcert_public_txt (self->cert) : NULL;
}

//  --------------------------------------------------------------------------
//  Client

typedef enum { S_UNREAD = 0, S_PLAIN, S_CURVE, S_BAD } s_client_state_t;

static s_client_state_t s_client_state;
static zcert_t *s_client_cert;
static char s_server_key [CURVE_KEY_Z85_LEN + 1];

int
curve_key_parse (const char *text, char z85 [CURVE_KEY_Z85_LEN + 1])
{
    if (!text || !*text)
        return -1;
    struct stat st;
    if (stat (text, &st) == 0) {
        if (!S_ISREG (st.st_mode) || strlen (text) > S_PATH_MAX)
            return -1;
        zcert_t *cert = zcert_load (text);
        if (!cert)
            return -1;
        memcpy (z85, zcert_public_txt (cert), CURVE_KEY_Z85_LEN + 1);
        zcert_destroy (&cert);
        return 0;
    }
    if (strlen (text) != CURVE_KEY_Z85_LEN)
        return -1;
    uint8_t bin [32];
    if (!zmq_z85_decode (bin, text))
        return -1;
    memcpy (z85, text, CURVE_KEY_Z85_LEN + 1);
    return 0;
}

int
curve_client_init (void)
{
    if (s_client_state != S_UNREAD)
        return s_client_state == S_BAD ? -1 : 0;
    const char *cert_path = conf_str ("CURVE_CLIENT_CERT", NULL);
    const char *server_key = conf_str ("CURVE_SERVER_KEY", NULL);
    s_client_state = S_BAD;
    if (!cert_path && !server_key) {
        s_client_state = S_PLAIN;
        curve_warn_off ();
        return 0;
    }
    if (!cert_path) {
        log_error ("event=bad_config var=CURVE_CLIENT_CERT msg=\"is required when "
                   "CURVE_SERVER_KEY is set: this process's own certificate\"");
        return -1;
    }
    if (!server_key) {
        log_error ("event=bad_config var=CURVE_SERVER_KEY msg=\"is required when "
                   "CURVE_CLIENT_CERT is set: the broker's and hub's public key\"");
        return -1;
    }
    if (curve_key_parse (server_key, s_server_key)) {
        log_error ("event=bad_config var=CURVE_SERVER_KEY msg=\"must be a 40-character Z85 "
                   "public key or the path of a public certificate file\"");
        return -1;
    }
    if (!zsys_has_curve ()) {
        log_error ("event=curve_failed msg=\"this libzmq has no CURVE support\"");
        return -1;
    }
    s_client_cert = s_cert_load ("CURVE_CLIENT_CERT", cert_path);
    if (!s_client_cert)
        return -1;
    s_client_state = S_CURVE;
    log_debug ("event=curve_client client_key=%s server_key=%s",
               zcert_public_txt (s_client_cert), s_server_key);
    return 0;
}

bool
curve_client_enabled (void)
{
    return s_client_state == S_CURVE;
}

int
curve_client_apply (zsock_t *sock)
{
    if (curve_client_init ())
        return -1;
    if (s_client_state != S_CURVE)
        return 0;
    zcert_apply (s_client_cert, sock);
    zsock_set_curve_serverkey (sock, s_server_key);
    return 0;
}

int
curve_client_connect_broker (zsock_t *sock, const char *endpoint)
{
    int rc = 0;
    char q [300];
    const char *why;
    if (!strncmp (endpoint, "ipc://", 6)) {
        //  The broker checked the path as it bound; we check it as we trust it with what
        //  we send and take as orders (a login's password, a user's request).
        if (curve_local_endpoint_check (endpoint, &why)) {
            log_error ("event=connect_refused endpoint=%s msg=\"%s\"",
                       log_quote (q, sizeof q, endpoint), why);
            return -1;
        }
        zsock_set_curve_server (sock, 0);       //  plain: mechanism NULL for this connect
    }
    else
        rc = curve_client_apply (sock);
    if (rc == 0 && zsock_connect (sock, "%s", endpoint)) {
        log_error ("event=connect_failed endpoint=%s", log_quote (q, sizeof q, endpoint));
        rc = -1;
    }
    return rc;
}

void
curve_client_reset (void)
{
    zcert_destroy (&s_client_cert);
    memset (s_server_key, 0, sizeof s_server_key);
    s_client_state = S_UNREAD;
}
