#!/usr/bin/env bash
# tests/run.sh BUILD_DIR [unit|fuzz|integration]: the test command behind `make test`.
# Runs every unit-test binary, then each fuzz harness over its corpus and regressions and
# for 10 s (`make fuzz-short`, one pass/fail per harness), then the integration suite (real
# processes, real PostgreSQL, started by the suite itself), and ends with one line:
# "N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
WHAT=${2:-all}
cd "$ROOT"
PY=/usr/bin/python3
passed=0
failed=0

if [ "$WHAT" = all ] || [ "$WHAT" = unit ]; then
    echo "== unit tests ($BUILD/tests)"
    for t in "$BUILD"/tests/test_*; do
        [ -x "$t" ] || continue
        # A binary whose source is gone (a test file split or renamed) is a stale build.
        [ -f "tests/unit/$(basename "$t").c" ] || continue
        out=$("$t" 2>&1); rc=$?
        line=$(printf '%s\n' "$out" | grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed$' | tail -1)
        if [ -z "$line" ]; then
            printf '%s\n' "$out"
            echo "FAIL $(basename "$t"): exit $rc without a result line"
            failed=$((failed + 1))
            continue
        fi
        p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/' <<< "$line")
        f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/' <<< "$line")
        [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
        [ "$f" != 0 ] && printf '%s\n' "$out" | grep -v '^ok '
        echo "$line"
        passed=$((passed + p)); failed=$((failed + f))
    done
fi

# The harnesses are ASan + UBSan builds already: a sanitizer run of the suite skips them.
if { [ "$WHAT" = all ] && [ "$(basename "$BUILD")" != build-san ]; } || [ "$WHAT" = fuzz ]; then
    echo "== fuzz regression + short run (tests/fuzz, build-fuzz/)"
    log=$(mktemp)
    make --no-print-directory -s fuzz-short >"$log" 2>&1
    grep -E '^(PASS|FAIL) ' "$log"
    p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log")
    if [ "$f" != 0 ] || [ "$p" = 0 ]; then
        grep -vE '^(PASS|FAIL) ' "$log" | tail -80
        [ "$p" = 0 ] && [ "$f" = 0 ] && f=1         # the harnesses did not even build
    fi
    rm -f "$log"
    passed=$((passed + p)); failed=$((failed + f))
fi

if [ "$WHAT" = all ] || [ "$WHAT" = integration ]; then
    echo "== integration tests (tests/integration)"
    xml=$(mktemp)
    # A test that hangs is a failed test: each has TEST_TIMEOUT_S (pytest-timeout, which
    # dumps every thread's stack), and the whole suite SUITE_TIMEOUT_S, past which it is
    # killed and counted as failed.
    timeout -k 30 "${SUITE_TIMEOUT_S:-2400}" \
        env BUILD_DIR="$BUILD" $PY -m pytest -q -p no:cacheprovider --junitxml="$xml" \
        --timeout="${TEST_TIMEOUT_S:-300}" tests/integration ${PYTEST_ARGS:-}
    rc=$?
    [ "$rc" = 124 ] && echo "FAIL integration: the suite passed SUITE_TIMEOUT_S (${SUITE_TIMEOUT_S:-2400} s)"
    read -r p f < <($PY - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skip = sum(int(s.get("skipped", 0)) for s in suites)
print(t - bad - skip, bad + skip)
PY
)
    rm -f "$xml"
    [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
    passed=$((passed + p)); failed=$((failed + f))
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
