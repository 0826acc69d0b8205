#!/usr/bin/env bash
# Soak test of the durability promise (not run in CI): one API process and several worker processes on a private
# PostgreSQL cluster; JOBS jobs are submitted, and every KILL_EVERY seconds a random worker is killed with SIGKILL
# and a new one started in its place. At the end it reports jobs submitted, finished, lost (must be 0) and the steps
# each resumed attempt trained again (max and mean), against the checkpoint interval.
#
#   benchmarks/soak.sh                    # 20 jobs, 3 workers, a kill every 5 s
#   JOBS=40 WORKERS=4 KILL_EVERY=3 benchmarks/soak.sh
#   benchmarks/soak.sh --json result.json # also write the figures as JSON
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source deploy/postgres.sh

jobs=${JOBS:-20} workers=${WORKERS:-3} kill_every=${KILL_EVERY:-5} steps=${STEPS:-300} interval=${CHECKPOINT_EVERY:-25}
timeout_s=${TIMEOUT_S:-1800} port=${SOAK_POSTGRES_PORT:-55442} api_port=${SOAK_API_PORT:-5091}
json_out=""
[ "${1:-}" = "--json" ] && json_out=${2:?--json needs a file}
work=$(mktemp -d /tmp/ganservice-soak.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$work"
cluster="$work/postgres"
api="http://127.0.0.1:$api_port"
declare -a pids=()
api_pid=""

cleanup() {
  for pid in "${pids[@]}" $api_pid; do kill -9 "$pid" 2>/dev/null || true; done
  stop_private_cluster "$cluster"
  echo "Logs are in $work" >&2
}
trap cleanup EXIT

ensure_postgres_installed
ensure_c_compiler
start_private_cluster "$cluster" "$port"
dotnet build src/GanService -c Release -v quiet -nologo >/dev/null
dll="$root/src/GanService/bin/Release/net10.0/linux-x64/GanService.dll"
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$port;Username=postgres;Database=ganservice"
# A crashed worker's job comes back after 5 s; idle workers look for it every half second.
export Gan__InvisibilityTimeout=00:00:05 Gan__QueuePollInterval=00:00:00.500 Gan__TorchThreads=1 Gan__MaxAttempts=100
export Logging__LogLevel__Default=Warning

start_worker() {
  (cd "$(dirname "$dll")" && ASPNETCORE_URLS=http://127.0.0.1:0 Gan__Role=worker exec dotnet "$dll" >>"$work/worker-$1.log" 2>&1) &
  pids[$1]=$!
}

(cd "$(dirname "$dll")" && ASPNETCORE_URLS=$api Gan__Role=api exec dotnet "$dll" >"$work/api.log" 2>&1) &
api_pid=$!
for _ in $(seq 1 60); do curl -sf "$api/health/ready" >/dev/null && break; sleep 1; done
curl -sf "$api/health/ready" >/dev/null || { echo "The API did not start; see $work/api.log" >&2; exit 1; }
for i in $(seq 0 $((workers - 1))); do start_worker "$i"; done

declare -a ids=()
for i in $(seq 1 "$jobs"); do
  body=$(printf '{"name":"soak-%d","dataset":"synthetic","model":{"family":"dcgan","imageSize":28,"channels":1},"training":{"steps":%d,"batchSize":16},"checkpointEvery":%d,"seed":%d,"device":"cpu"}' "$i" "$steps" "$interval" "$i")
  ids+=("$(curl -sf -H 'Content-Type: application/json' -H "Idempotency-Key: soak-$i" -d "$body" "$api/api/jobs" | jq -r .id)")
done
echo "Submitted ${#ids[@]} jobs; killing a random worker every ${kill_every} s." >&2

kills=0 start=$(date +%s)
while :; do
  unfinished=0
  for id in "${ids[@]}"; do
    status=$(curl -sf "$api/api/jobs/$id" | jq -r .status)
    case $status in Succeeded|Failed|Cancelled) ;; *) unfinished=$((unfinished + 1)) ;; esac
  done
  [ "$unfinished" -eq 0 ] && break
  [ $(( $(date +%s) - start )) -gt "$timeout_s" ] && { echo "Timed out with $unfinished jobs unfinished." >&2; break; }
  sleep "$kill_every"
  victim=$((RANDOM % workers))
  kill -9 "${pids[$victim]}" 2>/dev/null || true
  wait "${pids[$victim]}" 2>/dev/null || true
  kills=$((kills + 1))
  start_worker "$victim"
done
elapsed=$(( $(date +%s) - start ))

# Every job's attempts: how many, and how many steps each resumed attempt trained again.
report=$(for id in "${ids[@]}"; do
  jq -c --argjson job "$(curl -sf "$api/api/jobs/$id")" '{status: $job.status, attempts: length, repeated: [.[1:][] | .stepsRepeated]}' \
    <<<"$(curl -sf "$api/api/jobs/$id/attempts")"
done | jq -s --argjson kills "$kills" --argjson elapsed "$elapsed" --argjson interval "$interval" --argjson workers "$workers" \
  --argjson steps "$steps" --argjson every "$kill_every" '{
    jobsSubmitted: length, jobsSucceeded: map(select(.status == "Succeeded")) | length,
    jobsLost: map(select(.status != "Succeeded")) | length, workersKilled: $kills, workers: $workers, killEverySeconds: $every,
    stepsPerJob: $steps, checkpointInterval: $interval, resumedAttempts: (map(.repeated[]) | length),
    stepsRepeatedMax: (map(.repeated[]) | max // 0), stepsRepeatedMean: ((map(.repeated[]) | add // 0) / ([map(.repeated[]) | length, 1] | max) | . * 10 | round / 10),
    elapsedSeconds: $elapsed}')

echo "$report" | jq -r '
  "| figure | value |", "|---|---|",
  "| jobs submitted | \(.jobsSubmitted) |", "| jobs succeeded | \(.jobsSucceeded) |", "| jobs lost | \(.jobsLost) |",
  "| workers (kill -9 every \(.killEverySeconds) s) | \(.workers) |", "| workers killed | \(.workersKilled) |",
  "| resumed attempts | \(.resumedAttempts) |",
  "| steps repeated, max / mean | \(.stepsRepeatedMax) / \(.stepsRepeatedMean) (checkpoint interval \(.checkpointInterval)) |",
  "| wall time | \(.elapsedSeconds) s |"'
[ -n "$json_out" ] && echo "$report" >"$json_out"
[ "$(echo "$report" | jq .jobsLost)" -eq 0 ]
