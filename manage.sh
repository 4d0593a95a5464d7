#!/usr/bin/env bash
# manage.sh: run the whole system on one machine, without Docker.
#
#   ./manage.sh [up]              install what is missing, build, start PostgreSQL + every process
#   ./manage.sh up --role worker  a worker-only host: WORKERS workers against the broker, hub and
#                                 PostgreSQL of another host (docs/OPERATIONS.md, "Several hosts")
#   ./manage.sh down              stop every process this tree started (and its PostgreSQL)
#   ./manage.sh status            what runs, and the health answer
#   ./manage.sh logs [svc] [-f]   the logs, merged by time (or one service's); -f follows
#   ./manage.sh seed [--tickets N]  upsert the seed users and add N tickets (default SEED_TICKETS)
#   ./manage.sh migrate           apply pending migrations
#   ./manage.sh reset [--yes]     drop the database, migrate and seed again (processes keep running)
#   ./manage.sh clean [--yes]     down, then remove var/ (the cluster, logs) and the builds
#   ./manage.sh deps [--test|--bench]  install the missing Debian packages (--test: the suite's too, chromium and tests/e2e's node modules; --bench: also wrk)
#   ./manage.sh help
#
# reset and clean destroy data: on a terminal they ask first (default no); without a terminal
# (scripts, CI) they refuse unless given --yes.
#
# Everything lives under VAR_DIR (default ./var): the cluster, pid files, logs, and the CurveZMQ
# keys (var/curve). Variables in the environment override .env (ENV_FILE), so two trees, or a
# test run beside a running system, never touch each other when their ports differ.
#
# CurveZMQ is on by default: the ZeroMQ ports on 127.0.0.1 are open to every local user, and
# the broker and hub would otherwise trust whoever connects. CURVE=off (in .env or the
# environment) opts out; every process then warns at start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

VAR_DIR=${VAR_DIR:-$ROOT/var}
[[ $VAR_DIR = /* ]] || VAR_DIR=$PWD/$VAR_DIR     # the PostgreSQL commands run from /
ENV_FILE=${ENV_FILE:-$ROOT/.env}
BUILD_DIR=${BUILD_DIR:-build}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PACKAGES=(build-essential pkg-config curl ca-certificates libzmq3-dev libczmq-dev libpq-dev
          libmicrohttpd-dev libjansson-dev libwebsockets-dev libjwt-dev libssl-dev
          postgresql postgresql-contrib)
# What `make test` needs on top: the suite's real clients (HTTP, ZeroMQ, WebSocket, SQL), and
# for the browser tests Debian's chromium (driven by playwright-core from tests/e2e), for
# the fuzz stage clang with its libFuzzer runtime, pytest-timeout (no test may hang), and
# strace (test_manage.py checks that no command line carries a secret).
TEST_PACKAGES=(python3 python3-pytest python3-pytest-timeout python3-zmq python3-websocket
               python3-psycopg2 python3-yaml python3-jsonschema chromium clang libclang-rt-14-dev
               strace)
# For `make bench`: the HTTP load generator (its other tools are built or come with PostgreSQL).
BENCH_PACKAGES=(wrk)

say()  { printf '%s\n' "$*"; }
die()  { printf 'manage.sh: %s\n' "$*" >&2; exit 1; }

# shellcheck source=sql/pgconn.sh
. "$ROOT/sql/pgconn.sh"

# confirm VERB WHAT: before destroying WHAT. --yes (ASSUME_YES=1) goes ahead; on a terminal
# the question is asked, default no; anything else (a script, CI, a pipe) is refused.
ASSUME_YES=0
confirm() {
    local verb=$1 what=$2 answer=
    [ "$ASSUME_YES" = 1 ] && return 0
    if [ -t 0 ]; then
        printf 'manage.sh %s destroys %s.\nThis cannot be undone. Continue? [y/N] ' "$verb" "$what" >&2
        read -r answer || answer=
        [[ $answer =~ ^[Yy]([Ee][Ss])?$ ]] && return 0
        die "$verb: nothing done"
    fi
    die "$verb would destroy $what; stdin is not a terminal, so nobody can confirm: run './manage.sh $verb --yes' to go ahead"
}

# yes_flag VERB ARGS...: sets ASSUME_YES from --yes / -y, the only argument reset and clean take.
yes_flag() {
    local verb=$1 a
    shift
    for a in "$@"; do
        case $a in
            -y|--yes) ASSUME_YES=1 ;;
            *) die "$verb: unknown argument '$a' (only --yes)" ;;
        esac
    done
}

# ---------------------------------------------------------------- settings

# Reads KEY=VALUE lines; a variable already in the environment wins. No shell evaluation.
load_env() {
    local file=$1 line key val
    [ -f "$file" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
        key=${BASH_REMATCH[1]}
        val=${BASH_REMATCH[2]}
        val=${val%$'\r'}
        if [[ $val =~ ^\"(.*)\"$ || $val =~ ^\'(.*)\'$ ]]; then val=${BASH_REMATCH[1]}; fi
        if [ -z "${!key+x}" ]; then export "$key=$val"; fi
    done < "$file"
}

random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# First run: .env from .env.example with fresh secrets. An existing .env is never rewritten.
ensure_env_file() {
    [ -f "$ENV_FILE" ] && return 0
    mkdir -p "$(dirname "$ENV_FILE")"
    local secret dbpw line
    secret=$(random_hex 32)
    dbpw=$(random_hex 16)
    # Written by builtins only (no sed -e "s/...$secret/"): a secret in a command's argv is
    # readable by every local user in ps. The file is private before the secrets go in.
    (umask 077 && : > "$ENV_FILE")
    chmod 600 "$ENV_FILE"
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            JWT_SECRET=*)  line=JWT_SECRET=$secret ;;
            DB_PASSWORD=*) line=DB_PASSWORD=$dbpw ;;
        esac
        printf '%s\n' "$line"
    done < "$ROOT/.env.example" > "$ENV_FILE"
    say "created $ENV_FILE with a new JWT_SECRET and DB_PASSWORD"
}

# The settings that decide where this tree's system is: given in the environment to `up`,
# they are written to .env, so that every later verb (status, logs, down) and every tool
# finds the same system rather than the defaults (another tree's, perhaps).
KEPT_KEYS=(PORT WEB_PORT WS_PORT BROKER_ENDPOINT HUB_PUB_ENDPOINT HUB_SUB_ENDPOINT DB_PORT WORKERS
           ROLE BROKER_BIND HUB_PUB_BIND HUB_SUB_BIND DB_LISTEN_ADDRESSES DB_ALLOW_NETWORKS)

# env_set KEY VALUE: KEY=VALUE in .env, in place of an earlier KEY line or appended. Builtins
# only, into a private file renamed over .env: a value never appears on a command line.
env_set() {
    local key=$1 value=$2 line done=0 tmp
    tmp=$(mktemp "$ENV_FILE.XXXXXX")
    {
        while IFS= read -r line || [ -n "$line" ]; do
            if [[ $line =~ ^[[:space:]]*$key= ]]; then
                [ $done = 1 ] || printf '%s=%s\n' "$key" "$value"
                done=1
            else
                printf '%s\n' "$line"
            fi
        done < "$ENV_FILE"
        [ $done = 1 ] || printf '%s=%s\n' "$key" "$value"
    } > "$tmp"
    chmod 600 "$tmp"
    mv "$tmp" "$ENV_FILE"
}

settings() {
    ensure_env_file
    GIVEN_KEYS=()
    local k
    for k in "${KEPT_KEYS[@]}"; do [ -n "${!k+x}" ] && GIVEN_KEYS+=("$k"); done
    load_env "$ENV_FILE"
    load_env "$ROOT/.env.example"
    export PORT WEB_PORT WS_PORT BROKER_ENDPOINT HUB_PUB_ENDPOINT HUB_SUB_ENDPOINT
    export DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD JWT_SECRET
    ROLE=${ROLE:-all}
    [[ $ROLE =~ ^(all|worker)$ ]] || die "ROLE must be all or worker (got '$ROLE')"
    # An app host may leave its work to worker hosts (WORKERS=0); a worker host has workers.
    local least=0
    [ "$ROLE" = worker ] && least=1
    WORKERS=${WORKERS:-2}
    [[ $WORKERS =~ ^[0-9]+$ ]] && [ "$WORKERS" -ge $least ] && [ "$WORKERS" -le 64 ] \
        || die "WORKERS must be a whole number from $least to 64 (got '$WORKERS')"
    # Tokens are signed and checked by the edge and the hub: a worker host needs no secret.
    [ -n "${JWT_SECRET:-}" ] || [ "$ROLE" = worker ] || die "JWT_SECRET is empty: set it in $ENV_FILE or the environment"
    [[ ${DB_NAME:-} =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "DB_NAME must be a lower-case identifier (got '${DB_NAME:-}')"
    [[ ${DB_USER:-} =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "DB_USER must be a lower-case identifier (got '${DB_USER:-}')"
    PRIVATE_PG=1
    [ -n "${DATABASE_URL:-}" ] && PRIVATE_PG=0
    if [ "$ROLE" = worker ]; then
        PRIVATE_PG=0
        [ -n "${DATABASE_URL:-}" ] || [[ ! ${DB_HOST:-} =~ ^(127\.|localhost$|::1$) ]] \
            || die "ROLE=worker runs no database: set DATABASE_URL (or DB_HOST) to the app host's PostgreSQL"
    fi
    pg_listen_settings
    # The private cluster's folder: var/pg, unless user postgres cannot reach var/ (a
    # checkout under /root); then pg_init keeps it under /var/lib/ticketd and records PG_DIR
    # in .env, so every later verb finds it.
    PG_DIR=${PG_DIR:-$VAR_DIR/pg}
    pg_paths
    # Whatever the caller's umask: var_dir_ours refuses a folder others may write in.
    (umask 022 && mkdir -p "$VAR_DIR/log" "$VAR_DIR/run")
    var_dir_ours
    curve_settings
    local_broker_settings
}

# VAR_DIR holds what decides who may act: the allowed keys (curve/allow), the broker's Unix
# socket (run/zmq), the logs root appends to. A folder there that another user owns, or may
# write in, would let them plant a key, swap the socket for their own, or point a log at a
# file of root's: refused, whoever made it.
var_dir_ours() {
    local d owner mode
    for d in "$VAR_DIR" "$VAR_DIR/log" "$VAR_DIR/run" "$VAR_DIR/run/zmq" "$VAR_DIR/curve" \
             "$VAR_DIR/curve/allow"; do
        [ -e "$d" ] || [ -L "$d" ] || continue
        [ -d "$d" ] && [ ! -L "$d" ] || die "$d must be a folder, not a link or a file"
        read -r owner mode < <(stat -c '%u %a' "$d")
        [ "$owner" = "$(id -u)" ] && (( (8#$mode & 8#022) == 0 )) \
            || die "$d is owned by another user or writable by group or others (owner $owner, mode $mode): VAR_DIR must be this user's alone"
    done
}

# This host's broker also listens on a Unix socket in a folder only our user may enter
# (BROKER_LOCAL_ENDPOINT), and this host's edge, hub and workers reach it there without
# CurveZMQ, whose encryption of every message cost a GET half again its CPU; the folder's
# permissions are that endpoint's lock (the broker refuses a folder others may enter), and
# who can pass them can read var/curve's secret keys too. Other hosts, the tools and a
# list of brokers (BROKER_ENDPOINTS) keep TCP and CurveZMQ. The broker binds it whatever
# its clients use, so that processes started by different runs always meet.
# LOCAL_TRANSPORT=tcp: no Unix socket, TCP here too.
local_broker_settings() {
    LOCAL_TRANSPORT=${LOCAL_TRANSPORT:-ipc}
    [[ $LOCAL_TRANSPORT =~ ^(ipc|tcp)$ ]] || die "LOCAL_TRANSPORT must be ipc or tcp (got '$LOCAL_TRANSPORT')"
    LOCAL_BROKER=""
    [ "$LOCAL_TRANSPORT" = ipc ] && [ "$ROLE" = all ] || return 0
    # One given is used as it is: the broker checks it, and refuses a bad one at start.
    if [ -n "${BROKER_LOCAL_ENDPOINT:-}" ]; then LOCAL_BROKER=$BROKER_LOCAL_ENDPOINT; return 0; fi
    local dir
    # The physical path: the broker and its peers refuse one through a symbolic link.
    dir=$(cd "$VAR_DIR" && pwd -P)/run/zmq
    # A Unix socket's path has 107 bytes at most.
    if [ ${#dir} -gt 90 ]; then
        say "LOCAL_TRANSPORT: $dir is too long a path for a Unix socket; this host's peers use TCP"
        return 0
    fi
    (umask 077 && mkdir -p "$dir")
    chmod 700 "$dir"
    LOCAL_BROKER=ipc://$dir/broker
}

# ---------------------------------------------------------------- CurveZMQ

# Generated keys, one client certificate per role (docs/OPERATIONS.md, Threat model):
#   server, server_secret            the broker's and the hub's identity
#   edge, worker, tool (+ _secret)   http-edge; workers; ticketd-status/watch and monitoring
#   allow/                           the public halves the ZAP handler admits, with their roles
CURVE_ROLES=(edge worker tool)

curve_settings() {
    CURVE=${CURVE:-on}
    [[ $CURVE =~ ^(on|off)$ ]] || die "CURVE must be on or off (got '$CURVE')"
    CURVE_DIR=$VAR_DIR/curve
}

# Makes whatever certificate is missing; an existing one is never replaced (ticketd-keygen
# refuses to overwrite, and a replaced key would lock out every copy of the old one).
curve_keys() {
    [ "$CURVE" = on ] || return 0
    local keygen=$BUILD_DIR/bin/ticketd-keygen role
    [ -x "$keygen" ] || die "$keygen is missing: run make"
    # Secret keys: the folder is the owner's only, whatever the umask.
    (umask 077 && mkdir -p "$CURVE_DIR/allow")
    chmod 700 "$CURVE_DIR"
    if [ "$ROLE" = worker ]; then curve_worker_keys "$keygen"; return; fi
    if [ ! -e "$CURVE_DIR/server_secret" ]; then
        "$keygen" server "$CURVE_DIR" >/dev/null || die "cannot make $CURVE_DIR/server"
        say "created CurveZMQ certificates in $CURVE_DIR"
    fi
    for role in "${CURVE_ROLES[@]}"; do
        if [ ! -e "$CURVE_DIR/${role}_secret" ]; then
            "$keygen" --role "$role" "$role" "$CURVE_DIR" >/dev/null \
                || die "cannot make $CURVE_DIR/$role"
        fi
        [ -e "$CURVE_DIR/allow/$role" ] || cp "$CURVE_DIR/$role" "$CURVE_DIR/allow/$role"
    done
}

# curve_env ROLE: the CURVE_* settings of one process in CURVE_ENV, as arguments of env(1).
# ROLE is server (broker, hub) or a client role. Settings from .env or the environment win.
# A worker host: a worker key of its own (made here once; its public half goes into the app
# host's allow folder), and the app host's public server key, which only the app host has.
curve_worker_keys() {
    if [ -z "${CURVE_CLIENT_CERT:-}" ] && [ ! -e "$CURVE_DIR/worker_secret" ]; then
        "$1" --role worker worker "$CURVE_DIR" >/dev/null || die "cannot make $CURVE_DIR/worker"
        say "created this host's worker key: copy $CURVE_DIR/worker into the app host's var/curve/allow/ (any file name) to admit it"
    fi
    local server=${CURVE_SERVER_KEY:-$CURVE_DIR/server}
    [ -n "${CURVE_SERVER_CERT:-}" ] && [ -z "${CURVE_SERVER_KEY:-}" ] && server=${CURVE_SERVER_CERT%_secret}
    [ -e "$server" ] || die "ROLE=worker needs the app host's public server key: copy its var/curve/server to $server (or set CURVE_SERVER_KEY)"
}

curve_env() {
    CURVE_ENV=()
    if [ "$CURVE" = off ]; then
        CURVE_ENV=(-u CURVE_SERVER_CERT -u CURVE_ALLOW_DIR -u CURVE_CLIENT_CERT -u CURVE_SERVER_KEY)
        return 0
    fi
    # A server certificate of one's own comes with its public twin (ticketd-keygen makes both).
    local server_key=${CURVE_SERVER_KEY:-}
    if [ -z "$server_key" ]; then
        if [ -n "${CURVE_SERVER_CERT:-}" ]; then server_key=${CURVE_SERVER_CERT%_secret}
        else server_key=$CURVE_DIR/server; fi
    fi
    if [ "$1" = server ]; then
        CURVE_ENV=("CURVE_SERVER_CERT=${CURVE_SERVER_CERT:-$CURVE_DIR/server_secret}"
                   "CURVE_ALLOW_DIR=${CURVE_ALLOW_DIR:-$CURVE_DIR/allow}")
    else
        CURVE_ENV=("CURVE_CLIENT_CERT=${CURVE_CLIENT_CERT:-$CURVE_DIR/${1}_secret}"
                   "CURVE_SERVER_KEY=$server_key")
    fi
}

curve_role_of() {
    case $1 in
        broker|progress-hub) echo server ;;
        http-edge) echo edge ;;
        worker) echo worker ;;
        *) echo tool ;;
    esac
}

curve_summary() {
    if [ "$CURVE" = off ]; then
        say "  CurveZMQ   OFF (CURVE=off): any local user can use the broker and the hub"
    else
        say "  CurveZMQ   on: keys in $CURVE_DIR, allowed clients in ${CURVE_ALLOW_DIR:-$CURVE_DIR/allow}"
    fi
}

# ---------------------------------------------------------------- packages and build

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The browser tests' driver: playwright-core, pinned in tests/e2e/package-lock.json. It never
# downloads a browser; the tests use /usr/bin/chromium. Debian's node is used when none is here.
install_e2e() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        say "installing Debian packages: nodejs npm"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    fi
    [ -d "$ROOT/tests/e2e/node_modules/playwright-core" ] && return 0
    say "installing the browser tests' node modules (npm ci in tests/e2e)"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$ROOT/tests/e2e" --no-audit --no-fund >/dev/null
}

build() {
    [ "${SKIP_BUILD:-0}" = 1 ] && return 0
    say "building"
    make -s -j"$(nproc)" BUILD="$BUILD_DIR" all >/dev/null
}

# ---------------------------------------------------------------- PostgreSQL

# PostgreSQL refuses to run as root: as root, the cluster belongs to the 'postgres' user.
pg_user() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }
as_pg() {
    # From /: user postgres may not enter the caller's folder (pg_ctl says so on stderr).
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

psql_admin() {
    PGPASSWORD=$DB_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DB_PORT" -U "$DB_USER" "$@"
}

pg_running() { [ -f "$PGDATA_DIR/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

pg_paths() {
    PGDATA_DIR=$PG_DIR/data
    PGRUN_DIR=$PG_DIR/run
    # postgres writes its own log: inside var/ when it can reach var/, else beside its
    # cluster, with a link in var/log so that ./manage.sh logs reads it all the same.
    PG_LOG=$VAR_DIR/log/postgres.log
    [ "$PG_DIR" = "$VAR_DIR/pg" ] || PG_LOG=$PG_DIR/postgres.log
}

# As root: can user postgres write to folder $1 (made and given to it if missing)?
pg_reaches() {
    mkdir -p "$1" && chown postgres: "$1" && runuser -u postgres -- test -w "$1"
}

# A checkout postgres cannot reach (under /root, or any private folder): the cluster goes to
# /var/lib/ticketd/<checkout>-<hash of VAR_DIR> instead, one per tree, and .env says so.
pg_relocate() {
    local name dir
    name=$(basename "$ROOT" | tr -c 'A-Za-z0-9_.-' '_')-$(printf '%s' "$VAR_DIR" | sha256sum | cut -c1-8)
    dir=/var/lib/ticketd/$name
    rmdir "$VAR_DIR/pg" 2>/dev/null || true
    mkdir -p /var/lib/ticketd && chmod 755 /var/lib/ticketd
    pg_reaches "$dir" || die "user postgres cannot reach $dir either; set PG_DIR to a folder it can reach"
    chmod 700 "$dir"
    PG_DIR=$dir
    pg_paths
    printf '\n# Written by ./manage.sh: user postgres cannot reach %s, so the cluster lives here.\nPG_DIR=%s\n' \
        "$VAR_DIR" "$dir" >> "$ENV_FILE"
    say "user postgres cannot reach $VAR_DIR: the cluster goes to $dir (PG_DIR, recorded in $ENV_FILE)"
}

# Where the private cluster listens (DB_LISTEN_ADDRESSES, PostgreSQL's listen_addresses: a
# comma-separated list of addresses, default loopback only) and which networks may log in
# over TCP besides loopback (DB_ALLOW_NETWORKS: comma-separated CIDRs, scram-sha-256 only),
# for workers on other hosts. Checked here, applied at every pg_start.
pg_listen_settings() {
    DB_LISTEN_ADDRESSES=${DB_LISTEN_ADDRESSES:-127.0.0.1}
    DB_ALLOW_NETWORKS=${DB_ALLOW_NETWORKS:-}
    [[ $DB_LISTEN_ADDRESSES =~ ^(\*|[0-9A-Za-z.:-]+(,[0-9A-Za-z.:-]+)*)$ ]] \
        || die "DB_LISTEN_ADDRESSES must be * or addresses separated by commas, no spaces (got '$DB_LISTEN_ADDRESSES')"
    local net
    for net in ${DB_ALLOW_NETWORKS//,/ }; do
        [[ $net =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/([0-9]|[12][0-9]|3[0-2])$ \
        || $net =~ ^[0-9A-Fa-f:]+/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])$ ]] \
            || die "DB_ALLOW_NETWORKS must be CIDRs separated by commas, e.g. 10.0.0.0/24 (got '$net')"
    done
}

# The block of pg_hba.conf that DB_ALLOW_NETWORKS owns, written again at every start (a
# network removed from the setting is removed from the file), ahead of initdb's lines.
PG_HBA_BEGIN="# ticketd DB_ALLOW_NETWORKS: begin (written by ./manage.sh)"
PG_HBA_END="# ticketd DB_ALLOW_NETWORKS: end"
pg_hba_apply() {
    local hba=$PGDATA_DIR/pg_hba.conf tmp net
    tmp=$(mktemp)
    {
        printf '%s\n' "$PG_HBA_BEGIN"
        for net in ${DB_ALLOW_NETWORKS//,/ }; do
            printf 'host all all %s scram-sha-256\n' "$net"
        done
        printf '%s\n' "$PG_HBA_END"
        awk -v b="$PG_HBA_BEGIN" -v e="$PG_HBA_END" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' "$hba"
    } > "$tmp"
    if ! cmp -s "$tmp" "$hba"; then
        cat "$tmp" > "$hba"
        pg_running && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" reload >/dev/null
    fi
    rm -f "$tmp"
}

pg_init() {
    [ -f "$PGDATA_DIR/PG_VERSION" ] && return 0
    if [ "$(id -u)" = 0 ] && ! pg_reaches "$PG_DIR"; then
        # A PG_DIR chosen by the user is theirs to fix; the default moves out of the way.
        [ "$PG_DIR" = "$VAR_DIR/pg" ] || die "user postgres cannot reach PG_DIR=$PG_DIR; set PG_DIR to a folder it can reach"
        pg_relocate
    fi
    mkdir -p "$PG_DIR"
    say "creating the private PostgreSQL cluster in $PGDATA_DIR (port $DB_PORT)"
    local pwfile
    pwfile=$(mktemp)
    printf '%s\n' "$DB_PASSWORD" > "$pwfile"
    [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
    as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U "$DB_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 >"$VAR_DIR/log/initdb.log" 2>&1 \
        || { rm -f "$pwfile"; die "initdb failed: see $VAR_DIR/log/initdb.log"; }
    rm -f "$pwfile"
    mkdir -p "$PGRUN_DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$PGRUN_DIR"
    cat >> "$PGDATA_DIR/postgresql.conf" <<EOF
# ticketd private cluster
listen_addresses = '127.0.0.1'
port = $DB_PORT
unix_socket_directories = '$PGRUN_DIR'
max_connections = 200
shared_buffers = 256MB
max_wal_size = 4GB
wal_compression = on
maintenance_work_mem = 256MB
logging_collector = off
EOF
}

pg_start() {
    [ "$PRIVATE_PG" = 1 ] || return 0
    pg_init
    pg_hba_apply
    if pg_running; then
        local now
        now=$(psql_admin -d postgres -tAc "SHOW listen_addresses" 2>/dev/null || true)
        [ -z "$now" ] || [ "$now" = "$DB_LISTEN_ADDRESSES" ] \
            || say "PostgreSQL listens on $now, not DB_LISTEN_ADDRESSES=$DB_LISTEN_ADDRESSES: ./manage.sh down, then up, to change it"
        return 0
    fi
    mkdir -p "$PGRUN_DIR"
    [ "$PG_LOG" = "$VAR_DIR/log/postgres.log" ] || ln -sfn "$PG_LOG" "$VAR_DIR/log/postgres.log"
    [ "$(id -u)" = 0 ] && chown postgres: "$PGRUN_DIR" && touch "$PG_LOG" && chown postgres: "$PG_LOG"
    say "starting PostgreSQL on $DB_LISTEN_ADDRESSES:$DB_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 \
        -o "-c listen_addresses=$DB_LISTEN_ADDRESSES" start >/dev/null \
        || die "PostgreSQL did not start: see $PG_LOG"
    psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1 \
        || psql_admin -d postgres -c "CREATE DATABASE \"$DB_NAME\""
}

pg_stop() {
    [ "$PRIVATE_PG" = 1 ] || return 0
    pg_running || return 0
    say "stopping PostgreSQL"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null || true
}

# The libpq environment for psql. With DATABASE_URL, DB_URL is that URL without its password,
# which goes in PGPASSWORD (sql/pgconn.sh): command lines carry no secret.
DB_URL=
db_env() {
    if [ "$PRIVATE_PG" = 1 ]; then
        export PGHOST=127.0.0.1 PGPORT=$DB_PORT PGUSER=$DB_USER PGPASSWORD=$DB_PASSWORD PGDATABASE=$DB_NAME
    else
        pg_conn_split "$DATABASE_URL"
        DB_URL=$PG_CONN
        # migrate.sh reads DATABASE_URL: give it the URL without the password too.
        export DATABASE_URL=$DB_URL
    fi
}

migrate() {
    db_env
    PGOPTIONS='-c client_min_messages=warning' "$ROOT/sql/migrate.sh"
}

# seed [N]: users upserted, N tickets added.
seed() {
    local n=${1:-${SEED_TICKETS:-200}}
    [[ $n =~ ^[0-9]+$ ]] || die "--tickets takes a whole number (got '$n')"
    db_env
    say "seeding: users $SEED_ADMIN_EMAIL, $SEED_AGENT_EMAIL and $n tickets"
    local start=$SECONDS done=0 batch=100000 count
    # The passwords reach seed.sql through the environment (\getenv), not psql's argv.
    SEED_ADMIN_PASSWORD=$SEED_ADMIN_PASSWORD SEED_AGENT_PASSWORD=$SEED_AGENT_PASSWORD \
    psql ${DB_URL:+"$DB_URL"} -X -q -v ON_ERROR_STOP=1 \
        -v admin_email="$SEED_ADMIN_EMAIL" -v agent_email="$SEED_AGENT_EMAIL" \
        -v tickets=0 -f "$ROOT/sql/seed.sql"
    # Batches of 100k, each one statement, so a large seed shows its progress.
    while [ "$done" -lt "$n" ]; do
        count=$(( n - done < batch ? n - done : batch ))
        psql ${DB_URL:+"$DB_URL"} -X -q -v ON_ERROR_STOP=1 \
            -v agent_email="$SEED_AGENT_EMAIL" -v first=$((done + 1)) -v count="$count" \
            -f "$ROOT/sql/seed_tickets.sql"
        done=$((done + count))
        [ "$n" -gt "$batch" ] && say "  $done / $n tickets ($((SECONDS - start)) s)"
    done
    say "seeded in $((SECONDS - start)) s"
}

seed_if_empty() {
    db_env
    local users
    users=$(psql ${DB_URL:+"$DB_URL"} -X -tAc "SELECT count(*) FROM users")
    [ "$users" = 0 ] && seed "${SEED_TICKETS:-200}"
    return 0
}

# ---------------------------------------------------------------- processes

# name binary: the services in start order; workers are worker-1..worker-N.
services() {
    local i
    if [ "$ROLE" = worker ]; then
        for ((i = 1; i <= WORKERS; i++)); do echo "worker-$i worker"; done
        return 0
    fi
    echo "broker broker"
    [ -x "$BUILD_DIR/bin/progress-hub" ] && echo "progress-hub progress-hub"
    for ((i = 1; i <= WORKERS; i++)); do echo "worker-$i worker"; done
    echo "http-edge http-edge"
}

pid_of() {
    local f=$VAR_DIR/run/$1.pid pid
    [ -f "$f" ] || return 1
    pid=$(cat "$f")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    # A recycled pid is not ours: the command line must name our binary.
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "/bin/$2" || return 1
    echo "$pid"
}

# A worker's WORKER_NAME: the short host name (cut to 40 bytes of A-Za-z0-9._:@/-, the
# rest made '-') and the worker's own name, so a broker serving several hosts, and its
# mmi.status, say whose worker it is. Its files keep the plain name (worker-N.pid/.log).
worker_name() {
    local host=${HOSTNAME:-$(hostname)}
    host=${host%%.*}
    host=${host//[^A-Za-z0-9._:@\/-]/-}
    echo "${host:0:40}${host:+-}$1"
}

start_one() {
    local name=$1 bin=$2 pid
    pid_of "$name" "$bin" >/dev/null && return 0
    local exe=$BUILD_DIR/bin/$bin
    [ -x "$exe" ] || die "$exe is missing: run make"
    [[ $exe = /* ]] || exe=$ROOT/$exe
    curve_env "$(curve_role_of "$bin")"
    local curve=("${CURVE_ENV[@]}")
    # The hub is also the broker's client: it asks auth.me about each WebSocket user with
    # the user's auth frame, which the broker takes from the edge role only. It verifies
    # tokens like the edge, so it holds the edge's certificate.
    if [ "$bin" = progress-hub ]; then curve_env edge; curve+=("${CURVE_ENV[@]}"); fi
    [ "$bin" = worker ] && curve+=("WORKER_NAME=$(worker_name "$name")")
    if [ -n "$LOCAL_BROKER" ]; then
        if [ "$bin" = broker ]; then curve+=("BROKER_LOCAL_ENDPOINT=$LOCAL_BROKER")
        elif [ -z "${BROKER_ENDPOINTS:-}" ]; then curve+=("BROKER_ENDPOINT=$LOCAL_BROKER"); fi
    fi
    local log=$VAR_DIR/log/$name.log mark
    mark=$({ wc -l < "$log"; } 2>/dev/null || echo 0)
    env "${curve[@]}" setsid "$exe" >>"$log" 2>&1 < /dev/null &
    echo $! > "$VAR_DIR/run/$name.pid"
    STARTED+=("$name $bin $mark")
    say "started $name (pid $!)"
}

# What this `up` started, "name bin mark" (mark: its log's lines before it). One has
# started when its log has said event=started since the mark (every process writes that
# line at every LOG_LEVEL, once it has taken its settings and opened its sockets); one gone
# exited on its own, most often refusing a setting, and is named with its log's last line.
# started_state: 0 when all have started, 1 when one is gone, 2 while some are starting
# (their names in PENDING).
STARTED=()
PENDING=()
started_state() {
    local s name bin mark rc=0
    PENDING=()
    for s in "${STARTED[@]}"; do
        read -r name bin mark <<<"$s"
        if ! pid_of "$name" "$bin" >/dev/null; then
            say "$name exited at start: $(tail -n 1 "$VAR_DIR/log/$name.log" 2>/dev/null)"
            rc=1
        elif [ $rc != 1 ] && ! tail -n +"$((mark + 1))" "$VAR_DIR/log/$name.log" 2>/dev/null \
                | grep -q "event=started"; then
            PENDING+=("$name")
            rc=2
        fi
    done
    return $rc
}

# False when one is gone; the waits below ask once a second.
started_alive() {
    local rc=0
    started_state || rc=$?
    [ $rc != 1 ]
}

# Waits until everything this `up` started has said it started: `up` fails at once when one
# exits instead, and never reports a system up with a process about to exit (a process
# that refuses a setting may take a moment to say so, under a sanitizer or on a busy host).
wait_started() {
    local i rc
    for ((i = 0; i < 300; i++)); do
        rc=0
        started_state || rc=$?
        [ $rc = 0 ] && return 0
        [ $rc = 1 ] && { say "logs: $VAR_DIR/log/"; return 1; }
        sleep 0.1
    done
    say "not started after 30 s (no event=started in their logs): ${PENDING[*]}"
    say "logs: $VAR_DIR/log/"
    return 1
}

stop_one() {
    local name=$1 bin=$2 pid i
    pid=$(pid_of "$name" "$bin") || { rm -f "$VAR_DIR/run/$name.pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name did not stop in 10 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$VAR_DIR/run/$name.pid"
    say "stopped $name"
}

health() { curl -s -m 3 "http://127.0.0.1:$PORT/api/health" || true; }

# Healthy: the API answers /api/health with 200 and, when the hub runs, its WebSocket port
# accepts connections (a client told "up" must be able to connect at once). With no local
# workers (WORKERS=0) the answer is 503 until a worker host joins: an answer is enough.
wait_healthy() {
    local i code hub=0
    [ -x "$BUILD_DIR/bin/progress-hub" ] && hub=1
    for ((i = 0; i < 300; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:$PORT/api/health" || true)
        if [ "$code" = 200 ] || { [ "$WORKERS" = 0 ] && [ "$code" = 503 ]; }; then
            [ $hub = 0 ] && break
            (exec 3<>"/dev/tcp/127.0.0.1/$WS_PORT") 2>/dev/null && break
        fi
        if ((i % 10 == 9)) && ! started_alive; then say "logs: $VAR_DIR/log/"; return 1; fi
        sleep 0.1
    done
    if ((i < 300)); then
        started_alive && return 0
        say "logs: $VAR_DIR/log/"
        return 1
    fi
    say "health is not 200 after 30 s: $(health)"
    say "logs: $VAR_DIR/log/"
    return 1
}

# ---------------------------------------------------------------- verbs

# What `up` was given in the environment and .env does not say yet goes into .env.
keep_overrides() {
    local k current
    for k in "${GIVEN_KEYS[@]}"; do
        current=$(sed -n "s/^[[:space:]]*$k=//p" "$ENV_FILE" | tail -1)
        [ "$current" = "${!k}" ] && continue
        env_set "$k" "${!k}"
        say "kept $k=${!k} in $ENV_FILE (every later ./manage.sh and tool uses it)"
    done
}

# Where each worker's log stands before `up` starts what is missing: "name:running" for one
# already running, else "name:<lines>", so that only what it logs from then on counts.
worker_marks() {
    local name bin
    while read -r name bin; do
        if pid_of "$name" "$bin" >/dev/null; then echo "$name:running"
        else echo "$name:$(wc -l < "$VAR_DIR/log/$name.log" 2>/dev/null || echo 0)"; fi
    done < <(services)
}

# A worker has heard from a broker: one started now has logged event=broker_there since
# (its log holds earlier runs too); one already running last said there rather than away.
worker_there() {
    local mark=${1#*:} log=$VAR_DIR/log/${1%%:*}.log
    if [ "$mark" = running ]; then
        grep -E "event=broker_(there|away)" "$log" 2>/dev/null | tail -1 | grep -q "event=broker_there"
    else
        tail -n +"$((mark + 1))" "$log" 2>/dev/null | grep -q "event=broker_there"
    fi
}

# A worker host is up when each of its workers has heard from a broker (marks: worker_marks).
wait_workers() {
    local i ok m
    for ((i = 0; i < 300; i++)); do
        ok=1
        for m in "$@"; do worker_there "$m" || ok=0; done
        [ $ok = 1 ] && return 0
        if ((i % 10 == 9)) && ! started_alive; then say "logs: $VAR_DIR/log/"; return 1; fi
        sleep 0.1
    done
    say "the workers have not reached the broker at $BROKER_ENDPOINT in 30 s; they keep trying."
    [ "$CURVE" = on ] && say "  Is this host's key ($CURVE_DIR/worker) in the app host's var/curve/allow/, and $CURVE_DIR/server the app host's?"
    say "  logs: $VAR_DIR/log/"
    return 1
}

cmd_up() {
    while [ $# -gt 0 ]; do
        case $1 in
            --role) [ $# -ge 2 ] || die "--role needs all or worker"; export ROLE=$2; shift 2 ;;
            --role=*) export ROLE=${1#--role=}; shift ;;
            *) die "up: unknown argument '$1'" ;;
        esac
    done
    install_packages
    settings
    keep_overrides
    build
    curve_keys
    if [ "$ROLE" = all ]; then
        pg_start
        migrate
        seed_if_empty
    fi
    local name bin marks=()
    [ "$ROLE" = worker ] && mapfile -t marks < <(worker_marks)
    while read -r name bin; do start_one "$name" "$bin"; done < <(services)
    wait_started || exit 1
    if [ "$ROLE" = worker ]; then
        wait_workers "${marks[@]}" || exit 1
        say ""
        say "$WORKERS worker(s) up, serving the broker at $BROKER_ENDPOINT, publishing to $HUB_PUB_ENDPOINT."
        say "  Logs       $VAR_DIR/log/   (./manage.sh logs [svc] [-f])"
        curve_summary
        return 0
    fi
    wait_healthy || exit 1
    cat <<EOF

ticketd is up.
  API        http://localhost:$PORT/api   (health: http://localhost:$PORT/api/health)
  Browser UI http://localhost:$WEB_PORT
  WebSocket  ws://localhost:$WS_PORT/ws?token=<JWT>
  Broker     $BROKER_ENDPOINT    Hub (SUB) $HUB_SUB_ENDPOINT
  Logins     $SEED_ADMIN_EMAIL / $SEED_ADMIN_PASSWORD (admin)
             $SEED_AGENT_EMAIL / $SEED_AGENT_PASSWORD (agent)
  Logs       $VAR_DIR/log/   (./manage.sh logs [svc] [-f])
EOF
    [ "$WORKERS" = 0 ] && say "  Workers    none here (WORKERS=0): requests wait for a worker host (./manage.sh up --role worker there)"
    [ "$PRIVATE_PG" = 1 ] && say "  Database   $PGDATA_DIR ($DB_LISTEN_ADDRESSES:$DB_PORT${DB_ALLOW_NETWORKS:+, logins from $DB_ALLOW_NETWORKS})"
    curve_summary
}

cmd_down() {
    settings
    local name bin lines=()
    mapfile -t lines < <(services)
    # Every worker pid file, even of workers beyond today's WORKERS.
    for f in "$VAR_DIR"/run/worker-*.pid; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .pid)
        printf '%s\n' "${lines[@]}" | grep -q "^$name " || lines+=("$name worker")
    done
    local i
    for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
        read -r name bin <<< "${lines[$i]}"
        stop_one "$name" "$bin"
    done
    pg_stop
}

cmd_status() {
    settings
    local name bin pid
    while read -r name bin; do
        if pid=$(pid_of "$name" "$bin"); then printf '%-14s running (pid %s)\n' "$name" "$pid"
        else printf '%-14s stopped\n' "$name"; fi
    done < <(services)
    if [ "$PRIVATE_PG" = 1 ]; then
        if pg_running; then printf '%-14s running (port %s)\n' postgres "$DB_PORT"
        else printf '%-14s stopped\n' postgres; fi
    fi
    [ "$ROLE" = worker ] && { curve_summary; return 0; }
    printf 'health: %s\n' "$(health)"
    # The broker's own view, asked with the tool key (read-only, like any monitoring).
    local status_bin=$BUILD_DIR/bin/ticketd-status
    if [ -x "$status_bin" ] && pid_of broker broker >/dev/null; then
        curve_env tool
        env "${CURVE_ENV[@]}" "$status_bin" 2>/dev/null || say "broker: no answer to mmi.status"
    fi
    curve_summary
}

cmd_logs() {
    settings
    local svc="" follow=0 a
    for a in "$@"; do
        case $a in
            -f|--follow) follow=1 ;;
            *) svc=$a ;;
        esac
    done
    local files
    if [ -n "$svc" ]; then files=$(ls "$VAR_DIR"/log/"$svc"*.log 2>/dev/null || true)
    else files=$(ls "$VAR_DIR"/log/*.log 2>/dev/null || true); fi
    [ -n "$files" ] || die "no logs${svc:+ for '$svc'} in $VAR_DIR/log"
    # shellcheck disable=SC2086
    if [ $follow = 1 ]; then tail -n 20 -F $files
    elif [ -n "$svc" ]; then cat $files
    else
        # Every line that carries a time, oldest first: ours in logfmt (ts=...), and
        # PostgreSQL's under its own stamp, given ts= and comp=postgres so the two sort
        # together. Untimed lines (initdb's chatter, a message's continuation, blank ones)
        # are in each service's own log (./manage.sh logs postgres).
        awk '/^ts=/ { print; next }
             /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]+ UTC / {
                 rest = $0; sub(/^[^ ]+ [^ ]+ UTC /, "", rest)
                 print "ts=" $1 "T" $2 "Z level=info comp=postgres " rest }' $files | sort -s -k1,1
    fi
}

cmd_seed() {
    settings
    local n=${SEED_TICKETS:-200}
    while [ $# -gt 0 ]; do
        case $1 in
            --tickets) [ $# -ge 2 ] || die "--tickets needs a number"; n=$2; shift 2 ;;
            --tickets=*) n=${1#--tickets=}; shift ;;
            *) die "seed: unknown argument '$1'" ;;
        esac
    done
    pg_start
    migrate
    seed "$n"
}

cmd_reset() {
    yes_flag reset "$@"
    settings
    [ "$PRIVATE_PG" = 1 ] || die "reset drops the database: with DATABASE_URL set, drop it yourself"
    confirm reset "the database '$DB_NAME' (every user, ticket and job in it) of the cluster in $PGDATA_DIR, port $DB_PORT"
    pg_start
    say "dropping database $DB_NAME"
    psql_admin -d postgres -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)"
    psql_admin -d postgres -c "CREATE DATABASE \"$DB_NAME\""
    migrate
    seed "${SEED_TICKETS:-200}"
}

cmd_clean() {
    yes_flag clean "$@"
    settings
    local cluster=
    [ "$PG_DIR" = "$VAR_DIR/pg" ] || cluster=" and $PG_DIR"
    confirm clean "$VAR_DIR$cluster (the PostgreSQL cluster with all its data, the logs) and the builds $ROOT/build and $ROOT/build-san, after stopping every process"
    cmd_down
    rm -rf "$VAR_DIR" "$ROOT/build" "$ROOT/build-san"
    # Only a folder that holds a cluster of ours, never whatever PG_DIR was set to.
    if [ -n "$cluster" ] && [ -f "$PG_DIR/data/PG_VERSION" ]; then rm -rf "$PG_DIR"; fi
    say "removed $VAR_DIR$cluster and the builds"
}

cmd_help() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

verb=${1:-up}
[ $# -gt 0 ] && shift
case $verb in
    up|start)   cmd_up "$@" ;;
    down|stop)  cmd_down ;;
    status)     cmd_status ;;
    logs)       cmd_logs "$@" ;;
    seed)       cmd_seed "$@" ;;
    migrate)    settings; pg_start; migrate ;;
    reset)      cmd_reset "$@" ;;
    clean)      cmd_clean "$@" ;;
    deps)       case ${1:-} in
                    --test)  install_packages "${TEST_PACKAGES[@]}"; install_e2e ;;
                    --bench) install_packages "${TEST_PACKAGES[@]}" "${BENCH_PACKAGES[@]}" ;;
                    *)       install_packages ;;
                esac ;;
    help|-h|--help) cmd_help ;;
    *) cmd_help; die "unknown command '$verb'" ;;
esac
