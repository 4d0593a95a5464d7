#!/usr/bin/env bash
# tests/bench/run.sh [BUILD_DIR]: `make bench`. Starts a private ticketd (its own PostgreSQL
# cluster and processes on free ports, through ./manage.sh exactly as the integration suite
# does), runs every benchmark P1..P10 beside its baseline, prints the table and writes it to
# docs/BENCHMARKS.md (the "Results" section). Benchmarks report; they never fail the build.
#
#   BENCH_ONLY="p2 p5"     run only these (default: all; p2 also reports P3; "sweep" the
#                          CHUNK_SIZE sweep, SWEEP_ITEMS / SWEEP_CHUNKS / SWEEP_WINDOWS)
#   BENCH_TICKETS=1000000  P1 size (default 1,000,000; the harness is debugged with 10000)
#   BENCH_RUNS=3           repetitions where a median is taken
#   BENCH_LONG=1           also P8's 10-minute soak (`make soak-mem`)
#   BENCH_KEEP=1           leave the system up and its folder in place (debugging)
#   BENCH_NO_DOC=1         print the table only
# Load generators run pinned with taskset to core LOADGEN_CPU (default 1); the system is
# left to the scheduler on both cores, so the generator competes with it, as it says.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
cd "$ROOT"
PY=/usr/bin/python3
export BENCH_BUILD=$BUILD
export BENCH_RUNS=${BENCH_RUNS:-3}
export BENCH_TICKETS=${BENCH_TICKETS:-1000000}
export LOADGEN_CPU=${LOADGEN_CPU:-1}
# p2 also reports P3; "sweep": the CHUNK_SIZE sweep; p10 builds simulated hosts of its own
# (root only: otherwise its row says "not run: needs root").
ONLY=${BENCH_ONLY:-p1 p2 p4 p5 p6 p7 p8 p9 p10}

# The C clients and the bare baselines (Makefile, section "Benchmarks").
command -v wrk >/dev/null || ./manage.sh deps --bench || echo "bench: wrk could not be installed: P2 will be missing"
make -s BUILD="$BUILD" bench-tools || { echo "bench: could not build the bench tools"; exit 0; }
if [ ! -d tests/bench/baselines/node_modules/fastify ]; then
    echo "bench: npm ci in tests/bench/baselines (Fastify 5, Express 4, pg, jsonwebtoken)"
    npm ci --prefix tests/bench/baselines --no-audit --no-fund >/dev/null 2>&1 \
        || echo "bench: npm ci failed: P2's baselines will be missing"
fi

WORK=$(mktemp -d /tmp/ticketd-bench-XXXXXX)
chmod 755 "$WORK"
export BENCH_WORK=$WORK
free_ports() { $PY -c 'import socket
ss=[socket.socket() for _ in range('"$1"')]
[s.bind(("127.0.0.1",0)) for s in ss]
print(" ".join(str(s.getsockname()[1]) for s in ss))'; }
read -r P_API P_WEB P_WS P_BROKER P_PUB P_SUB P_DB P_FASTIFY P_EXPRESS P_BARE < <(free_ports 10)

# The system's settings: nothing from the repo's .env leaks in (as in conftest.py).
for k in $(env | sed -n 's/^\(DB_[A-Z_]*\|PG[A-Z_]*\|SEED_[A-Z_]*\|JWT_[A-Z_]*\|BROKER_[A-Z_]*\|HUB_[A-Z_]*\|CURVE[A-Z_]*\|DATABASE_URL\|PORT\|WEB_PORT\|WS_PORT\|WORKERS\)=.*/\1/p'); do unset "$k"; done
export VAR_DIR=$WORK/var ENV_FILE=$WORK/.env BUILD_DIR=$ROOT/$BUILD SKIP_BUILD=1
export PORT=$P_API WEB_PORT=$P_WEB WS_PORT=$P_WS DB_PORT=$P_DB WORKERS=${WORKERS:-2}
export BROKER_ENDPOINT=tcp://127.0.0.1:$P_BROKER HUB_PUB_ENDPOINT=tcp://127.0.0.1:$P_PUB
export HUB_SUB_ENDPOINT=tcp://127.0.0.1:$P_SUB
export SEED_TICKETS=0 LOG_LEVEL=warn MAX_ACTIVE_JOBS=${MAX_ACTIVE_JOBS:-1000}
# One user drives every load here: the per-user limiter (1000/s) would cap P2 at 2,000 req/s.
export RATE_LIMIT_PER_USER=${RATE_LIMIT_PER_USER:-0}
# The hub sends a job's progress at most every PROGRESS_INTERVAL_MS (100 by default, a product
# setting): that delay is chosen, not latency. P5 measures the path itself, so it is off here.
export PROGRESS_INTERVAL_MS=${PROGRESS_INTERVAL_MS:-0}
# P5 opens 1,000 sockets at once from one address: the hub's bound on sockets of one address
# not yet authenticated (a guard against handshake floods) would refuse most of them.
export HUB_PENDING_PER_ADDRESS=${HUB_PENDING_PER_ADDRESS:-0}
export FASTIFY_PORT=$P_FASTIFY EXPRESS_PORT=$P_EXPRESS BARE_WS_PORT=$P_BARE
# The load clients (mdp_noop, hub_fanout.py, p5_progress_latency.py) are plain ZeroMQ peers,
# and docs/BENCHMARKS.md's numbers were measured without CurveZMQ: a private system on free
# ports, so plain TCP here (the processes warn at start) rather than the ./manage.sh default.
# BENCH_CURVE=on measures the default's price instead (P2 and callgrind_get.sh only: P5,
# P7 and the hub's load clients cannot reach a CurveZMQ system).
export CURVE=${BENCH_CURVE:-off}

cleanup() {
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $WORK (./manage.sh down with its env)"; return; fi
    [ -n "${BASELINE_PIDS:-}" ] && kill $BASELINE_PIDS 2>/dev/null
    ./manage.sh down >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== bench: starting a private system in $WORK (API :$PORT, WS :$WS_PORT, PostgreSQL :$DB_PORT)"
./manage.sh up > "$WORK/up.log" 2>&1 || { cat "$WORK/up.log"; echo "bench: the system did not start"; exit 0; }
# Commit timestamps let P5 know when each chunk committed (the bench cluster only).
echo "track_commit_timestamp = on" >> "$VAR_DIR/pg/data/postgresql.conf"
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$VAR_DIR/pg/data" -m fast -w restart \
    -l "$VAR_DIR/log/postgres.log" >/dev/null 2>&1 || true
./manage.sh up >> "$WORK/up.log" 2>&1
# Only the secrets come from the generated .env: its ports are the defaults, never ours.
envval() { sed -n "s/^$1=//p" "$ENV_FILE" | tail -1; }
export JWT_SECRET=$(envval JWT_SECRET) DB_PASSWORD=$(envval DB_PASSWORD)
export DB_USER=${DB_USER:-ticketd} DB_NAME=${DB_NAME:-ticketd}
export PGHOST=127.0.0.1 PGPORT=$DB_PORT PGUSER=$DB_USER PGPASSWORD=$DB_PASSWORD PGDATABASE=$DB_NAME
echo "== bench: seeding $BENCH_TICKETS tickets"
./manage.sh seed --tickets "$BENCH_TICKETS" > "$WORK/seed.log" 2>&1 || cat "$WORK/seed.log"
psql -X -q -c "VACUUM ANALYZE tickets" >/dev/null

env | grep -E '^(PG|DB_|JWT_SECRET|PORT|WS_PORT|VAR_DIR|ENV_FILE|BUILD_DIR|SKIP_BUILD|WORKERS|BROKER_|HUB_|BENCH_|FASTIFY|EXPRESS|BARE|LOADGEN|MAX_ACTIVE|RATE_LIMIT|SEED_|LOG_LEVEL|WEB_PORT|PROGRESS_INTERVAL_MS)' \
    | sed 's/^/export /' > "$WORK/bench.env"     # `. bench.env` to reach a BENCH_KEEP system
RESULTS=$WORK/results.jsonl
: > "$RESULTS"
export BENCH_RESULTS=$RESULTS
for b in $ONLY; do
    script=$(ls tests/bench/${b}_*.py tests/bench/${b}_*.sh 2>/dev/null | head -1)
    [ -n "$script" ] || { echo "bench: no script for $b"; continue; }
    echo "== $b: $script (load $(cut -d' ' -f1-3 /proc/loadavg))"
    case $script in
        *.py) timeout 1200 $PY "$script" ;;
        *.sh) timeout 1200 bash "$script" ;;
    esac || echo "bench: $b did not finish (exit $?); its row is missing"
done

$PY tests/bench/report.py "$RESULTS" ${BENCH_NO_DOC:+--no-doc}
exit 0
