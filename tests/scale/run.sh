#!/usr/bin/env bash
# tests/scale/run.sh [BUILD_DIR]: `make scale-test`, ticketd on simulated hosts (network
# namespaces joined by veth pairs to a bridge in a namespace of its own; tests/scale/scale.py
# says what it runs and checks). Root only; not in CI (README.md, "Tests").
#
# Everything it makes carries this run's tag (tks<pid>): the namespaces (whose veths and
# bridge go with them), the processes inside them, and its folder /tmp/ticketd-scale-*.
# The trap removes them whatever happens; nothing is ever made in the machine's own
# network namespace. SCALE_TIMEOUT (900 s) bounds the whole run; KEEP_SCALE_DIR=1 keeps the
# folder (logs) for reading after a failure. SCALE_SCRIPT runs another script on the same
# hosts with the same guarantees (tests/bench/p10_remote_workers.py: `make bench`'s P10).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
cd "$ROOT"

[ "$(id -u)" = 0 ] || { echo "scale-test: needs root (ip netns); nothing done" >&2; exit 2; }
command -v ip >/dev/null || { echo "scale-test: needs iproute2 (ip)" >&2; exit 2; }
[ -x "$BUILD/bin/worker" ] || { echo "scale-test: $BUILD/bin/worker is missing: run make" >&2; exit 2; }

TAG=tks$$
DIR=$(mktemp -d /tmp/ticketd-scale-XXXXXX)
chmod 755 "$DIR"                           # the cluster runs as user postgres
PG_CTL=/usr/lib/postgresql/15/bin/pg_ctl

ours() { ip netns list | awk '{print $1}' | grep "^$TAG" || true; }

pids_in() { local ns; for ns in $(ours); do ip netns pids "$ns" 2>/dev/null; done; }

cleanup() {
    local rc=$? i left
    trap - EXIT INT TERM
    # PostgreSQL first and politely, so that its shared memory goes with it.
    if [ -f "$DIR/a/var/pg/data/postmaster.pid" ]; then
        timeout 30 runuser -u postgres -- "$PG_CTL" -D "$DIR/a/var/pg/data" -m fast -w -t 20 stop \
            >/dev/null 2>&1 || true
    fi
    left=$(pids_in)
    [ -n "$left" ] && kill -TERM $left 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        left=$(pids_in)
        [ -z "$left" ] && break
        sleep 0.1
    done
    [ -n "$left" ] && kill -KILL $left 2>/dev/null && sleep 0.5
    for ns in $(ours); do ip netns del "$ns" 2>/dev/null || echo "scale-test: could not remove namespace $ns" >&2; done
    if [ "${KEEP_SCALE_DIR:-0}" = 1 ]; then echo "scale-test: kept $DIR"
    else rm -rf "$DIR"; fi
    left=$(ours)
    if [ -n "$left" ]; then echo "scale-test: namespaces left behind: $left" >&2; rc=1
    else echo "scale-test: cleaned up (namespaces, veths, bridge, processes$([ "${KEEP_SCALE_DIR:-0}" = 1 ] || echo ", $DIR"))"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SCALE_TAG=$TAG SCALE_DIR=$DIR BUILD_DIR=$BUILD SCALE_REPORT=$ROOT/$BUILD/scale-report.txt \
    timeout -k 10 "${SCALE_TIMEOUT:-900}" /usr/bin/python3 "${SCALE_SCRIPT:-tests/scale/scale.py}"
rc=$?
[ $rc = 124 ] && echo "scale-test: FAILED, over SCALE_TIMEOUT=${SCALE_TIMEOUT:-900} s" >&2
exit $rc
