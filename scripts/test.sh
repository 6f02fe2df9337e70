#!/usr/bin/env bash
# The README's test command (`npm test`): brings the local stack up (reusing what already runs), applies the
# migrations, runs every test project against the real services, and ends with one line `N passed, N failed`.
# Extra arguments go to vitest, e.g. `npm test -- --project unit` or `npm test -- test/integration/kafka`.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TZ=UTC

[ -d node_modules ] || npm install --no-audit --no-fund
bash stack/stack.sh up || { echo "0 passed, 1 failed"; exit 1; }
npm run -s db:migrate || { echo "0 passed, 1 failed"; exit 1; }

mkdir -p output
report=output/vitest-report.json
rm -f "$report"
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?

if [ -f "$report" ]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    // A run that failed outside any test (a suite that cannot load, an unhandled error) still counts as a failure.
    const failed = r.numFailedTests + (!r.success && r.numFailedTests === 0 ? 1 : 0) + (r.numTotalTests === 0 ? 1 : 0);
    console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
    if (failed > 0) process.exitCode = 1;
  ' "$PWD/$report" || status=1
else
  echo "0 passed, 1 failed"
  status=1
fi
exit $status
