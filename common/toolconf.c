/*  toolconf: the monitoring tools' settings, found as ./manage.sh would give them.  */
#include "toolconf.h"
#include "envfile.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  What the tools read from the file: the rest (secrets included) stays out of the process.
static const char *const s_keys [] = {
    "BROKER_ENDPOINT", "HUB_SUB_ENDPOINT", "CURVE", "CURVE_CLIENT_CERT", "CURVE_SERVER_KEY",
    "CURVE_SERVER_CERT", NULL
};

static char s_source [PATH_MAX];
static char s_source_text [PATH_MAX + 80];
static bool s_none;                 //  --env none

int
toolconf_take_env_arg (int *argc, char **argv, const char *prog, const char **path)
{
    *path = NULL;
    for (int i = 1; i < *argc; i++) {
        int taken = 0;
        if (!strcmp (argv [i], "--env")) {
            if (i + 1 >= *argc || !argv [i + 1][0]) {
                fprintf (stderr, "%s: --env needs a FILE (a .env as ./manage.sh writes it)\n",
                         prog);
                return -1;
            }
            *path = argv [i + 1];
            taken = 2;
        }
        else
        if (!strncmp (argv [i], "--env=", 6) && argv [i][6]) {
            *path = argv [i] + 6;
            taken = 1;
        }
        if (taken) {
            memmove (argv + i, argv + i + taken, (size_t) (*argc - i - taken + 1) * sizeof *argv);
            *argc -= taken;
            i--;
        }
    }
    return 0;
}

static bool
s_exists (const char *path)
{
    return access (path, F_OK) == 0;
}

//  The checkout this binary was built in: <checkout>/<build>/bin/<tool>, where <checkout>
//  holds manage.sh (an installed copy, /usr/local/bin, has none beside it). Its .env, if
//  any, into buf.
static bool
s_checkout_env (char *buf, size_t len)
{
    char exe [PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe [n] = '\0';
    char *slash = strrchr (exe, '/');
    if (!slash)
        return false;
    *slash = '\0';
    char probe [PATH_MAX];
    if ((size_t) snprintf (probe, sizeof probe, "%s/../../manage.sh", exe) >= sizeof probe
    ||  !s_exists (probe)
    ||  (size_t) snprintf (buf, len, "%s/../../.env", exe) >= len)
        return false;
    return s_exists (buf);
}

//  The settings file into s_source, or "" for none. -1 (printed) for a named file that
//  is not there: a typo must not fall back to another system's defaults.
static int
s_find (const char *prog, const char *path)
{
    const char *named = path ? path : getenv ("ENV_FILE");
    const char *how = path ? "--env" : "ENV_FILE";
    s_source [0] = '\0';
    s_none = path && !strcmp (path, "none");
    if (s_none)
        return 0;
    if (named && *named) {
        if (!s_exists (named)) {
            fprintf (stderr, "%s: %s %s: %s\n", prog, how, named, strerror (errno));
            return -1;
        }
        if (strlen (named) >= sizeof s_source) {
            fprintf (stderr, "%s: %s: the path is too long\n", prog, how);
            return -1;
        }
        strcpy (s_source, named);
    }
    else
    if (s_exists (".env"))
        strcpy (s_source, ".env");
    else
    if (!s_checkout_env (s_source, sizeof s_source))
        s_source [0] = '\0';
    //  Absolute in messages, so that the user sees which tree's settings these are.
    char full [PATH_MAX];
    if (s_source [0] && realpath (s_source, full))
        strcpy (s_source, full);
    return 0;
}

//  name=value unless the environment (or the file, loaded already) set name.
static int
s_default (const char *name, const char *value)
{
    return getenv (name) ? 0 : setenv (name, value, 0);
}

//  The tool role's keys under VAR_DIR/curve, each unless set; -1 (printed) when a key
//  file we would use is missing.
static int
s_curve_defaults (const char *prog)
{
    char var_dir [PATH_MAX], cert [PATH_MAX + 32], server [PATH_MAX + 32];
    const char *env_var = getenv ("VAR_DIR");
    if (env_var && *env_var)
        snprintf (var_dir, sizeof var_dir, "%s", env_var);
    else {
        const char *slash = strrchr (s_source, '/');
        int dir_len = slash ? (int) (slash - s_source) : 1;
        snprintf (var_dir, sizeof var_dir, "%.*s/var", dir_len, slash ? s_source : ".");
    }
    snprintf (cert, sizeof cert, "%s/curve/tool_secret", var_dir);
    const char *server_cert = getenv ("CURVE_SERVER_CERT");
    size_t sc_len = server_cert ? strlen (server_cert) : 0;
    if (sc_len > 7 && !strcmp (server_cert + sc_len - 7, "_secret"))
        snprintf (server, sizeof server, "%.*s", (int) (sc_len - 7), server_cert);
    else
    if (server_cert && *server_cert)
        snprintf (server, sizeof server, "%s", server_cert);
    else
        snprintf (server, sizeof server, "%s/curve/server", var_dir);

    const char *missing = !getenv ("CURVE_CLIENT_CERT") && !s_exists (cert) ? cert
                        : !getenv ("CURVE_SERVER_KEY") && !s_exists (server) ? server : NULL;
    if (missing) {
        fprintf (stderr, "%s: CurveZMQ is on (CURVE, default on) but %s is missing: start "
                 "the system with ./manage.sh (it makes the keys), or set VAR_DIR, "
                 "CURVE_CLIENT_CERT and CURVE_SERVER_KEY, or CURVE=off (%s)\n",
                 prog, missing, toolconf_source_text ());
        return -1;
    }
    if (s_default ("CURVE_CLIENT_CERT", cert) || s_default ("CURVE_SERVER_KEY", server)) {
        fprintf (stderr, "%s: cannot set the CurveZMQ settings: %s\n", prog, strerror (errno));
        return -1;
    }
    return 0;
}

int
toolconf_load (const char *prog, const char *path)
{
    if (s_find (prog, path))
        return -1;
    char err [PATH_MAX + 200];
    if (s_source [0] && envfile_load (s_source, s_keys, err, sizeof err)) {
        fprintf (stderr, "%s: %s\n", prog, err);
        return -1;
    }
    const char *curve = getenv ("CURVE");
    if (!curve || !*curve)
        curve = "on";
    if (!strcmp (curve, "off")) {
        //  As manage.sh: off means plain, whatever key settings are about.
        unsetenv ("CURVE_CLIENT_CERT");
        unsetenv ("CURVE_SERVER_KEY");
        return 0;
    }
    if (strcmp (curve, "on")) {
        fprintf (stderr, "%s: CURVE must be on or off (got '%s'; %s)\n", prog, curve,
                 toolconf_source_text ());
        return -1;
    }
    return s_source [0] ? s_curve_defaults (prog) : 0;
}

const char *
toolconf_source (void)
{
    return s_source [0] ? s_source : NULL;
}

const char *
toolconf_source_text (void)
{
    if (s_source [0])
        snprintf (s_source_text, sizeof s_source_text,
                  "settings from %s, the environment first", s_source);
    else
        snprintf (s_source_text, sizeof s_source_text, "%s: the environment or built-in "
                  "defaults; see --env", s_none ? "--env none" : "no .env found");
    return s_source_text;
}
