#!/bin/bash
# Instructions per GET /api/tickets/:id in the edge, the broker and a worker, counted by
# callgrind: repeatable on a noisy machine where wall-clock rows are not. Starts a private
# bench system from this tree (tests/bench/run.sh with no benchmark, kept), restarts the
# broker, one worker (the other stopped) and the edge under callgrind, warms up with 50
# GETs, zeroes the counters, sends N sequential keep-alive GETs of one ticket and prints each
# process's total; divide by N. Then stops the system. URL, when given, is what is asked
# instead of the ticket (e.g. "/api/tickets?limit=100" for a list page).
#   usage: tests/bench/callgrind_get.sh [N=2000] [BUILD=build] [URL]
set -u
cd "$(dirname "$0")/../.."
N=${1:-2000}; BUILD=${2:-build}; URL=${3:-}
command -v valgrind >/dev/null || { echo "callgrind_get: valgrind is missing (apt install valgrind)"; exit 1; }
out=$(BENCH_ONLY=none BENCH_KEEP=1 BENCH_TICKETS=2000 BENCH_NO_DOC=1 tests/bench/run.sh "$BUILD" 2>&1)
WORK=$(echo "$out" | sed -n 's/^bench: kept \([^ ]*\).*/\1/p' | tail -1)
[ -d "$WORK" ] || { echo "$out" | tail; exit 1; }
. "$WORK/bench.env"
run=$VAR_DIR/run
# The process's own environment, so it starts exactly as manage.sh started it.
restart_under_callgrind() {  # pidfile-name binary
    local pid; pid=$(cat "$run/$1.pid")
    local E; mapfile -d '' E < /proc/$pid/environ
    kill "$pid"; sleep 1
    env -i "${E[@]}" valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$1.%p" \
        "$BUILD_DIR/bin/$2" > "$WORK/vg.$1.log" 2>&1 &
    echo $! > "$run/$1.pid"
}
workers=$(ls "$run" | sed -n 's/^\(worker[^.]*\)\.pid$/\1/p')
first=$(echo "$workers" | head -1)
for w in $(echo "$workers" | tail -n +2); do kill "$(cat "$run/$w.pid")"; done
restart_under_callgrind broker broker
restart_under_callgrind "$first" worker
restart_under_callgrind http-edge http-edge
sleep 8
/usr/bin/python3 - "$N" "$URL" <<'PY'
import sys, time, http.client, subprocess
sys.path.insert(0, "tests/bench")
from benchlib import token, ticket_ids, PORT
n = int(sys.argv[1]); tok = token(); url = sys.argv[2] or f"/api/tickets/{ticket_ids(1, 100)[0]}"
c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
def get():
    c.request("GET", url, headers={"Authorization": f"Bearer {tok}"})
    r = c.getresponse(); r.read(); return r.status
assert all(get() == 200 for _ in range(50)), "warm-up GETs failed"
subprocess.run(["callgrind_control", "-z"], capture_output=True)
t = time.time()
bad = sum(get() != 200 for _ in range(n))
print(f"{n} GETs, {bad} not 200, {time.time() - t:.1f} s under callgrind")
subprocess.run(["callgrind_control", "-d"], capture_output=True)
PY
sleep 2
# A process may have dumped more than once (a part per dump): the counts of the GETs are
# in its last part, the one callgrind_control -d wrote.
for name in $(ls "$WORK" | sed -n 's/^cg\.\([^.]*\)\.[0-9]*\.[0-9]*$/\1/p' | sort -u); do
    f=$(ls "$WORK"/cg."$name".*.* | sort -V | tail -1)
    total=$(sed -n 's/^totals: //p' "$f" | tail -1)
    echo "$name: $total instructions, $((total / N)) per GET"
done
./manage.sh down >/dev/null 2>&1
pkill -f "callgrind-out-file=$WORK" 2>/dev/null
rm -rf "$WORK"
