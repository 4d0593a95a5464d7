/*  curve: CurveZMQ for the broker's and hub's endpoints, shared by every process. A server
    gets its certificate and a ZAP allow-list of client keys (czmq's zauth); a client gets
    its own certificate and the server's public key. Off (plain TCP) unless configured.  */
#ifndef COMMON_CURVE_H
#define COMMON_CURVE_H

#include <stdbool.h>

typedef struct _zsock_t zsock_t;

#define CURVE_KEY_Z85_LEN   40      //  a 32-byte key in Z85 text

//  --------------------------------------------------------------------------
//  Server side: the broker's ROUTER, the hub's XSUB and XPUB.

typedef struct {
    const char *cert_path;          //  CURVE_SERVER_CERT (secret file); NULL: plain TCP
    const char *allow_dir;          //  CURVE_ALLOW_DIR, public certificates of allowed clients
} curve_server_config_t;

//  Reads CURVE_SERVER_CERT and CURVE_ALLOW_DIR and checks them (the certificate loads and
//  holds a secret key; the directory exists). Both unset: cert_path NULL (CURVE off).
//  Returns -1 (one line logged, no key in it) on a bad or half setting.
int curve_server_config_load (curve_server_config_t *cfg);

typedef struct _curve_server_t curve_server_t;

//  Loads the certificate and starts the ZAP handler (one per process) that admits only
//  clients whose public key is in allow_dir, re-read when the directory changes.
//  NULL (logged) on failure.
curve_server_t *curve_server_new (const curve_server_config_t *cfg);
void curve_server_destroy (curve_server_t **self_p);

//  Makes sock a CURVE server with our certificate. Call before zsock_bind.
void curve_server_apply (curve_server_t *self, zsock_t *sock);

//  Our public key in Z85, for logs and for clients' CURVE_SERVER_KEY.
const char *curve_server_public_txt (curve_server_t *self);

//  --------------------------------------------------------------------------
//  Client side: workers (MDP DEALER, outbox PUB and DEALER), the edge, the tools. One
//  identity per process, so the settings are read once and kept.

//  Reads CURVE_CLIENT_CERT (our secret certificate) and CURVE_SERVER_KEY (the server's
//  public key: 40 Z85 characters, or the path of its public certificate). Both set: CURVE
//  on; both unset: plain. Returns -1 (one line logged) on a bad or half setting. The
//  first call decides; later calls return its result.
int curve_client_init (void);

//  True when curve_client_init found CURVE on.
bool curve_client_enabled (void);

//  Makes sock a CURVE client of the configured server (nothing when CURVE is off).
//  Call before zsock_connect. Runs curve_client_init if nobody did; -1 if it fails.
int curve_client_apply (zsock_t *sock);

//  Forgets what curve_client_init read (for tests).
void curve_client_reset (void);

//  Parses a server key: an existing file is read as a certificate (its public key), else
//  the text must be 40 Z85 characters. Writes the Z85 key into z85. -1 when neither.
int curve_key_parse (const char *text, char z85 [CURVE_KEY_Z85_LEN + 1]);

#endif
