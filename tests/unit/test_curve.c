/*  test_curve: the CURVE settings (common/curve.c): what is refused, what is accepted,
    and that the accepted ones end up on the socket.  */
#include "testing.h"
#include "../../common/curve.h"
#include "../../common/log.h"

#include <czmq.h>
#include <unistd.h>

//  czmq 4.2.1's zconfig_load leaks its zfile_t when a file does not parse (the junk
//  certificate below); a library bug, not ours, once per bad setting before exit. The
//  library has no frame pointers, so the leak's stack stops at zfile_new.
const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
    return "leak:zconfig_load\nleak:zfile_new\n";
}

static char s_dir [64];
static char s_secret [128], s_public [128], s_allow [128], s_server_key [41];

//  One certificate pair (NAME, NAME_secret) and an allow directory, for every test.
static void
s_fixture (void)
{
    if (*s_dir)
        return;
    snprintf (s_dir, sizeof s_dir, "/tmp/test_curve.XXXXXX");
    if (!mkdtemp (s_dir))
        abort ();
    snprintf (s_public, sizeof s_public, "%s/peer", s_dir);
    snprintf (s_secret, sizeof s_secret, "%s/peer_secret", s_dir);
    snprintf (s_allow, sizeof s_allow, "%s/allow", s_dir);
    zcert_t *cert = zcert_new ();
    if (!cert || zcert_save (cert, s_public) || zsys_dir_create ("%s", s_allow))
        abort ();
    memcpy (s_server_key, zcert_public_txt (cert), sizeof s_server_key);
    zcert_destroy (&cert);
}

static void
s_env (const char *client_cert, const char *server_key)
{
    s_fixture ();
    curve_client_reset ();
    unsetenv ("CURVE_CLIENT_CERT");
    unsetenv ("CURVE_SERVER_KEY");
    if (client_cert)
        setenv ("CURVE_CLIENT_CERT", client_cert, 1);
    if (server_key)
        setenv ("CURVE_SERVER_KEY", server_key, 1);
}

static void
s_server_env (const char *cert, const char *dir)
{
    s_fixture ();
    unsetenv ("CURVE_SERVER_CERT");
    unsetenv ("CURVE_ALLOW_DIR");
    if (cert)
        setenv ("CURVE_SERVER_CERT", cert, 1);
    if (dir)
        setenv ("CURVE_ALLOW_DIR", dir, 1);
}

TEST (test_client_without_settings_is_plain_and_apply_changes_nothing)
{
    s_env (NULL, NULL);
    CHECK_INT (curve_client_init (), 0);
    CHECK (!curve_client_enabled ());
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    CHECK_INT (curve_client_apply (sock), 0);
    int mechanism = zsock_mechanism (sock);
    zsock_destroy (&sock);
    CHECK_INT (mechanism, ZMQ_NULL);
}

TEST (test_client_cert_without_server_key_is_refused)
{
    s_env (s_secret, NULL);
    CHECK_INT (curve_client_init (), -1);
    CHECK (!curve_client_enabled ());
}

TEST (test_server_key_without_client_cert_is_refused)
{
    s_env (NULL, s_server_key);
    CHECK_INT (curve_client_init (), -1);
}

TEST (test_server_key_of_wrong_length_or_alphabet_is_refused)
{
    s_env (s_secret, "abc");
    CHECK_INT (curve_client_init (), -1);
    s_env (s_secret, "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~");     //  40, not Z85
    CHECK_INT (curve_client_init (), -1);
    char longer [42];
    snprintf (longer, sizeof longer, "%s0", s_server_key);
    s_env (s_secret, longer);
    CHECK_INT (curve_client_init (), -1);
}

TEST (test_a_public_only_client_cert_is_refused)
{
    char copy [160];
    snprintf (copy, sizeof copy, "%s/public_only", s_dir);
    s_fixture ();
    zcert_t *cert = zcert_load (s_public);
    CHECK (cert);
    zcert_save_public (cert, copy);
    zcert_destroy (&cert);
    s_env (copy, s_server_key);
    CHECK_INT (curve_client_init (), -1);
}

TEST (test_a_missing_or_non_certificate_client_cert_is_refused)
{
    char path [160];
    s_fixture ();
    snprintf (path, sizeof path, "%s/absent", s_dir);
    s_env (path, s_server_key);
    CHECK_INT (curve_client_init (), -1);
    s_env (s_allow, s_server_key);                  //  a directory
    CHECK_INT (curve_client_init (), -1);
    snprintf (path, sizeof path, "%s/junk", s_dir);
    FILE *f = fopen (path, "w");
    CHECK (f);
    fputs ("not a certificate\n", f);
    fclose (f);
    s_env (path, s_server_key);
    CHECK_INT (curve_client_init (), -1);
}

TEST (test_a_bad_setting_stays_refused_until_reset)
{
    s_env (s_secret, NULL);
    CHECK_INT (curve_client_init (), -1);
    setenv ("CURVE_SERVER_KEY", s_server_key, 1);
    CHECK_INT (curve_client_init (), -1);            //  read once: the start decides
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    int rc = curve_client_apply (sock);
    zsock_destroy (&sock);
    CHECK_INT (rc, -1);
}

TEST (test_valid_client_settings_make_a_curve_client_of_the_server_key)
{
    s_env (s_secret, s_server_key);
    CHECK_INT (curve_client_init (), 0);
    CHECK (curve_client_enabled ());
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    CHECK_INT (curve_client_apply (sock), 0);
    int mechanism = zsock_mechanism (sock);
    char *key = zsock_curve_serverkey (sock);
    char *ours = zsock_curve_publickey (sock);
    zsock_destroy (&sock);
    bool key_ok = key && !strcmp (key, s_server_key);
    bool ours_ok = ours && !strcmp (ours, s_server_key);    //  the fixture's one pair
    zstr_free (&key);
    zstr_free (&ours);
    CHECK_INT (mechanism, ZMQ_CURVE);
    CHECK (key_ok);
    CHECK (ours_ok);
}

TEST (test_server_key_may_be_the_path_of_a_public_certificate)
{
    char z85 [41];
    s_fixture ();
    CHECK_INT (curve_key_parse (s_public, z85), 0);
    CHECK_STR (z85, s_server_key);
    CHECK_INT (curve_key_parse (s_server_key, z85), 0);
    CHECK_STR (z85, s_server_key);
    CHECK_INT (curve_key_parse ("", z85), -1);
    CHECK_INT (curve_key_parse (s_allow, z85), -1);
}

TEST (test_server_without_settings_is_plain)
{
    curve_server_config_t cfg;
    s_server_env (NULL, NULL);
    CHECK_INT (curve_server_config_load (&cfg), 0);
    CHECK (cfg.cert_path == NULL);
}

TEST (test_server_needs_both_cert_and_allow_dir)
{
    curve_server_config_t cfg;
    s_server_env (s_secret, NULL);
    CHECK_INT (curve_server_config_load (&cfg), -1);
    s_server_env (NULL, s_allow);
    CHECK_INT (curve_server_config_load (&cfg), -1);
}

TEST (test_server_refuses_a_public_only_cert_and_an_allow_dir_that_is_a_file)
{
    curve_server_config_t cfg;
    char copy [160];
    snprintf (copy, sizeof copy, "%s/server_public_only", s_dir);
    zcert_t *cert = zcert_load (s_public);
    CHECK (cert);
    zcert_save_public (cert, copy);
    zcert_destroy (&cert);
    s_server_env (copy, s_allow);
    CHECK_INT (curve_server_config_load (&cfg), -1);
    s_server_env (s_secret, s_public);
    CHECK_INT (curve_server_config_load (&cfg), -1);
}

TEST (test_a_valid_server_config_makes_curve_server_sockets_and_one_zap_handler)
{
    curve_server_config_t cfg;
    s_server_env (s_secret, s_allow);
    CHECK_INT (curve_server_config_load (&cfg), 0);
    CHECK_STR (cfg.cert_path, s_secret);
    CHECK_STR (cfg.allow_dir, s_allow);
    curve_server_t *server = curve_server_new (&cfg);
    CHECK (server);
    curve_server_t *second = curve_server_new (&cfg);   //  libzmq has one ZAP endpoint
    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    curve_server_apply (server, sock, CURVE_DOMAIN_BROKER);
    int is_server = zsock_curve_server (sock);
    bool key_ok = !strcmp (curve_server_public_txt (server), s_server_key);
    zsock_destroy (&sock);
    curve_server_destroy (&server);
    curve_server_destroy (&server);                     //  harmless
    CHECK (second == NULL);
    CHECK_INT (is_server, 1);
    CHECK (key_ok);
}

TEST (test_role_names_parse_back_and_anything_else_is_no_role)
{
    static const struct { const char *name; int value; } roles [] = {
        { "edge", CURVE_ROLE_EDGE }, { "worker", CURVE_ROLE_WORKER }, { "tool", CURVE_ROLE_TOOL },
        { "local", CURVE_ROLE_LOCAL },
        { "admin", CURVE_ROLE_NONE }, { "Edge", CURVE_ROLE_NONE }, { "", CURVE_ROLE_NONE },
        { NULL, CURVE_ROLE_NONE },
    };
    CHECK_PARSES (curve_role_parse, roles);
    CHECK_STR (curve_role_name (CURVE_ROLE_WORKER), "worker");
    CHECK_STR (curve_role_name (CURVE_ROLE_NONE), "");
}

TEST (test_a_cert_without_a_role_or_with_an_unknown_one_is_a_tool)
{
    bool known = true;
    zcert_t *cert = zcert_new ();
    CHECK (cert);
    curve_role_t none = curve_cert_role (cert, &known);
    bool none_known = known;
    zcert_set_meta (cert, "role", "root");
    curve_role_t unknown = curve_cert_role (cert, &known);
    bool unknown_known = known;
    zcert_set_meta (cert, "role", "local");         //  where a peer connects from, not a key's
    curve_role_t local = curve_cert_role (cert, &known);
    bool local_known = known;
    zcert_t *edge = zcert_new ();
    zcert_set_meta (edge, "role", "edge");
    curve_role_t edge_role = curve_cert_role (edge, &known);
    zcert_destroy (&cert);
    zcert_destroy (&edge);
    CHECK_INT (none, CURVE_ROLE_TOOL);
    CHECK (!none_known);
    CHECK_INT (unknown, CURVE_ROLE_TOOL);
    CHECK (!unknown_known);
    CHECK_INT (local, CURVE_ROLE_TOOL);
    CHECK (!local_known);
    CHECK_INT (edge_role, CURVE_ROLE_EDGE);
    CHECK (known);
}

TEST (test_only_workers_may_publish_to_the_hub_and_an_unknown_domain_admits_nobody)
{
    for (int r = CURVE_ROLE_TOOL; r <= CURVE_ROLE_EDGE; r++) {
        CHECK (curve_domain_admits (CURVE_DOMAIN_BROKER, (curve_role_t) r));
        CHECK (curve_domain_admits (CURVE_DOMAIN_HUB_SUB, (curve_role_t) r));
        CHECK (curve_domain_admits (CURVE_DOMAIN_HUB_PUB, (curve_role_t) r)
               == (r == CURVE_ROLE_WORKER));
        CHECK (!curve_domain_admits ("ticketd", (curve_role_t) r));
        CHECK (!curve_domain_admits (NULL, (curve_role_t) r));
    }
    CHECK (!curve_domain_admits (CURVE_DOMAIN_BROKER, CURVE_ROLE_NONE));
    //  local is the local endpoint's alone, and only there.
    for (int r = CURVE_ROLE_NONE; r <= CURVE_ROLE_LOCAL; r++) {
        CHECK (curve_domain_admits (CURVE_DOMAIN_LOCAL, (curve_role_t) r) == (r == CURVE_ROLE_LOCAL));
        CHECK (curve_role_acts_as (CURVE_ROLE_LOCAL, (curve_role_t) r));
        CHECK (curve_role_acts_as ((curve_role_t) r, CURVE_ROLE_WORKER)
               == (r == CURVE_ROLE_WORKER || r == CURVE_ROLE_LOCAL));
    }
    CHECK (!curve_domain_admits (CURVE_DOMAIN_BROKER, CURVE_ROLE_LOCAL));
    CHECK (!curve_domain_admits (CURVE_DOMAIN_HUB_PUB, CURVE_ROLE_LOCAL));
}

TEST (test_a_local_endpoint_must_be_an_absolute_ipc_path_in_a_folder_only_we_may_enter)
{
    s_fixture ();
    char dir [128], ok [192], open_ [192], longp [200];
    snprintf (dir, sizeof dir, "%s/ipc", s_dir);
    CHECK_INT (zsys_dir_create ("%s", dir), 0);
    snprintf (ok, sizeof ok, "ipc://%s/broker", dir);
    snprintf (open_, sizeof open_, "ipc://%s/broker", s_dir);
    memset (longp, 'x', sizeof longp - 1);
    longp [sizeof longp - 1] = 0;
    memcpy (longp, "ipc:///", 7);
    const char *why;
    int modes [2] = { chmod (dir, 0700), chmod (s_dir, 0755) };
    CHECK_INT (modes [0], 0);
    CHECK_INT (modes [1], 0);
    CHECK_INT (curve_local_endpoint_check (ok, &why), 0);
    CHECK_INT (curve_local_endpoint_check (open_, &why), -1);
    CHECK (strstr (why, "group and others"));
    CHECK_INT (chmod (dir, 0710), 0);
    CHECK_INT (curve_local_endpoint_check (ok, &why), -1);
    CHECK_INT (curve_local_endpoint_check ("ipc://broker", &why), -1);
    CHECK_INT (curve_local_endpoint_check ("tcp://127.0.0.1:5555", &why), -1);
    CHECK_INT (curve_local_endpoint_check (longp, &why), -1);
    CHECK (strstr (why, "too long"));
    //  A folder on the way that others may write in (not sticky), or a symbolic link: the
    //  socket could be swapped for another's.
    char deep [192], link [160], via [224];
    snprintf (deep, sizeof deep, "%s/ipc/inner", s_dir);
    CHECK_INT (zsys_dir_create ("%s", deep), 0);
    CHECK_INT (chmod (deep, 0700), 0);
    CHECK_INT (chmod (dir, 0777), 0);
    snprintf (via, sizeof via, "ipc://%s/broker", deep);
    CHECK_INT (curve_local_endpoint_check (via, &why), -1);
    CHECK (strstr (why, "only root or our own user"));
    CHECK_INT (chmod (dir, 01777), 0);              //  sticky, as /tmp
    CHECK_INT (curve_local_endpoint_check (via, &why), 0);
    CHECK_INT (chmod (dir, 0700), 0);
    snprintf (link, sizeof link, "%s/link", s_dir);
    CHECK_INT (symlink (dir, link), 0);
    snprintf (via, sizeof via, "ipc://%s/inner/broker", link);
    CHECK_INT (curve_local_endpoint_check (via, &why), -1);
    CHECK (strstr (why, "symbolic links"));
}

TEST (test_one_socket_is_curve_on_tcp_and_plain_on_its_local_endpoint_whose_peers_are_local)
{
    s_fixture ();
    s_server_env (s_secret, s_allow);
    curve_server_config_t cfg;
    int rc = curve_server_config_load (&cfg);
    curve_server_t *server = rc == 0 ? curve_server_new (&cfg) : NULL;
    char dir [128], local [192];
    snprintf (dir, sizeof dir, "%s/ipc2", s_dir);
    zsys_dir_create ("%s", dir);
    chmod (dir, 0700);
    snprintf (local, sizeof local, "ipc://%s/broker", dir);
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    curve_server_apply (server, router, CURVE_DOMAIN_BROKER);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    int bound = curve_server_bind_local (server, router, local);
    zsock_set_rcvtimeo (router, 700);
    //  A plain peer over TCP: its handshake fails, nothing arrives.
    zsock_t *tcp_plain = zsock_new (ZMQ_DEALER);
    zsock_set_linger (tcp_plain, 0);
    zsock_connect (tcp_plain, "tcp://127.0.0.1:%d", port);
    zstr_send (tcp_plain, "over tcp");
    zmsg_t *first = zmsg_recv (router);
    bool tcp_got = first != NULL;
    //  A plain peer on the local endpoint: admitted, and local.
    zsock_t *ipc_plain = zsock_new (ZMQ_DEALER);
    zsock_set_linger (ipc_plain, 0);
    int connected = curve_client_connect_broker (ipc_plain, local);
    zstr_send (ipc_plain, "over ipc");
    zmsg_t *second = zmsg_recv (router);
    int role = -1;
    bool body_ok = false;
    if (second && zmsg_size (second) == 2) {
        role = (int) curve_frame_role (zmsg_first (second));
        body_ok = zframe_streq (zmsg_next (second), "over ipc");
    }
    zmsg_destroy (&first);
    zmsg_destroy (&second);
    zsock_destroy (&tcp_plain);
    zsock_destroy (&ipc_plain);
    zsock_destroy (&router);
    curve_server_destroy (&server);
    CHECK_INT (rc, 0);
    CHECK (port > 0);
    CHECK_INT (bound, 0);
    CHECK_INT (connected, 0);
    CHECK (!tcp_got);
    CHECK_INT (role, CURVE_ROLE_LOCAL);
    CHECK (body_ok);
}

//  A client certificate with a role ("" for none) in dir; its public twin in allow when
//  allowed. Returns the certificate (caller destroys).
static zcert_t *
s_role_cert (const char *dir, const char *allow, const char *name, const char *role)
{
    zcert_t *cert = zcert_new ();
    if (!cert)
        abort ();
    if (*role)
        zcert_set_meta (cert, "role", "%s", role);
    char path [256];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    if (zcert_save (cert, path))
        abort ();
    if (allow) {
        snprintf (path, sizeof path, "%s/%s", allow, name);
        if (zcert_save_public (cert, path))
            abort ();
    }
    return cert;
}

//  What a server socket of domain sees of a client with cert: the role on the frames that
//  arrive, or -1 when nothing does (the handshake was refused).
static int
s_role_seen (curve_server_t *server, const char *domain, zcert_t *cert)
{
    zsock_t *server_sock = zsock_new (ZMQ_ROUTER);
    curve_server_apply (server, server_sock, domain);
    int port = zsock_bind (server_sock, "tcp://127.0.0.1:*");
    zsock_t *client = zsock_new (ZMQ_DEALER);
    zsock_set_linger (client, 0);
    zcert_apply (cert, client);
    zsock_set_curve_serverkey (client, curve_server_public_txt (server));
    zsock_connect (client, "tcp://127.0.0.1:%d", port);
    zstr_send (client, "hello");
    zsock_set_rcvtimeo (server_sock, 700);
    zmsg_t *msg = zmsg_recv (server_sock);
    int role = -1;
    if (msg && zmsg_size (msg) == 2) {
        curve_role_t on_id = curve_frame_role (zmsg_first (msg));
        curve_role_t on_body = curve_frame_role (zmsg_next (msg));
        //  The broker reads the routing-id frame: it must carry the same metadata.
        role = on_id == on_body ? (int) on_body : -2;
    }
    zmsg_destroy (&msg);
    zsock_destroy (&client);
    zsock_destroy (&server_sock);
    return role;
}

TEST (test_the_zap_handler_admits_allowed_keys_with_their_role_and_refuses_the_rest)
{
    s_fixture ();
    char dir [128], allow [160];
    snprintf (dir, sizeof dir, "%s/roles", s_dir);
    snprintf (allow, sizeof allow, "%s/allow", dir);
    CHECK_INT (zsys_dir_create ("%s", allow), 0);
    zcert_t *edge = s_role_cert (dir, allow, "edge", "edge");
    zcert_t *worker = s_role_cert (dir, allow, "worker", "worker");
    zcert_t *tool = s_role_cert (dir, allow, "tool", "tool");
    zcert_t *old = s_role_cert (dir, allow, "old", "");
    zcert_t *stranger = s_role_cert (dir, NULL, "stranger", "worker");
    s_server_env (s_secret, allow);
    curve_server_config_t cfg;
    int rc = curve_server_config_load (&cfg);
    curve_server_t *server = rc == 0 ? curve_server_new (&cfg) : NULL;
    int got [10] = { 0 };
    if (server) {
        got [0] = s_role_seen (server, CURVE_DOMAIN_BROKER, edge);
        got [1] = s_role_seen (server, CURVE_DOMAIN_BROKER, worker);
        got [2] = s_role_seen (server, CURVE_DOMAIN_BROKER, tool);
        got [3] = s_role_seen (server, CURVE_DOMAIN_BROKER, old);
        got [4] = s_role_seen (server, CURVE_DOMAIN_BROKER, stranger);
        got [5] = s_role_seen (server, CURVE_DOMAIN_HUB_PUB, worker);
        got [6] = s_role_seen (server, CURVE_DOMAIN_HUB_PUB, tool);
        got [7] = s_role_seen (server, CURVE_DOMAIN_HUB_PUB, edge);
        got [8] = s_role_seen (server, CURVE_DOMAIN_HUB_SUB, tool);
        got [9] = s_role_seen (server, "ticketd", worker);
    }
    curve_server_destroy (&server);
    zcert_destroy (&edge);
    zcert_destroy (&worker);
    zcert_destroy (&tool);
    zcert_destroy (&old);
    zcert_destroy (&stranger);
    CHECK_INT (rc, 0);
    CHECK_INT (got [0], CURVE_ROLE_EDGE);
    CHECK_INT (got [1], CURVE_ROLE_WORKER);
    CHECK_INT (got [2], CURVE_ROLE_TOOL);
    CHECK_INT (got [3], CURVE_ROLE_TOOL);       //  no role: least privilege
    CHECK_INT (got [4], -1);                    //  not in the allow directory
    CHECK_INT (got [5], CURVE_ROLE_WORKER);
    CHECK_INT (got [6], -1);                    //  only workers publish
    CHECK_INT (got [7], -1);
    CHECK_INT (got [8], CURVE_ROLE_TOOL);
    CHECK_INT (got [9], -1);                    //  a domain we do not know
}

TEST (test_a_plain_frame_has_no_role)
{
    zframe_t *frame = zframe_new ("x", 1);
    CHECK_INT (curve_frame_role (frame), CURVE_ROLE_NONE);
    zframe_destroy (&frame);
    CHECK_INT (curve_frame_role (NULL), CURVE_ROLE_NONE);
}

static void
s_cleanup (void)
{
    curve_client_reset ();
    if (*s_dir) {
        zdir_t *dir = zdir_new (s_dir, NULL);
        if (dir) {
            zdir_remove (dir, true);
            zdir_destroy (&dir);
        }
    }
}

static const test_case_t s_cases [] = {
    T (test_client_without_settings_is_plain_and_apply_changes_nothing),
    T (test_client_cert_without_server_key_is_refused),
    T (test_server_key_without_client_cert_is_refused),
    T (test_server_key_of_wrong_length_or_alphabet_is_refused),
    T (test_a_public_only_client_cert_is_refused),
    T (test_a_missing_or_non_certificate_client_cert_is_refused),
    T (test_a_bad_setting_stays_refused_until_reset),
    T (test_valid_client_settings_make_a_curve_client_of_the_server_key),
    T (test_server_key_may_be_the_path_of_a_public_certificate),
    T (test_server_without_settings_is_plain),
    T (test_server_needs_both_cert_and_allow_dir),
    T (test_server_refuses_a_public_only_cert_and_an_allow_dir_that_is_a_file),
    T (test_a_valid_server_config_makes_curve_server_sockets_and_one_zap_handler),
    T (test_role_names_parse_back_and_anything_else_is_no_role),
    T (test_a_cert_without_a_role_or_with_an_unknown_one_is_a_tool),
    T (test_only_workers_may_publish_to_the_hub_and_an_unknown_domain_admits_nobody),
    T (test_the_zap_handler_admits_allowed_keys_with_their_role_and_refuses_the_rest),
    T (test_a_local_endpoint_must_be_an_absolute_ipc_path_in_a_folder_only_we_may_enter),
    T (test_one_socket_is_curve_on_tcp_and_plain_on_its_local_endpoint_whose_peers_are_local),
    T (test_a_plain_frame_has_no_role),
};

int
main (void)
{
    log_init ("test_curve");
    int rc = test_run_all ("curve", s_cases, sizeof s_cases / sizeof s_cases [0]);
    s_cleanup ();
    return rc;
}
