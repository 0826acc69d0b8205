# Shared by run-local.sh, test.sh and the benchmarks: the build compiles one small C library (the finalizer quarantine,
# src/GanService.Gan/Runtime/FinalizerQuarantine.cs) and needs a C compiler. Source it, then call ensure_c_compiler.

ensure_c_compiler() {
  if ! command -v cc >/dev/null 2>&1; then
    echo "Installing a C compiler (apt-get install gcc libc6-dev)..." >&2
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q gcc libc6-dev >/dev/null
  fi
}
