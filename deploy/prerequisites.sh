# Shared by run-local.sh, test.sh and the benchmarks (through postgres.sh): what the build and the tests need from
# apt. The build compiles one small C library (the finalizer quarantine,
# src/GanService.Gan/Runtime/FinalizerQuarantine.cs) and needs a C compiler: call ensure_c_compiler.

# apt_install WHAT PACKAGE...: installs the packages, with sudo when not root, saying so first.
apt_install() {
  local what=$1; shift
  echo "Installing $what (apt-get install $*)..." >&2
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@" >/dev/null
}

ensure_c_compiler() {
  command -v cc >/dev/null 2>&1 || apt_install "a C compiler" gcc libc6-dev
}

# The export tests run exported generators in PyTorch: Debian's torch, in the system python3.
ensure_python_torch() {
  /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || apt_install "PyTorch for python3" python3-torch
}
