#!/usr/bin/env bash
# tests/compose/run.sh (`make compose-test`): compose.yaml on a real Docker engine, offline.
#
#  1. a Docker engine: the running one, else Debian's docker.io (installed if missing) is
#     started for this run and stopped at the end, with the host's iptables and ip_forward
#     put back as they were;
#  2. Compose v2: `docker compose` if it is v2, else the docker-compose binary of Debian 13's
#     package (Debian 12 has only 1.29, which cannot read compose.yaml), unpacked into
#     CACHE_DIR, never installed;
#  3. images without any image registry: a Debian 12 base made by debootstrap from the
#     machine's own Debian mirror and `docker import`ed (kept as ticketd-test-base:bookworm),
#     a PostgreSQL 15 image on it from tests/compose/postgres (kept as ticketd-test-postgres:15),
#     and ticketd itself, which `docker compose up` builds because the image is missing;
#  4. `up -d --scale worker=4 --wait` under a project name of its own, on free ports, with a
#     temporary .env (never the checkout's), then tests/compose/test_stack.py;
#  5. `down -v` and the run's ticketd image removed, whatever happened. The base and
#     PostgreSQL images and the build cache stay in the engine for the next run.
#
# Every step has a deadline and the whole run COMPOSE_TEST_TIMEOUT_S (default 1800 s).
# Root only (apt-get, dockerd). Not part of `make test`: docs/OPERATIONS.md says why.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/compose
TOTAL_S=${COMPOSE_TEST_TIMEOUT_S:-1800}
CACHE_DIR=${COMPOSE_TEST_CACHE:-/var/cache/ticketd-compose-test}
BASE_TAG=ticketd-test-base:bookworm
PG_TAG=ticketd-test-postgres:15
PROJECT=ticketd-compose-test-$$
APP_TAG=compose-test-$$
PY=/usr/bin/python3
START=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/compose-test.XXXXXX")
ENGINE_PID=
UP=0

say() { printf '== %s (%ss)\n' "$*" "$(( $(date +%s) - START ))"; }
die() { printf 'compose-test: %s\n' "$*" >&2; exit 1; }

# Runs a command for at most $1 seconds, and never past the run's own deadline.
within() {
    local secs=$1 left
    shift
    left=$(( TOTAL_S - ($(date +%s) - START) ))
    [ "$left" -gt 0 ] || die "over COMPOSE_TEST_TIMEOUT_S=${TOTAL_S}s before: $*"
    [ "$secs" -lt "$left" ] || secs=$left
    timeout -k 10 "$secs" "$@"
}

# Polls a command until it succeeds, for at most $1 seconds.
wait_for() {
    local secs=$1 end
    shift
    end=$(( $(date +%s) + secs ))
    until within 10 "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 1
    done
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    within 600 apt-get install -y -q --no-install-recommends "$@" >"$WORK/apt.log" 2>&1 || {
        within 300 apt-get update -q >>"$WORK/apt.log" 2>&1
        within 600 apt-get install -y -q --no-install-recommends "$@" >>"$WORK/apt.log" 2>&1
    } || { tail -20 "$WORK/apt.log" >&2; die "apt-get install $* failed"; }
}

# The Debian mirror this machine's apt uses (DEBIAN_MIRROR overrides it).
debian_mirror() {
    local m=${DEBIAN_MIRROR:-}
    [ -n "$m" ] || m=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
        /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -1 || true)
    [ -n "$m" ] || m=$(awk '$1 == "deb" && !/security/ { for (i = 2; i <= NF; i++)
        if ($i ~ /^(https?|file):/) { print $i; exit } }' /etc/apt/sources.list 2>/dev/null || true)
    echo "${m:-http://deb.debian.org/debian}"
}

# ------------------------------------------------------------------ engine

# Plain timeout, not within: cleanup asks this too, also after the run's deadline.
engine_up() { command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; }

start_engine() {
    if engine_up; then
        say "using the running Docker engine"
        return
    fi
    command -v dockerd >/dev/null || { say "installing Debian's docker.io"; apt_install docker.io; }
    # On a machine with systemd the package starts the engine itself.
    if engine_up; then
        say "using the Docker engine the docker.io package started"
        return
    fi
    # What dockerd changes on the host, to put back when it stops.
    iptables-save >"$WORK/iptables.v4" 2>/dev/null || true
    ip6tables-save >"$WORK/iptables.v6" 2>/dev/null || true
    cat /proc/sys/net/ipv4/ip_forward >"$WORK/ip_forward"
    ip link show docker0 >/dev/null 2>&1 && touch "$WORK/had_docker0"
    say "starting dockerd for this run (log: $WORK/dockerd.log)"
    # DOCKERD_OPTS: e.g. --storage-driver=vfs --iptables=false where the kernel refuses
    # overlayfs or netfilter.
    # shellcheck disable=SC2086
    dockerd --pidfile "$WORK/dockerd.pid" ${DOCKERD_OPTS:-} >"$WORK/dockerd.log" 2>&1 &
    ENGINE_PID=$!
    wait_for 60 docker info || { tail -30 "$WORK/dockerd.log" >&2; die "dockerd did not come up in 60 s"; }
}

# dockerd leaves its chains, NAT rules and a FORWARD policy of DROP behind when it stops.
# A host that had no rules (no iptables before docker.io) gets empty filter and nat tables.
restore_rules() {
    local cmd=$1 saved=$2
    command -v "$cmd-restore" >/dev/null || return 0
    if [ -s "$saved" ]; then
        "$cmd-restore" <"$saved"
    elif [ -n "$("$cmd-save" 2>/dev/null)" ]; then
        printf '%s\n' '*filter' ':INPUT ACCEPT [0:0]' ':FORWARD ACCEPT [0:0]' ':OUTPUT ACCEPT [0:0]' \
            COMMIT '*nat' ':PREROUTING ACCEPT [0:0]' ':INPUT ACCEPT [0:0]' ':OUTPUT ACCEPT [0:0]' \
            ':POSTROUTING ACCEPT [0:0]' COMMIT | "$cmd-restore"
    fi
}

stop_engine() {
    [ -n "$ENGINE_PID" ] || return 0
    say "stopping the dockerd this run started"
    kill -TERM "$ENGINE_PID" 2>/dev/null || true
    local end=$(( $(date +%s) + 30 ))
    while kill -0 "$ENGINE_PID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.5; done
    kill -KILL "$ENGINE_PID" 2>/dev/null || true
    wait "$ENGINE_PID" 2>/dev/null || true
    restore_rules iptables "$WORK/iptables.v4"
    restore_rules ip6tables "$WORK/iptables.v6"
    [ -s "$WORK/ip_forward" ] && cat "$WORK/ip_forward" >/proc/sys/net/ipv4/ip_forward
    [ -e "$WORK/had_docker0" ] || ip link delete docker0 2>/dev/null || true
}

# ------------------------------------------------------------------ compose v2

COMPOSE=()
find_compose() {
    if docker compose version --short 2>/dev/null | grep -Eq '^v?[2-9]'; then
        COMPOSE=(docker compose)
    else
        local bin=$CACHE_DIR/docker-compose
        if ! "$bin" version --short 2>/dev/null | grep -Eq '^v?[2-9]'; then
            say "fetching Debian 13's docker-compose (v2) into $CACHE_DIR"
            # A private apt configuration: the host's sources and lists stay as they are.
            local apt=$WORK/apt-trixie
            mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$CACHE_DIR"
            echo "deb $(debian_mirror) trixie main" >"$apt/sources.list"
            local opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=-"
                        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
            within 300 apt-get "${opts[@]}" update -q >"$WORK/apt-trixie.log" 2>&1 &&
            (cd "$apt" && within 300 apt-get "${opts[@]}" download docker-compose) \
                >>"$WORK/apt-trixie.log" 2>&1 ||
                { tail -20 "$WORK/apt-trixie.log" >&2; die "could not fetch docker-compose from Debian 13"; }
            dpkg-deb -x "$apt"/docker-compose_*.deb "$apt/x"
            install -m 0755 "$apt/x/usr/libexec/docker/cli-plugins/docker-compose" "$bin"
        fi
        COMPOSE=("$bin")
    fi
    say "compose: ${COMPOSE[*]} $("${COMPOSE[@]}" version --short)"
}

# ------------------------------------------------------------------ images

base_image() {
    if [ -n "${BASE_IMAGE:-}" ]; then
        say "base image: $BASE_IMAGE (given)"
        return
    fi
    BASE_IMAGE=$BASE_TAG
    if docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
        say "base image: $BASE_TAG (kept from an earlier run)"
        return
    fi
    command -v debootstrap >/dev/null || apt_install debootstrap
    local mirror rootfs=$WORK/rootfs
    mirror=$(debian_mirror)
    say "making $BASE_TAG: debootstrap bookworm from $mirror"
    within 900 debootstrap --variant=minbase bookworm "$rootfs" "$mirror" \
        >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    # Package files and lists are the build's to fetch again: 80 MB less in every layer.
    rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
        "$rootfs"/var/lib/apt/lists/*
    tar --numeric-owner -C "$rootfs" -c . | within 300 docker import - "$BASE_TAG" >/dev/null
    rm -rf "$rootfs"
}

postgres_image() {
    say "building $PG_TAG on $BASE_IMAGE (cached after the first run)"
    within 900 docker build -q --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$PG_TAG" "$HERE/postgres" \
        >"$WORK/postgres-build.log" 2>&1 || { tail -30 "$WORK/postgres-build.log" >&2; die "postgres image build failed"; }
}

# ------------------------------------------------------------------ the stack

# A .env of the run's own: fresh secrets, free ports, the local images.
write_env() {
    local ports
    ports=$("$PY" - <<'EOF'
import socket
socks = [socket.socket() for _ in range(7)]
for s in socks:
    s.bind(("", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)
    read -r P_API P_WEB P_WS P_DB P_BROKER P_PUB P_SUB <<<"$ports"
    local jwt dbpw line
    jwt=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    dbpw=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    (umask 077
     while IFS= read -r line; do
         case $line in
             JWT_SECRET=*) line=JWT_SECRET=$jwt ;;
             DB_PASSWORD=*) line=DB_PASSWORD=$dbpw ;;
             PORT=*) line=PORT=$P_API ;;
             WEB_PORT=*) line=WEB_PORT=$P_WEB ;;
             WS_PORT=*) line=WS_PORT=$P_WS ;;
             DB_PORT=*) line=DB_PORT=$P_DB ;;
         esac
         printf '%s\n' "$line"
     done <"$ROOT/.env.example"
     printf '%s\n' "BROKER_PORT=$P_BROKER" "HUB_PUB_PORT=$P_PUB" "HUB_SUB_PORT=$P_SUB" \
         "TAG=$APP_TAG" "BASE_IMAGE=$BASE_IMAGE" "POSTGRES_IMAGE=$PG_TAG") >"$WORK/env"
    # Compose for this project and this .env only: the caller's environment (a PORT of its
    # own, say) would win over the file.
    cat >"$WORK/compose" <<EOF
#!/bin/sh
exec env -i PATH="$PATH" HOME="$HOME" ${DOCKER_HOST:+DOCKER_HOST="$DOCKER_HOST"} \\
    $(printf '%q ' "${COMPOSE[@]}")-p $PROJECT --env-file "$WORK/env" -f "$ROOT/compose.yaml" "\$@"
EOF
    chmod +x "$WORK/compose"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [ "$UP" = 1 ]; then
        if [ "$rc" != 0 ]; then
            timeout 60 "$WORK/compose" ps -a
            timeout 60 "$WORK/compose" logs --no-color --tail 30
        fi
        say "docker compose down -v"
        timeout 120 "$WORK/compose" down -v --remove-orphans --timeout 20 >"$WORK/down.log" 2>&1 ||
            tail -20 "$WORK/down.log"
    fi
    if engine_up; then
        docker image rm "ticketd:$APP_TAG" >/dev/null 2>&1
    fi
    stop_engine
    rm -rf "$WORK"
    if [ "$rc" = 0 ]; then say "compose-test passed"; else say "compose-test FAILED (exit $rc)"; fi
    exit "$rc"
}

[ "$(id -u)" = 0 ] || die "run as root: it installs packages and may start dockerd"
trap cleanup EXIT
trap 'exit 130' INT TERM
"$PY" -c 'import websocket, pytest, pytest_timeout, zmq' 2>/dev/null ||
    apt_install python3-websocket python3-pytest python3-pytest-timeout python3-zmq

start_engine
find_compose
base_image
postgres_image
write_env
say "docker compose up -d --scale worker=4 --wait (builds ticketd:$APP_TAG: the image is missing)"
UP=1
t0=$(date +%s)
within 1200 "$WORK/compose" up -d --scale worker=4 --wait >"$WORK/up.log" 2>&1 ||
    { rc=$?; tail -40 "$WORK/up.log"; die "docker compose up failed (exit $rc; 124: past its deadline)"; }
say "up and healthy after $(( $(date +%s) - t0 ))s"
cd "$ROOT"
CT_COMPOSE=$WORK/compose CT_ENV_FILE=$WORK/env CT_PORT=$P_API CT_WS_PORT=$P_WS \
    within 600 "$PY" -m pytest -q -s -p no:cacheprovider --timeout=300 "$HERE/test_stack.py"
