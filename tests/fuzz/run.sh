#!/usr/bin/env bash
# tests/fuzz/run.sh FUZZ_DIR SECONDS NAME...: replays each harness's seed corpus and
# regressions (-runs=0), then, when SECONDS > 0, fuzzes it for SECONDS. One line per harness
# ("PASS fuzz_x ..." / "FAIL fuzz_x ...") and a last line "N passed, N failed" as
# tests/run.sh reads it. New inputs go to FUZZ_DIR/corpus/<name> (not the tree); a crash is
# written to FUZZ_DIR/crashes/<name>/ and the harness's log is printed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DIR=$1; SECONDS_EACH=$2; shift 2
# Errors must stop the run and show a stack; leaks count (detect_leaks is on by default).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Bounds so one run cannot hog a shared machine: per input, memory, input size.
OPTS=(-timeout=10 -rss_limit_mb=1024 -max_len=8192 -print_final_stats=1)
passed=0; failed=0
for name in "$@"; do
    bin=$DIR/fuzz_$name
    log=$DIR/logs/$name.log
    mkdir -p "$DIR/logs" "$DIR/corpus/$name" "$DIR/crashes/$name"
    seeds=()
    for d in tests/fuzz/corpus/$name tests/fuzz/regressions/$name; do
        [ -d "$d" ] && seeds+=("$d")
    done
    if [ ! -x "$bin" ]; then
        echo "FAIL fuzz_$name: $bin not built"; failed=$((failed + 1)); continue
    fi
    # 1. Replay: every seed and past crash must pass.
    if ! "$bin" "${OPTS[@]}" -runs=0 "${seeds[@]}" >"$log" 2>&1; then
        tail -40 "$log"
        echo "FAIL fuzz_$name: a seed or regression input fails (log: $log)"
        failed=$((failed + 1)); continue
    fi
    replayed=$(find "${seeds[@]}" -type f 2>/dev/null | wc -l)
    if [ "$SECONDS_EACH" -gt 0 ]; then
        # 2. Fuzz, growing the private corpus from the seeds.
        if ! "$bin" "${OPTS[@]}" -max_total_time="$SECONDS_EACH" \
                -artifact_prefix="$DIR/crashes/$name/" "$DIR/corpus/$name" "${seeds[@]}" \
                >>"$log" 2>&1; then
            tail -60 "$log"
            echo "FAIL fuzz_$name: crash or broken invariant; input in $DIR/crashes/$name/ (log: $log)"
            failed=$((failed + 1)); continue
        fi
        execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
        echo "PASS fuzz_$name: ${replayed:-0} inputs replayed, ${execs:-?} runs in ${SECONDS_EACH} s"
    else
        echo "PASS fuzz_$name: ${replayed:-0} inputs replayed"
    fi
    passed=$((passed + 1))
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
