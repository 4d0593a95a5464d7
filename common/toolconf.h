/*  toolconf: where ticketd-status and ticketd-watch find their settings, so that run in a
    checkout they talk to the system ./manage.sh started there, not to the built-in
    defaults (which may be another tree's system). In order, the first that exists:
      --env FILE; ENV_FILE (as manage.sh); ./.env; the .env of the checkout the binary
      was built in (<bin>/../../.env beside a manage.sh).
    Variables in the environment win over the file, as in manage.sh. With a file and
    CURVE on (the default), the CurveZMQ settings default to the tool role's keys that
    ./manage.sh made: CURVE_CLIENT_CERT=$VAR_DIR/curve/tool_secret and CURVE_SERVER_KEY=
    $VAR_DIR/curve/server (or CURVE_SERVER_CERT without "_secret"), VAR_DIR the environment's
    or the file's folder + /var. CURVE=off clears them, as manage.sh does.  */
#ifndef COMMON_TOOLCONF_H
#define COMMON_TOOLCONF_H

//  The tools' usage text on the above.
#define TOOLCONF_USAGE \
    "Settings: --env FILE, else ENV_FILE, else ./.env, else the .env of the checkout this\n" \
    "binary was built in (<bin>/../../.env beside manage.sh); --env none: no file.\n" \
    "Variables in the environment win over the file. With a file and CURVE on (the\n" \
    "default) the CurveZMQ keys are the tool role's that ./manage.sh made:\n" \
    "$VAR_DIR/curve/tool_secret and .../server, VAR_DIR defaulting to the file's folder\n" \
    "+ /var; CURVE=off: plain TCP. CURVE_CLIENT_CERT (our NAME_secret certificate) and\n" \
    "CURVE_SERVER_KEY (the server's public key, Z85 or its certificate file) override\n" \
    "them. No file and no CURVE_*: plain TCP.\n"

//  Takes "--env FILE" or "--env=FILE" out of argv (the rest moves up, *argc shrinks) and
//  points *path at FILE (NULL without one). -1 (printed, as prog) when FILE is missing.
int toolconf_take_env_arg (int *argc, char **argv, const char *prog, const char **path);

//  Finds the settings file (path first, when given; "none": no file, only the environment
//  and the built-in defaults, for scripts that set everything themselves), loads the
//  tool's keys from it and settles the CurveZMQ ones, all into the environment for conf_*
//  and curve_client_init.
//  -1 (one clear line printed, as prog) on a missing or malformed file, a bad CURVE or a
//  missing key file.
int toolconf_load (const char *prog, const char *path);

//  The file the settings came from, or NULL (environment and built-in defaults only).
const char *toolconf_source (void);

//  Where the settings came from, for an error line: "settings from FILE" or "no .env
//  found: built-in defaults unless set in the environment; see --env".
const char *toolconf_source_text (void);

#endif
