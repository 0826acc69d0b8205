# Shared by run-local.sh, test.sh and the benchmarks: a private PostgreSQL cluster without Docker.
# Source it, then call ensure_postgres_installed and start_private_cluster DIR PORT.
source "$(dirname "${BASH_SOURCE[0]}")/prerequisites.sh"

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

ensure_postgres_installed() {
  [ -n "$(pg_bin)" ] || apt_install PostgreSQL postgresql
}

# Runs a PostgreSQL binary as the postgres user when we are root (initdb refuses root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_private_cluster DIR PORT: initialises DIR on first use, starts it on 127.0.0.1:PORT, creates database ganservice.
start_private_cluster() {
  local dir=$1 port=$2 bin
  bin=$(pg_bin)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  start_cluster_server "$dir" "$port"
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='ganservice'" | grep -q 1 \
    || as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres ganservice
}

# start_cluster_server DIR PORT: starts an initialised cluster unless it runs, waiting until it takes connections.
start_cluster_server() {
  local dir=$1 port=$2 bin
  bin=$(pg_bin)
  if ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
  fi
}

stop_private_cluster() {
  as_pg "$(pg_bin)/pg_ctl" -D "$1/data" -m fast stop >/dev/null 2>&1 || true
}
