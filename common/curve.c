/*  curve: CurveZMQ settings and socket setup for servers (zauth allow-list) and clients.
    Owns the server's certificate and ZAP actor, and the process's client identity.  */
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

struct _curve_server_t {
    zcert_t *cert;
    zactor_t *auth;
};

//  libzmq has one ZAP endpoint per context and zauth asserts when it is taken: one server
//  object per process, for every socket that needs it.
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
    self->auth = zactor_new (zauth, NULL);
    if (!self->auth) {
        log_error ("event=curve_failed msg=\"cannot start the ZAP handler\"");
        goto fail;
    }
    s_servers++;
    if (log_enabled (LOG_DEBUG)) {
        zstr_send (self->auth, "VERBOSE");  //  zauth then logs each decision (zsys lines)
        zsock_wait (self->auth);
    }
    zstr_sendx (self->auth, "CURVE", cfg->allow_dir, NULL);
    zsock_wait (self->auth);
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
    free (self);
    *self_p = NULL;
}

void
curve_server_apply (curve_server_t *self, zsock_t *sock)
{
    if (!self)
        return;
    zcert_apply (self->cert, sock);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, "ticketd");
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

void
curve_client_reset (void)
{
    zcert_destroy (&s_client_cert);
    memset (s_server_key, 0, sizeof s_server_key);
    s_client_state = S_UNREAD;
}
