#!/usr/bin/env bash
# The whole test suite: unit tests (codecs, state machines, tools) and integration tests
# (network namespaces joined by veth pairs, real lldpad peers, vdpd daemons, netlink from
# separate processes). Needs root. Prints a closing "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
mkdir -p reports
# the test code is typed as strictly as the code it tests (vitest itself does not type-check)
npx tsc -p tsconfig.test.json
tsc_rc=$?
[ $tsc_rc -ne 0 ] && echo "typecheck of sources and tests failed"
npx vitest run --reporter=default --reporter=json --outputFile=reports/vitest.json "$@"
rc=$?
[ $rc -eq 0 ] && rc=$tsc_rc
node -e '
const r = JSON.parse(require("fs").readFileSync("reports/vitest.json", "utf8"));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || echo "tests: 0 passed, 1 failed"
exit $rc
