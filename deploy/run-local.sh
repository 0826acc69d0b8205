#!/usr/bin/env bash
# Runs GanService on this machine with its embedded defaults: a private PostgreSQL cluster under .data/ in the
# checkout (apt installs postgresql when missing), role "all" (API and worker in one process), CPU training.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source deploy/postgres.sh
ensure_c_compiler

port=${GAN_POSTGRES_PORT:-55432}
urls=${ASPNETCORE_URLS:-http://127.0.0.1:5080}
cluster="$root/.data/postgres"

ensure_postgres_installed
start_private_cluster "$cluster" "$port"
trap 'stop_private_cluster "$cluster"' EXIT

export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$port;Username=postgres;Database=ganservice"
export ASPNETCORE_URLS="$urls"
dotnet build src/GanService -c Release -v quiet -nologo >/dev/null
echo "GanService is starting: Swagger UI at ${urls%%;*}/swagger (Ctrl+C stops it and its database)."
dotnet src/GanService/bin/Release/net10.0/linux-x64/GanService.dll
