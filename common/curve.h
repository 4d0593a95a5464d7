/*  curve: CurveZMQ for the broker's and hub's endpoints, shared by every process. A server
    gets its certificate and our ZAP handler, which admits the client keys of an allow
    directory and tells each socket the peer's role (edge, worker, tool); a client gets its
    own certificate and the server's public key. Off (plain TCP) unless configured:
    ./manage.sh configures it by default.  */
#ifndef COMMON_CURVE_H
#define COMMON_CURVE_H

#include <stdbool.h>

typedef struct _zsock_t zsock_t;
typedef struct _zframe_t zframe_t;
typedef struct _zcert_t zcert_t;

#define CURVE_KEY_Z85_LEN   40      //  a 32-byte key in Z85 text

//  --------------------------------------------------------------------------
//  Roles: what a client key may do. The role is the "role" metadata of the client's
//  public certificate in the allow directory (ticketd-keygen --role), so it is the
//  operator's word, never the client's. No role, or one we do not know: tool.

typedef enum {
    CURVE_ROLE_NONE = 0,    //  no CURVE peer (plain TCP), or not a role
    CURVE_ROLE_TOOL,        //  monitoring: status, watch; may read, may not act for a user
    CURVE_ROLE_WORKER,      //  may register services and publish job events
    CURVE_ROLE_EDGE,        //  may send requests on behalf of a user (a non-empty auth frame)
    CURVE_ROLE_LOCAL,       //  a peer on the broker's local ipc:// endpoint: the broker's own
                            //  host and user (its folder admits nobody else), so any role
} curve_role_t;

//  "tool", "worker", "edge", "local"; "" for CURVE_ROLE_NONE.
const char *curve_role_name (curve_role_t role);
//  CURVE_ROLE_NONE for NULL or anything but the four names.
curve_role_t curve_role_parse (const char *name);
//  The role a certificate's metadata names; CURVE_ROLE_TOOL (and *known false) when it
//  names none, one we do not know, or local (which no key can claim: it is where a peer
//  connects from, not who it says it is).
curve_role_t curve_cert_role (zcert_t *cert, bool *known);
//  Whether a peer of role may do what role as may: its own, or any for a local peer.
bool curve_role_acts_as (curve_role_t role, curve_role_t as);

//  ZAP domains: one handler serves every server socket, and the domain a socket sets says
//  which roles may complete the handshake on it. An unknown domain admits nobody.
#define CURVE_DOMAIN_BROKER     "ticketd.broker"    //  any allowed key; the broker checks per message
#define CURVE_DOMAIN_HUB_PUB    "ticketd.hub.pub"   //  the hub's XSUB: publishers, workers only
#define CURVE_DOMAIN_HUB_SUB    "ticketd.hub.sub"   //  the hub's XPUB: any allowed key
#define CURVE_DOMAIN_LOCAL      "ticketd.local"     //  the broker's ipc:// endpoint: no key

//  Whether a peer of this role may connect to a socket of this ZAP domain.
bool curve_domain_admits (const char *domain, curve_role_t role);

//  The role our ZAP handler gave the peer that sent frame (its User-Id metadata);
//  CURVE_ROLE_NONE for a frame from a plain connection or one we made ourselves.
curve_role_t curve_frame_role (zframe_t *frame);

//  Logs the one warning of a process that talks ZeroMQ without CURVE.
void curve_warn_off (void);

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

//  Loads the certificate and starts the ZAP handler (one per process, bound to
//  inproc://zeromq.zap.01) that admits only clients whose public key is in allow_dir (a
//  zcertstore, re-read when the directory changes) and whose role the socket's domain
//  admits, and answers with User-Id = the role. NULL (logged) on failure.
curve_server_t *curve_server_new (const curve_server_config_t *cfg);
void curve_server_destroy (curve_server_t **self_p);

//  Makes sock a CURVE server with our certificate in ZAP domain (CURVE_DOMAIN_*).
//  Call before zsock_bind.
void curve_server_apply (curve_server_t *self, zsock_t *sock, const char *domain);

//  Binds sock (a CURVE server of curve_server_apply, or a plain socket when self is NULL)
//  to an ipc:// endpoint without CurveZMQ: the endpoint's folder is its access control
//  (curve_local_endpoint_check), and our ZAP handler names every peer there local. Call
//  after the socket's other binds, which keep CurveZMQ. 0, or -1 (logged).
int curve_server_bind_local (curve_server_t *self, zsock_t *sock, const char *endpoint);

//  Our public key in Z85, for logs and for clients' CURVE_SERVER_KEY.
const char *curve_server_public_txt (curve_server_t *self);

//  --------------------------------------------------------------------------
//  Client side: workers (MDP DEALER, outbox PUB and DEALER), the edge, the tools. One
//  identity per process, so the settings are read once and kept.

//  Reads CURVE_CLIENT_CERT (our secret certificate) and CURVE_SERVER_KEY (the server's
//  public key: 40 Z85 characters, or the path of its public certificate). Both set: CURVE
//  on; both unset: plain (and curve_warn_off). Returns -1 (one line logged) on a bad or half setting. The
//  first call decides; later calls return its result.
int curve_client_init (void);

//  True when curve_client_init found CURVE on.
bool curve_client_enabled (void);

//  Makes sock a CURVE client of the configured server (nothing when CURVE is off).
//  Call before zsock_connect. Runs curve_client_init if nobody did; -1 if it fails.
int curve_client_apply (zsock_t *sock);

//  Connects sock to a broker endpoint: a tcp:// one as a CURVE client (curve_client_apply),
//  an ipc:// one (the broker's local endpoint, curve_server_bind_local) without CurveZMQ,
//  once its path passes curve_local_endpoint_check. 0, or -1 (logged).
int curve_client_connect_broker (zsock_t *sock, const char *endpoint);

//  An ipc:// endpoint fit to go without CurveZMQ: an absolute path short enough for a Unix
//  socket, in a folder owned by us that neither group nor others may enter, below folders
//  (no symbolic links) that only root or we may change. 0, or -1 with why (a static
//  sentence).
int curve_local_endpoint_check (const char *endpoint, const char **why);

//  Forgets what curve_client_init read (for tests).
void curve_client_reset (void);

//  Parses a server key: an existing file is read as a certificate (its public key), else
//  the text must be 40 Z85 characters. Writes the Z85 key into z85. -1 when neither.
int curve_key_parse (const char *text, char z85 [CURVE_KEY_Z85_LEN + 1]);

#endif
