#!/usr/bin/env bash
# A rollback end to end: a request whose patch passes its tests but hurts the service under traffic.
# Gantry resolves it and stops at the merge gate; a reviewer approves; the merge queue lands it;
# staging passes; the 10% production step's analysis aborts it; the rollback run reverts it through a
# revert pull request, merges that, redeploys, confirms recovery and files a fix-forward request.
#
#   bash examples/billing-service/rollback-demo.sh [requests/<name>.yaml]   (default: the error regression)
set -euo pipefail
cd "$(dirname "$0")/../.."
request=${1:-examples/billing-service/requests/negative-invoice-lines.yaml}
cassette="examples/billing-service/cassettes/$(basename "$request")"
outcome=$(node bin/gantry.js run "$request" --model "cassette:$cassette" --json)
approval=$(node -e 'const o = JSON.parse(process.argv[1]); if (!o.approvalId) { console.error(`expected the merge gate, the run is ${o.state}: ${o.reason ?? ""}`); process.exit(1); } process.stdout.write(o.approvalId)' "$outcome")
echo "run resolved the request and waits at the merge gate ($approval); approving as reviewer sam.okafor" >&2
set +e
node bin/gantry.js approve "$approval" --as sam.okafor
code=$?
# 3 is the exit status of a run that ended rolled back: the outcome this demo shows.
if [ "$code" -eq 3 ]; then exit 0; fi
echo "expected the run to end rolled back (exit 3), got exit $code" >&2
exit "$code"
