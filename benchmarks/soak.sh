#!/usr/bin/env bash
# Soak test of the durability promise (not run in CI): one API process and several worker processes on a private
# PostgreSQL cluster, with the service's default Gan:MaxAttempts. One reference job per seed first trains
# undisturbed; then JOBS jobs of the same recipes are submitted, and every KILL_EVERY seconds one thing goes wrong:
# a worker is stopped gracefully (SIGTERM) or killed (SIGKILL), the API is killed, or PostgreSQL stops for OUTAGE_S
# seconds (an immediate shutdown, as a crash would leave it). Anything dead is restarted on the next tick, as a
# supervisor would. At the end it reports jobs lost (must be 0), the steps each resumed attempt trained again, and
# whether every job's final checkpoint holds the same weights, optimizer and RNG states as its seed's undisturbed
# run (must be all of them).
#
#   benchmarks/soak.sh                    # 20 jobs, 3 workers, an event every 5 s
#   JOBS=40 WORKERS=4 KILL_EVERY=3 benchmarks/soak.sh
#   benchmarks/soak.sh --json result.json # also write the figures as JSON
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source deploy/postgres.sh

jobs=${JOBS:-20} workers=${WORKERS:-3} kill_every=${KILL_EVERY:-5} steps=${STEPS:-300} interval=${CHECKPOINT_EVERY:-25}
seeds=${SEEDS:-4} outage_s=${OUTAGE_S:-4}
timeout_s=${TIMEOUT_S:-2400} port=${SOAK_POSTGRES_PORT:-55442} api_port=${SOAK_API_PORT:-5091}
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
# A crashed worker's job comes back after 5 s; idle workers look for it every half second. One libtorch thread
# each, so that every run of a recipe computes the same bits.
export Gan__InvisibilityTimeout=00:00:05 Gan__QueuePollInterval=00:00:00.500 Gan__TorchThreads=1
export Logging__LogLevel__Default=Warning

start_worker() {
  (cd "$(dirname "$dll")" && ASPNETCORE_URLS=http://127.0.0.1:0 Gan__Role=worker exec dotnet "$dll" >>"$work/worker-$1.log" 2>&1) &
  pids[$1]=$!
}
start_api() {
  (cd "$(dirname "$dll")" && ASPNETCORE_URLS=$api Gan__Role=api exec dotnet "$dll" >>"$work/api.log" 2>&1) &
  api_pid=$!
}
alive() { kill -0 "$1" 2>/dev/null; }
# GET through the API, retried while it restarts or the database is down.
get() {
  local out
  for _ in $(seq 1 120); do out=$(curl -sf "$api$1") && { echo "$out"; return; }; sleep 1; done
  echo "GET $1 kept failing" >&2; return 1
}
submit() { # NAME SEED
  local body
  body=$(printf '{"name":"%s","dataset":"synthetic","model":{"family":"dcgan","imageSize":28,"channels":1},"training":{"steps":%d,"batchSize":16},"checkpointEvery":%d,"seed":%d,"device":"cpu","evaluation":{"every":0}}' "$1" "$steps" "$interval" "$2")
  curl -sf -H 'Content-Type: application/json' -H "Idempotency-Key: $1" -d "$body" "$api/api/jobs" | jq -r .id
}
unfinished() { # IDS...
  local n=0 status
  for id in "$@"; do
    status=$(curl -sf "$api/api/jobs/$id" | jq -r .status) || status=unknown
    case $status in Succeeded|Failed|Cancelled) ;; *) n=$((n + 1)) ;; esac
  done
  echo "$n"
}
# The SHA-256 of every entry of a job's final checkpoint but its manifest: the state a resumed run must reproduce.
final_state() {
  for _ in $(seq 1 60); do curl -sf "$api/api/jobs/$1/checkpoints/$steps/bundle.zip" -o "$work/bundle.zip" && break; sleep 1; done
  python3 -c 'import json, sys, zipfile
print(json.dumps(json.load(zipfile.ZipFile(sys.argv[1]).open("manifest.json"))["entries"], sort_keys=True))' "$work/bundle.zip"
}

start_api
for _ in $(seq 1 60); do curl -sf "$api/health/ready" >/dev/null && break; sleep 1; done
curl -sf "$api/health/ready" >/dev/null || { echo "The API did not start; see $work/api.log" >&2; exit 1; }
for i in $(seq 0 $((workers - 1))); do start_worker "$i"; done

declare -a refs=() ids=() seed_of=()
for s in $(seq 1 "$seeds"); do refs[$s]=$(submit "soak-reference-$s" "$s"); done
echo "Training $seeds undisturbed reference jobs." >&2
while [ "$(unfinished "${refs[@]}")" -gt 0 ]; do sleep 2; done
for i in $(seq 1 "$jobs"); do
  seed_of[$i]=$(( (i - 1) % seeds + 1 ))
  ids+=("$(submit "soak-$i" "${seed_of[$i]}")")
done
echo "Submitted ${#ids[@]} jobs; something goes wrong every ${kill_every} s." >&2

terms=0 kills=0 api_kills=0 outages=0 start=$(date +%s)
while [ "$(unfinished "${ids[@]}")" -gt 0 ]; do
  [ $(( $(date +%s) - start )) -gt "$timeout_s" ] && { echo "Timed out." >&2; break; }
  sleep "$kill_every"
  # The supervisor: whatever died or stopped is started again.
  for i in $(seq 0 $((workers - 1))); do alive "${pids[$i]}" || { wait "${pids[$i]}" 2>/dev/null || true; start_worker "$i"; }; done
  alive "$api_pid" || { wait "$api_pid" 2>/dev/null || true; start_api; }
  victim=$((RANDOM % workers))
  case $((RANDOM % 10)) in
    0|1|2|3) kill -TERM "${pids[$victim]}" 2>/dev/null || true; terms=$((terms + 1)) ;;
    # Rarer than the rest: a crash counts towards a job's Gan:MaxAttempts, which this run leaves at its default.
    4|5) kill -9 "${pids[$victim]}" 2>/dev/null || true; wait "${pids[$victim]}" 2>/dev/null || true
         kills=$((kills + 1)) ;;
    6|7) kill -9 "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; api_kills=$((api_kills + 1)) ;;
    8|9) as_pg "$(pg_bin)/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
         sleep "$outage_s"; start_cluster_server "$cluster" "$port"; outages=$((outages + 1)) ;;
  esac
done
elapsed=$(( $(date +%s) - start ))
alive "$api_pid" || start_api

declare -A reference=()
for s in $(seq 1 "$seeds"); do reference[$s]=$(final_state "${refs[$s]}"); done
# Every job's attempts: how many, how many steps each resumed attempt trained again, and its final state.
report=$(for i in $(seq 1 "$jobs"); do
  id=${ids[$((i - 1))]} job=$(get "/api/jobs/${ids[$((i - 1))]}")
  same=false
  [ "$(jq -r .status <<<"$job")" = Succeeded ] && [ "$(final_state "$id")" = "${reference[${seed_of[$i]}]}" ] && same=true
  jq -c --argjson job "$job" --argjson same "$same" \
    '{status: $job.status, error: $job.error, attempts: length, repeated: [.[1:][] | .stepsRepeated], same: $same}' \
    <<<"$(get "/api/jobs/$id/attempts")"
done | jq -s --argjson kills "$kills" --argjson terms "$terms" --argjson apis "$api_kills" --argjson outages "$outages" \
  --argjson elapsed "$elapsed" --argjson interval "$interval" --argjson workers "$workers" --argjson steps "$steps" \
  --argjson every "$kill_every" '{
    jobsSubmitted: length, jobsSucceeded: map(select(.status == "Succeeded")) | length,
    jobsGivenUp: map(select(.status == "Failed" and ((.error // "") | startswith("Gave up")))) | length,
    jobsLost: map(select(.status != "Succeeded" and ((.error // "") | startswith("Gave up") | not))) | length,
    finalStatesEqual: map(select(.same)) | length, workers: $workers, eventEverySeconds: $every,
    workersStopped: $terms, workersKilled: $kills, apiKills: $apis, databaseOutages: $outages,
    stepsPerJob: $steps, checkpointInterval: $interval, resumedAttempts: (map(.repeated[]) | length),
    stepsRepeatedMax: (map(.repeated[]) | max // 0), stepsRepeatedMean: ((map(.repeated[]) | add // 0) / ([map(.repeated[]) | length, 1] | max) | . * 10 | round / 10),
    elapsedSeconds: $elapsed}')

echo "$report" | jq -r '
  "| figure | value |", "|---|---|",
  "| jobs submitted | \(.jobsSubmitted) |", "| jobs succeeded | \(.jobsSucceeded) |", "| jobs lost | \(.jobsLost) |",
  "| jobs given up by the crash-loop guard (Gan:MaxAttempts, default) | \(.jobsGivenUp) |",
  "| final checkpoint equal to the undisturbed run (every entry) | \(.finalStatesEqual) of \(.jobsSucceeded) |",
  "| workers | \(.workers), one event every \(.eventEverySeconds) s |",
  "| workers stopped (SIGTERM) / killed (SIGKILL) | \(.workersStopped) / \(.workersKilled) |",
  "| API processes killed (SIGKILL) | \(.apiKills) |", "| database outages (immediate stop) | \(.databaseOutages) |",
  "| resumed attempts | \(.resumedAttempts) |",
  "| steps repeated, max / mean | \(.stepsRepeatedMax) / \(.stepsRepeatedMean) (checkpoint interval \(.checkpointInterval)) |",
  "| wall time | \(.elapsedSeconds) s |"'
[ -n "$json_out" ] && echo "$report" >"$json_out"
[ "$(jq .jobsLost <<<"$report")" -eq 0 ] && [ "$(jq '.finalStatesEqual == .jobsSucceeded' <<<"$report")" = true ]
