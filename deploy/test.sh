#!/usr/bin/env bash
# Runs the whole test suite. The service tests start their own private PostgreSQL cluster (apt installs the
# server when missing) unless GANSERVICE_TEST_POSTGRES names one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source deploy/postgres.sh
ensure_c_compiler
ensure_python_torch
[ -n "${GANSERVICE_TEST_POSTGRES:-}" ] || ensure_postgres_installed

log=$(mktemp)
status=0
dotnet test GanService.sln -c Release --nologo "$@" 2>&1 | tee "$log" || status=$?
# One closing line for the whole run, summed over the test projects.
awk '/(Passed|Failed)! +- Failed:/ {
       for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1)); if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     } END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit $status
