#!/usr/bin/env bash
# Runs the training benchmark: the library loop, then the same jobs through the service on a private PostgreSQL.
# Usage: benchmarks/run.sh [timed-steps]     Prints a Markdown table; copy it into docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source deploy/postgres.sh
ensure_c_compiler
ensure_postgres_installed
cluster=$(mktemp -d /tmp/ganservice-bench-XXXX)
port=$(( 20000 + RANDOM % 20000 ))
start_private_cluster "$cluster" "$port"
trap 'stop_private_cluster "$cluster"; rm -rf "$cluster"' EXIT
export GANSERVICE_BENCH_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=ganservice"
# The training table's deployed row and the parts with a worker process of their own run the host as the Docker
# image ships it: published ReadyToRun.
if [[ "${1:-}" != ab ]]; then
  dotnet publish src/GanService/GanService.csproj -c Release -o "$cluster/worker" -p:PublishReadyToRun=true --nologo -v q >/dev/null
  export GANSERVICE_BENCH_WORKER="$cluster/worker"
fi
dotnet run -c Release --project benchmarks/GanService.Benchmarks -- "$@"
