#!/usr/bin/env bash
# The body of `./dev test` once set-up is done: every test (vitest) with the type check beside it, ending with
# the one line CI reads ("N passed, N failed") and an exit status that agrees with it (scripts/test-summary.mjs).
# SIGRELEASE_TEST_RESULTS (default test-results/) is where the reports go. SIGRELEASE_TEST_VITEST_CMD and
# SIGRELEASE_TEST_TSC_CMD replace the two commands; only test/setup/run-tests.test.ts sets them, to check this
# script's own exit statuses without running the suite inside itself.
set -euo pipefail
cd "$(dirname "$0")/.."
results="${SIGRELEASE_TEST_RESULTS:-test-results}"
mkdir -p "$results"
rm -f "$results/vitest.json"
# Every temporary folder of the run (fixture trees, sites, dev servers, browser profiles) lives in one place that
# goes away afterwards, so repeated runs on a CI host do not fill /tmp.
TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/sigrelease-test.XXXXXX")"
chmod 0755 "$TMPDIR"   # the PostgreSQL-backed server test runs initdb as the postgres user, which must get through
export TMPDIR
tsc_pid=""
# A failing command in an EXIT trap under `set -e` becomes the script's exit status: `kill` of the type check
# that has already been waited for fails, so every command here must not fail (this turned a green run red).
cleanup() { if [ -n "$tsc_pid" ]; then kill "$tsc_pid" 2>/dev/null || true; fi; rm -rf "$TMPDIR" || true; }
trap cleanup EXIT
# The type check (one single-threaded tsc) runs beside the tests instead of before them: on two cores it overlaps
# the dev server's start and the workflow bundling. Its errors are printed after the tests and count as one failure.
if [ -n "${SIGRELEASE_TEST_TSC_CMD:-}" ]; then
  bash -c "$SIGRELEASE_TEST_TSC_CMD" > "$results/tsc.log" 2>&1 &
else
  npx tsc --noEmit -p tsconfig.json > "$results/tsc.log" 2>&1 &
fi
tsc_pid=$!
vitest_status=0
if [ -n "${SIGRELEASE_TEST_VITEST_CMD:-}" ]; then
  bash -c "$SIGRELEASE_TEST_VITEST_CMD" || vitest_status=$?
else
  npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json" "$@" || vitest_status=$?
fi
typecheck_status=0
wait "$tsc_pid" || typecheck_status=$?
tsc_pid=""
if [ "$typecheck_status" -ne 0 ]; then cat "$results/tsc.log"; fi
node scripts/test-summary.mjs "$results/vitest.json" "$vitest_status" "$typecheck_status"
