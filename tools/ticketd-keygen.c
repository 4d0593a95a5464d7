/*  ticketd-keygen: makes a CURVE certificate for CurveZMQ on the broker's and hub's
    endpoints: DIR/NAME (public, for CURVE_ALLOW_DIR or CURVE_SERVER_KEY) and DIR/NAME_secret
    (both keys, mode 600, for CURVE_SERVER_CERT or CURVE_CLIENT_CERT), with the client's
    role in its metadata. Prints the public key.  */
#include "../common/conf.h"
#include "../common/curve.h"

#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *s_usage =
    "usage: ticketd-keygen [--help] [--version] [--role edge|worker|tool] NAME DIR\n"
    "Writes a new CURVE certificate: DIR/NAME holds the public key (copy it into the\n"
    "broker's and hub's CURVE_ALLOW_DIR, or point clients' CURVE_SERVER_KEY at it),\n"
    "DIR/NAME_secret both keys, readable by its owner only (CURVE_SERVER_CERT or\n"
    "CURVE_CLIENT_CERT). Prints the public key in Z85. Refuses to overwrite a certificate.\n"
    "--role names what a client may do, read from the copy in the allow directory:\n"
    "  edge    the http-edge: may send requests on behalf of a user\n"
    "  worker  workers: may register services and publish job events\n"
    "  tool    status and monitoring tools: read-only (also what a cert without a role gets)\n"
    "The server's own certificate needs no role.\n";

int
main (int argc, char **argv)
{
    //  --role ROLE or --role=ROLE, before the two operands.
    const char *role = NULL;
    if (argc >= 2 && !strncmp (argv [1], "--role", 6)) {
        if (argv [1][6] == '=')
            role = argv [1] + 7;
        else
        if (argv [1][6] == 0 && argc >= 3)
            role = argv [2];
        else {
            fputs (s_usage, stderr);
            return 2;
        }
        int used = argv [1][6] == '=' ? 1 : 2;
        argv += used;
        argc -= used;
        //  local is where a peer connects from (the broker's ipc:// endpoint), never a key's.
        curve_role_t parsed = curve_role_parse (role);
        if (parsed == CURVE_ROLE_NONE || parsed == CURVE_ROLE_LOCAL) {
            fprintf (stderr, "ticketd-keygen: --role must be edge, worker or tool\n");
            return 2;
        }
    }
    if (argc != 3 || argv [1][0] == '-' || argv [2][0] == '-') {
        int rc = conf_handle_args (argc, argv, "ticketd-keygen", s_usage);
        if (rc)
            return rc > 0 ? 0 : 2;
        fputs (s_usage, stderr);
        return 2;
    }
    const char *name = argv [1], *dir = argv [2];
    if (!*name || strchr (name, '/') || !strcmp (name, ".") || !strcmp (name, "..")) {
        fprintf (stderr, "ticketd-keygen: NAME must be a file name, without '/'\n");
        return 2;
    }
    zsys_handler_set (NULL);
    if (!zsys_has_curve ()) {
        fprintf (stderr, "ticketd-keygen: this libzmq has no CURVE support\n");
        return 1;
    }
    char path [256], secret_path [sizeof path + 8];
    if (snprintf (path, sizeof path, "%s/%s", dir, name) >= 200) {
        fprintf (stderr, "ticketd-keygen: path too long\n");
        return 2;
    }
    snprintf (secret_path, sizeof secret_path, "%s_secret", path);
    struct stat st;
    if (stat (path, &st) == 0 || stat (secret_path, &st) == 0) {
        fprintf (stderr, "ticketd-keygen: %s or %s exists; remove it first\n", path, secret_path);
        return 1;
    }
    if (zsys_dir_create ("%s", dir)) {
        fprintf (stderr, "ticketd-keygen: cannot create directory %s\n", dir);
        return 1;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        fprintf (stderr, "ticketd-keygen: cannot make a key pair\n");
        return 1;
    }
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "created-by", "ticketd-keygen");
    if (role)
        zcert_set_meta (cert, "role", "%s", role);
    //  zcert_save writes NAME and NAME_secret, the latter with a private file mode.
    int rc = zcert_save (cert, path);
    if (rc == 0)
        rc = chmod (secret_path, S_IRUSR | S_IWUSR);
    if (rc) {
        fprintf (stderr, "ticketd-keygen: cannot write %s and %s\n", path, secret_path);
        zcert_destroy (&cert);
        return 1;
    }
    printf ("%s\n", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
}
